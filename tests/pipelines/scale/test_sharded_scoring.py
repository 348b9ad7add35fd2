"""A scoring run on a local Dask cluster of two workers writes the list a single process
writes: same customers, ranks, scores, tiers and reasons, and the same SHAP contributions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

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


def _scored(tmp_path, name, monkeypatch, business, scale: ScaleSettings,
            params: ScoreParams | None = None, with_metadata: bool = False):
    tables, end, champion = business
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    settings = Settings.from_env(tmp_path / name)
    with command_runner(scale) as runner:
        result = run_scoring(settings, tables, end, champion, params or ScoreParams())
        assert runner.started == scale.distributed  # the shards did go to the cluster
    run = result["run_dir"]
    scored = (pd.read_parquet(f"{run}/risk_list.parquet"),
              pd.read_parquet(f"{run}/shap_contributions.parquet"))
    if with_metadata:
        return (*scored, json.loads(Path(f"{run}/metadata.json").read_text()))
    return scored


def test_a_two_worker_cluster_writes_the_single_process_list(tmp_path, monkeypatch, business):
    alone, alone_shap = _scored(tmp_path, "alone", monkeypatch, business, ScaleSettings())
    sharded, sharded_shap = _scored(tmp_path, "sharded", monkeypatch, business,
                                    ScaleSettings(scheduler="local", local_workers=2, shards=5))
    assert len(alone) > 100
    assert same_scored_list(alone, sharded)
    # scores exactly, not within a tolerance
    assert alone["churn_probability"].tolist() == sharded["churn_probability"].tolist()
    pd.testing.assert_frame_equal(alone_shap, sharded_shap, check_exact=True)


REASONS = [f"reason_{part}{i}" for i in (1, 2, 3) for part in ("", "group_", "key_")]


@pytest.mark.parametrize("scale", [ScaleSettings(),
                                   ScaleSettings(scheduler="local", local_workers=2, shards=3)],
                         ids=["in process", "two workers"])
def test_listed_explains_every_tier_but_safe_as_all_does(tmp_path, monkeypatch, business,
                                                         scale):
    everyone, everyone_shap, all_meta = _scored(
        tmp_path, "all", monkeypatch, business, ScaleSettings(),
        ScoreParams(reasons_for="all"), with_metadata=True)
    listed, listed_shap, meta = _scored(tmp_path, "listed", monkeypatch, business, scale,
                                        ScoreParams(reasons_for="listed"), with_metadata=True)
    safe = listed["risk_tier"].eq("Safe").to_numpy()
    assert 0 < safe.sum() < len(listed)
    # the same customers, ranks, scores and tiers: only whose reasons were computed differs
    key = ["customer_id", "rank", "churn_probability", "risk_tier", "value_at_risk"]
    pd.testing.assert_frame_equal(listed[key], everyone[key], check_exact=True)
    outside = ~safe
    pd.testing.assert_frame_equal(listed.loc[outside, REASONS], everyone.loc[outside, REASONS])
    assert (listed.loc[safe, "reason_key_1"] == "").all()
    assert (listed.loc[safe, "reason_1"] == "").all()
    assert (everyone.loc[safe, "reason_key_1"] != "").all()
    # contributions of the listed customers only, the values "all" computes for them
    assert set(listed_shap["customer_id"]) == set(listed.loc[outside, "customer_id"])
    pd.testing.assert_frame_equal(
        listed_shap.reset_index(drop=True),
        everyone_shap[everyone_shap["customer_id"].isin(listed_shap["customer_id"])]
        .reset_index(drop=True), check_exact=True)
    assert (meta["reasons_for"], meta["customers_explained"]) == ("listed", int(outside.sum()))
    assert (all_meta["reasons_for"], all_meta["customers_explained"]) == ("all", len(everyone))


def test_no_event_table_is_held_while_the_outputs_are_made(tmp_path, monkeypatch, business):
    """The run reads what it reports of the past first, then lets the events go: while the
    outputs are made, nothing holds the purchases, complaints or interactions it was given
    (at a million customers they were 1.9 GB beside the outputs)."""
    import dataclasses
    import weakref

    import pipelines.deliver.scoring_run as scoring_run

    tables, end, champion = business
    events = ("purchases", "complaints", "interactions")
    watched: list[weakref.ref] = []

    def own_tables():  # a bundle only the run holds, its event tables watched
        own = dataclasses.replace(tables, **{k: getattr(tables, k).copy() for k in events})
        watched.extend(weakref.ref(getattr(own, k)) for k in events)
        return own

    held: list[list[str]] = []
    real = scoring_run.sharded_model_outputs

    def outputs(*args, **kwargs):
        held.append([k for k, ref in zip(events, watched, strict=True) if ref() is not None])
        return real(*args, **kwargs)

    monkeypatch.setattr(scoring_run, "sharded_model_outputs", outputs)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    result = run_scoring(Settings.from_env(tmp_path / "data"), own_tables(), end, champion,
                         ScoreParams())
    assert result["customers_scored"] > 100
    assert held == [[]]


def test_workers_that_read_the_staged_shards_themselves_write_the_same_list(
        tmp_path, monkeypatch, business):
    """Given the staged version the tables came from, each worker reads its shards' rows
    there (the tables are stored in shard order): nothing is cut or sent from this process,
    and the list is the single-process one."""
    import pipelines.scale.scoring as scale_scoring
    from pipelines.store.staged import publish_staged, staged_version_dir

    tables, end, champion = business
    alone, alone_shap = _scored(tmp_path, "alone", monkeypatch, business, ScaleSettings())
    settings = Settings.from_env(tmp_path / "staged")
    publish_staged(settings, {k: f for k, f in tables.as_dict().items() if f is not None}, {})
    folder = staged_version_dir(settings)

    def not_cut_here(*args, **kwargs):
        raise AssertionError("the tables were cut into shards in this process")

    monkeypatch.setattr(scale_scoring, "feature_jobs", not_cut_here)
    with command_runner(ScaleSettings(scheduler="local", local_workers=2, shards=5)):
        result = run_scoring(settings, folder, end, champion, ScoreParams())
    run = result["run_dir"]
    sharded = pd.read_parquet(f"{run}/risk_list.parquet")
    assert same_scored_list(alone, sharded)
    assert alone["churn_probability"].tolist() == sharded["churn_probability"].tolist()
    pd.testing.assert_frame_equal(alone_shap, pd.read_parquet(f"{run}/shap_contributions.parquet"),
                                  check_exact=True)


#: What a run's metadata says that comes of its passes over the events.
EVENT_FACTS = ("customers_scored", "tiers", "value_estimate", "value_at_risk_total",
               "value_at_risk_lapsed", "tier_base_rate")


@pytest.mark.parametrize("shards", [1, 3, 7])
def test_a_run_reading_the_staged_shards_in_this_process_writes_the_loaded_tables_list(
        tmp_path, monkeypatch, business, shards):
    """One process, the staged version read one customer shard at a time: the list, the
    contributions, the figures in the metadata and the report's monitoring are those of the
    tables loaded whole, and the tables are never loaded whole."""
    import pipelines.store.staged as staged_module
    from pipelines.store.staged import publish_staged, staged_version_dir

    tables, end, champion = business
    alone, alone_shap, alone_meta = _scored(tmp_path, "alone", monkeypatch, business,
                                            ScaleSettings(), with_metadata=True)
    settings = Settings.from_env(tmp_path / "staged")
    publish_staged(settings, {k: f for k, f in tables.as_dict().items() if f is not None}, {})

    def not_whole(*args, **kwargs):
        raise AssertionError("the staged tables were loaded whole")

    monkeypatch.setattr(staged_module, "load_source_tables", not_whole)
    with command_runner(ScaleSettings(shards=shards)):
        result = run_scoring(settings, staged_version_dir(settings), end, champion,
                             ScoreParams())
    run = Path(result["run_dir"])
    sharded = pd.read_parquet(run / "risk_list.parquet")
    assert same_scored_list(alone, sharded)
    assert alone["churn_probability"].tolist() == sharded["churn_probability"].tolist()
    pd.testing.assert_frame_equal(alone_shap, pd.read_parquet(run / "shap_contributions.parquet"),
                                  check_exact=True)
    meta = json.loads((run / "metadata.json").read_text())
    assert {k: meta[k] for k in EVENT_FACTS} == {k: alone_meta[k] for k in EVENT_FACTS}
