"""Fast tests of the synthetic business simulator (small configurations only)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.sample.config import SimulationConfig
from pipelines.sample.simulator import SimulatedBusiness, simulate_business

SMALL = SimulationConfig(customers=800, seed=7, truth_replicates=40)
END_EXCL = pd.Timestamp(SMALL.end) + pd.Timedelta(days=1)  # events lie on calendar days <= end

COLUMNS = {
    "customers": ["customer_id", "name", "email", "signup_date", "segment", "region", "owner",
                  "cancelled_at"],
    "purchases": ["customer_id", "order_id", "order_date", "amount", "status", "quantity",
                  "channel"],
    "complaints": ["customer_id", "complaint_id", "opened_at", "resolved_at", "category",
                   "satisfaction", "status"],
    "interactions": ["customer_id", "interaction_id", "occurred_at", "channel", "type",
                     "direction"],
    "ground_truth": ["customer_id", "as_of", "horizon_days", "true_churn_probability", "churned",
                     "hidden_state"],
}
TIME_COLUMNS = {"signup_date", "cancelled_at", "order_date", "opened_at", "resolved_at",
                "occurred_at", "as_of"}
TIMESTAMP_DTYPES = (np.dtype("datetime64[ns]"), np.dtype("datetime64[us]"))
EVENT_TIME = {"purchases": "order_date", "complaints": "opened_at", "interactions": "occurred_at"}
ID_PATTERNS = {
    "customers": ("customer_id", r"\d{7}"),
    "purchases": ("order_id", r"SO-\d{9}"),
    "complaints": ("complaint_id", r"TCK-\d{7}"),
    "interactions": ("interaction_id", r"INT-\d{10}"),
}


@pytest.fixture(scope="module")
def biz() -> SimulatedBusiness:
    return simulate_business(SMALL)


def test_schema_and_dtypes(biz: SimulatedBusiness) -> None:
    for table, columns in COLUMNS.items():
        df = getattr(biz, table)
        assert list(df.columns) == columns, table
        assert len(df) > 0, table
        for col in columns:
            dtype = df[col].dtype
            if col in TIME_COLUMNS:
                assert dtype in TIMESTAMP_DTYPES, (table, col)
            elif col in {"amount", "satisfaction", "true_churn_probability"}:
                assert dtype == np.float64, (table, col)
            elif col in {"quantity", "horizon_days"}:
                assert pd.api.types.is_integer_dtype(dtype), (table, col)
            elif col == "churned":
                assert pd.api.types.is_bool_dtype(dtype)
            else:
                assert pd.api.types.is_string_dtype(dtype), (table, col)
                assert isinstance(df[col].iloc[0], str), (table, col)


def test_categorical_values(biz: SimulatedBusiness) -> None:
    assert set(biz.customers.segment) <= {"Consumer", "SMB", "Corporate"}
    assert set(biz.purchases.status) == {"completed", "cancelled", "returned"}
    assert set(biz.purchases.channel) <= {"web", "store", "phone", "app"}
    assert set(biz.complaints.category) <= {"delivery", "product_quality", "billing", "service",
                                            "returns"}
    assert set(biz.complaints.status) <= {"open", "solved"}
    assert set(biz.interactions.channel) <= {"email", "web", "app", "phone"}
    assert set(biz.interactions.type) <= {"email_open", "email_click", "site_visit", "app_session",
                                          "call", "newsletter_unsubscribe"}
    assert set(biz.interactions.direction) <= {"inbound", "outbound"}
    assert set(biz.ground_truth.hidden_state) <= {"active", "at_risk", "churned"}
    p = biz.purchases
    assert (p.amount > 0).all() and np.allclose(p.amount, p.amount.round(2))
    assert (p.quantity >= 1).all()
    assert 0.9 < (p.status == "completed").mean() < 0.99


def test_names_look_turkish_and_dutch(biz: SimulatedBusiness) -> None:
    names = " ".join(biz.customers.name)
    assert any(ch in names for ch in "şğıİöüç")
    assert "ij" in names.lower() or "é" in names
    assert biz.customers.email.str.fullmatch(r"[a-z0-9.]+@[a-z0-9.\-]+\.[a-z]+").all()


def test_deterministic_and_seed_dependent() -> None:
    cfg = SimulationConfig(customers=300, seed=3, truth_replicates=20)
    a, b = simulate_business(cfg), simulate_business(cfg)
    for table in COLUMNS:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    c = simulate_business(SimulationConfig(customers=300, seed=4, truth_replicates=20))
    assert not a.purchases.order_date.equals(c.purchases.order_date)


def test_ids_are_unique_text_with_leading_zeros(biz: SimulatedBusiness) -> None:
    for table, (col, pattern) in ID_PATTERNS.items():
        ids = getattr(biz, table)[col]
        assert ids.str.fullmatch(pattern).all(), table
        assert ids.is_unique, table
    assert biz.customers.customer_id.str.startswith("0").any()
    assert biz.ground_truth.customer_id.is_unique


def test_event_tables_sorted_and_within_history(biz: SimulatedBusiness) -> None:
    signup = biz.customers.set_index("customer_id").signup_date
    for table, col in EVENT_TIME.items():
        df = getattr(biz, table)
        assert df[col].is_monotonic_increasing, table
        assert (df[col] < END_EXCL).all(), table
        assert (df[col] >= signup.loc[df.customer_id].to_numpy()).all(), table
    c = biz.customers
    assert (c.signup_date >= pd.Timestamp(SMALL.start)).all()
    assert (c.signup_date <= pd.Timestamp(SMALL.end) - pd.Timedelta(days=30)).all()
    cancelled = c.dropna(subset=["cancelled_at"])
    assert 0 < len(cancelled) < len(c) / 2
    assert (cancelled.cancelled_at >= cancelled.signup_date).all()
    assert (cancelled.cancelled_at < END_EXCL).all()


def test_referential_integrity(biz: SimulatedBusiness) -> None:
    known = set(biz.customers.customer_id)
    for table in ("purchases", "complaints", "interactions", "ground_truth"):
        assert set(getattr(biz, table).customer_id) <= known, table


def test_complaint_lifecycle(biz: SimulatedBusiness) -> None:
    c = biz.complaints
    solved = c.resolved_at.notna()
    assert (c.resolved_at[solved] >= c.opened_at[solved]).all()
    assert (c.resolved_at[solved] < END_EXCL).all()
    assert ((c.status == "solved") == solved).all()
    assert c.satisfaction[~solved].isna().all()
    rated = c.satisfaction.dropna()
    assert rated.isin([1.0, 2.0, 3.0, 4.0, 5.0]).all()
    assert 0.4 < len(rated) / solved.sum() < 0.7


def test_ground_truth_only_for_eligible(biz: SimulatedBusiness) -> None:
    gt, cust, p = biz.ground_truth, biz.customers, biz.purchases
    buyers = set(p.customer_id[p.status == "completed"])
    cancelled = set(cust.customer_id[cust.cancelled_at.notna()])
    assert set(gt.customer_id) == buyers - cancelled
    assert gt.true_churn_probability.between(0.0, 1.0).all()
    assert (gt.as_of == pd.Timestamp(SMALL.end)).all()
    assert (gt.horizon_days == SMALL.horizon_days).all()
    gone = gt.hidden_state == "churned"
    assert (gt.true_churn_probability[gone] == 1.0).all() and gt.churned[gone].all()
    assert gt.true_churn_probability[gt.hidden_state == "active"].mean() < 0.3


def test_label_rate_plausible_on_3k_customers() -> None:
    biz = simulate_business(SimulationConfig(customers=3_000, seed=11, truth_replicates=20))
    done = biz.purchases[biz.purchases.status == "completed"]
    cut = pd.Timestamp(dt.date(2026, 6, 1))  # events on days <= cutoff - 1 form the history
    before = done[done.order_date < cut]
    cancelled = biz.customers.set_index("customer_id").cancelled_at
    eligible = set(before.customer_id) - set(cancelled.index[cancelled < cut])
    in_horizon = (done.order_date >= cut) & (done.order_date < cut + pd.Timedelta(days=90))
    future = set(done.customer_id[in_horizon])
    rate = len(eligible - future) / len(eligible)
    assert 0.15 < rate < 0.40
    gt = biz.ground_truth
    assert 0.15 < gt.churned.mean() < 0.40
    assert abs(gt.churned.mean() - gt.true_churn_probability.mean()) < 0.04


def test_short_history_and_tiny_population() -> None:
    cfg = SimulationConfig(customers=5, seed=1, start=dt.date(2025, 1, 1), end=dt.date(2025, 6, 30),
                           horizon_days=30, truth_replicates=5)
    biz = simulate_business(cfg)
    assert len(biz.customers) == 5
    assert (biz.purchases.order_date < pd.Timestamp(cfg.end) + pd.Timedelta(days=1)).all()
    with pytest.raises(ValueError):
        simulate_business(
            SimulationConfig(customers=5, start=dt.date(2025, 1, 1), end=dt.date(2025, 2, 1))
        )


@settings(max_examples=12, deadline=None)
@given(customers=st.integers(0, 40), seed=st.integers(0, 2**32 - 1),
       horizon=st.integers(0, 120), days=st.integers(92, 500))
def test_invariants_hold_for_small_random_configs(customers: int, seed: int, horizon: int,
                                                  days: int) -> None:
    start = dt.date(2025, 1, 1)
    cfg = SimulationConfig(customers=customers, seed=seed, start=start,
                           end=start + dt.timedelta(days=days - 1), horizon_days=horizon,
                           truth_replicates=4)
    biz = simulate_business(cfg)
    end_excl = pd.Timestamp(cfg.end) + pd.Timedelta(days=1)
    assert len(biz.customers) == customers and biz.customers.customer_id.is_unique
    for table, col in EVENT_TIME.items():
        df = getattr(biz, table)
        assert list(df.columns) == COLUMNS[table]
        assert df[col].is_monotonic_increasing and (df[col] < end_excl).all()
        assert set(df.customer_id) <= set(biz.customers.customer_id)
    gt = biz.ground_truth
    assert gt.true_churn_probability.between(0.0, 1.0).all()
    assert set(gt.customer_id) <= set(biz.purchases.customer_id)
