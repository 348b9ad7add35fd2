"""Training's final booster fitted by `lightgbm.dask` on the command's Dask cluster
(`CHURN_TRAIN_ENGINE=dask`).

Everything training judges and reports (the model's size, the calibrator, the baselines, the
backtest, the out-of-time figures) comes from the model input this process holds: every
labelled snapshot, or the stable customer sample `CHURN_TRAIN_MEMORY_MB` allows. The booster
scoring uses is then fitted with that size on every customer's snapshots, built shard by
shard on the workers (`features.sharded.shard_snapshots`) and kept there: this process
sends each shard its rows and gets back only counts, category levels and the fitted trees.

LightGBM's data-parallel learner bins and splits per worker, so the trees differ from a
single-process fit on the same rows (the quality is alike: `tests/pipelines/scale/
test_cluster_training.py` compares out-of-time AUC), and which shard lands on which worker
may change between runs, so two cluster fits need not be identical.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

from features.labels import LabelSpec
from features.sharded import shard_snapshots, snapshot_jobs
from features.sources import SourceTables
from models.matrix import category_levels, model_matrix
from models.params import TrainParams
from models.train import LABEL, FinalFit, Refit
from pipelines.scale.runner import ShardRunner
from pipelines.scale.settings import DASK

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardSummary:
    """What the driver learns of one shard's snapshots: their rows, churners and levels."""

    rows: int
    churners: int
    levels: dict[str, list[str]]


def summarised_shard(frame: pd.DataFrame, features: list[str]) -> ShardSummary:
    return ShardSummary(len(frame), int(frame[LABEL].sum()), category_levels(frame, features))


def merged_levels(summaries: Sequence[ShardSummary]) -> dict[str, list[str]]:
    """Every shard's levels of each categorical feature, sorted: the levels one fit over all
    rows would learn (`models.matrix.category_levels`)."""
    names = {name for summary in summaries for name in summary.levels}
    return {name: sorted({level for summary in summaries
                          for level in summary.levels.get(name, [])})
            for name in sorted(names)}


def shard_matrix(frame: pd.DataFrame, features: list[str],
                 levels: dict[str, list[str]]) -> pd.DataFrame:
    """`models.matrix.model_matrix` with the numbers as float32: a worker holds its matrix,
    lightgbm.dask's concatenation of its parts and LightGBM's own array of them at once, each
    half the size. The features are counts, days, money and rates, none needing more than
    float32's 7 digits for a split; scoring predicts on float64 as before."""
    matrix = model_matrix(frame, features, levels)
    numbers = [name for name in features if name not in levels]
    return matrix.astype(dict.fromkeys(numbers, "float32"))


def shard_labels(frame: pd.DataFrame) -> pd.Series:
    return frame[LABEL].astype("int64")


def empty_like(part: pd.DataFrame | pd.Series) -> pd.DataFrame | pd.Series:
    return part.iloc[:0]


@dataclass(frozen=True)
class SnapshotSpec:
    """Which snapshots the cluster builds: the model input's cutoffs, churn definition, data
    end, features and learned event types."""

    cutoffs: tuple[dt.date, ...]
    label: LabelSpec
    data_end: dt.date
    features: tuple[str, ...]
    event_types: tuple[str, ...] = ()


