"""Incremental weekly exports cut from the simulator's output by date, the way a CRM sends
them: each week's new rows only, some of them late, some corrected later, one week missing,
one with its columns in another order.

The simulator's own output is not changed (a test pins it): this module only slices the
export frames `pipelines.sample.generate.export_frames` returns. Every row of those frames
reaches some week's files, and the last copy of each key (the one ingest keeps: later file,
later line) is the row as the simulator wrote it, so staging all weeks must give the tables a
one-shot export of the same business gives.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.store.atomic import write_text_atomic

# The date a row first exists, and what its first copy says about what happens later (the
# first column is the later date): a ticket is exported open and again once resolved, a
# customer again once cancelled.
EVENT_DATE = {"purchases": "order_date", "complaints": "opened_at",
              "interactions": "occurred_at", "customers": "signup_date"}
FILLED_LATER = {"complaints": {"resolved_at": "", "satisfaction": "", "status": "open"},
                "customers": {"cancelled_at": ""}}
SOURCE_FILES = {"purchases": "orders_export.csv", "complaints": "tickets_export.csv",
                "interactions": "interactions_log.csv", "customers": "customer_master.csv"}
FILE_STEM = {"purchases": "orders", "complaints": "tickets", "interactions": "interactions",
             "customers": "customers"}


@dataclass(frozen=True)
class ExportPlan:
    """How the weekly exports deviate from a clean feed."""

    weeks: int = 26
    late_fraction: float = 0.03  # rows delivered one week after the week they belong to
    corrected_per_week: int = 3  # orders sent with a wrong amount, corrected the next week
    missing_week: int | None = None  # no export at all that week (default: a third in)
    reordered_week: int | None = None  # columns in reverse order (default: halfway)
    seed: int = 7

    @property
    def missing(self) -> int:
        return self.weeks // 3 if self.missing_week is None else self.missing_week

    @property
    def reordered(self) -> int:
        return self.weeks // 2 if self.reordered_week is None else self.reordered_week


@dataclass
class WeekExport:
    """One week's delivery: `frames` per kind (empty when the export is missing)."""

    week: int
    end: dt.date
    frames: dict[str, pd.DataFrame]
    late: int = 0
    corrected: int = 0
    updated: int = 0

    @property
    def missing(self) -> bool:
        return not self.frames


def week_ends(data_end: dt.date, weeks: int) -> list[dt.date]:
    """The last day of each of `weeks` weeks ending on `data_end`."""
    return [data_end - dt.timedelta(days=7 * (weeks - 1 - k)) for k in range(weeks)]


def _week_of(dates: pd.Series, ends: list[dt.date]) -> np.ndarray:
    """For each date, the first week whose end is on or after it (0 for earlier history)."""
    days = pd.to_datetime(dates.replace("", None), utc=True, format="mixed").dt.date
    edges = np.array(ends, dtype="datetime64[D]")
    values = days.to_numpy(dtype="datetime64[D]", na_value=np.datetime64("NaT"))
    week = np.searchsorted(edges, values, side="left").astype(int)
    week[np.isnat(values)] = -1  # no date: never filled later
    return np.minimum(week, len(ends) - 1)  # past the last end: sent with the last week


def weekly_exports(frames: dict[str, pd.DataFrame], data_end: dt.date, plan: ExportPlan
                   ) -> list[WeekExport]:
    """What each of `plan.weeks` weekly exports holds, history up to the first week's end in
    the first one."""
    ends = week_ends(data_end, plan.weeks)
    last = plan.weeks - 1
    rng = np.random.default_rng(plan.seed)
    # (week, pass, kind, rows): pass 0 first copies, pass 1 later copies of the same keys,
    # so a file holding both has the newer copy on a later line.
    copies: list[tuple[int, int, str, pd.DataFrame]] = []
    counts = {name: np.zeros(plan.weeks, dtype=int)
              for name in ("late", "corrected", "updated")}
    skipped = plan.missing if 0 < plan.missing < last else -1

    def sent(week: np.ndarray) -> np.ndarray:
        """The week a copy due in `week` is sent: the week after a missing export."""
        return np.where(week == skipped, week + 1, week)

    for kind, frame in frames.items():
        due = _week_of(frame[EVENT_DATE[kind]], ends)
        late = (rng.random(len(frame)) < plan.late_fraction) & (due > 0) & (due < last)
        due = sent(np.where(late, due + 1, due))
        np.add.at(counts["late"], due[late], 1)
        first = frame.copy()
        later = FILLED_LATER.get(kind)
        if later:
            filled = sent(_week_of(frame[next(iter(later))], ends))
            pending = filled > due  # exported before it happened: resent once it has
            for column, value in later.items():
                first.loc[pending, column] = value
            for week in np.unique(filled[pending]):
                rows = frame.loc[pending & (filled == week)]
                copies.append((int(week), 1, kind, rows))
                counts["updated"][int(week)] += len(rows)
        if kind == "purchases" and plan.corrected_per_week:
            for week in range(1, last):
                candidates = np.flatnonzero((due == week) & ~late)
                chosen = rng.choice(candidates, min(plan.corrected_per_week, len(candidates)),
                                    replace=False)
                wrong = first.iloc[chosen].copy()
                wrong["amount"] = (wrong["amount"].astype(float) * 10).map(lambda v: f"{v:.2f}")
                first.iloc[chosen] = wrong  # the wrong amount first, the true row next week
                fixed = int(sent(np.array([week + 1]))[0])
                copies.append((fixed, 1, kind, frame.iloc[chosen]))
                counts["corrected"][fixed] += len(chosen)
        for week in np.unique(due):
            copies.append((int(week), 0, kind, first.loc[due == week]))
    exports = []
    for week, end in enumerate(ends):
        parts = sorted((c for c in copies if c[0] == week), key=lambda c: c[1])
        week_frames: dict[str, pd.DataFrame] = {}
        for kind in frames:
            rows = [c[3] for c in parts if c[2] == kind and len(c[3])]
            if rows:
                out = pd.concat(rows, ignore_index=True)
                week_frames[kind] = out[out.columns[::-1]] if week == plan.reordered else out
        exports.append(WeekExport(week, end, week_frames, late=int(counts["late"][week]),
                                  corrected=int(counts["corrected"][week]),
                                  updated=int(counts["updated"][week])))
    return exports


def write_week(raw_dir: Path, export: WeekExport) -> list[Path]:
    """The week's files under `raw/<kind>/`, named by week end so they sort in arrival order."""
    return [write_text_atomic(frame.to_csv(index=False),
                              raw_dir / kind / f"{FILE_STEM[kind]}_{export.end}.csv")
            for kind, frame in export.frames.items()]
