"""A scoring run's feature table and model outputs, computed by customer shard where the
settings say.

TreeSHAP is most of a scoring run's time; its shards (and the feature build's) run on the
command's runner (`pipelines.scale.runner`): in this process, or on the Dask cluster
`CHURN_DASK_SCHEDULER` names, with the model sent to each worker once. The values are the
unsharded ones (`features.sharded`, `models.outputs`), so the risk list is the same file
either way.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from features.event_types import customer_features_with_event_types
from features.sharded import FeatureJob, feature_jobs, joined_features, shard_features
from features.sources import SourceTables
from models.outputs import (
    ModelOutputs,
    joined_outputs,
    model_outputs,
    shard_jobs,
    shard_outputs,
    with_unexplained,
)
from models.reason_rules import population_reference
from models.train import FittedChurnModel
from pipelines.deliver.shard_pass import (
    FactsRequest,
    ScoringFacts,
    facts_by_shard,
    facts_in_memory,
)
from pipelines.scale.runner import shard_runner
from pipelines.store.settings import Settings
from pipelines.store.staged import load_shard_tables, staged_customers

logger = logging.getLogger(__name__)


def sharded_model_outputs(
    model: FittedChurnModel, features: pd.DataFrame, no_data_features: Sequence[str] = (),
    explain: Callable[[pd.Series], pd.Series] | None = None,
) -> ModelOutputs:
    """`models.outputs.model_outputs` of every row of `features`, by customer shard; with
    `explain` (given every row's probability, the mask of rows to explain), only those rows
    get contributions and reasons, the others their probability alone. The reasons compare
    with the typical customer of all of `features` either way, so an explained customer's
    reasons do not depend on who else was explained."""
    if explain is not None:
        probability = pd.Series(model.predict_probability(features), index=features.index)
        mask = explain(probability)
        if mask.all():
            return _sharded_outputs(model, features, no_data_features, None)
        return _partly_explained(model, features, no_data_features, probability, mask)
    return _sharded_outputs(model, features, no_data_features, None)


def _partly_explained(model: FittedChurnModel, features: pd.DataFrame,
                      no_data_features: Sequence[str], probability: pd.Series,
                      explain: pd.Series) -> ModelOutputs:
    """Contributions and reasons for the `explain` rows only, every row's probability."""
    reference = population_reference(features)
    if not explain.any():  # one row explained for the columns' shape, then dropped
        shaped = model_outputs(model, features.iloc[:1], no_data_features=no_data_features,
                               reference=reference)
        return with_unexplained(ModelOutputs(shaped.probability.iloc[:0],
                                             shaped.contributions.iloc[:0],
                                             shaped.reasons.iloc[:0]), probability)
    rows = explain.to_numpy()
    # their probabilities as predicted above, not predicted again (800 k rows: 3 s)
    explained = _sharded_outputs(model, features[rows], no_data_features, reference,
                                 probability.to_numpy()[rows])
    return with_unexplained(explained, probability)


def _sharded_outputs(model: FittedChurnModel, features: pd.DataFrame,
                     no_data_features: Sequence[str], reference: dict[str, float] | None,
                     probability: np.ndarray | None = None) -> ModelOutputs:
    with shard_runner() as runner:
        shards = runner.shard_count(len(features))
        if shards == 1 and not runner.settings.distributed:
            return model_outputs(model, features, no_data_features=no_data_features,
                                 reference=reference, probability=probability)
        parts = runner.map(shard_outputs,
                           shard_jobs(features, shards, no_data_features, reference,
                                      probability),
                           shared=model, label="explaining customers")
    return joined_outputs(parts, features.index)


@dataclass(frozen=True)
class StagedFeatureJob:
    """One shard's feature build from the worker's own read of the staged version in
    `folder` (`pipelines.store.staged.load_shard_tables`)."""

    folder: Path
    shard: int
    shards: int
    as_of: dt.date
    event_types: tuple[str, ...] = ()


def staged_shard_features(job: StagedFeatureJob) -> pd.DataFrame:
    """One shard's feature table, its rows read where it runs (picklable: a Dask task)."""
    tables = load_shard_tables(job.folder, job.shard, job.shards)
    if not len(tables.purchases):  # no eligible customer in this shard
        return pd.DataFrame()
    return shard_features(FeatureJob(tables, job.as_of, job.event_types))


def sharded_customer_features(
    tables: SourceTables, as_of: dt.date, event_types: Sequence[str] = (),
) -> pd.DataFrame:
    """`features.event_types.customer_features_with_event_types` of tables in memory, by
    customer shard on the command's runner where the settings say: the same table."""
    with shard_runner() as runner:
        settings = runner.settings
        if not settings.distributed and settings.shards is None:
            # In this process the tables are whole in memory already, and DuckDB's aggregates
            # add little to them (1 M customers: +0.2 GB over the loaded 6.3 GB); cutting the
            # tables into shards cost more than the build itself (56 s against 23 s).
            return customer_features_with_event_types(tables, as_of, list(event_types))
        customers = tables.customers if tables.customers is not None else tables.purchases
        shards = runner.shard_count(int(customers["customer_id"].nunique()))
        if shards == 1 and not settings.distributed:
            return customer_features_with_event_types(tables, as_of, list(event_types))
        jobs = feature_jobs(tables, as_of, shards, event_types)
        if not jobs:  # no purchases at all: the whole build says what that means
            return customer_features_with_event_types(tables, as_of, list(event_types))
        return joined_features(runner.map(shard_features, jobs, label="building features"))


def run_facts(settings: Settings, source: SourceTables | Path,
              request: FactsRequest) -> ScoringFacts:
    """A scoring run's `ScoringFacts` (`pipelines.deliver.shard_pass`) on the command's
    runner. Of a staged version folder: read one customer shard at a time in this process,
    the feature build on the Dask workers where they see the folder. Of tables in memory:
    as one shard, the feature build by `sharded_customer_features`."""
    with shard_runner() as runner:
        if not isinstance(source, Path):
            features = sharded_customer_features(source, request.as_of, request.event_types)
            facts = facts_in_memory(settings, source,
                                    replace(request, with_features=False))
            return replace(facts, features=features)
        shards = runner.shard_count(staged_customers(source))
        on_workers = runner.settings.distributed and runner.sees(source)
        logger.info("reading the staged version in %d customer shard(s) in this process; "
                    "the features built %s", shards,
                    "by the Dask workers from their own shards" if on_workers
                    else "in this process")
        if on_workers:
            parts = runner.map(staged_shard_features,
                               [StagedFeatureJob(source, shard, shards, request.as_of,
                                                 request.event_types)
                                for shard in range(shards)], label="building features")
            if not any(len(part) for part in parts):  # no purchases: the build says so
                return facts_by_shard(settings, source, shards, request)
            facts = facts_by_shard(settings, source, shards,
                                   replace(request, with_features=False))
            return replace(facts, features=joined_features(parts))
        return facts_by_shard(settings, source, shards, request)


def pass_shards(folder: Path) -> int:
    """The customer shards a pass in this process reads the staged version `folder` in:
    `CHURN_SHARDS`, else one per 100,000 customers."""
    with shard_runner() as runner:
        return runner.settings.shard_count(staged_customers(folder), 1)
