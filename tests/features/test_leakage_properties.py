"""Property tests: nothing after the cutoff reaches a feature; labels see only their window."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.build import build_customer_features
from features.labels import LabelSpec, churn_labels
from tests import factories as f

AS_OF = dt.date(2024, 6, 30)
CUSTOMERS = ["001", "002", "003"]
START = dt.datetime(2023, 1, 1)


def moments(lo_days: int, hi_days: int):
    """Timestamps (as text) between AS_OF + lo_days and AS_OF + hi_days, to the minute."""
    base = dt.datetime.combine(AS_OF, dt.time())
    return st.integers(lo_days * 1440, hi_days * 1440 - 1).map(
        lambda m: (base + dt.timedelta(minutes=m)).isoformat()
    )


past = moments(-500, 1)     # up to the last minute of the cutoff day
future = moments(1, 400)    # from the first minute after the cutoff day
customer = st.sampled_from(CUSTOMERS)
purchase_rows = st.tuples(customer, past, st.integers(1, 500),
                          st.sampled_from(["completed", "completed", "returned", "cancelled"]))
history = st.fixed_dictionaries({
    "purchases": st.lists(purchase_rows, min_size=1, max_size=25),
    "complaints": st.lists(
        st.tuples(customer, past, st.one_of(st.none(), moments(-400, 200)),
                  st.one_of(st.none(), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]))),
        max_size=10),
    "interactions": st.lists(st.tuples(customer, past), max_size=20),
})
late_events = st.fixed_dictionaries({
    "purchases": st.lists(st.tuples(customer, future, st.integers(1, 500),
                                    st.sampled_from(["completed", "returned"])), max_size=10),
    "complaints": st.lists(st.tuples(customer, future, st.none(), st.none()), max_size=5),
    "interactions": st.lists(st.tuples(customer, future), max_size=10),
})


def _complaints(rows):
    # A resolution before opening is invalid input; clip it to the opening time.
    fixed = [(c, o, r if r is None or r >= o else o, s if r is not None else None)
             for c, o, r, s in rows]
    return f.complaints(fixed)


def _tables(h):
    return f.tables(
        purchases=f.purchases(h["purchases"]),
        complaints=_complaints(h["complaints"]),
        interactions=f.interactions(h["interactions"]),
        customers=f.customers([(c, "2022-01-01", "SMB") for c in CUSTOMERS]),
    )


def _features(tables):
    return build_customer_features(tables, AS_OF).set_index("customer_id")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=history, late=late_events)
def test_events_after_the_cutoff_change_no_feature(history, late):
    before = _features(_tables(history))
    extended = {k: history[k] + late[k] for k in history}
    after = _features(_tables(extended))
    pd.testing.assert_frame_equal(before, after)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=history, which=st.integers(0, 24), shift_days=st.integers(1, 300))
def test_moving_one_purchase_past_the_cutoff_changes_only_its_customer(history, which, shift_days):
    rows = history["purchases"]
    which = which % len(rows)
    customer_id = rows[which][0]
    moved = list(rows)
    moved[which] = (customer_id, (dt.datetime.combine(AS_OF, dt.time())
                                  + dt.timedelta(days=shift_days)).isoformat(), *rows[which][2:])
    before = _features(_tables(history))
    after = _features(_tables({**history, "purchases": moved}))
    others_before = before.drop(index=customer_id, errors="ignore")
    others_after = after.drop(index=customer_id, errors="ignore")
    pd.testing.assert_frame_equal(others_before, others_after)


@settings(max_examples=60, deadline=None)
@given(
    inside=st.lists(st.tuples(customer, moments(1, 91), st.integers(1, 9)), max_size=8),
    outside=st.lists(st.tuples(customer, st.one_of(moments(-300, 1), moments(91, 300)),
                               st.integers(1, 9)), max_size=8),
)
def test_labels_depend_only_on_purchases_inside_the_window(inside, outside):
    eligible = pd.Series(CUSTOMERS)
    base = [(c, "2024-01-01", 1) for c in CUSTOMERS]
    spec = LabelSpec(horizon_days=90)
    with_outside = churn_labels(eligible, f.purchases(base + inside + outside), AS_OF, spec,
                                data_end=dt.date(2025, 12, 31))
    without = churn_labels(eligible, f.purchases(base + inside), AS_OF, spec,
                           data_end=dt.date(2025, 12, 31))
    pd.testing.assert_frame_equal(with_outside, without)
    bought = {c for c, _, _ in inside}
    expected = [0 if c in bought else 1 for c in CUSTOMERS]
    assert without["churned"].tolist() == expected
