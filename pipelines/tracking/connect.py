"""Pointing this process's MLflow client at a data dir's store, and making the experiment."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
from mlflow.tracking import MlflowClient

from pipelines.store.settings import Settings
from pipelines.tracking.problems import require_mlflow_server
from pipelines.tracking.relocate import relocate_store


def use_tracking_store(settings: Settings) -> None:
    """Point this process's MLflow client at the settings' store, leaving the environment alone.

    `mlflow.set_tracking_uri` also exports `MLFLOW_TRACKING_URI`; left there, the next
    `Settings.from_env` for another data dir would silently read and write the first store.
    A remote server that does not answer is refused here, at once; the data dir's own store
    is first made to point at this data dir's files if the folder was moved or copied
    (`relocate`).
    """
    require_mlflow_server(settings.mlflow_tracking_uri)
    relocate_store(settings)
    before = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


def configure_mlflow(settings: Settings) -> str:
    """Point MLflow at the settings' store and make sure the experiment exists; its id."""
    use_tracking_store(settings)
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
