"""A broken model store ends in one sentence that names the fix; a moved or copied data dir
keeps working on its own files. One real MLflow store with a champion, copied per case."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from models.promotion import PromotionMargin
from pipelines.operate.failures import failure_message
from pipelines.store.settings import Settings
from pipelines.tracking.connect import configure_mlflow
from pipelines.tracking.loading import META_ARTIFACT, local_folder
from pipelines.tracking.problems import ModelStoreError
from pipelines.tracking.registry import (
    NoChampionError,
    gate_new_version,
    load_champion,
    promote,
)
from pipelines.tracking.runs import log_training_run
from tests.factories import synthetic_model_input


@pytest.fixture(scope="module")
def original(tmp_path_factory, fitted):
    """Data dir A: an embedded store whose champion is version 1."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        settings = Settings.from_env(tmp_path_factory.mktemp("stores") / "A")
        configure_mlflow(settings)
        frame = synthetic_model_input(n_per_cutoff=200, seed=3)
        path = settings.data_dir / "model_input" / "input.parquet"
        path.parent.mkdir(parents=True)
        frame.to_parquet(path)
        logged = log_training_run(settings, fitted, _params(), model_input=frame,
                                  model_input_path=path, model_input_hash="sha",
                                  run_params={})
        gate_new_version(settings, logged.version, fitted, "sha", PromotionMargin())
        yield settings.data_dir, frame


def _params():
    from features.labels import LabelSpec
    from models.params import TrainParams

    return TrainParams(label=LabelSpec(horizon_days=60))


