"""Tasks that train: the feature table, the churn definition that fits the business, the
model-input snapshots, fitting and registering, and tuning."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import task
from pydantic import ValidationError

from features.billing import default_definition, detect_billing
from features.budget import TRAIN_MEMORY_MB, customer_ids, plan_sample
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
from models.params import TrainParams, TuningParams
from models.promotion import PromotionMargin
from models.train import FittedChurnModel, fit_with_validation
from models.tuning import tune
from pipelines.operate.caching import (
    IO_BACKOFF_SECONDS,
    IO_RETRIES,
    MODEL_INPUT_CONTENT,
    STAGED_CONTENT,
    is_transient,
)
from pipelines.scale.runner import shard_runner
from pipelines.scale.settings import DASK
from pipelines.scale.training import SnapshotSpec, snapshots_on_cluster
from pipelines.store.atomic import write_json_atomic, write_parquet_atomic
from pipelines.store.settings import Settings
from pipelines.store.staged import (
    load_sampled_tables,
    load_source_tables,
    staged_columns,
    staged_overview,
    staged_version_dir,
)
from pipelines.tasks.common import feature_table_path, model_input_path, task_logger
from pipelines.tracking import monitoring
from pipelines.tracking.registry import gate_new_version
from pipelines.tracking.runs import (
    log_text_to_run,
    log_training_run,
    log_tuning_study,
)


@task(name="write-feature-table", task_run_name="features {as_of}", tags=["io"],
      cache_policy=STAGED_CONTENT, persist_result=True, retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def write_feature_table(settings: Settings, as_of: dt.date) -> str:
    tables = load_source_tables(settings)
    features = build_customer_features(tables, as_of)
    feature_table_schema(feature_names(tables.available)).validate(features)
    path = write_parquet_atomic(features, feature_table_path(settings, as_of))
    task_logger().info("features for %d customers at %s -> %s", len(features), as_of, path)
    return str(path)


@task(name="choose-churn-definition", task_run_name="business model {data_end}")
def choose_churn_definition(
    settings: Settings, data_end: dt.date, params: TrainParams
) -> tuple[TrainParams, dict[str, Any]]:
    """Contractual or not (`features.billing`), and the parameters with the definition that
    fits it when `params.choose_definition` (else the user's, kept)."""
    # the columns the verdict reads, not every byte of every order (1M customers: 3.9 GB)
    verdict = detect_billing(staged_columns(staged_version_dir(settings), BILLING_COLUMNS),
                             data_end)
    billing = verdict.as_dict() | {"definition_chosen": params.choose_definition}
    task_logger().info("business: %s", verdict.summary())
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
      cache_policy=MODEL_INPUT_CONTENT, persist_result=True, retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def write_model_input(
    settings: Settings, data_end: dt.date, params: TrainParams
) -> dict[str, Any]:
    """Snapshots at the monthly cutoffs whose label windows end by `data_end`.

    The sample is planned from the staged tables' ids, dates and interaction types alone
    (`staged_overview`); then only the sampled customers' rows are read, from the first row
    groups of each table (`load_sampled_tables`), so the memory this takes is the budget's,
    not the whole data's."""
    folder = staged_version_dir(settings)
    tables = staged_overview(folder)
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
    features = feature_names(tables.available) + event_type_feature_names(event_types)
    # Sized before any snapshot is built: over the budget, only a stable share of customers
    # (the same at every cutoff) gets snapshots, and the full tables are let go.
    sample = plan_sample(customer_ids(tables), len(cutoffs), features, train_memory_mb())
    del tables
    tables = load_sampled_tables(folder, sample.share)
    frame = build_model_input(tables, cutoffs, spec, data_end=data_end, event_types=event_types)
    require_enough_examples(
        frame, min_positives=params.min_positives, min_negatives=params.min_negatives,
    )
    for warning in snapshot_warnings(frame, features):
        task_logger().warning("model input: %s", warning)
    _check_labels_against_payments(frame, tables, params, data_end)
    sources = list(tables.available)
    del tables  # checked against; the write below need not hold them beside the frame
    manifest = snapshot_manifest(frame, SnapshotSettings(
        label=spec, cutoffs=[str(c) for c in cutoffs], data_start=str(first_purchase),
        data_end=str(data_end), sources=sources,
    ))
    manifest["event_types"] = event_types
    manifest["features"] = features
    manifest["sample"] = sample.as_params(len(frame))
    path = model_input_path(settings, data_end, spec)
    frame.attrs[SNAPSHOT_METADATA_KEY] = manifest
    # the manifest first: a kill between the two leaves no parquet, which the next run rebuilds
    write_json_atomic(manifest, path.with_suffix(".json"))
    write_parquet_atomic(frame, path, slice_rows=MODEL_INPUT_SLICE_ROWS)
    task_logger().info(
        "model input: %d rows over %d cutoffs (%s .. %s), churn rate %.3f",
        len(frame), len(cutoffs), cutoffs[0], cutoffs[-1], frame["churned"].mean(),
    )
    if plan.short:
        task_logger().warning("%s", plan.note())
    (task_logger().warning if sample.sampled else task_logger().info)(
        "model input: %s", sample.note(len(frame)))
    return {
        "path": str(path), "sha256": manifest["sha256"], "data_end": str(data_end),
        "cutoffs": [str(c) for c in cutoffs], "features": features,
        "data_start": str(first_purchase), "settings_path": str(path.with_suffix(".json")),
        "cutoffs_note": plan.note(), "history_days": params.history_days,
        "event_types": event_types, "sample": manifest["sample"],
        "sample_note": sample.note(len(frame)),
    }


#: The staged columns `features.billing.detect_billing` and `monitoring.source_volume` read.
BILLING_COLUMNS: dict[str, list[str] | None] = {
    "purchases": ["customer_id", "order_date", "amount", "status"],
    "customers": ["customer_id", "cancelled_at"], "subscriptions": None}
VOLUME_COLUMNS: dict[str, list[str] | None] = {
    "purchases": ["customer_id", "order_date"], "complaints": ["customer_id", "opened_at"],
    "interactions": ["customer_id", "occurred_at"]}
TRAIN_MEMORY_VARIABLE = "CHURN_TRAIN_MEMORY_MB"
#: Rows of the model input converted to Arrow and written at a time.
MODEL_INPUT_SLICE_ROWS = 100_000


def train_memory_mb() -> float:
    """The memory training's model input and its copies may take, in MB:
    `CHURN_TRAIN_MEMORY_MB`, else `features.budget.TRAIN_MEMORY_MB`."""
    text = os.environ.get(TRAIN_MEMORY_VARIABLE, "").strip()
    if not text:
        return float(TRAIN_MEMORY_MB)
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise ValueError(f"{TRAIN_MEMORY_VARIABLE} is {text!r}, not a number of megabytes above "
                         f"0; set it to e.g. {TRAIN_MEMORY_MB} or unset it")
    return value


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
    log = task_logger().warning if contractual else task_logger().info
    log("labels: %s", check.message())


@task(name="fit-and-register", task_run_name="fit and register", tags=["mlflow"])
def fit_and_register(
    settings: Settings, model_input: dict[str, Any], params: TrainParams,
    margin: PromotionMargin, tuning_run_id: str = "", billing: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit, backtest, log everything to MLflow, register a version and run the promotion gate."""
    from pipelines.deliver.loop_report import with_save_rate_in_force

    params = with_save_rate_in_force(settings, params)  # measured once the holdouts say
    frame = pd.read_parquet(model_input["path"])
    features = model_input["features"]
    volume, fitted = _fitted_where_settings_say(settings, model_input, frame, features, params)
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
            "fit_engine": fitted.fit_engine, "fit_rows": fitted.fit_rows,
            **model_input.get("sample", {}),
            **margin.model_dump(),
        },
        extra_metrics=backtest_summary(backtest),
        tables={"backtest": backtest, "segments": segments},
    )
    del frame  # logged; the staged tables loaded next need not sit beside it
    # what monitoring compares every later scoring run with (pipelines.tracking.monitoring)
    if volume is None:  # measured already where the cluster's snapshots were built
        volume = monitoring.source_volume(staged_columns(staged_version_dir(settings),
                                                         VOLUME_COLUMNS),
                                          dt.date.fromisoformat(model_input["data_end"]))
    monitoring.log_training_reference(settings, logged.run_id,
                                      monitoring.training_reference(fitted, volume))
    decision = gate_new_version(settings, logged.version, fitted, model_input["sha256"], margin)
    card = model_card(fitted, params, model_input | {"fit_note": fit_note(fitted)}, backtest,
                      segments,
                      f"version {logged.version}: {decision.reason}", billing=billing)
    log_text_to_run(settings, logged.run_id, card, "model_card.md")
    task_logger().info(
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
        "sample_note": (model_input.get("sample_note", "")
                        if model_input.get("sample", {}).get("train_sample") == "customer_sample"
                        else ""),
        "fit_note": fit_note(fitted), "fit_engine": fitted.fit_engine,
        "fit_rows": fitted.fit_rows,
        "billing": billing or {}, "churn_definition": params.label.definition,
    }


def _fitted_where_settings_say(
    settings: Settings, model_input: dict[str, Any], frame: pd.DataFrame, features: list[str],
    params: TrainParams,
) -> tuple[dict[str, Any] | None, FittedChurnModel]:
    """`fit_with_validation` on `frame`; with `CHURN_TRAIN_ENGINE=dask` its final booster is
    fitted on the cluster over every customer's snapshots (`pipelines.scale.training`), and
    the source volume of the staged tables it read is returned with it."""
    with shard_runner() as runner:
        if not runner.settings.train_on_cluster:
            return None, fit_with_validation(frame, features, params)
        data_end = dt.date.fromisoformat(model_input["data_end"])
        spec = SnapshotSpec(
            cutoffs=tuple(dt.date.fromisoformat(c) for c in model_input["cutoffs"]),
            label=params.label, data_end=data_end, features=tuple(features),
            event_types=tuple(model_input.get("event_types", [])))
        folder = staged_version_dir(settings)
        if runner.sees(folder):  # each worker reads its own shards: no table loaded here
            task_logger().info("the workers read their shards from %s", folder)
            with snapshots_on_cluster(runner, folder, spec) as snapshots:
                assert snapshots.volume is not None  # counted by the workers
                volume = snapshots.volume
                fitted = fit_with_validation(frame, features, params,
                                             refit=snapshots.refit(params))
        else:
            task_logger().info("the workers cannot read %s (a data dir on another machine "
                               "than theirs): this process sends each shard its rows", folder)
            tables = load_source_tables(settings)
            volume = monitoring.source_volume(tables, data_end)
            with snapshots_on_cluster(runner, tables, spec) as snapshots:
                del tables  # the workers hold their rows: the probe need not sit beside them
                fitted = fit_with_validation(frame, features, params,
                                             refit=snapshots.refit(params))
    task_logger().info("final model: %s", fit_note(fitted))
    return volume, fitted


def fit_note(fitted: FittedChurnModel) -> str:
    """Where the classifier scoring uses was fitted, and on how many snapshots."""
    where = ("by lightgbm.dask on the Dask cluster" if fitted.fit_engine == DASK
             else "in this process")
    return f"{fitted.best_iteration} trees fitted {where} on {fitted.fit_rows:,} snapshots"


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
    task_logger().info("tuning run %s: best parameters %s", run_id, best.model_dump())
    return best, run_id
