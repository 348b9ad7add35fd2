"""A small trained model on synthetic snapshots, shared by the model tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.catalog import feature_names
from features.labels import LabelSpec
from models.params import TrainParams
from models.train import fit_with_validation

SOURCES = ["purchases", "complaints", "interactions", "customers"]


def synthetic_model_input(n_per_cutoff: int = 600, seed: int = 0) -> pd.DataFrame:
    """Snapshots at 4 monthly cutoffs where churn follows recency, complaints and engagement."""
    rng = np.random.default_rng(seed)
    features = feature_names(SOURCES)
    parts = []
    for cutoff in pd.date_range("2024-01-31", periods=5, freq="30D"):
        n = n_per_cutoff
        frame = pd.DataFrame({name: rng.gamma(2.0, 5.0, n) for name in features})
        frame["recency_days"] = rng.integers(0, 200, n).astype(float)
        frame["median_interval_days"] = rng.integers(5, 60, n).astype(float)
        frame["overdue_ratio"] = frame["recency_days"] / frame["median_interval_days"]
        frame["is_one_time_buyer"] = (rng.random(n) < 0.1).astype(float)
        frame["open_complaints"] = rng.poisson(0.3, n).astype(float)
        frame["last_satisfaction"] = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, np.nan], n)
        frame["segment"] = rng.choice(["Consumer", "SMB", "Corporate"], n)
        frame["region"] = rng.choice(["Istanbul", "Amsterdam"], n)
        logit = (-2.0 + 1.2 * np.log1p(frame["overdue_ratio"]) + 0.9 * frame["open_complaints"]
                 + 1.0 * (frame["last_satisfaction"] <= 0.25))
        frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        frame.insert(0, "customer_id", [f"{i:05d}" for i in range(n)])
        frame.insert(1, "cutoff", cutoff)
        frame.insert(2, "last_purchase_date", cutoff - pd.to_timedelta(frame["recency_days"], "D"))
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="session")
def model_input() -> pd.DataFrame:
    return synthetic_model_input()


@pytest.fixture(scope="session")
def fitted(model_input):
    params = TrainParams(label=LabelSpec(horizon_days=60), max_boost_rounds=200,
                         early_stopping_rounds=20, min_child_samples=20, n_jobs=1)
    return fit_with_validation(model_input, feature_names(SOURCES), params)
