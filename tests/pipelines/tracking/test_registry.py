"""Registry edge on a real (temporary) MLflow store: gate, promote, rollback, reload."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from features.catalog import feature_names
from features.labels import LabelSpec
from models.params import TrainParams
from models.promotion import PromotionMargin
from models.train import fit_with_validation
from pipelines.store.settings import Settings
from pipelines.tracking.connect import configure_mlflow
from pipelines.tracking.registry import (
    CHALLENGER,
    META_ARTIFACT,
    RegistryError,
    champion_history,
    champion_version,
    gate_new_version,
    label_from_params,
    label_params,
    load_champion,
    load_model_version,
    promote,
    rollback,
)
from pipelines.tracking.runs import log_training_run
from tests.factories import MODEL_SOURCES as SOURCES
from tests.factories import synthetic_model_input

PARAMS = TrainParams(label=LabelSpec(horizon_days=60), max_boost_rounds=150,
                     early_stopping_rounds=20, min_child_samples=20, n_jobs=1)
NOISE = ["spend_lifetime", "segment", "region"]  # unrelated to churn in the synthetic data


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        settings = Settings.from_env(tmp_path_factory.mktemp("registry") / "data")
        configure_mlflow(settings)
        frame = synthetic_model_input(n_per_cutoff=400, seed=2)
        path = Path(settings.data_dir) / "model_input.parquet"
        other = synthetic_model_input(n_per_cutoff=300, seed=4)
        models = {"weak": fit_with_validation(frame, NOISE, PARAMS),
                  "strong": fit_with_validation(frame, feature_names(SOURCES), PARAMS),
                  "weak-other": fit_with_validation(other, NOISE, PARAMS)}

        def train(kind: str, sha: str = "same-data"):
            fitted = models[kind]
            logged = log_training_run(settings, fitted, PARAMS,
                                      model_input=other if kind == "weak-other" else frame,
                                      model_input_path=path, model_input_hash=sha,
                                      run_params={"kind": kind})
            decision = gate_new_version(settings, logged.version, fitted, sha,
                                        PromotionMargin())
            return logged, decision

        yield settings, frame, models, train


def test_gate_first_better_worse_then_promote_and_rollback(registry):
    settings, frame, models, train = registry
    client = MlflowClient()
    name = settings.registered_model_name

    first, decision = train("weak")
    assert decision.promote and decision.reason == "no champion yet"
    assert champion_version(settings) == first.version == "1"

    better, decision = train("strong")
    assert decision.promote, decision.reason
    assert champion_version(settings) == better.version
    tags = client.get_model_version(name, better.version).tags
    assert tags["promotion_decision"] == "champion"
    assert tags["gate_basis"].startswith("recorded")
    assert float(tags["gate_champion_roc_auc"]) == pytest.approx(
        models["weak"].validation["roc_auc"], abs=1e-6)

    # other customers: the champion is rescored on the challenger's validation rows
    worse, decision = train("weak-other", sha="other-data")
    assert not decision.promote and decision.reason.startswith("does not beat champion")
    assert champion_version(settings) == better.version
    assert str(client.get_model_version_by_alias(name, CHALLENGER).version) == worse.version
    assert client.get_model_version(name, worse.version).tags["gate_basis"].startswith(
        "champion rescored")

    promote(settings, worse.version, "testing a manual promotion")
    assert champion_version(settings) == worse.version
    assert rollback(settings) == better.version
    assert rollback(settings) == first.version
    with pytest.raises(RegistryError, match="no earlier champion"):
        rollback(settings)
    history = champion_history(settings)
    assert [(h["version"], h["how"]) for h in history] == [
        ("1", "gate"), ("2", "gate"), ("3", "promote"), ("2", "rollback"), ("1", "rollback")]
    with pytest.raises(RegistryError, match="cannot promote version 99"):
        promote(settings, "99", "no such version")


def test_reloaded_champion_predicts_identically_with_its_calibrator(registry):
    settings, frame, models, train = registry
    if champion_version(settings) is None:
        train("strong")
    champion = load_champion(settings)
    model, run_id = champion.model, champion.run_id
    original = models["strong"] if set(model.features) != set(NOISE) else models["weak"]
    assert model.calibrator == original.calibrator
    np.testing.assert_array_equal(model.predict_probability(frame),
                                  original.predict_probability(frame))
    artifacts = {a.path for a in MlflowClient().list_artifacts(run_id)}
    assert {"figures", "tables", "churn_model_meta.json", "features.txt"} <= artifacts
    figures = {a.path for a in MlflowClient().list_artifacts(run_id, "figures")}
    assert {"figures/roc.png", "figures/calibration.png", "figures/shap_beeswarm.png",
            "figures/lift_gain.png", "figures/precision_recall.png",
            "figures/feature_importance.png"} <= figures
    metrics = mlflow.get_run(run_id).data.metrics
    assert {"oot_ece", "baseline_bgnbd_roc_auc", "baseline_rfm_lightgbm_pr_auc",
            "lead_over_recency_roc_auc"} <= set(metrics)


def test_pointing_at_one_store_does_not_leak_into_the_next_settings(tmp_path, monkeypatch):
    from pipelines.store.settings import Settings
    from pipelines.tracking.connect import use_tracking_store

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    use_tracking_store(Settings.from_env(tmp_path / "a"))
    other = Settings.from_env(tmp_path / "b")
    assert str(tmp_path / "b") in other.mlflow_tracking_uri


def test_label_spec_round_trips_through_flat_params():
    spec = LabelSpec(definition="cancellation", horizon_days=60, gap_days=30)
    flat = label_params(spec)
    assert flat == {"churn_definition": "cancellation", "horizon_days": 60, "gap_days": 30}
    assert label_from_params({k: str(v) for k, v in flat.items()} | {"seed": "7"}) == spec
    assert label_from_params({"horizon_days": "60"}) == LabelSpec(horizon_days=60)


def test_a_champion_with_another_definition_is_rescored_not_taken_from_its_record(registry):
    """Same cutoff, same customers, but other labels: its recorded metrics answer another
    question, so the champion is scored on the challenger's labels."""
    settings, frame, models, train = registry
    if champion_version(settings) is None:
        train("weak")
    spec = LabelSpec(horizon_days=60, gap_days=30)
    fitted = dataclasses.replace(models["strong"], label=spec)
    logged = log_training_run(settings, fitted, PARAMS.model_copy(update={"label": spec}),
                              model_input=frame, model_input_path=Path(settings.data_dir) / "x",
                              model_input_hash="same-data", run_params={"kind": "gap"})
    before = champion_version(settings)
    decision = gate_new_version(settings, logged.version, fitted, "same-data", PromotionMargin())
    # a stronger model, but for another definition: never promoted by the gate itself
    assert not decision.promote and champion_version(settings) == before
    assert f"promote by hand with `churn promote {logged.version}`" in decision.reason
    basis = MlflowClient().get_model_version(settings.registered_model_name,
                                             logged.version).tags["gate_basis"]
    assert basis.startswith("champion rescored on cutoff"), basis
    assert "against this model's churn definition (no_purchase, 60-day horizon, 30-day gap; " \
           "the champion's is no_purchase, 60-day horizon)" in basis
    params = mlflow.get_run(logged.run_id).data.params
    assert (params["churn_definition"], params["horizon_days"], params["gap_days"]) == (
        "no_purchase", "60", "30")
    assert "label" not in params
    assert load_model_version(settings, logged.version).model.label == spec


