"""Everything a scoring run reads of the events, in one pass over the customer shards.

The feature table, the value estimate's purchase summaries, the churn history's and the
retention table's counts, last year's revenue, the complaints the KPIs read, the open
complaints, the data's volume and the backtest of the newest matured list are each a
function of every customer's own rows, so a shard of the staged tables gives the whole
base's rows (or counts) of that shard, and the shards' parts joined in shard order give the
whole base's figures exactly (`tests/pipelines/deliver/test_shard_pass.py`). A run reads the
staged version one shard at a time (`pipelines.store.staged.load_shard_tables`) and holds
one shard's events at once beside the joined parts, which are a row per customer or a count.
The same code takes tables already in memory as a single shard.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from features.labels import LabelSpec
from features.sharded import FeatureJob, joined_features, shard_features
from features.shards import customer_shards
from features.sources import SourceTables
from models import history
from models.analytics.policy import AnalyticsPolicy
from models.analytics.retention import joined_retention_rates, retention_rates
from models.analytics.service import known_complaints, kpis_of_known_complaints
from models.analytics.value import (
    RevenueEstimate,
    ValueInputs,
    estimate_from_inputs,
    joined_revenue,
    joined_value_inputs,
    revenue_last_year,
    value_inputs,
)
from models.playbook import oldest_open_complaints
from models.track_record import ShippedList, TrackRecord, graded_track_record, realised_outcomes
from pipelines.deliver.analytics_run import BaseFigures
from pipelines.deliver.run_history import KnownHistory, MaturedList
from pipelines.store.partitioned import read_shard
from pipelines.store.settings import Settings
from pipelines.store.staged import SOURCE_KINDS, load_shard_tables
from pipelines.tracking.monitoring import DataNow, source_volume
from pipelines.tracking.shipped import archived_lists, shipped_lists, track_columns


@dataclass(frozen=True)
class ShardFacts:
    """What one customer shard's events give a scoring run (see the module docstring)."""

    features: pd.DataFrame | None  # None: built elsewhere (Dask workers reading the shards)
    value: ValueInputs
    churn: history.ChurnCounts
    retention: pd.DataFrame
    revenue: pd.Series
    complaints: pd.DataFrame | None
    open_complaints: pd.DataFrame
    volume: dict[str, int]
    backtest: pd.DataFrame | None  # the newest matured list's shard rows with `churned`


@dataclass(frozen=True)
class ScoringFacts:
    """The whole base's facts: the feature table, the value estimate, what the report and
    the monitoring say of the past, the open complaints, and the sources the data has."""

    features: pd.DataFrame | None
    revenue: RevenueEstimate
    past: KnownHistory
    open_complaints: pd.DataFrame
    available: tuple[str, ...]


@dataclass(frozen=True)
class FactsRequest:
    """What a pass computes: at `as_of`, under the champion's churn definition `label`, the
    features with its learned `event_types` (unless `with_features` is off), and the
    outcomes of `backtest` (the newest matured list) when there is one."""

    as_of: dt.date
    label: LabelSpec
    event_types: tuple[str, ...] = ()
    with_features: bool = True
    backtest: MaturedList | None = None


def shard_facts(tables: SourceTables, request: FactsRequest,
                backtest_rows: pd.DataFrame | None = None) -> ShardFacts:
    """`ShardFacts` of `tables` (one shard, or the whole base as one). `backtest_rows`: the
    matured list's rows of these customers, with a `_row` position in the list."""
    tables = tables.validated()
    as_of, label = request.as_of, request.label
    policy = AnalyticsPolicy(label=label)
    features = None
    if request.with_features and len(tables.purchases):
        features = shard_features(FeatureJob(tables, as_of, request.event_types))
    backtest = None
    if request.backtest is not None and backtest_rows is not None:
        backtest = history.realized_outcomes(
            backtest_rows, tables.purchases, request.backtest.as_of, request.backtest.label,
            as_of, tables.customers, tables.subscriptions)
    return ShardFacts(
        features=features,
        value=value_inputs(tables, as_of, policy),
        churn=history.churn_counts(tables.purchases, label, as_of, customers=tables.customers),
        retention=retention_rates(tables, as_of, policy, dimensions=("all",)),
        revenue=revenue_last_year(tables, as_of),
        complaints=known_complaints(tables, as_of),
        open_complaints=oldest_open_complaints(tables.complaints, as_of),
        volume=source_volume(tables, as_of),
        backtest=backtest)


