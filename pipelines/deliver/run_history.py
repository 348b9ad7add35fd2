"""What a scoring run reports of the past, and which archived list it backtests.

The churn history, the base-wide figures, the backtest of the newest matured list, the
archive's track record and the data's volume are all functions of the staged tables and of
the lists archived before the run, never of the run's own scores: the run reads them in its
pass over the customer shards (`pipelines.deliver.shard_pass`), before the model's outputs
exist, and never holds the event tables beside those.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features.labels import LabelSpec
from models.track_record import TrackRecord
from pipelines.deliver.analytics_run import BaseFigures
from pipelines.store import archive
from pipelines.store.settings import Settings


@dataclass(frozen=True)
class KnownHistory:
    """The past as a scoring run at `as_of` reports it (see the module docstring).

    `churn_history`: `history.churn_rate_over_time` (the report's chart, the monitoring's
    newest label rate); `figures`: the report's analytics over the whole base; `backtest`:
    the newest matured list joined with its outcomes, and its run, if any; `record`: the
    track record of the lists archived before the run; `volume`: customers who bought and
    events up to `as_of`."""

    churn_history: pd.DataFrame
    figures: BaseFigures
    backtest: tuple[pd.DataFrame, str] | None
    record: TrackRecord
    volume: dict[str, int]


def _past_label(run_dir: Path, fallback: LabelSpec) -> LabelSpec:
    """The label spec an archived run's probabilities were made under (its metadata.json);
    `fallback` for runs archived before scoring recorded it."""
    try:
        recorded = json.loads((run_dir / "metadata.json").read_text()).get("label")
        return LabelSpec.model_validate(recorded) if recorded else fallback
    except (OSError, ValueError):
        return fallback


@dataclass(frozen=True)
class MaturedList:
    """An archived list whose label window has ended: where its rows are, its as-of date,
    the churn definition its probabilities were made under, and its name (`<as-of>/<run>`)."""

    path: Path
    as_of: dt.date
    label: LabelSpec
    name: str


def newest_matured_list(settings: Settings, as_of: dt.date, label: LabelSpec,
                        with_master: bool) -> MaturedList | None:
    """The newest archived run scored before `as_of` whose label window has ended by
    `as_of`, under the definition its probabilities were made for (one that needs a customer
    master is passed over without one, `with_master`)."""
    runs = [run / "risk_list.parquet" for run in archive.archived_runs(settings.scored_dir)]
    for path in reversed(runs):
        past_as_of = dt.date.fromisoformat(path.parent.parent.name)
        if past_as_of >= as_of:
            continue
        past_label = _past_label(path.parent, label)
        if past_label.definition == "cancellation" and not with_master:
            continue  # no customer master now: its cancellations cannot be seen
        if not past_label.is_labelled(past_as_of, as_of):
            continue  # censored: what happened is not known yet
        return MaturedList(path, past_as_of, past_label,
                           f"{path.parent.parent.name}/{path.parent.name}")
    return None
