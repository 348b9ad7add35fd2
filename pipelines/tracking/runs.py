"""The MLflow edge for training runs: experiment setup and logging everything about a run.

Everything scoring needs to rebuild a model's input and state what it predicts (feature list,
category levels, label spec, calibrator) is logged as `churn_model_meta.json` in the same run
as the LightGBM model, so a registered version is self-contained. Registry work (gate, promote,
rollback, loading) lives in `pipelines.tracking.registry`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import mlflow
import pandas as pd

# mlflow builds these at import time (registered dataset sources, lazily bound loaders), so
# mypy cannot see them in its stubs
from mlflow.data.sources import LocalArtifactDatasetSource  # type: ignore[attr-defined]
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from models.card import lead_over_baselines
from models.params import TrainParams
from models.train import FittedChurnModel
from models.tuning import SearchSpace, TrialResult
from pipelines.store.leftovers import owner_tags
from pipelines.store.settings import Settings
from pipelines.tracking.connect import configure_mlflow, use_tracking_store
from pipelines.tracking.figures import training_figures
from pipelines.tracking.registry import META_ARTIFACT, RELIABILITY_TABLE, label_params

PIP_REQUIREMENTS = ["lightgbm==4.7.0", "pandas>=3.1,<3.2", "scikit-learn>=1.9,<1.10"]
try:  # MLflow cuts a longer param value to this with a warning (or, with
    # MLFLOW_TRUNCATE_LONG_VALUES=false, refuses the whole `log_params` call)
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH as MAX_PARAM_CHARS
except ImportError:  # pragma: no cover - the limit of MLflow 2 and 3
    MAX_PARAM_CHARS = 6000
LONG_PARAMS_DIR = "params"  # a long param's whole value: params/<name>.json in the run


def fitting_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The params as MLflow can hold them, and the whole text of each one too long for a
    param (a playbook of some 60 actions makes `action_save_rates` that long): such a param
    keeps the start of its value and names the artifact that holds all of it, instead of
    being cut silently (or failing the run after the fit)."""
    kept: dict[str, Any] = {}
    whole: dict[str, str] = {}
    for name, value in params.items():
        text = str(value)  # what MLflow would store
        if len(text) <= MAX_PARAM_CHARS:
            kept[name] = value
            continue
        path = f"{LONG_PARAMS_DIR}/{name}.json"
        note = f"... ({len(text)} characters; the whole value: artifact {path})"
        kept[name] = text[:MAX_PARAM_CHARS - len(note)] + note
        whole[path] = json.dumps(value, indent=2, default=str)
    return kept, whole


@dataclass(frozen=True)
class LoggedModel:
    run_id: str
    version: str
    experiment_id: str


def _signature_frame(matrix: pd.DataFrame) -> pd.DataFrame:
    """Categoricals as text: MLflow schemas have no category type."""
    out = matrix.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(object).where(out[column].notna(), None).astype("str")
    return out


def model_meta(fitted: FittedChurnModel) -> dict[str, Any]:
    return {
        "features": fitted.features,
        "category_levels": fitted.levels,
        "label": fitted.label.model_dump(),
        "best_iteration": fitted.best_iteration,
        "valid_cutoff": str(fitted.valid_cutoff),
        "train_cutoffs": [str(c) for c in fitted.train_cutoffs],
        "validation": fitted.validation,
        "baseline": fitted.baseline,
        "baselines": fitted.baselines,
        "calibrator": fitted.calibrator.to_dict(),
        "event_types": fitted.event_types,
        "model_size": fitted.size.as_params() if fitted.size else {},
    }


def run_metrics(fitted: FittedChurnModel, extra: dict[str, float]) -> dict[str, float]:
    """Every number of a run under its MLflow metric name."""
    metrics = {f"oot_{k}": v for k, v in fitted.validation.items()}
    metrics |= {f"oot_uncalibrated_{k}": v for k, v in fitted.validation_uncalibrated.items()}
    for name, values in fitted.baselines.items():
        metrics |= {f"baseline_{name}_{k}": v for k, v in values.items()}
    if fitted.evaluation is not None:
        metrics |= {f"calibration_oof_brier_{k}": v
                    for k, v in fitted.evaluation.calibration_brier.items()}
    return metrics | lead_over_baselines(fitted) | extra


