"""notebooks/1.0-explore-risk-list.ipynb runs headlessly on a small demo data dir."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient", reason="nbclient is a dev dependency (pip install -e .[dev])")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "1.0-explore-risk-list.ipynb"


def build_demo_data_dir(data_dir: Path) -> None:
    """Sample exports -> staged -> trained champion -> two archived runs, without a Prefect API.

    The first run is old enough for its horizon to have ended, so the notebook can grade it.
    """
    from models.params import TrainParams
    from models.promotion import PromotionMargin
    from pipelines import tasks
    from pipelines.deliver.params import ScoreParams
    from pipelines.store.settings import Settings

    settings = Settings.from_env(data_dir)
    tasks.generate_sample_exports.fn(settings, 400, 5, None)
    tasks.stage_raw_exports.fn(settings)
    params = TrainParams(n_cutoffs=4, max_boost_rounds=120, early_stopping_rounds=20)
    data_end = tasks.resolve_cutoff.fn(settings, None)
    model_input = tasks.write_model_input.fn(settings, data_end, params)
    tasks.fit_and_register.fn(settings, model_input, params, PromotionMargin())
    tasks.score_and_archive.fn(
        settings, data_end - dt.timedelta(days=params.label.span_days + 5), ScoreParams())
    tasks.score_and_archive.fn(settings, data_end, ScoreParams(lang="nl"))


def test_explore_notebook_runs_on_demo_data(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    # Set (not just delete) so the value MLflow exports to the environment is undone afterwards.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{data_dir / 'mlflow' / 'mlflow.db'}")
    build_demo_data_dir(data_dir)
    monkeypatch.setenv("CHURN_DATA_DIR", str(data_dir))
    # The kernel runs in notebooks/: put this checkout first on its path, so the notebook runs
    # against the code under test and not whichever checkout the environment has installed.
    root = str(NOTEBOOK.parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get(
        "PYTHONPATH")])))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                     for o in outputs)
    assert "data as of" in text
    assert "churned" in text  # the graded comparison of the old run's tiers with outcomes
    assert any("image/png" in o.get("data", {}) for o in outputs)  # SHAP dependence plots
