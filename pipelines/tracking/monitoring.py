"""Monitoring's MLflow and archive IO: the training reference stored with a model, a scoring
run's drift check, the track record of the archive, its files and runs, the retrain state.

The pure parts are `models.monitoring`, `models.track_record` and `models.retrain`. The
reference profile is logged as `monitoring/reference.json` in the training run (a few KB:
bin edges and shares); for a model trained before it existed, it is rebuilt from the training
snapshot the run names while that file is still in the data dir.
Monitoring and track-record runs go to their own MLflow experiment (`<experiment>-monitoring`),
tagged with the model version, its run and the scoring run they are about.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from features.build import to_naive_utc
from features.sources import SourceTables
from models.monitoring import MonitoringPolicy, data_volume, monitoring_summary, reference_profile
from models.retrain import ModelState, RetrainAttempt, retrain_decision
from models.track_record import GRADED, TrackRecord
from models.train import LABEL, FittedChurnModel
from pipelines.store.atomic import write_parquet_atomic, write_text_atomic
from pipelines.store.leftovers import owner_tags
from pipelines.store.settings import Settings
from pipelines.tracking.compatibility import champion_compatibility, mismatch_text
from pipelines.tracking.connect import use_tracking_store
from pipelines.tracking.registry import CHALLENGER, RegisteredModel, training_snapshot

REFERENCE_ARTIFACT = "monitoring/reference.json"
MONITORING_FILE = "monitoring.json"  # in each scoring run's folder
TRACK_RECORD = "track_record"  # reports/track_record.{csv,parquet}, track_record_tiers.csv


def source_volume(tables: SourceTables, up_to: dt.date) -> dict[str, int]:
    """Customers who bought and events (orders, tickets, interactions) up to `up_to`."""
    end = pd.Timestamp(up_to + dt.timedelta(days=1))
    bought = tables.purchases[to_naive_utc(tables.purchases["order_date"]) < end]
    events = len(bought)
    for frame, column in ((tables.complaints, "opened_at"), (tables.interactions, "occurred_at")):
        if frame is not None and column in frame:
            events += int((to_naive_utc(frame[column]) < end).sum())
    return data_volume(bought["customer_id"].nunique(), events)


def training_reference(
    fitted: FittedChurnModel, volume: dict[str, int] | None = None,
    policy: MonitoringPolicy | None = None,
) -> dict[str, Any]:
    """The reference profile of a fitted model: its out-of-time validation customers, the
    probabilities the registered model gives them, and their label rate.

    The score is the registered (refitted, calibrated) model's, the one that scores later
    lists: the out-of-fold validation probabilities come from other models and calibrators,
    and a score compared with them drifts by construction (PSI > 1 on 400 customers)."""
    evaluation = fitted.evaluation
    assert evaluation is not None  # fit_with_validation always evaluates out of time
    return reference_profile(
        evaluation.valid, fitted.features, fitted.predict_probability(evaluation.valid),
        label_rate=float(evaluation.outcome.mean()), cutoff=str(fitted.valid_cutoff),
        volume=volume, bins=(policy or MonitoringPolicy()).psi_bins)


def log_training_reference(settings: Settings, run_id: str, reference: dict[str, Any]) -> None:
    use_tracking_store(settings)
    MlflowClient().log_text(run_id, json.dumps(reference, default=str), REFERENCE_ARTIFACT)


def _rebuilt_reference(settings: Settings, champion: RegisteredModel) -> dict[str, Any] | None:
    """The reference from the training snapshot, for a model logged without one."""
    frame = training_snapshot(settings, champion.run_id)
    cutoff = champion.meta.get("valid_cutoff")
    if frame is None or not cutoff:
        return None
    valid = frame[pd.to_datetime(frame["cutoff"]) == pd.Timestamp(cutoff)]
    if valid.empty:
        return None
    return reference_profile(valid, champion.model.features,
                             champion.model.predict_probability(valid),
                             label_rate=float(valid[LABEL].mean()), cutoff=str(cutoff))


def champion_reference(settings: Settings, champion: RegisteredModel) -> dict[str, Any] | None:
    """The champion's stored reference, else one rebuilt from its snapshot, else None."""
    use_tracking_store(settings)
    stored = _stored_reference(champion.run_id)
    return stored if stored is not None else _rebuilt_reference(settings, champion)


def _stored_reference(run_id: str) -> dict[str, Any] | None:
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=REFERENCE_ARTIFACT, dst_path=folder)
            return json.loads(Path(path).read_text())
    except (mlflow.exceptions.MlflowException, OSError, ValueError):
        return None


