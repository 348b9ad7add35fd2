"""Prefect tasks: every read and write of the pipeline, calling pure code in between.

Each task takes the command's `Settings` (built once, at the flow's entry) and dates already
resolved to `datetime.date` (`resolve_cutoff`); none reads the environment or the clock.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.exceptions import MissingContextError
from pydantic import ValidationError

from features.billing import default_definition, detect_billing
from features.build import build_customer_features
from features.catalog import feature_names, feature_table_schema
from features.event_types import event_type_feature_names, learn_event_types
from features.guards import require_enough_examples, snapshot_warnings
from features.label_checks import churners_still_customers
from features.labels import LabelSpec
from features.snapshots import (
    SNAPSHOT_METADATA_KEY,
    SnapshotSettings,
    build_model_input,
    snapshot_manifest,
    training_cutoffs,
)
from features.sources import SourceTables
from models.backtest import backtest_summary, rolling_origin_backtest, segment_breakdown
from models.card import model_card
from models.evaluate import classification_metrics
from models.monitoring import MonitoringPolicy
from models.params import TrainParams, TuningParams
from models.promotion import PromotionMargin
from models.retrain import ModelState, RetrainDecision, retrain_decision
from models.train import fit_with_validation
from models.tuning import tune
from pipelines.deliver.i18n import summary_label
from pipelines.deliver.params import ScoreParams
from pipelines.deliver.scoring_run import run_scoring
from pipelines.ingest.run import ingest_raw_exports
from pipelines.operate.caching import (
    IO_BACKOFF_SECONDS,
    IO_RETRIES,
    RAW_CONTENT,
    STAGED_CONTENT,
    is_transient,
)
from pipelines.sample import generate as sample_data
from pipelines.store.atomic import write_json_atomic, write_parquet_atomic
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables, staged_data_end
from pipelines.tracking import monitoring
from pipelines.tracking.connect import configure_mlflow
from pipelines.tracking.registry import champion_version, gate_new_version, load_champion
from pipelines.tracking.runs import (
    log_metrics_to_run,
    log_text_to_run,
    log_training_run,
    log_tuning_study,
)


def _logger() -> logging.Logger | logging.LoggerAdapter:
    """The run logger inside a flow, a plain logger when a task function is called directly."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("churn")


def feature_table_path(settings: Settings, as_of: dt.date) -> Path:
    return settings.features_dir / f"{as_of}.parquet"


def model_input_path(settings: Settings, data_end: dt.date, spec: LabelSpec) -> Path:
    # Snapshots of different label settings must not overwrite each other.
    return settings.model_input_dir / f"{data_end}_{spec.file_tag}.parquet"


@task(name="resolve-cutoff")
def resolve_cutoff(settings: Settings, requested: dt.date | None) -> dt.date:
    """The date a run treats as "now": `requested`, else the last day the staged data covers
    (from the event timestamps alone; the tables are loaded by the task that needs them)."""
    cutoff = requested if requested is not None else staged_data_end(settings)
    _logger().info("cutoff %s%s", cutoff, "" if requested else " (the last event date)")
    return cutoff


@task(name="generate-sample-exports")
def generate_sample_exports(
    settings: Settings, customers: int, seed: int, end: dt.date | None = None,
    dialect: str = "canonical", business: str = "retail",
) -> dict[str, Any]:
    written = sample_data.generate_and_write(settings, customers=customers, seed=seed, end=end,
                                             dialect=dialect, business=business)
    _logger().info("wrote %s", {k: str(v) for k, v in written.items()})
    return {kind: str(path) for kind, path in written.items()}


