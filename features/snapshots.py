"""Model input: features at several cutoffs joined to the labels that followed each."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field

import pandas as pd
import pyarrow as pa

from features.catalog import FEATURE_WINDOWS_DAYS, feature_names
from features.event_types import customer_features_with_event_types
from features.labels import LabelSpec, churn_labels
from features.sources import SourceTables

SNAPSHOT_METADATA_KEY = "churn_snapshot"


@dataclass(frozen=True)
class SnapshotSettings:
    """Everything that decides the content of a model-input snapshot."""

    label: LabelSpec
    cutoffs: list[str]
    data_start: str
    data_end: str
    sources: list[str] = field(default_factory=list)
    windows_days: list[int] = field(default_factory=lambda: list(FEATURE_WINDOWS_DAYS))


def snapshot_manifest(frame: pd.DataFrame, settings: SnapshotSettings) -> dict:
    """The settings that made `frame`, its content hash, shape, features and label rates.

    Saved beside the parquet (and in its metadata) so a training run can prove what it used.
    """
    rates = frame.groupby("cutoff")["churned"].agg(["size", "mean"])
    return {
        **asdict(settings),
        "label": settings.label.model_dump(),  # a plain dict, so the manifest is JSON
        "features": feature_names(settings.sources),
        "rows": len(frame),
        "sha256": frame_content_hash(frame),
        "label_rate_by_cutoff": {
            str(pd.Timestamp(c).date()): {"rows": int(r["size"]), "churn_rate": float(r["mean"])}
            for c, r in rates.iterrows()
        },
    }


def monthly_cutoffs(last_cutoff: dt.date, count: int, step_days: int = 30) -> list[dt.date]:
    """`count` cutoffs ending at `last_cutoff`, `step_days` apart, oldest first."""
    return [last_cutoff - dt.timedelta(days=step_days * k) for k in range(count - 1, -1, -1)]


def labelled_cutoffs(
    data_end: dt.date, spec: LabelSpec, count: int, *, earliest: dt.date, step_days: int = 30,
) -> list[dt.date]:
    """The latest `count` cutoffs whose label window (gap included) fits in the data and that
    start after `earliest` (so features have history behind them), oldest first."""
    last = spec.last_labelled_cutoff(data_end)
    return [c for c in monthly_cutoffs(last, count, step_days) if c >= earliest]


@dataclass(frozen=True)
class CutoffPlan:
    """The cutoffs a training run takes, and why there are fewer than asked for, if so."""

    cutoffs: list[dt.date]
    wanted: int
    data_start: dt.date
    earliest: dt.date  # data_start + the history a cutoff needs

    @property
    def short(self) -> bool:
        return len(self.cutoffs) < self.wanted

    def note(self) -> str:
        """One line for the log and the terminal: how many cutoffs, and why fewer if so."""
        if not self.cutoffs:
            return f"no cutoff fits between {self.earliest} and the end of the labels"
        line = (f"trained on {len(self.cutoffs)} cutoffs (from {self.cutoffs[0]} to "
                f"{self.cutoffs[-1]})")
        if self.short:
            line += (f"; fewer than usual ({self.wanted}) because the data starts on "
                     f"{self.data_start} and a cutoff needs "
                     f"{(self.earliest - self.data_start).days} days of history behind it")
        return line


def training_cutoffs(
    data_start: dt.date, data_end: dt.date, spec: LabelSpec, count: int, *, history_days: int,
    step_days: int = 30,
) -> CutoffPlan:
    """The latest `count` labelled cutoffs with `history_days` of data behind them: fewer
    when the data is short (the plan says so), never a refusal while two remain."""
    earliest = data_start + dt.timedelta(days=history_days)
    cutoffs = labelled_cutoffs(data_end, spec, count, earliest=earliest, step_days=step_days)
    return CutoffPlan(cutoffs, count, data_start, earliest)


def build_model_input(
    tables: SourceTables,
    cutoffs: list[dt.date],
    spec: LabelSpec,
    *,
    data_end: dt.date,
    event_types: list[str] | None = None,
) -> pd.DataFrame:
    """`customer_id, cutoff, features…, churned`: one row per customer eligible at each cutoff.

    `event_types`: learned interaction types (`features.event_types`) whose columns follow
    the catalog features."""
    tables = tables.validated()
    # Each cutoff's snapshot is kept as Arrow columns and the pandas frame dropped at once;
    # the Arrow tables are joined without a copy and handed to pandas column by column, each
    # freed as it is converted. A `pd.concat` of pandas parts would hold every part and the
    # concatenation at the same time (twice the model input).
    parts = []
    for cutoff in cutoffs:
        features = customer_features_with_event_types(tables, cutoff, event_types or [])
        labels = churn_labels(
            features["customer_id"], tables.purchases, cutoff, spec,
            data_end=data_end, customers=tables.customers, subscriptions=tables.subscriptions,
        )
        snapshot = features.merge(labels, on="customer_id", how="left", validate="one_to_one")
        del features, labels
        snapshot.insert(1, "cutoff", pd.Timestamp(cutoff))
        parts.append(pa.Table.from_pandas(snapshot.drop(columns=["as_of"]),
                                          preserve_index=False))
        del snapshot
    joined = pa.concat_tables(parts, promote_options="default")
    del parts
    return joined.to_pandas(split_blocks=True, self_destruct=True)


def frame_content_hash(frame: pd.DataFrame) -> str:
    """A stable SHA-256 of a frame's values and column names (row order included).

    Floats are rounded to 9 decimals first: parallel aggregation may add the same numbers in
    a different order and differ in the last bits, which is not a different dataset.
    """
    digest = hashlib.sha256()
    digest.update("|".join(map(str, frame.columns)).encode())
    floats = frame.select_dtypes("float").columns
    # A row's hash depends on that row alone, so hashing slices gives the same digest as the
    # whole frame, without a rounded copy of every float column beside the frame.
    for start in range(0, len(frame), HASH_ROWS):
        rows = frame.iloc[start:start + HASH_ROWS]
        stable = rows.assign(**{c: rows[c].round(9) for c in floats})
        digest.update(pd.util.hash_pandas_object(stable, index=False).to_numpy().tobytes())
    return digest.hexdigest()


#: Rows hashed at a time by `frame_content_hash` (its memory beyond the frame is one slice).
HASH_ROWS = 100_000
