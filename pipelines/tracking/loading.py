"""Rebuilding a registered version from its files, saying what is wrong when they cannot serve.

A version is three things on disk: the logged model's folder (`MLmodel` and the LightGBM
file it names), and `churn_model_meta.json` in its training run. Any of them can be deleted,
truncated, replaced by something else or never written (a run killed mid-logging). With a
file store the folders are looked at first, so a missing file is named as such; what MLflow
or the model reader then raises while loading is reported as a damaged or foreign file. Each
problem is a `ModelStoreError` whose message says what is wrong; the registry adds what to
run (`pipelines.tracking.registry.load_model_version`).
"""

from __future__ import annotations

import json
import tempfile
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import mlflow
from mlflow.tracking import MlflowClient

from features.labels import LabelSpec
from models.calibration import Calibrator
from models.train import FittedChurnModel
from pipelines.store.settings import Settings
from pipelines.tracking.problems import ModelStoreError

META_ARTIFACT = "churn_model_meta.json"
MODEL_DESCRIPTION = "MLmodel"


@dataclass(frozen=True)
class LoadedVersion:
    model: FittedChurnModel
    run_id: str
    meta: dict[str, Any]  # the run's churn_model_meta.json (valid cutoff, baselines, ...)


def local_folder(uri: str | None) -> Path | None:
    """The folder a `file://` URI names (None for any other store)."""
    if not uri or not uri.startswith("file://"):
        return None
    return Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path))


def load_version_files(settings: Settings, version: str) -> LoadedVersion:
    """The registered version rebuilt with its metadata and calibrator, or a
    `ModelStoreError` naming what is missing, damaged or foreign."""
    client = MlflowClient()
    name = settings.registered_model_name
    try:
        info = client.get_model_version(name, version)
    except mlflow.exceptions.MlflowException:
        raise ModelStoreError(f"there is no version {version} of {name} in the registry "
                              f"({settings.mlflow_tracking_uri})") from None
    label = f"version {version} of {name}"
    try:
        location = client.get_model_version_download_uri(name, version)
    except mlflow.exceptions.MlflowException:
        location = None  # then the loader below says what is wrong
    _check_model_folder(location, label)
    try:
        classifier = mlflow.lightgbm.load_model(f"models:/{name}/{version}")
    except Exception as error:  # whatever the reader of a damaged file raises
        raise ModelStoreError(
            f"the model file of {label} cannot be read ({_why(error)}): it is truncated, "
            "damaged or not a LightGBM model") from error
    if not isinstance(classifier, lgb.LGBMClassifier):
        raise ModelStoreError(f"the model file of {label} holds a {type(classifier).__name__}, "
                              "not the LightGBM classifier churn training registers")
    run_id = str(info.run_id or "")
    meta = _read_meta(client, run_id, label)
    try:
        fitted = _fitted(classifier, meta)
    except (KeyError, TypeError, ValueError) as error:
        raise ModelStoreError(f"the {META_ARTIFACT} of {label} (training run {run_id}) is "
                              f"incomplete or damaged ({_why(error)})") from error
    return LoadedVersion(fitted, run_id, meta)


def _check_model_folder(location: str | None, label: str) -> None:
    """Missing files of a version in a file store, named before MLflow trips over them."""
    folder = local_folder(location)
    if folder is None:
        return
    if not folder.is_dir():
        raise ModelStoreError(f"the model folder of {label} is gone ({folder})")
    if not any(folder.iterdir()):
        raise ModelStoreError(f"the model folder of {label} is empty ({folder})")
    description = folder / MODEL_DESCRIPTION
    if not description.is_file():
        raise ModelStoreError(f"the model folder of {label} has no {MODEL_DESCRIPTION} file "
                              f"({folder})")
    try:
        data = mlflow.models.Model.load(str(description)).flavors["lightgbm"]["data"]
    except Exception:  # noqa: BLE001 - whatever a damaged description makes the reader raise
        raise ModelStoreError(f"the {MODEL_DESCRIPTION} file of {label} is damaged or "
                              f"describes no LightGBM model ({description})") from None
    if not (folder / str(data)).is_file():
        raise ModelStoreError(f"the model file of {label} is gone ({folder / str(data)})")


def _read_meta(client: MlflowClient, run_id: str, label: str) -> dict[str, Any]:
    missing = ModelStoreError(f"{label} has no {META_ARTIFACT} in its training run "
                              f"{run_id or '(none)'}: the run did not finish logging, or the "
                              "file was removed")
    if not run_id:
        raise missing
    try:
        artifacts = local_folder(client.get_run(run_id).info.artifact_uri)
    except mlflow.exceptions.MlflowException:
        raise ModelStoreError(f"the training run {run_id} of {label} is not in the "
                              "tracking store") from None
    if artifacts is not None and not (artifacts / META_ARTIFACT).is_file():
        raise missing
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=META_ARTIFACT, dst_path=folder)
            meta = json.loads(Path(path).read_text(encoding="utf-8"))
    except mlflow.exceptions.MlflowException:
        raise missing from None
    except (OSError, ValueError) as error:
        raise ModelStoreError(f"the {META_ARTIFACT} of {label} cannot be read "
                              f"({_why(error)})") from error
    if not isinstance(meta, dict):
        raise ModelStoreError(f"the {META_ARTIFACT} of {label} holds no model description")
    return meta


def _fitted(classifier: lgb.LGBMClassifier, meta: dict[str, Any]) -> FittedChurnModel:
    # A meta written before the label spec holds only the horizon: read it as the default
    # definition without a gap, which is what scoring assumed for such a model.
    label = LabelSpec.model_validate(meta.get("label") or {"horizon_days": meta["horizon_days"]})
    return FittedChurnModel(
        classifier=classifier, features=list(meta["features"]),
        levels=dict(meta["category_levels"]), label=label,
        best_iteration=int(meta["best_iteration"]),
        validation=meta.get("validation", {}), baseline=meta.get("baseline", {}),
        calibrator=Calibrator.from_dict(meta.get("calibrator")),
        event_types=list(meta.get("event_types", [])),  # none before learned types
    )


def _why(error: BaseException) -> str:
    """A reader's error in a few words: its type and the first line of its message."""
    first = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