def log_training_run(
    settings: Settings,
    fitted: FittedChurnModel,
    params: TrainParams,
    *,
    model_input: pd.DataFrame,
    model_input_path: Path,
    model_input_hash: str,
    run_params: dict[str, Any],
    extra_metrics: dict[str, float] | None = None,
    tables: dict[str, pd.DataFrame] | None = None,
) -> LoggedModel:
    """Log params, metrics, tables, figures, the input dataset and the model; register it."""
    experiment_id = configure_mlflow(settings)
    sample_frame = model_input.head(200)
    sample = fitted.matrix(sample_frame)
    with mlflow.start_run(experiment_id=experiment_id, run_name="train",
                          tags=owner_tags()) as run:
        logged, whole = fitting_params({
            **params.model_dump(exclude={"label"}), **label_params(params.label), **run_params,
            **(fitted.size.as_params() if fitted.size else {}),
            "calibration_method": fitted.calibrator.method})
        mlflow.log_params(logged)
        for path, text in whole.items():
            mlflow.log_text(text, path)
        mlflow.log_metrics(run_metrics(fitted, extra_metrics or {}))
        mlflow.set_tags({"model_input_sha256": model_input_hash,
                         "valid_cutoff": str(fitted.valid_cutoff),
                         "calibration_method": fitted.calibrator.method})
        dataset = mlflow.data.from_pandas(  # type: ignore[attr-defined]
            model_input.head(1000).astype({"churned": "float64"}),
            source=LocalArtifactDatasetSource(str(model_input_path)),
            targets="churned", name="model_input", digest=model_input_hash[:32],
        )
        mlflow.log_input(dataset, context="training")
        mlflow.log_text(json.dumps(model_meta(fitted), indent=2, default=str), META_ARTIFACT)
        mlflow.log_text("\n".join(fitted.features) + "\n", "features.txt")
        if fitted.evaluation is not None:
            mlflow.log_table(fitted.evaluation.reliability, RELIABILITY_TABLE)
        for name, table in (tables or {}).items():
            if not table.empty:
                mlflow.log_table(table, f"tables/{name}.json")
        for path, figure in training_figures(fitted).items():
            mlflow.log_figure(figure, path)
            plt.close(figure)
        signature_input = _signature_frame(sample)
        mlflow.lightgbm.log_model(
            fitted.classifier,
            name="model",
            signature=infer_signature(signature_input, fitted.predict_probability(sample_frame)),
            input_example=signature_input.head(5),
            pip_requirements=PIP_REQUIREMENTS,
            registered_model_name=settings.registered_model_name,
            # Serving validation goes through pyfunc, which cannot take category columns; we
            # never score through pyfunc (see pipelines.tracking.registry), so it would only
            # mislead.
            validate_serving_input=False,
        )
        run_id = run.info.run_id
    versions = MlflowClient().search_model_versions(
        f"name='{settings.registered_model_name}' and run_id='{run_id}'"
    )
    version = str(max(int(v.version) for v in versions))
    return LoggedModel(run_id=run_id, version=version, experiment_id=experiment_id)


def log_text_to_run(settings: Settings, run_id: str, text: str, artifact_file: str) -> None:
    use_tracking_store(settings)
    MlflowClient().log_text(run_id, text, artifact_file)


def log_metrics_to_run(settings: Settings, run_id: str, metrics: dict[str, float]) -> None:
    use_tracking_store(settings)
    client = MlflowClient()
    for key, value in metrics.items():
        client.log_metric(run_id, key, float(value))


def log_tuning_study(
    settings: Settings, n_trials: int, objective: str,
    run_study: Callable[[Callable[[TrialResult], None]], tuple[TrainParams, list[TrialResult]]],
) -> tuple[TrainParams, str]:
    """Run a search inside a parent MLflow run, each trial a nested run; best params, run id."""
    experiment_id = configure_mlflow(settings)
    with mlflow.start_run(experiment_id=experiment_id, run_name="tune",
                          tags=owner_tags()) as parent:
        mlflow.log_params({"n_trials": n_trials, "objective": objective,
                           **{f"space_{k}": str(v) for k, v in SearchSpace().model_dump().items()}})

        def log_trial(result: TrialResult) -> None:
            with mlflow.start_run(experiment_id=experiment_id, run_name=f"trial-{result.number}",
                                  nested=True, tags=owner_tags()):
                mlflow.log_params(result.params)
                mlflow.log_metric(f"backtest_{objective}_mean", result.value)
                for step, value in enumerate(result.per_origin):
                    mlflow.log_metric(f"backtest_{objective}", value, step=step)

        best, trials = run_study(log_trial)
        values = [t.value for t in trials]
        mlflow.log_metric(f"best_backtest_{objective}_mean",
                          max(values) if objective == "pr_auc" else min(values))
        mlflow.log_params({f"best_{k}": getattr(best, k) for k in SearchSpace.model_fields})
    return best, parent.info.run_id