def joined_facts(parts: Sequence[ShardFacts], request: FactsRequest,
                 record: TrackRecord, available: tuple[str, ...]) -> ScoringFacts:
    """The whole base's `ScoringFacts` from its shards' parts, in shard order."""
    as_of, label = request.as_of, request.label
    policy = AnalyticsPolicy(label=label)
    features = [part.features for part in parts if part.features is not None]
    complaints = [part.complaints for part in parts if part.complaints is not None]
    known = pd.concat(complaints, ignore_index=True) if complaints else None
    backtest = None
    if request.backtest is not None:
        rows = [part.backtest for part in parts if part.backtest is not None]
        joined = pd.concat(rows, ignore_index=True).sort_values("_row", kind="stable")
        backtest = (joined.drop(columns="_row").reset_index(drop=True), request.backtest.name)
    figures = BaseFigures(
        joined_retention_rates([part.retention for part in parts], policy),
        joined_revenue([part.revenue for part in parts]),
        kpis_of_known_complaints(known, as_of, policy))
    volume = {key: sum(part.volume[key] for part in parts) for key in parts[0].volume}
    return ScoringFacts(
        features=joined_features(features) if features else None,
        revenue=estimate_from_inputs(joined_value_inputs([part.value for part in parts]),
                                     as_of, policy),
        past=KnownHistory(
            churn_history=history.joined_churn_rates([part.churn for part in parts]),
            figures=figures, backtest=backtest, record=record, volume=volume),
        open_complaints=_joined_rows([part.open_complaints for part in parts]),
        available=available)


