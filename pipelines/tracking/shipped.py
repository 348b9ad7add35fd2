"""The archived risk lists as the track record and the loop read them: every list's metadata
first, its rows only when its turn comes.

A year of weekly lists of a million customers is 52 million rows; the graders
(`models.track_record.track_record`, `loop_record`) take one list at a time, so what this
process holds is one list's columns, however long the archive grows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from features.labels import LabelSpec
from models.track_record import ShippedList
from pipelines.store.archive import archived_runs

#: What grading a list reads of it.
TRACK_COLUMNS = ("customer_id", "churn_probability", "risk_tier", "value_at_risk",
                 "annual_revenue")


@dataclass(frozen=True)
class ArchivedList:
    """One archived run's metadata: what it was scored under, not yet its rows."""

    folder: Path
    as_of: dt.date
    run_id: str
    model_version: str
    label: LabelSpec
    top_tiers: tuple[str, ...]
    promised: dict[str, float] = field(default_factory=dict)


def archived_lists(scored_dir: Path, data_end: dt.date | None = None, *,
                   with_cancellation: bool = True) -> list[ArchivedList]:
    """Every complete archived list (scored by `data_end` when given), oldest first by as-of
    and run id; `with_cancellation=False` leaves out the lists whose churn definition needs a
    customer master the caller does not have. A folder whose metadata cannot be read is no
    shipped list."""
    found = []
    for folder in archived_runs(scored_dir):
        try:
            meta = json.loads((folder / "metadata.json").read_text())
            item = ArchivedList(
                folder=folder, as_of=dt.date.fromisoformat(meta["as_of"]),
                run_id=meta["run_id"], model_version=str(meta.get("model_version", "")),
                label=LabelSpec.model_validate(meta.get("label") or {}),
                top_tiers=tuple(meta.get("tier_policy", {}).get("top_tiers", [])),
                promised=meta.get("model_validation") or {})
        except (OSError, ValueError, KeyError, TypeError):
            continue  # an unfinished or foreign folder
        if data_end is not None and item.as_of > data_end:
            continue
        if not with_cancellation and item.label.definition == "cancellation":
            continue
        found.append(item)
    return sorted(found, key=lambda item: (item.as_of, item.run_id))


def shipped_lists(archived: Iterable[ArchivedList],
                  columns: Callable[[set[str]], list[str]]) -> Iterator[ShippedList]:
    """Each list with its rows, read as the caller reaches it: `columns(names)` chooses what
    to read from the names its risk list has. A list whose file cannot be read, or lacks a
    chosen column (archived before it existed), is passed over."""
    for item in archived:
        path = item.folder / "risk_list.parquet"
        try:
            risk = pd.read_parquet(path, columns=columns(set(pq.read_schema(path).names)))
        except (OSError, ValueError, KeyError):
            continue
        yield ShippedList(as_of=item.as_of, run_id=item.run_id,
                          model_version=item.model_version, label=item.label, risk=risk,
                          top_tiers=item.top_tiers, promised=item.promised)


def track_columns(names: set[str]) -> list[str]:
    return list(TRACK_COLUMNS)