def rejected_attempt(settings: Settings, champion: RegisteredModel) -> RetrainAttempt | None:
    """The challenger registered after the champion, when it is not the champion (the gate
    turned it down, or a person rolled it back): its data end, the volume it saw and why it
    was trained, for the retrain rules' back-off (`models.retrain`). None when there is none
    or the registry cannot say."""
    use_tracking_store(settings)
    client = MlflowClient()
    try:
        challenger = client.get_model_version_by_alias(settings.registered_model_name,
                                                       CHALLENGER)
        run_id = challenger.run_id
        if not run_id or int(challenger.version) <= int(champion.version):  # the champion
            return None
        run = client.get_run(run_id)
    except (mlflow.exceptions.MlflowException, ValueError):
        return None
    end = run.data.params.get("data_end")
    volume = (_stored_reference(run_id) or {}).get("volume") or {}
    return RetrainAttempt(str(challenger.version),
                          dt.date.fromisoformat(end) if end else None,
                          {k: int(v) for k, v in volume.items()},
                          run.data.tags.get("retrain_reason"))


def scoring_monitoring(
    settings: Settings, features: pd.DataFrame, champion: RegisteredModel, as_of: dt.date,
    policy: MonitoringPolicy, record: TrackRecord | None = None, *,
    churn_history: pd.DataFrame, volume: dict[str, int],
    probability: np.ndarray | None = None,
) -> dict[str, Any] | None:
    """The scoring run's population against the champion's training population, and what
    the retrain rules make of it (None when no reference can be had). `churn_history`: the
    run's `history.churn_rate_over_time` (its newest labelled cutoff is read); `volume`: the
    data's `source_volume` at `as_of`; `probability`: the champion's probabilities of
    `features` when already predicted. The run reads both from the tables before its
    outputs, so this needs no events."""
    reference = champion_reference(settings, champion)
    if reference is None:
        return None
    label = champion.model.label
    newest = pd.Timestamp(label.last_labelled_cutoff(as_of))
    latest = churn_history[churn_history["cutoff"] == newest]
    # the model's own probabilities, not the list's rounded ones: a calibrated score takes
    # few distinct values, and rounding moves them across the reference's bin edges
    score = (probability if probability is not None
             else champion.model.predict_probability(features) if len(features)
             else np.array([]))
    summary = monitoring_summary(
        reference, features, score, policy,
        latest_label_rate=float(latest["churn_rate"].iloc[-1]) if len(latest) else None,
        latest_matured_cutoff=str(latest["cutoff"].iloc[-1].date()) if len(latest) else None)
    state = _state(champion, reference, summary, record, volume, as_of, False, policy,
                   rejected_attempt(settings, champion))
    decision = retrain_decision(state)
    return {**summary, "as_of": str(as_of), "model_version": champion.version,
            "model_run_id": champion.run_id, "volume_training": reference.get("volume") or {},
            "volume_current": volume,
            "retrain": {"due": decision.retrain, "reason": decision.reason}}


def _state(
    champion: RegisteredModel, reference: dict[str, Any] | None, drift: dict[str, Any] | None,
    record: TrackRecord | None, volume_now: dict[str, int], as_of: dt.date, forced: bool,
    policy: MonitoringPolicy, attempt: RetrainAttempt | None = None,
) -> ModelState:
    graded = record.graded if record is not None else pd.DataFrame()
    own = graded[graded["model_version"] == champion.version] if len(graded) else graded
    latest = own.iloc[-1] if len(own) else None
    trained_end = champion.meta.get("data_end") or _run_param(champion.run_id, "data_end")
    return ModelState(
        champion_version=champion.version, forced=forced, policy=policy,
        score_psi=drift["score_psi"] if drift else None,
        drifted_features=tuple(drift["drifted_features"]) if drift else (),
        monitored_features=len(drift["features"]) if drift else 0,
        latest_matured_as_of=latest["as_of"] if latest is not None else None,
        realised_roc_auc=(float(latest["roc_auc"]) if latest is not None
                          and np.isfinite(latest["roc_auc"]) else None),
        seen_volume=(reference or {}).get("volume") or {}, current_volume=volume_now,
        trained_data_end=dt.date.fromisoformat(trained_end) if trained_end else None,
        as_of=as_of, rejected_attempt=attempt,
    )


def write_track_record(settings: Settings, record: TrackRecord) -> dict[str, str]:
    """reports/track_record.csv and .parquet (+ per tier), each written atomically."""
    base = settings.reports_dir / TRACK_RECORD
    lists = record.lists.astype({"as_of": str, "matures_on": str})
    paths = {"csv": write_text_atomic(lists.to_csv(index=False), base.with_suffix(".csv")),
             "parquet": write_parquet_atomic(lists, base.with_suffix(".parquet")),
             "tiers_csv": write_text_atomic(record.tiers.astype({"as_of": str})
                                            .to_csv(index=False),
                                            base.with_name(f"{TRACK_RECORD}_tiers.csv"))}
    return {k: str(v) for k, v in paths.items()}


def _monitoring_experiment(settings: Settings) -> str:
    use_tracking_store(settings)
    client, name = MlflowClient(), f"{settings.experiment_name}-monitoring"
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if settings.uses_embedded_mlflow:
        settings.mlflow_artifact_dir.mkdir(parents=True, exist_ok=True)
        location = (settings.mlflow_artifact_dir / "monitoring").as_uri()
    return client.create_experiment(name, artifact_location=location)


def _finite(values: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in values.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v)}


