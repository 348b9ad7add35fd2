from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features.labels import LabelSpec
from models.history import (
    calibration_table,
    churn_rate_over_time,
    feature_drift,
    lift_table,
    population_stability,
)
from tests import factories as f


def test_churn_rate_over_time_counts_active_customers_who_did_not_return():
    purchases = f.purchases([
        ("a", "2024-01-10", 10), ("a", "2024-06-01", 10),  # active at 2024-04-30, came back
        ("b", "2024-02-01", 10),                            # active, never came back
        ("c", "2023-01-01", 10),                            # not active in the 365 days
        ("d", "2024-04-01", 10, "cancelled"),               # not a completed purchase
    ])
    frame = churn_rate_over_time(purchases, LabelSpec(horizon_days=60), dt.date(2024, 6, 29),
                                 n_cutoffs=1)
    assert frame["cutoff"].tolist() == [pd.Timestamp("2024-04-30")]
    assert frame[["active", "churned"]].iloc[0].tolist() == [2, 1]
    assert frame["churn_rate"].iloc[0] == 0.5


def test_calibration_and_lift_tables():
    p = np.array([0.9, 0.8, 0.2, 0.1])
    y = np.array([1, 1, 0, 0])
    calibration = calibration_table(p, y, bins=2)
    assert calibration["observed"].tolist() == [0.0, 1.0]
    assert calibration["n"].tolist() == [2, 2]
    lift = lift_table(p, y, bins=2)
    assert lift["lift"].tolist() == [2.0, 0.0]


def test_population_stability_is_zero_for_same_and_large_for_shifted():
    rng = np.random.default_rng(0)
    base = pd.Series(rng.normal(0, 1, 5000))
    assert population_stability(base, base) < 1e-9
    assert population_stability(base, base + 2) > 1.0
    drift = feature_drift(pd.DataFrame({"x": base}), pd.DataFrame({"x": base + 2}), ["x", "y"])
    assert drift["feature"].tolist() == ["x"] and drift["psi"].iloc[0] > 1.0
