"""A scoring run on a local Dask cluster of two workers writes the list a single process
writes: same customers, ranks, scores, tiers and reasons, and the same SHAP contributions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from features.catalog import feature_names
from features.labels import LabelSpec
from features.snapshots import build_model_input
from models.params import TrainParams
from models.train import fit_with_validation
from pipelines.deliver.params import ScoreParams
from pipelines.deliver.risk_list import same_scored_list
from pipelines.deliver.scoring_run import run_scoring
from pipelines.scale.runner import command_runner
from pipelines.scale.settings import ScaleSettings
from pipelines.store.settings import Settings
from pipelines.tracking.registry import RegisteredModel
from tests.simulated import staged_from_simulation

SPEC = LabelSpec(horizon_days=60)


@pytest.fixture(scope="module")
def business():
    """Simulated staged tables, their last day and a model trained on them."""
    tables = staged_from_simulation(customers=500, seed=5)
    end = tables.purchases["order_date"].max().date()
    cutoffs = [end - dt.timedelta(days=SPEC.horizon_days + 30 * k) for k in range(4, 0, -1)]
    model_input = build_model_input(tables, cutoffs, SPEC, data_end=end)
    params = TrainParams(label=SPEC, max_boost_rounds=60, early_stopping_rounds=10,
                         min_child_samples=10, n_jobs=1)
    model = fit_with_validation(model_input, feature_names(
        [k for k, frame in tables.as_dict().items() if frame is not None]), params)
    return tables, end, RegisteredModel(model=model, version="1", run_id="0" * 32, meta={})


def _scored(tmp_path, name, monkeypatch, business, scale: ScaleSettings):
    tables, end, champion = business
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    settings = Settings.from_env(tmp_path / name)
    with command_runner(scale) as runner:
        result = run_scoring(settings, tables, end, champion, ScoreParams())
        assert runner.started == scale.distributed  # the shards did go to the cluster
    run = result["run_dir"]
    return (pd.read_parquet(f"{run}/risk_list.parquet"),
            pd.read_parquet(f"{run}/shap_contributions.parquet"))


def test_a_two_worker_cluster_writes_the_single_process_list(tmp_path, monkeypatch, business):
    alone, alone_shap = _scored(tmp_path, "alone", monkeypatch, business, ScaleSettings())
    sharded, sharded_shap = _scored(tmp_path, "sharded", monkeypatch, business,
                                    ScaleSettings(scheduler="local", local_workers=2, shards=5))
    assert len(alone) > 100
    assert same_scored_list(alone, sharded)
    # scores exactly, not within a tolerance
    assert alone["churn_probability"].tolist() == sharded["churn_probability"].tolist()
    pd.testing.assert_frame_equal(alone_shap, sharded_shap, check_exact=True)
