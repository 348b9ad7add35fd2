"""Training's final booster fitted by `lightgbm.dask` on the command's Dask cluster
(`CHURN_TRAIN_ENGINE=dask`).

Everything training judges and reports (the model's size, the calibrator, the baselines, the
backtest, the out-of-time figures) comes from the model input this process holds: every
labelled snapshot, or the stable customer sample `CHURN_TRAIN_MEMORY_MB` allows. The booster
scoring uses is then fitted with that size on every customer's snapshots, built shard by
shard on the workers (`features.sharded.shard_snapshots`) and kept there. Where the workers
see the staged version this process reads (a local cluster, or a data dir on a shared
filesystem: `ShardRunner.sees`), each worker reads its shards' rows from the staged tables
itself (they are stored in shard order, `pipelines.store.partitioned`), and this process
never loads the tables; elsewhere this process sends each shard its rows. Either way it gets
back only counts, category levels, the source volume and the fitted trees.

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
from pathlib import Path
from typing import Any

import pandas as pd

from features.labels import LabelSpec
from features.sharded import SnapshotJob, shard_snapshots, snapshot_jobs
from features.sources import SourceTables
from models.matrix import category_levels, model_matrix
from models.params import TrainParams
from models.train import LABEL, FinalFit, Refit
from pipelines.scale.runner import ShardRunner
from pipelines.scale.settings import DASK
from pipelines.store.staged import load_shard_tables, staged_customers
from pipelines.tracking.monitoring import source_volume

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShardSummary:
    """What the driver learns of one shard's snapshots: their rows, churners and levels."""

    rows: int
    churners: int
    levels: dict[str, list[str]]


def summarised_shard(frame: pd.DataFrame, features: list[str]) -> ShardSummary:
    if frame.empty and LABEL not in frame:  # a shard without an eligible customer
        return ShardSummary(0, 0, {})
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


@dataclass(frozen=True)
class StagedSnapshotJob:
    """One shard's snapshots, built by a worker from its own read of the staged version in
    `folder` (`pipelines.store.staged.load_shard_tables`): no rows travel from the driver."""

    folder: Path
    shard: int
    shards: int
    spec: SnapshotSpec


def staged_shard_snapshots(job: StagedSnapshotJob) -> tuple[pd.DataFrame, dict[str, int]]:
    """One shard's model input and the source volume of its rows up to the data end (a
    customer is in one shard only, so the shards' volumes add up to the whole one's)."""
    tables = load_shard_tables(job.folder, job.shard, job.shards)
    spec = job.spec
    volume = source_volume(tables, spec.data_end)
    if not len(tables.purchases):  # no eligible customer: an empty partition, left out
        return pd.DataFrame(), volume
    return shard_snapshots(SnapshotJob(tables, spec.cutoffs, spec.label, spec.data_end,
                                       spec.event_types)), volume


def _first(pair: tuple[Any, Any]) -> Any:
    return pair[0]


def _second(pair: tuple[Any, Any]) -> Any:
    return pair[1]


def added_volumes(volumes: Sequence[dict[str, int]]) -> dict[str, int]:
    return {name: sum(volume[name] for volume in volumes) for name in volumes[0]}


@contextmanager
def snapshots_on_cluster(runner: ShardRunner, source: SourceTables | Path,
                         spec: SnapshotSpec) -> Iterator[ClusterSnapshots]:
    """Every customer's snapshots built shard by shard on `runner`'s cluster and held there
    for the block. `source` is a staged version's folder that every worker reads its own
    shards from (`ShardRunner.sees`), or tables in this process whose shards are sent to the
    workers (which the caller may let go inside the block)."""
    if not runner.settings.distributed:
        raise ValueError("training on a Dask cluster needs CHURN_DASK_SCHEDULER to name one")
    client = runner.client()
    futures: dict[str, list[Any]] = {}
    volume: dict[str, int] | None = None
    # `distributed.wait` (here and in lightgbm.dask) finds its client as the current one; the
    # runner's is never made the process default
    with client.as_current():
        try:
            if isinstance(source, Path):
                shards = training_shards(runner, staged_customers(source))
                jobs = [StagedSnapshotJob(source, shard, shards, spec)
                        for shard in range(shards)]
                futures["built"] = client.map(staged_shard_snapshots, jobs, pure=False)
                futures["snapshots"] = client.map(_first, futures["built"], pure=False)
                volume = added_volumes(client.gather(client.map(_second, futures["built"],
                                                                pure=False)))
                del futures["built"]  # the snapshots stay, referenced by their own futures
            else:
                customers = source.customers if source.customers is not None \
                    else source.purchases
                shards = training_shards(runner, int(customers["customer_id"].nunique()))
                futures["jobs"] = client.scatter(
                    snapshot_jobs(source, list(spec.cutoffs), spec.label, spec.data_end,
                                  shards, spec.event_types), hash=False)
                del source, customers  # the caller may free them: no reference is left here
                futures["snapshots"] = client.map(shard_snapshots, futures["jobs"],
                                                  pure=False)
            summaries = client.gather(client.map(summarised_shard, futures["snapshots"],
                                                 features=list(spec.features), pure=False))
            futures.pop("jobs", None)  # built: the workers may let the shards' rows go
            yield ClusterSnapshots(runner, futures, summaries, list(spec.features), volume)
        finally:
            client.cancel([future for held in futures.values() for future in held])


class ClusterSnapshots:
    """Snapshots held on a cluster (`snapshots_on_cluster`): their counts, and `refit`."""

    def __init__(self, runner: ShardRunner, futures: dict[str, list[Any]],
                 summaries: list[ShardSummary], features: list[str],
                 volume: dict[str, int] | None = None) -> None:
        self.runner, self.futures, self.features = runner, futures, features
        self.summaries = summaries
        #: the source volume the workers counted when they read the shards themselves
        self.volume = volume
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
