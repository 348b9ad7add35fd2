"""`CHURN_TRAIN_ENGINE=dask`: the final booster fitted by `lightgbm.dask` on a two-worker
cluster over every customer's snapshots, as good out of time as the one-process fit, and
recorded as such in the MLflow run and the model card (`tests/pipelines/test_train_budget.py`)."""

from __future__ import annotations

import datetime as dt
import gc
import weakref

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from features.budget import sampled_tables
from features.catalog import feature_names
from features.labels import LabelSpec
from features.snapshots import build_model_input
from features.sources import SourceTables
from models.matrix import category_levels
from models.params import TrainParams
from models.train import fit_with_validation
from pipelines.scale.runner import ShardRunner, command_runner
from pipelines.scale.settings import ScaleSettings
from pipelines.scale.training import SnapshotSpec, snapshots_on_cluster, training_shards
from pipelines.store.partitioned import write_partitioned
from pipelines.tracking.monitoring import source_volume
from tests.simulated import staged_from_simulation

SPEC = LabelSpec(horizon_days=60)
PARAMS = TrainParams(label=SPEC, max_boost_rounds=80, early_stopping_rounds=10,
                     min_child_samples=10, n_jobs=1)
CLUSTER = ScaleSettings(scheduler="local", local_workers=2, shards=4, train_engine="dask")


@pytest.fixture(scope="module")
def business():
    """Simulated tables, snapshots at four cutoffs to train on and a later one to judge on."""
    tables = staged_from_simulation(customers=1200, seed=8)
    end = tables.purchases["order_date"].max().date()
    judged = end - dt.timedelta(days=SPEC.horizon_days)
    # the training labels end by the judged cutoff: nothing they saw is in its future
    cutoffs = [judged - dt.timedelta(days=SPEC.horizon_days + 30 * k) for k in range(3, -1, -1)]
    features = feature_names([k for k, frame in tables.as_dict().items() if frame is not None])
    model_input = build_model_input(tables, cutoffs, SPEC, data_end=judged)
    later = build_model_input(tables, [judged], SPEC, data_end=end)
    return tables, cutoffs, judged, features, model_input, later


def _spec(cutoffs, data_end, features) -> SnapshotSpec:
    return SnapshotSpec(cutoffs=tuple(cutoffs), label=SPEC, data_end=data_end,
                        features=tuple(features))


def _auc(model, frame: pd.DataFrame) -> float:
    return float(roc_auc_score(frame["churned"], model.predict_probability(frame)))


def test_the_cluster_booster_fits_every_snapshot_and_judges_as_well(business):
    tables, cutoffs, train_end, features, model_input, later = business
    alone = fit_with_validation(model_input, features, PARAMS)
    with command_runner(CLUSTER) as runner, \
            snapshots_on_cluster(runner, tables, _spec(cutoffs, train_end, features)) as held:
        assert runner.started and held.rows == len(model_input)
        on_cluster = fit_with_validation(model_input, features, PARAMS,
                                         refit=held.refit(PARAMS))
    assert (alone.fit_engine, on_cluster.fit_engine) == ("process", "dask")
    # the size and calibrator come from the same in-process probe; the booster from all rows
    assert on_cluster.best_iteration == alone.best_iteration
    assert on_cluster.classifier.booster_.num_trees() == alone.best_iteration
    assert on_cluster.fit_rows == alone.fit_rows == len(model_input)
    assert on_cluster.levels == category_levels(model_input, features)
    assert on_cluster.validation == alone.validation  # reported figures: the probe's
    # a later cutoff neither model saw: the data-parallel trees differ, the quality does not
    assert later["churned"].nunique() == 2 and len(later) > 500
    alone_auc, cluster_auc = _auc(alone, later), _auc(on_cluster, later)
    assert alone_auc > 0.7
    assert abs(cluster_auc - alone_auc) < 0.03, (alone_auc, cluster_auc)


