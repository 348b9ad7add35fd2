"""The feature table (and training's snapshots) built by customer shard: each shard's rows of
every source, built alone, joined back into the table the whole build gives.

Every feature is an aggregate of one customer's own rows at the cutoff (`features.sql` groups
by `customer_id`; the learned event types are per customer too), so a customer's features do
not depend on which other customers are built beside them. The shards come from
`features.shards.customer_shards`, and the joined rows are in customer order, as
`features.build` returns them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.event_types import customer_features_with_event_types
from features.labels import LabelSpec
from features.shards import customer_shards
from features.snapshots import build_model_input
from features.sources import SourceTables


@dataclass(frozen=True)
class FeatureJob:
    """One shard's tables and the cutoff and learned event types of the build."""

    tables: SourceTables
    as_of: dt.date
    event_types: tuple[str, ...] = ()


def tables_by_shard(tables: SourceTables, shards: int) -> list[SourceTables]:
    """Each shard's rows of every table (shard 0 first), in their order within the table; a
    shard without purchases has no eligible customer and is left out."""
    split = {kind: _rows_by_shard(frame, shards)
             for kind, frame in tables.as_dict().items() if frame is not None}
    out = []
    for shard in range(shards):
        parts = {kind: split[kind][shard] if kind in split else None
                 for kind in tables.as_dict()}
        if len(parts["purchases"]):  # type: ignore[arg-type]
            out.append(SourceTables(**parts, checked=tables.checked))
    return out


def _rows_by_shard(frame: pd.DataFrame, shards: int) -> list[pd.DataFrame]:
    """`frame` cut into its shards' rows by one stable sort and one take, then slices (a
    boolean take per shard copied each 20 M-row table in ten passes)."""
    which = customer_shards(frame["customer_id"], shards)
    order = np.argsort(which, kind="stable")
    ends = np.cumsum(np.bincount(which, minlength=shards))
    ordered = frame.take(order)
    return [ordered.iloc[start:end] for start, end in zip(np.r_[0, ends[:-1]], ends,
                                                            strict=True)]


def feature_jobs(tables: SourceTables, as_of: dt.date, shards: int,
                 event_types: Sequence[str] = ()) -> list[FeatureJob]:
    """The jobs of a build at `as_of` split into at most `shards` customer shards (checked
    once here, not in every shard)."""
    checked = tables.validated()
    return [FeatureJob(part, as_of, tuple(event_types))
            for part in tables_by_shard(checked, shards)]


def shard_features(job: FeatureJob) -> pd.DataFrame:
    """One shard's feature table (picklable: what a Dask worker runs)."""
    return customer_features_with_event_types(job.tables, job.as_of, list(job.event_types))


def joined_features(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The shards' feature tables as one, rows in customer order like the whole build's."""
    filled = [p for p in parts if len(p)] or list(parts[:1])
    if not filled:
        raise ValueError("no shard feature table to join")
    return pd.concat(filled, ignore_index=True).sort_values(
        "customer_id", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class SnapshotJob:
    """One shard's tables and what `features.snapshots.build_model_input` needs besides."""

    tables: SourceTables
    cutoffs: tuple[dt.date, ...]
    spec: LabelSpec
    data_end: dt.date
    event_types: tuple[str, ...] = ()


def snapshot_jobs(tables: SourceTables, cutoffs: Sequence[dt.date], spec: LabelSpec,
                  data_end: dt.date, shards: int,
                  event_types: Sequence[str] = ()) -> list[SnapshotJob]:
    """The model input's snapshots at `cutoffs` split into at most `shards` customer shards.

    A customer's label, like its features, reads only its own rows (orders, subscriptions,
    master row), so a shard's snapshots are its customers' rows of the whole build."""
    checked = tables.validated()
    return [SnapshotJob(part, tuple(cutoffs), spec, data_end, tuple(event_types))
            for part in tables_by_shard(checked, shards)]


def shard_snapshots(job: SnapshotJob) -> pd.DataFrame:
    """One shard's model input (picklable: what a Dask worker runs)."""
    return build_model_input(job.tables, list(job.cutoffs), job.spec, data_end=job.data_end,
                             event_types=list(job.event_types))