def test_a_meta_from_before_the_label_spec_reads_as_the_default_definition(registry):
    settings, frame, models, _ = registry
    logged = log_training_run(settings, models["weak"], PARAMS, model_input=frame,
                              model_input_path=Path(settings.data_dir) / "x",
                              model_input_hash="old", run_params={"kind": "old"})
    client = MlflowClient()
    meta = json.loads(mlflow.artifacts.load_text(f"runs:/{logged.run_id}/{META_ARTIFACT}"))
    assert meta["label"] == {"definition": "no_purchase", "horizon_days": 60, "gap_days": 0}
    # as written before the label spec: the horizon only, at the top level
    old = {**{k: v for k, v in meta.items() if k != "label"}, "horizon_days": 60}
    client.log_text(logged.run_id, json.dumps(old), META_ARTIFACT)
    model = load_model_version(settings, logged.version).model
    assert model.label == LabelSpec(horizon_days=60)


def _log_and_gate(settings, fitted, frame, params, sha, kind):
    logged = log_training_run(settings, fitted, params, model_input=frame,
                              model_input_path=Path(settings.data_dir) / kind,
                              model_input_hash=sha, run_params={"kind": kind})
    return logged, gate_new_version(settings, logged.version, fitted, sha, PromotionMargin())


def test_same_cutoff_and_customers_but_another_model_input_is_rescored(registry):
    """Same label, cutoff and row count, other model-input hash: the recorded figures are on
    other rows, so the champion scores this model's validation customers."""
    settings, frame, models, train = registry
    if champion_version(settings) is None:
        train("weak")
    logged, decision = _log_and_gate(settings, models["strong"], frame, PARAMS,
                                     "another-snapshot", "rehashed")
    tags = MlflowClient().get_model_version(settings.registered_model_name,
                                            logged.version).tags
    assert tags["gate_basis"].startswith("champion rescored on cutoff"), tags["gate_basis"]
    assert decision.basis == tags["gate_basis"]
    assert "gate_champion_roc_auc" in tags and "gate_challenger_roc_auc" in tags
    assert tags["gate_compared_on"].startswith(f"{len(models['strong'].evaluation.valid)} "
                                               "out-of-time customers of cutoff")


