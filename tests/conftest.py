"""Shared fixtures: one temporary Prefect API for the whole session, and a small model trained
on synthetic snapshots (`model_input`, `fitted`) for the model, tracking and deliver tests."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from features.catalog import feature_names
from features.labels import LabelSpec
from models.params import TrainParams
from models.train import fit_with_validation
from tests import factories as f

# A local Prefect API that a `churn` process in a test starts (pipelines.operate.local_api)
# stops itself a minute after its last client, whatever the test does: nothing outlives CI.
os.environ.setdefault("CHURN_PREFECT_IDLE_MINUTES", "1")
# A `churn` script started by a test runs in its own process; the warm worker
# (pipelines.operate.warm_worker) has tests of its own.
os.environ.setdefault("CHURN_WARM_WORKER", "0")


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """A throwaway Prefect API (started once: ~20 s on 2 cores) for the flow tests."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    # Cached task results (pipelines.operate.caching) stay in this session's temp folder.
    storage = tmp_path_factory.mktemp("prefect-results")
    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: storage}), \
            prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def model_input() -> pd.DataFrame:
    return f.synthetic_model_input()


@pytest.fixture(scope="session")
def fitted(model_input):
    params = TrainParams(label=LabelSpec(horizon_days=60), max_boost_rounds=200,
                         early_stopping_rounds=20, min_child_samples=20, n_jobs=1)
    return fit_with_validation(model_input, feature_names(f.MODEL_SOURCES), params)
