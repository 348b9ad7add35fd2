from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _history_data():
    """Cutoff 2024-04-30; with a 30-day gap and a 30-day horizon the purchase window is
    (05-30, 06-29] and cancellations count in (04-30, 06-29]."""
    purchases = f.purchases([
        ("a", "2024-01-10", 10), ("a", "2024-05-15", 10),  # came back in the gap only
        ("b", "2024-02-01", 10), ("b", "2024-06-10", 10),  # came back in the window
        ("c", "2024-03-01", 10), ("c", "2024-06-20", 10),  # bought in the window, cancelled
        ("d", "2024-03-01", 10),                            # cancelled before the cutoff
        ("e", "2023-01-01", 10),                            # not active in the 365 days
        ("g", "2024-04-01", 10), ("g", "2024-06-29", 10),  # bought on the window's last day
        ("h", "2024-04-20", 10),                            # gone; cancelled the day after
    ])
    customers = f.customers([
        ("a", "2023-01-01", "SMB"), ("b", "2023-01-01", "SMB"),
        ("c", "2023-01-01", "SMB", "2024-05-10"), ("d", "2023-01-01", "SMB", "2024-04-15"),
        ("e", "2023-01-01", "SMB"), ("g", "2023-01-01", "SMB"),
        ("h", "2023-01-01", "SMB", "2024-06-30"),
    ])
    return purchases, customers


def _counts(frame: pd.DataFrame) -> list[int]:
    assert frame["cutoff"].tolist() == [pd.Timestamp("2024-04-30")]
    return frame[["active", "churned"]].iloc[0].tolist()


def test_churn_rate_over_time_follows_the_gap_and_counts_cancellations():
    purchases, customers = _history_data()
    end = dt.date(2024, 6, 29)
    gap = LabelSpec(horizon_days=30, gap_days=30)
    # active: a, b, c, g, h (d had cancelled by the cutoff); churned: a (only bought in the
    # gap), c (cancelled in the window although it bought), h (nothing in the window)
    frame = churn_rate_over_time(purchases, gap, end, customers=customers, n_cutoffs=1)
    assert _counts(frame) == [5, 3] and frame["churn_rate"].iloc[0] == 0.6
    # without the gap a's purchase on 05-15 counts: churned are c and h
    plain = churn_rate_over_time(purchases, LabelSpec(horizon_days=60), end,
                                 customers=customers, n_cutoffs=1)
    assert _counts(plain) == [5, 2]
    # without a customer master: d is active and churned, c is not churned
    alone = churn_rate_over_time(purchases, gap, end, n_cutoffs=1)
    assert _counts(alone) == [6, 3]


def test_contractual_churn_rate_counts_cancellations_only():
    purchases, customers = _history_data()
    end = dt.date(2024, 6, 29)
    spec = LabelSpec(definition="cancellation", horizon_days=30, gap_days=30)
    # of a, b, c, g, h only c cancelled in (04-30, 06-29]; h cancelled a day too late
    frame = churn_rate_over_time(purchases, spec, end, customers=customers, n_cutoffs=1)
    assert _counts(frame) == [5, 1] and frame["churn_rate"].iloc[0] == 0.2
    # a cancellation in the gap counts too: with a 10-day window c still churns
    late = LabelSpec(definition="cancellation", horizon_days=10, gap_days=30)
    shorter = churn_rate_over_time(purchases, late, dt.date(2024, 6, 9), customers=customers,
                                   n_cutoffs=1)
    assert _counts(shorter) == [5, 1]
    # no customer master, no cancellations to count: nothing to show
    empty = churn_rate_over_time(purchases, spec, end, n_cutoffs=1)
    assert empty.empty and list(empty.columns) == ["cutoff", "active", "churned", "churn_rate"]


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


def test_the_churn_rate_under_renewal_counts_unpaid_renewals():
    import datetime as dt

    import pandas as pd

    from features.labels import LabelSpec
    from models.history import churn_rate_over_time
    from tests import factories as f

    start = pd.Timestamp("2024-01-05")
    rows = [(c, str((start + pd.DateOffset(months=k)).date()), 20)
            for c, months in (("A", 12), ("B", 6)) for k in range(months)]
    rate = churn_rate_over_time(f.purchases(rows), LabelSpec(definition="renewal"),
                                dt.date(2024, 12, 31), n_cutoffs=1)
    # at 2024-10-02 both paid within a year; B's renewal due 2024-07-05 was never paid (lapsed
    # without a recorded cancellation), A renews every month
    assert rate[["active", "churned"]].values.tolist() == [[2, 1]]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 12), st.integers(0, 2**32 - 1))
def test_main_features_are_the_largest_mean_absolute_contributions(rows, seed):
    # column by column (no copy of the whole frame), the same ranking as the frame's abs mean
    from models.history import main_features

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, 8)), columns=list("abcdefgh"))
    frame.iloc[::3, 2] = np.nan
    frame["bias"] = 5.0
    expected = frame.drop(columns="bias").abs().mean().sort_values(ascending=False)
    assert main_features(frame) == expected.head(6).index.tolist()
