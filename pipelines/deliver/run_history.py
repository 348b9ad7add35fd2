"""What a scoring run reports of the past, read before the model's outputs exist.

The churn history, the base-wide figures, the backtest of the newest matured list, the
archive's track record and the data's volume are all functions of the staged tables and of
the lists archived before the run, never of the run's own scores. `known_history` reads them
first, so the run can let the event tables go before the outputs are made: at a million
customers the purchases and interactions were 1.9 GB beside the outputs and the risk list,
which made the run's peak.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from features.labels import CensoredCutoffError, LabelSpec
from features.sources import SourceTables
from models import history
from models.track_record import TrackRecord
from pipelines.deliver.analytics_run import BaseFigures, base_figures
from pipelines.store import archive
from pipelines.store.settings import Settings
from pipelines.tracking import monitoring as monitor


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


def known_history(settings: Settings, tables: SourceTables, as_of: dt.date,
                  label: LabelSpec) -> KnownHistory:
    """`KnownHistory` at `as_of` under the champion's churn definition `label`."""
    return KnownHistory(
        churn_history=history.churn_rate_over_time(tables.purchases, label, as_of,
                                                   customers=tables.customers),
        figures=base_figures(tables, as_of, label),
        backtest=newest_backtest(settings, tables, as_of, label),
        record=monitor.archive_track_record(settings, tables, as_of),
        volume=monitor.source_volume(tables, as_of))


def _past_label(run_dir: Path, fallback: LabelSpec) -> LabelSpec:
    """The label spec an archived run's probabilities were made under (its metadata.json);
    `fallback` for runs archived before scoring recorded it."""
    try:
        recorded = json.loads((run_dir / "metadata.json").read_text()).get("label")
        return LabelSpec.model_validate(recorded) if recorded else fallback
    except (OSError, ValueError):
        return fallback


def newest_backtest(
    settings: Settings, tables: SourceTables, as_of: dt.date, label: LabelSpec
) -> tuple[pd.DataFrame, str] | None:
    """The newest archived run whose label window has ended by `as_of`, joined with what
    really happened under the definition its probabilities were made for.

    What happened is read up to `as_of` only: a run scored at an earlier date reports what
    was known then, never outcomes from after it.
    """
    runs = [run / "risk_list.parquet" for run in archive.archived_runs(settings.scored_dir)]
    for path in reversed(runs):
        past_as_of = dt.date.fromisoformat(path.parent.parent.name)
        if past_as_of >= as_of:
            continue
        past_label = _past_label(path.parent, label)
        if past_label.definition == "cancellation" and tables.customers is None:
            continue  # no customer master now: its cancellations cannot be seen
        past = pd.read_parquet(path, columns=["customer_id", "churn_probability"])
        try:
            joined = history.realized_outcomes(past, tables.purchases, past_as_of, past_label,
                                               as_of, tables.customers,
                                               tables.subscriptions)
        except CensoredCutoffError:
            continue
        return joined, f"{path.parent.parent.name}/{path.parent.name}"
    return None

