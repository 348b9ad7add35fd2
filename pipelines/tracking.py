"""The MLflow edge: experiment setup, logging a training run, the registry, loading the champion.

Everything scoring needs to rebuild a model's input (feature list, category levels, horizon)
is logged as `churn_model_meta.json` in the same run as the LightGBM model, so a registered
version is self-contained.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.data.sources import LocalArtifactDatasetSource
from mlflow.models import infer_signature
from mlflow.tracking import MlflowClient

from models.train import FittedChurnModel, TrainParams
from pipelines.settings import Settings

CHAMPION = "champion"
META_ARTIFACT = "churn_model_meta.json"
PIP_REQUIREMENTS = ["lightgbm==4.7.0", "pandas>=3.1,<3.2", "scikit-learn>=1.9,<1.10"]


class NoChampionError(LookupError):
    """No registered model version carries the champion alias yet."""


@dataclass(frozen=True)
class LoggedModel:
    run_id: str
    version: str
    experiment_id: str


def configure_mlflow(settings: Settings) -> str:
    """Point MLflow at the settings' store and make sure the experiment exists; its id."""
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    if settings.mlflow_tracking_uri.startswith("sqlite:///"):
        Path(settings.mlflow_tracking_uri.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    client = MlflowClient()
    experiment = client.get_experiment_by_name(settings.experiment_name)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if settings.uses_embedded_mlflow:
        settings.mlflow_artifact_dir.mkdir(parents=True, exist_ok=True)
        location = settings.mlflow_artifact_dir.as_uri()
    return client.create_experiment(settings.experiment_name, artifact_location=location)


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
        "horizon_days": fitted.horizon_days,
        "best_iteration": fitted.best_iteration,
        "valid_cutoff": str(fitted.valid_cutoff),
        "train_cutoffs": [str(c) for c in fitted.train_cutoffs],
        "validation": fitted.validation,
        "baseline": fitted.baseline,
    }


def log_training_run(
    settings: Settings,
    fitted: FittedChurnModel,
    params: TrainParams,
    *,
    model_input: pd.DataFrame,
    model_input_path: Path,
    model_input_hash: str,
    run_params: dict[str, Any],
) -> LoggedModel:
    """Log params, metrics, the input dataset and the model; register it and name it champion."""
    experiment_id = configure_mlflow(settings)
    # Float inputs throughout: counts can be missing when a source is absent at scoring time.
    sample_frame = model_input.head(200)
    sample = fitted.matrix(sample_frame)
    with mlflow.start_run(experiment_id=experiment_id, run_name="train") as run:
        mlflow.log_params({**params.model_dump(), **run_params})
        mlflow.log_metrics({f"oot_{k}": v for k, v in fitted.validation.items()})
        mlflow.log_metrics({f"baseline_recency_{k}": v for k, v in fitted.baseline.items()})
        mlflow.set_tags(
            {"model_input_sha256": model_input_hash, "valid_cutoff": str(fitted.valid_cutoff)}
        )
        dataset = mlflow.data.from_pandas(
            model_input.head(1000).astype({"churned": "float64"}),
            source=LocalArtifactDatasetSource(str(model_input_path)),
            targets="churned", name="model_input", digest=model_input_hash[:32],
        )
        mlflow.log_input(dataset, context="training")
        with tempfile.TemporaryDirectory() as folder:
            meta_path = Path(folder) / META_ARTIFACT
            meta_path.write_text(json.dumps(model_meta(fitted), indent=2, default=str))
            mlflow.log_artifact(str(meta_path))
            features_path = Path(folder) / "features.txt"
            features_path.write_text("\n".join(fitted.features) + "\n")
            mlflow.log_artifact(str(features_path))
        signature_input = _signature_frame(sample)
        mlflow.lightgbm.log_model(
            fitted.classifier,
            name="model",
            signature=infer_signature(signature_input, fitted.predict_probability(sample_frame)),
            input_example=signature_input.head(5),
            pip_requirements=PIP_REQUIREMENTS,
            registered_model_name=settings.registered_model_name,
            # Serving validation goes through pyfunc, which cannot take category columns; we
            # never score through pyfunc (see load_champion), so the check would only mislead.
            validate_serving_input=False,
        )
        run_id = run.info.run_id
    client = MlflowClient()
    versions = client.search_model_versions(
        f"name='{settings.registered_model_name}' and run_id='{run_id}'"
    )
    version = str(max(int(v.version) for v in versions))
    client.set_registered_model_alias(settings.registered_model_name, CHAMPION, version)
    client.set_model_version_tag(settings.registered_model_name, version, "became_champion_because",
                                 "trained by churn train (always promoted until gating lands)")
    return LoggedModel(run_id=run_id, version=version, experiment_id=experiment_id)


def log_metrics_to_run(settings: Settings, run_id: str, metrics: dict[str, float]) -> None:
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    client = MlflowClient()
    for key, value in metrics.items():
        client.log_metric(run_id, key, float(value))


def load_champion(settings: Settings) -> tuple[FittedChurnModel, str, str]:
    """The champion model rebuilt with its training metadata, its version and run id."""
    configure_mlflow(settings)
    client = MlflowClient()
    try:
        version = client.get_model_version_by_alias(settings.registered_model_name, CHAMPION)
    except mlflow.exceptions.MlflowException as error:
        raise NoChampionError(
            f"no '{CHAMPION}' version of '{settings.registered_model_name}' in "
            f"{settings.mlflow_tracking_uri}; run `churn train` first"
        ) from error
    classifier = mlflow.lightgbm.load_model(
        f"models:/{settings.registered_model_name}@{CHAMPION}"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = mlflow.artifacts.download_artifacts(
            run_id=version.run_id, artifact_path=META_ARTIFACT, dst_path=folder
        )
        meta = json.loads(Path(path).read_text())
    fitted = FittedChurnModel(
        classifier=classifier,
        features=meta["features"],
        levels=meta["category_levels"],
        horizon_days=int(meta["horizon_days"]),
        best_iteration=int(meta["best_iteration"]),
        validation=meta.get("validation", {}),
        baseline=meta.get("baseline", {}),
    )
    return fitted, str(version.version), version.run_id