def training_shards(runner: ShardRunner, customers: int) -> int:
    """The runner's shard count, rounded up to a multiple of its workers unless
    `CHURN_SHARDS` sets it: each worker fits the rows it holds, so 3 shards on 2 workers would
    give one worker twice the other's (measured at 300k customers: 4.5 GB against 2.4)."""
    shards = runner.shard_count(customers)
    if runner.settings.shards is not None:
        return shards
    workers = runner.workers
    return -(-shards // workers) * workers


@contextmanager
def snapshots_on_cluster(runner: ShardRunner, tables: SourceTables,
                         spec: SnapshotSpec) -> Iterator[ClusterSnapshots]:
    """Every customer's snapshots built shard by shard on `runner`'s cluster and held there
    for the block; `tables` may be let go inside it (the workers have their rows)."""
    if not runner.settings.distributed:
        raise ValueError("training on a Dask cluster needs CHURN_DASK_SCHEDULER to name one")
    client = runner.client()
    customers = tables.customers if tables.customers is not None else tables.purchases
    shards = training_shards(runner, int(customers["customer_id"].nunique()))
    futures: dict[str, list[Any]] = {}
    # `distributed.wait` (here and in lightgbm.dask) finds its client as the current one; the
    # runner's is never made the process default
    with client.as_current():
        try:
            futures["jobs"] = client.scatter(
                snapshot_jobs(tables, list(spec.cutoffs), spec.label, spec.data_end, shards,
                              spec.event_types), hash=False)
            del tables, customers  # the caller may free them: this frame holds no reference
            futures["snapshots"] = client.map(shard_snapshots, futures["jobs"], pure=False)
            summaries = client.gather(client.map(summarised_shard, futures["snapshots"],
                                                 features=list(spec.features), pure=False))
            del futures["jobs"]  # built: the workers may let the shards' rows go
            yield ClusterSnapshots(runner, futures, summaries, list(spec.features))
        finally:
            client.cancel([future for held in futures.values() for future in held])


class ClusterSnapshots:
    """Snapshots held on a cluster (`snapshots_on_cluster`): their counts, and `refit`."""

    def __init__(self, runner: ShardRunner, futures: dict[str, list[Any]],
                 summaries: list[ShardSummary], features: list[str]) -> None:
        self.runner, self.futures, self.features = runner, futures, features
        self.summaries = summaries
        self.rows = sum(summary.rows for summary in summaries)
        self.churners = sum(summary.churners for summary in summaries)

    def refit(self, params: TrainParams) -> Refit:
        """A `models.train.Refit`: the final classifier by `lightgbm.dask` over them all."""
        return lambda trees: self.fitted(params, trees)

    def fitted(self, params: TrainParams, trees: int) -> FinalFit:
        import dask.dataframe as dd
        from distributed import wait
        from lightgbm import DaskLGBMClassifier

        if not 0 < self.churners < self.rows:
            raise ValueError(f"the cluster's {self.rows} snapshots hold {self.churners} "
                             "churners: the final model needs both churners and stayers")
        client, futures = self.runner.client(), self.futures
        levels = merged_levels(self.summaries)
        # a shard without an eligible customer would be an empty partition to LightGBM
        filled = [snapshot for snapshot, summary in zip(futures["snapshots"], self.summaries,
                                                        strict=True) if summary.rows]
        futures["matrices"] = client.map(shard_matrix, filled, features=self.features,
                                         levels=levels, pure=False)
        futures["labels"] = client.map(shard_labels, filled, pure=False)
        wait(futures["matrices"] + futures["labels"])
        # no reference left to the snapshots: the workers keep only the matrices
        del filled, futures["snapshots"]
        matrix = dd.from_delayed(futures["matrices"], verify_meta=False, meta=client.submit(
            empty_like, futures["matrices"][0]).result())
        label = dd.from_delayed(futures["labels"], verify_meta=False, meta=client.submit(
            empty_like, futures["labels"][0]).result())
        # num_threads is each worker's own thread count (lightgbm.dask sets it per worker)
        booster = {k: v for k, v in params.lightgbm_params(self.rows).items() if k != "n_jobs"}
        logger.info("fitting %d trees by lightgbm.dask on %d snapshots (%d churners) in %d "
                    "shards on %s", trees, self.rows, self.churners, len(futures["matrices"]),
                    self.runner.settings.describe())
        model = DaskLGBMClassifier(client=client, n_estimators=trees, **booster)
        with warnings.catch_warnings():
            # the scikit-learn wrapper always passes its n_jobs, which lightgbm.dask then
            # drops with a warning that asks nothing of the user
            warnings.filterwarnings("ignore", message="Parameter n_jobs will be ignored")
            model.fit(matrix, label)
        return FinalFit(model.to_local(), levels, self.rows, DASK)