def test_another_definition_is_compared_on_the_same_customers_with_both_figures(registry):
    settings, frame, models, train = registry
    if champion_version(settings) is None:
        train("weak")
    spec = LabelSpec(horizon_days=30)
    fitted = dataclasses.replace(models["strong"], label=spec)
    before = champion_version(settings)
    logged, decision = _log_and_gate(settings, fitted, frame,
                                     PARAMS.model_copy(update={"label": spec}), "h30", "h30")
    assert not decision.promote and champion_version(settings) == before
    assert decision.champion is not None
    assert "on the same customers under this model's labels it would" in decision.reason
    assert f"ROC-AUC {fitted.validation['roc_auc']:.4f} vs " \
           f"{decision.champion['roc_auc']:.4f}" in decision.reason
    assert decision.reason.endswith(f"`churn promote {logged.version}`")
    tags = MlflowClient().get_model_version(settings.registered_model_name,
                                            logged.version).tags
    assert "30-day horizon" in tags["gate_compared_on"]
    assert float(tags["gate_champion_pr_auc"]) == pytest.approx(decision.champion["pr_auc"],
                                                                abs=1e-6)


def _serve_strong(settings, train) -> None:
    """A champion with many features (whatever earlier tests left serving)."""
    logged, _ = train("strong")
    promote(settings, logged.version, "a model with many features to lean on")


def _lean_challenger(settings, frame, share_above: bool):
    """A challenger fitted without some of the champion's features: together carrying more
    than the no-data limit of its gain (`share_above`), or at most that much."""
    from models.compatibility import NoDataPolicy, model_gain_shares

    champion = load_champion(settings).model
    shares = model_gain_shares(champion.classifier)
    limit = NoDataPolicy().max_gain_share
    # what the baselines read (recency; BG/NBD's orders, tenure and recency) is always
    # needed; the rest by gain: largest first to pass the limit, smallest first to stay under
    baseline_inputs = {"recency_days", "orders_lifetime", "tenure_days"}
    ranked = sorted((f for f in champion.features if f not in baseline_inputs),
                    key=lambda f: shares[f], reverse=share_above)
    dropped: list[str] = []
    for name in ranked:
        total = sum(shares[f] for f in [*dropped, name])
        if not share_above and total > limit:
            break
        dropped.append(name)
        if share_above and total > limit:
            break
    lean = frame.drop(columns=dropped)
    features = [c for c in feature_names(SOURCES) if c not in dropped]
    return fit_with_validation(lean, features, PARAMS), lean, dropped, shares