def test_a_sampled_model_input_still_gives_the_booster_every_customer(business):
    tables, cutoffs, train_end, features, model_input, later = business
    sample = build_model_input(sampled_tables(tables, 0.4), cutoffs, SPEC, data_end=train_end)
    assert len(sample) < 0.5 * len(model_input)
    with command_runner(CLUSTER) as runner, \
            snapshots_on_cluster(runner, tables, _spec(cutoffs, train_end, features)) as held:
        fitted = fit_with_validation(sample, features, PARAMS, refit=held.refit(PARAMS))
    assert fitted.fit_rows == len(model_input)
    sampled_only = fit_with_validation(sample, features, PARAMS)
    # more customers for the same trees: not worse on the later cutoff than the sample alone
    assert _auc(fitted, later) > _auc(sampled_only, later) - 0.02


def test_the_tables_can_go_once_the_cluster_holds_the_snapshots(business):
    """This process keeps none of the staged rows while the model fits: the workers have
    them (the tables are larger than the sample the probe fits on)."""
    tables, cutoffs, train_end, features, model_input, _ = business
    mine = SourceTables(**{kind: None if frame is None else frame.copy()
                           for kind, frame in tables.as_dict().items()})
    watched = [weakref.ref(frame) for frame in mine.as_dict().values() if frame is not None]
    with command_runner(CLUSTER) as runner, \
            snapshots_on_cluster(runner, mine, _spec(cutoffs, train_end, features)) as held:
        del mine
        gc.collect()
        assert all(ref() is None for ref in watched)
        fitted = held.fitted(PARAMS, trees=5)
    assert fitted.rows == len(model_input) and fitted.classifier.booster_.num_trees() == 5


def test_workers_that_read_their_shards_from_the_staged_tables_build_the_same_snapshots(
        business, tmp_path):
    """Each worker reads its shards' rows from the staged version (stored in shard order)
    and builds their snapshots: the same rows as the whole build, the same source volume,
    and nothing of the tables travels from this process."""
    tables, cutoffs, train_end, features, model_input, _ = business
    folder = tmp_path / "staged.versions" / "v1"
    folder.mkdir(parents=True)
    for kind, frame in tables.as_dict().items():
        if frame is not None:
            write_partitioned(frame, folder / f"{kind}.parquet", rows_per_group=500)
    with command_runner(CLUSTER) as runner:
        assert runner.sees(folder) and not runner.sees(tmp_path / "elsewhere")
        with snapshots_on_cluster(runner, folder, _spec(cutoffs, train_end, features)) as held:
            assert "jobs" not in held.futures  # no rows were scattered from here
            built = pd.concat(runner.client().gather(held.futures["snapshots"]))
            assert held.volume == source_volume(tables, train_end)
            fitted = held.fitted(PARAMS, trees=5)
    order = ["cutoff", "customer_id"]
    pd.testing.assert_frame_equal(
        built.sort_values(order).reset_index(drop=True)[list(model_input)],
        model_input.sort_values(order).reset_index(drop=True))
    assert fitted.rows == len(model_input) and fitted.classifier.booster_.num_trees() == 5


def test_in_process_a_runner_sees_a_staged_folder_that_is_there(tmp_path):
    runner = ShardRunner(ScaleSettings())
    assert not runner.sees(tmp_path)  # no staged purchases there
    write_partitioned(pd.DataFrame({"customer_id": ["a"], "x": [1]}),
                      tmp_path / "purchases.parquet")
    assert runner.sees(tmp_path) and not runner.started


@pytest.mark.parametrize("settings, customers, expected", [
    (ScaleSettings(scheduler="local", local_workers=2), 300_000, 4),  # 3 by size, 2 workers
    (ScaleSettings(scheduler="local", local_workers=2), 400_000, 4),
    (ScaleSettings(scheduler="local", local_workers=3), 50, 3),
    (ScaleSettings(scheduler="local", local_workers=2, shards=3), 300_000, 3),  # as set
])
def test_the_default_shards_share_the_rows_evenly_between_workers(settings, customers,
                                                                   expected):
    runner = ShardRunner(settings)
    assert training_shards(runner, customers) == expected
    assert not runner.started  # counted without starting a cluster