def log_monitoring_run(settings: Settings, monitoring: dict[str, Any], scoring_run_id: str,
                       policy: MonitoringPolicy) -> str:
    """A monitoring run linked to the model version and the scoring run; its id."""
    experiment = _monitoring_experiment(settings)
    with mlflow.start_run(experiment_id=experiment, run_name=f"monitor {monitoring['as_of']}",
                          tags=owner_tags()) as run:
        mlflow.set_tags({"model_version": monitoring["model_version"],
                         "model_run_id": monitoring["model_run_id"],
                         "scoring_run_id": scoring_run_id, "as_of": monitoring["as_of"],
                         "verdict": "drift" if monitoring["drift"] else "stable",
                         "drifted_features": ",".join(monitoring["drifted_features"])[:4000]})
        mlflow.log_params({"model_version": monitoring["model_version"],
                           "scoring_run_id": scoring_run_id,
                           **{f"policy_{k}": v for k, v in policy.model_dump().items()}})
        metrics = _finite({k: monitoring.get(k) for k in (
            "score_psi", "drifted_share", "population_training", "population_current",
            "population_ratio", "label_rate_training", "label_rate_latest")})
        for row in monitoring["features"]:
            metrics |= _finite({f"psi_{row['feature']}": row["psi"],
                                f"missing_{row['feature']}": row["missing_current"]})
        mlflow.log_metrics(metrics)
        mlflow.log_text(json.dumps(monitoring, indent=2, default=str), MONITORING_FILE)
        return run.info.run_id


def log_track_record_run(settings: Settings, record: TrackRecord, data_end: dt.date,
                         chart_png: bytes | None = None) -> str:
    """The track record as an MLflow run: per graded list a step of each metric, the table
    and the chart; its id."""
    experiment = _monitoring_experiment(settings)
    with mlflow.start_run(experiment_id=experiment, run_name=f"track record {data_end}",
                          tags=owner_tags()) as run:
        mlflow.set_tags({"data_end": str(data_end), "lists": str(len(record.lists)),
                         "graded": str(len(record.graded))})
        for step, row in enumerate(record.graded.to_dict(orient="records")):
            mlflow.log_metrics(_finite({f"realised_{k}": row[k] for k in (
                "roc_auc", "pr_auc", "churn_rate", "precision_top_tiers", "recall_top_tiers",
                "ece", "value_lost")}) | _finite({"promised_roc_auc": row["promised_roc_auc"],
                                                   "promised_pr_auc": row["promised_pr_auc"]}),
                step=step)
        mlflow.log_text(record.lists.to_csv(index=False), f"{TRACK_RECORD}.csv")
        mlflow.log_text(record.tiers.to_csv(index=False), f"{TRACK_RECORD}_tiers.csv")
        if chart_png:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"{TRACK_RECORD}.png"
                path.write_bytes(chart_png)
                mlflow.log_artifact(str(path))
        return run.info.run_id


@dataclasses.dataclass(frozen=True)
class DataNow:
    """What the retrain rules read of the staged data at a date: the champion's feature
    table, the archive's track record, the data's volume and the sources it has
    (`pipelines.deliver.shard_pass.data_now` reads them one customer shard at a time)."""

    features: pd.DataFrame
    record: TrackRecord
    volume: dict[str, int]
    available: tuple[str, ...]


def model_state(
    settings: Settings, data: DataNow, champion: RegisteredModel | None,
    as_of: dt.date, forced: bool, policy: MonitoringPolicy,
) -> ModelState:
    """What the retrain rules look at, measured now: drift of the champion's score and
    features at `as_of`, its latest matured list, the data volume and the model's age."""
    if champion is None:
        return ModelState(champion_version=None, forced=forced, policy=policy)
    features = data.features
    fit = champion_compatibility(champion, data.available, features)
    if fit.refused:  # it cannot score these data: nothing else to measure, retrain
        return ModelState(champion_version=champion.version, forced=forced, policy=policy,
                          as_of=as_of, data_mismatch=mismatch_text(fit))
    features = fit.with_no_data(features)
    score = champion.model.predict_probability(features) if len(features) else np.array([])
    reference = champion_reference(settings, champion)
    drift = (monitoring_summary(reference, features, score, policy) if reference is not None
             else None)
    state = _state(champion, reference, drift, data.record, data.volume, as_of, forced,
                   policy, rejected_attempt(settings, champion))
    return dataclasses.replace(state, data_mismatch=mismatch_text(fit))


def _run_param(run_id: str, name: str) -> str | None:
    try:
        return mlflow.get_run(run_id).data.params.get(name)
    except mlflow.exceptions.MlflowException:
        return None


def tag_training_run(settings: Settings, run_id: str, tags: dict[str, str]) -> None:
    use_tracking_store(settings)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_tag(run_id, key, value)


__all__ = ["GRADED", "MONITORING_FILE", "REFERENCE_ARTIFACT", "TRACK_RECORD",
           "champion_reference", "log_monitoring_run",
           "log_track_record_run", "log_training_reference", "model_state",
           "scoring_monitoring", "source_volume", "tag_training_run",
           "training_reference", "write_track_record"]
