"""Training over `CHURN_TRAIN_MEMORY_MB`: snapshots for a stable customer sample, recorded in
the manifest, the MLflow run and the model card; within it, all labelled snapshots."""

from __future__ import annotations

import json

import mlflow
import pandas as pd
import pytest

from features.budget import customer_ids, plan_sample
from models.params import TrainParams
from models.promotion import PromotionMargin
from pipelines import tasks
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables
from pipelines.tasks.training import train_memory_mb


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
    card = mlflow.artifacts.load_text(f"runs:/{trained['run_id']}/model_card.md")
    assert f"stable sample of {sample['train_sample_share']:.1%} of customers" in card


def test_train_memory_setting(monkeypatch):
    monkeypatch.delenv("CHURN_TRAIN_MEMORY_MB", raising=False)
    assert train_memory_mb() == 4096
    monkeypatch.setenv("CHURN_TRAIN_MEMORY_MB", "512")
    assert train_memory_mb() == 512
    for bad in ("lots", "0", "-3"):
        monkeypatch.setenv("CHURN_TRAIN_MEMORY_MB", bad)
        with pytest.raises(ValueError, match="CHURN_TRAIN_MEMORY_MB is"):
            train_memory_mb()