@pytest.fixture
def copy_of(original, tmp_path, monkeypatch):
    """A copy of A under a new name, opened (so its store is rewritten to its own files)."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    source, _ = original

    def make(name: str = "copy") -> Settings:
        target = tmp_path / name
        shutil.copytree(source, target)
        settings = Settings.from_env(target)
        configure_mlflow(settings)
        return settings

    return make


def _model_folder(settings: Settings) -> Path:
    configure_mlflow(settings)
    folder = local_folder(MlflowClient().get_model_version_download_uri(
        settings.registered_model_name, "1"))
    assert folder is not None
    return folder


def _run_folder(settings: Settings) -> Path:
    configure_mlflow(settings)
    run_id = MlflowClient().get_model_version(settings.registered_model_name, "1").run_id
    folder = local_folder(MlflowClient().get_run(run_id).info.artifact_uri)
    assert folder is not None
    return folder


def _sentence(error: BaseException) -> str:
    message = failure_message("score", error)
    assert message is not None and "\n" not in message and "Traceback" not in message
    return message


def _truncate(settings):
    model = _model_folder(settings) / "model.skops"
    model.write_bytes(model.read_bytes()[:500])


def _delete(settings):
    (_model_folder(settings) / "model.skops").unlink()


def _empty(settings):
    for path in _model_folder(settings).iterdir():
        path.unlink()


def _artifacts_wiped(settings):
    shutil.rmtree(settings.mlflow_artifact_dir)
    settings.mlflow_artifact_dir.mkdir()


def _random_bytes(settings):
    (_model_folder(settings) / "model.skops").write_bytes(os.urandom(4000))


def _sklearn_model(settings):
    import skops.io
    from sklearn.linear_model import LogisticRegression

    foreign = LogisticRegression().fit(np.array([[0.0], [1.0]]), [0, 1])
    skops.io.dump(foreign, _model_folder(settings) / "model.skops")


def _no_meta(settings):
    (_run_folder(settings) / META_ARTIFACT).unlink()


def _damaged_meta(settings):
    (_run_folder(settings) / META_ARTIFACT).write_text('{"features": 3}')


@pytest.mark.parametrize("breakage, words", [
    (_truncate, "cannot be read (BadZipFile"),
    (_delete, "model file of version 1 of churn-model is gone"),
    (_empty, "model folder of version 1 of churn-model is empty"),
    (_artifacts_wiped, "model folder of version 1 of churn-model is gone"),
    (_random_bytes, "truncated, damaged or not a LightGBM model"),
    (_sklearn_model, "holds a LogisticRegression, not the LightGBM classifier"),
    (_no_meta, f"has no {META_ARTIFACT} in its training run"),
    (_damaged_meta, f"the {META_ARTIFACT} of version 1 of churn-model"),
], ids=["truncated", "deleted", "empty-folder", "artifacts-wiped", "random-bytes",
        "foreign-model", "no-meta", "damaged-meta"])
def test_a_broken_champion_is_one_sentence_naming_the_fix(copy_of, breakage, words):
    settings = copy_of()
    breakage(settings)
    with pytest.raises(ModelStoreError) as raised:
        load_champion(settings)
    message = _sentence(raised.value)
    assert message.startswith("score failed: ") and words in message
    assert message.endswith("run `churn train` to register a new version")
    assert "[Errno" not in message  # the OS's own words never reach the user


def test_a_broken_champion_with_an_earlier_one_suggests_the_rollback(copy_of, fitted):
    settings = copy_of()
    frame = synthetic_model_input(n_per_cutoff=200, seed=3)
    path = settings.data_dir / "model_input" / "input.parquet"
    logged = log_training_run(settings, fitted, _params(), model_input=frame,
                              model_input_path=path, model_input_hash="other",
                              run_params={})
    promote(settings, logged.version, "test")
    folder = local_folder(MlflowClient().get_model_version_download_uri(
        settings.registered_model_name, logged.version))
    assert folder is not None
    (folder / "model.skops").unlink()
    with pytest.raises(ModelStoreError) as raised:
        load_champion(settings)
    assert _sentence(raised.value).endswith(
        "or `churn rollback` to serve version 1 again")


def test_no_champion_says_which_version_to_promote(copy_of):
    settings = copy_of()
    MlflowClient().delete_registered_model_alias(settings.registered_model_name, "champion")
    with pytest.raises(NoChampionError) as raised:
        load_champion(settings)
    assert "registered: 1); run `churn promote 1` to serve one, or `churn train`" in \
        _sentence(raised.value)


def test_an_empty_registry_says_to_train_first(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings.from_env(tmp_path / "empty")
    configure_mlflow(settings)
    with pytest.raises(NoChampionError) as raised:
        load_champion(settings)
    assert _sentence(raised.value).endswith("yet; run `churn train` first")


def _scores(settings: Settings, frame) -> np.ndarray:
    configure_mlflow(settings)
    champion = load_champion(settings)
    return champion.model.predict_probability(frame.head(50))


def test_a_moved_data_dir_keeps_working(original, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    source, frame = original
    expected = _scores(Settings.from_env(source), frame)
    before = Settings.from_env(shutil.copytree(source, tmp_path / "before"))
    np.testing.assert_allclose(_scores(before, frame), expected)  # in use where it was
    moved = Path(shutil.move(before.data_dir, tmp_path / "moved"))
    settings = Settings.from_env(moved)
    configure_mlflow(settings)
    np.testing.assert_allclose(_scores(settings, frame), expected)
    assert _model_folder(settings).is_relative_to(moved)
    experiment = MlflowClient().get_experiment_by_name(settings.experiment_name)
    assert experiment.artifact_location == settings.mlflow_artifact_dir.as_uri()
    run = MlflowClient().get_run(load_champion(settings).run_id)
    assert run.info.artifact_uri.startswith(settings.mlflow_artifact_dir.as_uri() + "/")
    # what the store records of the training input names the moved folder too
    dataset = run.inputs.dataset_inputs[0].dataset
    assert str(moved) in dataset.source and str(source) not in dataset.source


def test_a_copy_reads_its_own_files_and_outlives_the_original(copy_of, original, tmp_path):
    _, frame = original
    first = copy_of("A2")
    expected = _scores(first, frame)
    copied = Settings.from_env(shutil.copytree(first.data_dir, tmp_path / "C"))
    assert _model_folder(copied).is_relative_to(copied.data_dir)
    _truncate(first)  # breaking the original's model does not touch the copy's
    with pytest.raises(ModelStoreError):
        _scores(first, frame)
    np.testing.assert_allclose(_scores(copied, frame), expected)
    shutil.rmtree(first.data_dir)  # nor does deleting the original
    np.testing.assert_allclose(_scores(copied, frame), expected)
    assert mlflow.get_tracking_uri() == copied.mlflow_tracking_uri


def test_a_broken_champion_does_not_block_the_gate_of_its_successor(copy_of, fitted):
    settings = copy_of()
    _delete(settings)
    frame = synthetic_model_input(n_per_cutoff=200, seed=3)
    logged = log_training_run(settings, fitted, _params(), model_input=frame,
                              model_input_path=settings.data_dir / "model_input" / "input.parquet",
                              model_input_hash="other", run_params={})
    decision = gate_new_version(settings, logged.version, fitted, "other", PromotionMargin())
    assert not decision.promote
    assert "cannot compare: the model file of version 1 of churn-model is gone" in \
        decision.reason
    assert f"run `churn promote {logged.version}` to serve this one" in decision.reason


def test_a_version_whose_files_cannot_serve_is_not_promoted_nor_rolled_back_to(copy_of, fitted):
    from pipelines.tracking.registry import RegistryError, champion_version, rollback

    settings = copy_of()
    frame = synthetic_model_input(n_per_cutoff=200, seed=3)
    logged = log_training_run(settings, fitted, _params(), model_input=frame,
                              model_input_path=settings.data_dir / "model_input" / "input.parquet",
                              model_input_hash="other", run_params={})
    promote(settings, logged.version, "a second champion")
    _delete(settings)  # version 1's model file: the champion before this one
    with pytest.raises(RegistryError) as refused:
        rollback(settings)
    assert _sentence(refused.value).startswith(
        "score failed: cannot roll back to version 1: the model file of version 1 of "
        "churn-model is gone (")
    with pytest.raises(RegistryError, match="cannot promote version 1: the model file"):
        promote(settings, "1", "by hand")
    assert champion_version(settings) == logged.version  # still the one that can serve