def _joined_rows(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The parts' rows in order; an empty part (a shard without any) adds no dtypes."""
    kept = [part for part in parts if len(part)]
    return pd.concat(kept, ignore_index=True) if kept else parts[0]


def facts_in_memory(settings: Settings, tables: SourceTables,
                    request: FactsRequest) -> ScoringFacts:
    """`ScoringFacts` of tables already in memory, taken as one shard."""
    tables = tables.validated()
    rows = _backtest_rows(request.backtest)
    part = shard_facts(tables, request, rows)
    return joined_facts([part], request, track_record_of(settings, tables, request.as_of),
                        tables.available)


def facts_by_shard(settings: Settings, folder: Path, shards: int,
                   request: FactsRequest) -> ScoringFacts:
    """`ScoringFacts` of the staged version in `folder`, read one of `shards` customer shards
    at a time: the same facts as `facts_in_memory` of its tables loaded whole."""
    rows = _backtest_rows(request.backtest)
    keyed = None if rows is None else customer_shards(rows["customer_id"], shards)
    parts = []
    for shard in range(shards):
        tables = load_shard_tables(folder, shard, shards)
        shard_rows = None if rows is None or keyed is None else rows[keyed == shard]
        parts.append(shard_facts(tables, request, shard_rows))
        del tables  # one shard's events at a time
    if request.with_features and not any(part.features is not None for part in parts):
        # no purchases in any shard: the whole build says what that means
        parts[0] = replace(parts[0], features=shard_features(
            FeatureJob(load_shard_tables(folder, 0, 1), request.as_of, request.event_types)))
    available = tuple(kind for kind in SOURCE_KINDS if (folder / f"{kind}.parquet").exists())
    return joined_facts(parts, request, track_record_of(settings, folder, request.as_of, shards),
                        available)


def _backtest_rows(matured: MaturedList | None) -> pd.DataFrame | None:
    """The matured list's `customer_id, churn_probability`, each with its row position."""
    if matured is None:
        return None
    rows = pd.read_parquet(matured.path, columns=["customer_id", "churn_probability"])
    return rows.assign(_row=np.arange(len(rows)))


def _matured_or_not(settings: Settings, *, as_of: dt.date,
                    with_cancellation: bool) -> Iterator[ShippedList]:
    """The archived lists scored by `as_of`, one at a time (the track record's)."""
    return shipped_lists(archived_lists(settings.scored_dir, as_of,
                                        with_cancellation=with_cancellation), track_columns)


#: What `features.labels.churn_labels` reads of each staged table, per definition (None:
#: every column).
LABEL_COLUMNS: dict[str, dict[str, list[str] | None]] = {
    "no_purchase": {"purchases": ["customer_id", "order_date", "status"],
                    "customers": ["customer_id", "cancelled_at"]},
    "cancellation": {"purchases": ["customer_id", "order_date", "status"],
                     "customers": ["customer_id", "cancelled_at"]},
    "renewal": {"purchases": None, "customers": ["customer_id", "cancelled_at"],
                "subscriptions": None},
}


def _outcomes_by_shard(folder: Path, shards: int,
                       data_end: dt.date) -> Callable[[ShippedList], pd.DataFrame]:
    """`realised_outcomes` of a shipped list, its customers labelled one shard at a time from
    the columns the labels read: the list's rows in its own order, as from whole tables."""

    def outcomes(item: ShippedList) -> pd.DataFrame:
        risk = item.risk.assign(_row=np.arange(len(item.risk)))
        keyed = customer_shards(risk["customer_id"], shards)
        wanted = LABEL_COLUMNS.get(item.label.definition, {"purchases": None})
        parts = []
        for shard in range(shards):
            mine = risk[keyed == shard]
            if not len(mine):
                continue
            frames = {kind: (read_shard(folder / f"{kind}.parquet", shard, shards,
                                        columns=wanted[kind])
                             if kind in wanted and (folder / f"{kind}.parquet").exists()
                             else None)
                      for kind in ("purchases", "customers", "subscriptions")}
            purchases = frames["purchases"]
            assert purchases is not None  # every staged version has purchases
            parts.append(realised_outcomes(replace(item, risk=mine), purchases, data_end,
                                           frames["customers"], frames["subscriptions"]))
        if not parts:
            return item.risk.iloc[:0].assign(churned=pd.Series(dtype=int))
        joined = pd.concat(parts, ignore_index=True).sort_values("_row", kind="stable")
        return joined.drop(columns="_row").reset_index(drop=True)

    return outcomes


def track_record_of(settings: Settings, source: SourceTables | Path, data_end: dt.date,
                    shards: int = 1) -> TrackRecord:
    """The track record of every archived list scored by `data_end`, as known then (a list
    of that very day is listed as not matured): of a staged version folder, each list's
    customers labelled one of `shards` customer shards at a time."""
    if isinstance(source, Path):
        return graded_track_record(
            _matured_or_not(settings, as_of=data_end,
                            with_cancellation=(source / "customers.parquet").exists()),
            _outcomes_by_shard(source, shards, data_end), data_end)
    tables = source.validated()
    return graded_track_record(
        _matured_or_not(settings, as_of=data_end, with_cancellation=tables.customers is not None),
        lambda item: realised_outcomes(item, tables.purchases, data_end, tables.customers,
                                       tables.subscriptions), data_end)


def data_now(settings: Settings, source: SourceTables | Path, as_of: dt.date,
             event_types: Sequence[str] = (), shards: int = 1) -> DataNow:
    """What the retrain rules read at `as_of` (`monitoring.DataNow`): of a staged version
    folder, the features and the volume one of `shards` customer shards at a time."""
    if not isinstance(source, Path):
        tables = source.validated()
        return DataNow(shard_features(FeatureJob(tables, as_of, tuple(event_types))),
                       track_record_of(settings, tables, as_of),
                       source_volume(tables, as_of), tables.available)
    features, volumes = [], []
    for shard in range(shards):
        tables = load_shard_tables(source, shard, shards)
        if len(tables.purchases):
            features.append(shard_features(FeatureJob(tables, as_of, tuple(event_types))))
        volumes.append(source_volume(tables, as_of))
        del tables  # one shard's events at a time
    if not features:  # no purchases at all: the whole build says what that means
        features.append(shard_features(FeatureJob(load_shard_tables(source, 0, 1), as_of,
                                                  tuple(event_types))))
    available = tuple(kind for kind in SOURCE_KINDS if (source / f"{kind}.parquet").exists())
    return DataNow(joined_features(features), track_record_of(settings, source, as_of, shards),
                   {key: sum(v[key] for v in volumes) for key in volumes[0]}, available)