def test_a_champion_that_leans_on_missing_features_cannot_be_compared_and_says_what_to_run(
        registry):
    settings, frame, models, train = registry
    _serve_strong(settings, train)
    fitted, lean, dropped, _ = _lean_challenger(settings, frame, share_above=True)
    lacking = [f for f in load_champion(settings).model.features if f in dropped]
    before = champion_version(settings)
    logged, decision = _log_and_gate(settings, fitted, lean, PARAMS, "lean", "lean")
    assert not decision.promote and champion_version(settings) == before
    assert decision.reason.startswith(f"cannot compare: champion version {before} needs "
                                      f"features this model's validation customers lack (")
    assert ", ".join(lacking[:5]) in decision.reason
    assert f"run `churn promote {logged.version}`" in decision.reason


def test_a_champion_that_can_do_without_the_missing_features_is_compared_as_it_would_score(
        registry):
    settings, frame, models, train = registry
    _serve_strong(settings, train)
    fitted, lean, dropped, shares = _lean_challenger(settings, frame, share_above=False)
    assert dropped  # the champion has features it can do without
    logged, decision = _log_and_gate(settings, fitted, lean, PARAMS, "lean-ok", "lean-ok")
    assert decision.champion is not None
    share = sum(shares[f] for f in dropped)
    assert (f"with the {len(dropped)} features they lack as no data, as it would score them "
            f"now ({share:.0%} of its gain)") in decision.basis


def test_the_learned_event_types_travel_with_the_registered_model(registry):
    settings, frame, models, _ = registry
    fitted = dataclasses.replace(models["weak"], event_types=["post", "login", "other"])
    logged = log_training_run(settings, fitted, PARAMS, model_input=frame,
                              model_input_path=Path(settings.data_dir) / "x",
                              model_input_hash="types", run_params={"kind": "types"})
    assert load_model_version(settings, logged.version).model.event_types == [
        "post", "login", "other"]


def test_a_playbook_too_long_for_an_mlflow_param_is_logged_whole_as_an_artifact(registry):
    from models.params import ActionSaveRate
    from pipelines.tracking.runs import MAX_PARAM_CHARS

    settings, frame, models, _ = registry
    playbook = {f"retention_call_script_{n:03d}": ActionSaveRate(
        save_rate=0.2, source="assumed: its arms have fewer customers than the minimum yet")
        for n in range(120)}
    params = PARAMS.model_copy(update={"action_save_rates": playbook})
    assert len(str(params.model_dump()["action_save_rates"])) > MAX_PARAM_CHARS
    logged = log_training_run(settings, models["weak"], params, model_input=frame,
                              model_input_path=Path(settings.data_dir) / "x",
                              model_input_hash="playbook", run_params={"kind": "playbook"})
    run = MlflowClient().get_run(logged.run_id)
    shown = run.data.params["action_save_rates"]
    assert len(shown) <= MAX_PARAM_CHARS
    assert shown.endswith("the whole value: artifact params/action_save_rates.json)")
    whole = json.loads(mlflow.artifacts.load_text(
        f"runs:/{logged.run_id}/params/action_save_rates.json"))
    assert whole == {name: rate.model_dump() for name, rate in playbook.items()}
    assert run.data.params["max_boost_rounds"] == str(PARAMS.max_boost_rounds)  # the rest as is


def test_params_within_mlflow_s_limit_are_logged_as_they_are():
    from pipelines.tracking.runs import MAX_PARAM_CHARS, fitting_params

    kept, whole = fitting_params({"a": 1, "b": "x" * MAX_PARAM_CHARS, "c": {"k": "v"}})
    assert kept == {"a": 1, "b": "x" * MAX_PARAM_CHARS, "c": {"k": "v"}} and whole == {}
    kept, whole = fitting_params({"b": "x" * (MAX_PARAM_CHARS + 1)})
    assert len(kept["b"]) == MAX_PARAM_CHARS and list(whole) == ["params/b.json"]