@task(name="stage-raw-exports", task_run_name="stage raw exports", tags=["io"],
      cache_policy=RAW_CONTENT, persist_result=True, retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def stage_raw_exports(
    settings: Settings, skip_bad_files: bool = False, explain: bool = False
) -> dict[str, Any]:
    report = ingest_raw_exports(settings, skip_bad_files=skip_bad_files, explain=explain)
    logger = _logger()
    if report.unchanged:
        logger.info("raw files unchanged since the last ingest: nothing to do")
    for problem in report.skipped_files:
        logger.warning("skipped %s", problem)
    for warning in report.warnings:
        logger.warning("%s", warning)
    for account in report.accounts:
        logger.info(
            "%s: read %d = staged %d + duplicates %d + quarantined %d %s",
            account.file, account.rows_read, account.staged, account.duplicates,
            account.quarantined, account.reasons or "",
        )
    return report.to_dict()


@task(name="write-feature-table", task_run_name="features {as_of}", tags=["io"],
      cache_policy=STAGED_CONTENT, persist_result=True, retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def write_feature_table(settings: Settings, as_of: dt.date) -> str:
    tables = load_source_tables(settings)
    features = build_customer_features(tables, as_of)
    feature_table_schema(feature_names(tables.available)).validate(features)
    path = write_parquet_atomic(features, feature_table_path(settings, as_of))
    _logger().info("features for %d customers at %s -> %s", len(features), as_of, path)
    return str(path)


@task(name="choose-churn-definition", task_run_name="business model {data_end}")
def choose_churn_definition(
    settings: Settings, data_end: dt.date, params: TrainParams
) -> tuple[TrainParams, dict[str, Any]]:
    """Contractual or not (`features.billing`), and the parameters with the definition that
    fits it when `params.choose_definition` (else the user's, kept)."""
    verdict = detect_billing(load_source_tables(settings), data_end)
    billing = verdict.as_dict() | {"definition_chosen": params.choose_definition}
    _logger().info("business: %s", verdict.summary())
    if not params.choose_definition:
        return params, billing
    chosen = default_definition(verdict)
    try:
        label = LabelSpec.model_validate(params.label.model_dump() | {"definition": chosen})
    except ValidationError as error:
        why = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise ValueError(f"the data looks {verdict.business} ({'; '.join(verdict.evidence)}), "
                         f"so the churn definition would be {chosen}, but {why}; set "
                         "--horizon-days or --churn-definition") from None
    return params.model_copy(update={"label": label, "choose_definition": False}), billing


@task(name="write-model-input", task_run_name="model input {data_end}", tags=["io"],
      cache_policy=STAGED_CONTENT, persist_result=True, retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def write_model_input(
    settings: Settings, data_end: dt.date, params: TrainParams
) -> dict[str, Any]:
    """Snapshots at the monthly cutoffs whose label windows end by `data_end`."""
    tables = load_source_tables(settings)
    first_purchase = tables.purchases["order_date"].min().date()
    spec = params.label
    plan = training_cutoffs(first_purchase, data_end, spec, params.n_cutoffs,
                            history_days=params.history_days, step_days=params.cutoff_step_days)
    cutoffs = plan.cutoffs
    if len(cutoffs) < 2:
        gap = f" - {spec.gap_days} days gap" if spec.gap_days else ""
        raise ValueError(
            f"only {len(cutoffs)} cutoff(s) between {first_purchase} + "
            f"{params.history_days} days of history and {data_end} - {spec.horizon_days} "
            f"days{gap}; training needs at least 2: supply more history or lower "
            "--horizon-days (or --min-history-days)"
        )
    # Learned from what the latest cutoff could see; fixed from here on (it travels with the
    # model, so scoring builds the same columns).
    event_types = (learn_event_types(tables.interactions, cutoffs[-1], params.event_types_top_n)
                   if tables.interactions is not None else [])
    frame = build_model_input(tables, cutoffs, spec, data_end=data_end, event_types=event_types)
    features = feature_names(tables.available) + event_type_feature_names(event_types)
    require_enough_examples(
        frame, min_positives=params.min_positives, min_negatives=params.min_negatives,
    )
    for warning in snapshot_warnings(frame, features):
        _logger().warning("model input: %s", warning)
    _check_labels_against_payments(frame, tables, params, data_end)
    manifest = snapshot_manifest(frame, SnapshotSettings(
        label=spec, cutoffs=[str(c) for c in cutoffs], data_start=str(first_purchase),
        data_end=str(data_end), sources=list(tables.available),
    ))
    manifest["event_types"] = event_types
    manifest["features"] = features
    path = model_input_path(settings, data_end, spec)
    frame.attrs[SNAPSHOT_METADATA_KEY] = manifest
    write_parquet_atomic(frame, path)
    write_json_atomic(manifest, path.with_suffix(".json"))
    _logger().info(
        "model input: %d rows over %d cutoffs (%s .. %s), churn rate %.3f",
        len(frame), len(cutoffs), cutoffs[0], cutoffs[-1], frame["churned"].mean(),
    )
    if plan.short:
        _logger().warning("%s", plan.note())
    return {
        "path": str(path), "sha256": manifest["sha256"], "data_end": str(data_end),
        "cutoffs": [str(c) for c in cutoffs], "features": features,
        "data_start": str(first_purchase), "settings_path": str(path.with_suffix(".json")),
        "cutoffs_note": plan.note(), "history_days": params.history_days,
        "event_types": event_types,
    }


def _check_labels_against_payments(frame: pd.DataFrame, tables: SourceTables,
                                   params: TrainParams, data_end: dt.date) -> None:
    """Warn when churners were still customers (`features.label_checks`); for a contractual business
    refuse above the threshold unless `params.force`: such labels teach the wrong thing. A
    non-contractual shop's churners may come back; that is reported, not refused."""
    check = churners_still_customers(frame, tables.purchases, params.label, data_end,
                                     tables.customers, tables.subscriptions)
    if not check.still_customers:
        return
    contractual = params.label.contractual or detect_billing(tables, data_end).contractual
    if check.contradicts and contractual and not params.force:
        raise ValueError(f"the labels contradict the data: {check.message()}; choose a "
                         "definition that fits a subscription business (--churn-definition "
                         "renewal, or leave it out) or a longer --horizon-days, or train anyway "
                         "with --force")
    log = _logger().warning if contractual else _logger().info
    log("labels: %s", check.message())


@task(name="fit-and-register", task_run_name="fit and register", tags=["mlflow"])
def fit_and_register(
    settings: Settings, model_input: dict[str, Any], params: TrainParams,
    margin: PromotionMargin, tuning_run_id: str = "", billing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit, backtest, log everything to MLflow, register a version and run the promotion gate."""
    frame = pd.read_parquet(model_input["path"])
    features = model_input["features"]
    fitted = fit_with_validation(frame, features, params)
    fitted.event_types = list(model_input.get("event_types", []))
    backtest = rolling_origin_backtest(frame, features, params)
    assert fitted.evaluation is not None  # fit_with_validation always evaluates out of time
    segments = segment_breakdown(fitted.evaluation.valid, fitted.evaluation.probability)
    logged = log_training_run(
        settings, fitted, params,
        model_input=frame, model_input_path=Path(model_input["path"]),
        model_input_hash=model_input["sha256"],
        run_params={
            "data_start": model_input["data_start"], "data_end": model_input["data_end"],
            "cutoffs": ",".join(model_input["cutoffs"]), "n_features": len(fitted.features),
            "valid_cutoff": str(fitted.valid_cutoff), "best_iteration": fitted.best_iteration,
            "train_cutoffs": ",".join(str(c) for c in fitted.train_cutoffs),
            "n_rows": len(frame), "tuning_run_id": tuning_run_id or "none",
            "model_input_file": Path(model_input["path"]).name,
            **margin.model_dump(),
        },
        extra_metrics=backtest_summary(backtest),
        tables={"backtest": backtest, "segments": segments},
    )
    # what monitoring compares every later scoring run with (pipelines.tracking.monitoring)
    volume = monitoring.source_volume(load_source_tables(settings),
                                      dt.date.fromisoformat(model_input["data_end"]))
    monitoring.log_training_reference(settings, logged.run_id,
                                      monitoring.training_reference(fitted, volume))
    decision = gate_new_version(settings, logged.version, fitted, model_input["sha256"], margin)
    card = model_card(fitted, params, model_input, backtest, segments,
                      f"version {logged.version}: {decision.reason}", billing=billing)
    log_text_to_run(settings, logged.run_id, card, "model_card.md")
    _logger().info(
        "out-of-time ROC-AUC %.4f (recency baseline %.4f) on cutoff %s; version %s: %s",
        fitted.validation["roc_auc"], fitted.baseline["roc_auc"], fitted.valid_cutoff,
        logged.version, decision.reason,
    )
    return {
        "run_id": logged.run_id, "model_version": logged.version,
        "valid_cutoff": str(fitted.valid_cutoff), "validation": fitted.validation,
        "baseline_recency": fitted.baseline, "baselines": fitted.baselines,
        "best_iteration": fitted.best_iteration, "calibration": fitted.calibrator.method,
        "backtest": backtest_summary(backtest), "promoted": decision.promote,
        "promotion_reason": decision.reason, "promotion_basis": decision.basis,
        "tracking_uri": settings.mlflow_tracking_uri,
        "cutoffs_note": model_input.get("cutoffs_note", ""),
        "billing": billing or {}, "churn_definition": params.label.definition,
    }


@task(name="tune-hyperparameters")
def tune_hyperparameters(
    settings: Settings, model_input: dict[str, Any], params: TrainParams, tuning: TuningParams,
) -> tuple[TrainParams, str]:
    """Optuna search on the temporal backtest, logged as nested MLflow runs; best params."""
    frame = pd.read_parquet(model_input["path"])
    best, run_id = log_tuning_study(
        settings, tuning.trials, tuning.objective,
        lambda on_trial: tune(frame, model_input["features"], params, tuning.trials,
                              tuning.objective, on_trial=on_trial),
    )
    _logger().info("tuning run %s: best parameters %s", run_id, best.model_dump())
    return best, run_id


@task(name="decide-retraining", task_run_name="decide retraining", tags=["mlflow"],
      retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def decide_retraining(
    settings: Settings, forced: bool, as_of: dt.date | None = None,
    policy: MonitoringPolicy | None = None,
) -> RetrainDecision:
    """Whether the chain retrains before scoring, and why (the registry gate still decides
    whether the new version becomes champion). With `as_of`, the champion's drift, track
    record, data growth and age at that date are measured for the rules."""
    configure_mlflow(settings)
    version = champion_version(settings)
    state = ModelState(champion_version=version, forced=forced)
    if as_of is not None and version is not None and not forced:  # forced: nothing to weigh
        state = monitoring.model_state(settings, load_source_tables(settings),
                                       load_champion(settings), as_of, forced,
                                       policy or MonitoringPolicy())
    decision = retrain_decision(state)
    _logger().info("%s: %s", "retrain" if decision.retrain else "no retrain", decision.reason)
    return decision


@task(name="score-and-archive", task_run_name="score {as_of}", tags=["io", "mlflow"],
      retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def score_and_archive(settings: Settings, as_of: dt.date, params: ScoreParams) -> dict[str, Any]:
    """Score with the champion; archive list, workbook, report and metadata as a new run."""
    configure_mlflow(settings)  # this data dir's store, not whatever the process used last
    champion = load_champion(settings)
    result = run_scoring(settings, load_source_tables(settings), as_of, champion, params)
    _logger().info("scored %d customers -> %s", result["customers_scored"], result["run_dir"])
    return result


@task(name="publish-scoring-artifacts")
def publish_scoring_artifacts(scored: dict[str, Any], top_n: int = 25) -> None:
    """A table artifact with the top customers and a markdown one with headline numbers."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    risk = pd.read_parquet(scored["risk_list_parquet"]).head(top_n)
    columns = ["rank", "customer_id", "customer_name", "risk_tier", "churn_probability",
               "value_at_risk", "reason_1", "suggested_action"]
    records = json.loads(risk[columns].to_json(orient="records", date_format="iso"))
    create_table_artifact(records, key="churn-top-customers",
                          description=f"Top {top_n} customers, data as of {scored['as_of']}")
    run_dir = Path(scored["run_dir"])
    markdown = (run_dir / "report.md").read_text(encoding="utf-8")
    links = "\n".join(f"- {name}: `{run_dir / name}`" for name in
                      ("risk_list.xlsx", "risk_list.csv", "report.html", "metadata.json"))
    files = summary_label("files", scored.get("lang", "en"))
    create_markdown_artifact(markdown + f"\n## {files}\n\n" + links + "\n",
                             key="churn-scoring-summary",
                             description=f"Scoring run {run_dir.name}")


@task(name="grade-against-ground-truth")
def grade_against_ground_truth(
    settings: Settings, scored: dict[str, Any], trained: dict[str, Any]
) -> dict[str, float]:
    """Sample data only: compare the risk list with the simulator's true probabilities.

    The simulator knows each customer's true churn probability after the final cutoff and
    what really happened; the AUC of the true probabilities is the best any model could do.
    """
    truth_path = sample_data.ground_truth_path(settings)
    if not truth_path.exists():
        return {}
    truth = pd.read_csv(truth_path, dtype={"customer_id": str})
    risk = pd.read_parquet(scored["risk_list_parquet"])
    joined = risk.merge(truth, on="customer_id", how="inner", validate="one_to_one")
    outcome = joined["churned"].astype(int).to_numpy()
    graded = {
        "truth_customers": float(len(joined)),
        "truth_model_roc_auc": classification_metrics(
            outcome, joined["churn_probability"]
        )["roc_auc"],
        "truth_recency_roc_auc": classification_metrics(
            outcome, joined["days_since_last_purchase"].rank(pct=True)
        )["roc_auc"],
        "truth_ceiling_roc_auc": classification_metrics(
            outcome, joined["true_churn_probability"]
        )["roc_auc"],
    }
    log_metrics_to_run(settings, trained["run_id"], graded)
    write_json_atomic(graded, Path(scored["run_dir"]) / "ground_truth_grading.json")
    return graded


@task(name="write-analytics")
def write_analytics_folder(settings: Settings, as_of: dt.date, policy: Any,
                           lang: str = "en") -> dict[str, Any]:
    """Retention analytics at `as_of` -> `analytics/<as-of>/` (page, workbook, headline)."""
    from pipelines.deliver.analytics_run import write_analytics

    result = write_analytics(settings, load_source_tables(settings), as_of, policy, lang)
    _logger().info("analytics at %s -> %s", as_of, result["folder"])
    return result
