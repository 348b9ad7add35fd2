"""Training over `CHURN_TRAIN_MEMORY_MB`: snapshots for a stable customer sample, recorded in
the manifest, the MLflow run and the model card; within it, all labelled snapshots. On a Dask
cluster (`CHURN_TRAIN_ENGINE=dask`) the booster still fits every customer's snapshots."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from features.budget import customer_ids, plan_sample
from models.params import TrainParams
from models.promotion import PromotionMargin
from pipelines import tasks
from pipelines.scale.runner import ShardRunner, command_runner
from pipelines.scale.settings import ScaleSettings
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables
from pipelines.tasks.training import train_memory_mb
from pipelines.tracking.registry import load_model_version


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("budget") / "data"
    settings = Settings.from_env(data_dir)
    tasks.generate_sample_exports.fn(settings, 500, 5, None)
    tasks.stage_raw_exports.fn(settings)
    return data_dir


PARAMS = TrainParams(n_cutoffs=4, max_boost_rounds=60, early_stopping_rounds=10)


def test_a_low_budget_trains_on_a_sample_and_records_it(staged, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{staged / 'mlflow' / 'mlflow.db'}")
    settings = Settings.from_env(staged)
    data_end = tasks.resolve_cutoff.fn(settings, None)
    full = tasks.write_model_input.fn(settings, data_end, PARAMS)
    assert full["sample"]["train_sample"] == "all_labelled_snapshots"
    all_rows = pd.read_parquet(full["path"])

    tables = load_source_tables(settings)
    peak = plan_sample(customer_ids(tables), len(full["cutoffs"]), full["features"],
                       budget_mb=1e9).estimated_peak_mb
    monkeypatch.setenv("CHURN_TRAIN_MEMORY_MB", str(peak * 0.6))
    model_input = tasks.write_model_input.fn(settings, data_end, PARAMS)
    sample = model_input["sample"]
    assert sample["train_sample"] == "customer_sample"
    assert sample["train_sample_share"] == pytest.approx(0.6, abs=0.01)
    frame = pd.read_parquet(model_input["path"])
    assert sample["train_sample_rows"] == len(frame) < len(all_rows)
    # the same customers at every cutoff: each sampled customer's rows are all its rows
    kept = set(frame["customer_id"])
    assert len(all_rows[all_rows["customer_id"].isin(kept)]) == len(frame)
    manifest = json.loads(open(model_input["settings_path"]).read())
    assert manifest["sample"] == sample

    trained = tasks.fit_and_register.fn(settings, model_input, PARAMS, PromotionMargin())
    run = mlflow.get_run(trained["run_id"])
    assert run.data.params["train_sample"] == "customer_sample"
    assert float(run.data.params["train_sample_share"]) == sample["train_sample_share"]
    assert int(run.data.params["train_sample_customers"]) == sample["train_sample_customers"]
    # in this process the booster fits the sample it holds
    assert run.data.params["fit_engine"] == "process"
    assert int(run.data.params["fit_rows"]) == len(frame)
    card = mlflow.artifacts.load_text(f"runs:/{trained['run_id']}/model_card.md")
    assert f"stable sample of {sample['train_sample_share']:.1%} of customers" in card


def test_the_model_input_never_loads_the_whole_tables(staged, monkeypatch):
    """The sample is planned from ids, dates and types, then only its rows are read: the
    same model input as sampling the loaded tables."""
    import pipelines.tasks.training as training
    from features.budget import sampled_tables
    from features.snapshots import build_model_input

    settings = Settings.from_env(staged)
    data_end = tasks.resolve_cutoff.fn(settings, None)
    tables = load_source_tables(settings)
    full = tasks.write_model_input.fn(settings, data_end, PARAMS)
    peak = plan_sample(customer_ids(tables), len(full["cutoffs"]), full["features"],
                       budget_mb=1e9).estimated_peak_mb
    monkeypatch.setenv("CHURN_TRAIN_MEMORY_MB", str(peak * 0.45))

    def whole(*args, **kwargs):
        raise AssertionError("write_model_input loaded every staged row")

    monkeypatch.setattr(training, "load_source_tables", whole)
    model_input = tasks.write_model_input.fn(settings, data_end, PARAMS)
    share = model_input["sample"]["train_sample_share"]
    assert 0.35 < share < 0.55
    cutoffs = [pd.Timestamp(c).date() for c in model_input["cutoffs"]]
    expected = build_model_input(sampled_tables(tables, share), cutoffs, PARAMS.label,
                                 data_end=data_end, event_types=model_input["event_types"])
    frame = pd.read_parquet(model_input["path"])
    order = ["cutoff", "customer_id"]
    pd.testing.assert_frame_equal(
        frame.sort_values(order).reset_index(drop=True)[list(expected)],
        expected.sort_values(order).reset_index(drop=True),
        check_dtype=False)  # the parquet file keeps the cutoff in ms, the build in s
    assert model_input["event_types"] == full["event_types"]  # learned from everyone


@pytest.mark.parametrize("workers_read_the_data_dir", [True, False])
def test_on_a_cluster_the_booster_fits_the_customers_the_budget_left_out(
        staged, monkeypatch, workers_read_the_data_dir):
    """Workers that see the data dir read their shards from the staged tables; others (a
    cluster on other machines) are sent them: the same snapshots either way."""
    if not workers_read_the_data_dir:
        monkeypatch.setattr(ShardRunner, "sees", lambda self, folder: False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{staged / 'mlflow' / 'mlflow.db'}")
    settings = Settings.from_env(staged)
    params = PARAMS
    data_end = tasks.resolve_cutoff.fn(settings, None)
    tables = load_source_tables(settings)
    full = tasks.write_model_input.fn(settings, data_end, params)
    peak = plan_sample(customer_ids(tables), len(full["cutoffs"]), full["features"],
                       budget_mb=1e9).estimated_peak_mb
    all_rows = pd.read_parquet(full["path"])  # the sampled input below takes its path
    everyone = len(all_rows)
    monkeypatch.setenv("CHURN_TRAIN_MEMORY_MB", str(peak * 0.5))  # the process holds half
    model_input = tasks.write_model_input.fn(settings, data_end, params)
    assert model_input["sample"]["train_sample_rows"] < everyone

    with command_runner(ScaleSettings(scheduler="local", local_workers=2, shards=4,
                                      train_engine="dask")):
        trained = tasks.fit_and_register.fn(settings, model_input, params, PromotionMargin())
    run = mlflow.get_run(trained["run_id"])
    assert run.data.params["fit_engine"] == "dask"
    assert int(run.data.params["fit_rows"]) == everyone
    assert run.data.params["train_sample"] == "customer_sample"
    card = mlflow.artifacts.load_text(f"runs:/{trained['run_id']}/model_card.md")
    assert f"fitted by lightgbm.dask on the Dask cluster on {everyone:,} snapshots" in card

    # the registered version loads and scores like any other
    registered = load_model_version(settings, str(trained["model_version"]))
    assert registered.model.classifier.booster_.num_trees() == trained["best_iteration"]
    probability = registered.model.predict_probability(all_rows)
    assert len(probability) == everyone and np.all((probability > 0) & (probability < 1))


def test_train_memory_setting(monkeypatch):
    monkeypatch.delenv("CHURN_TRAIN_MEMORY_MB", raising=False)
    assert train_memory_mb() == 4096
    monkeypatch.setenv("CHURN_TRAIN_MEMORY_MB", "512")
    assert train_memory_mb() == 512
    for bad in ("lots", "0", "-3"):
        monkeypatch.setenv("CHURN_TRAIN_MEMORY_MB", bad)
        with pytest.raises(ValueError, match="CHURN_TRAIN_MEMORY_MB is"):
            train_memory_mb()
