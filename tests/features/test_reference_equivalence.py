"""The DuckDB feature build equals the slow reference implementation on random histories."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from features.build import build_customer_features
from features.catalog import COMPLAINT_CATEGORIES, INTERACTION_CHANNELS, INTERACTION_TYPES
from tests import factories as f
from tests.features.reference import reference_features

AS_OF = dt.date(2024, 6, 30)
CUSTOMERS = ["001", "002", "003"]
BASE = dt.datetime.combine(AS_OF, dt.time())
# Drawn often on purpose: the last minute of the cutoff day, the first minute after it, and
# the first and last minutes of each window (N - 1 days back is in, N days back is out).
EDGES = [BASE, BASE + dt.timedelta(days=1, minutes=-1), BASE + dt.timedelta(days=1)] + [
    BASE - dt.timedelta(days=days) + dt.timedelta(minutes=minute)
    for n in (14, 30, 60, 90, 180, 365) for days in (n - 1, n) for minute in (0, 1439)
]


def moments(lo_days: int, hi_days: int):
    spread = st.integers(lo_days * 1440, hi_days * 1440 - 1).map(
        lambda m: BASE + dt.timedelta(minutes=m))
    edges = st.sampled_from([t for t in EDGES if BASE + dt.timedelta(days=lo_days) <= t])
    return st.one_of(spread, edges).map(lambda t: t.isoformat())


customer = st.sampled_from(CUSTOMERS)
history = st.fixed_dictionaries({
    "purchases": st.lists(st.tuples(
        customer, moments(-500, 30), st.integers(1, 500),
        st.sampled_from(["completed", "completed", "returned", "cancelled"])),
        min_size=1, max_size=25),
    "complaints": st.lists(st.tuples(
        customer, moments(-450, 30), st.one_of(st.none(), moments(-450, 40)),
        st.one_of(st.none(), st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])),
        st.sampled_from([*COMPLAINT_CATEGORIES, "Kargo", None])), max_size=10),
    "interactions": st.lists(st.tuples(
        customer, moments(-250, 30), st.sampled_from([*INTERACTION_TYPES,
                                                      "newsletter_unsubscribe", "survey"]),
        st.sampled_from(["inbound", "outbound", None]),
        st.sampled_from([*INTERACTION_CHANNELS, "sms"])), max_size=20),
    "master": st.lists(st.tuples(
        moments(-900, 30), st.sampled_from(["SMB", "Consumer"]),
        st.one_of(st.none(), st.none(), st.none(), moments(-200, 30))), min_size=3, max_size=3),
})


def _tables(h):
    # A resolution before its opening is invalid input: clip it to the opening.
    complaints = f.complaints([
        (c, o, None if r is None else max(o, r), None if r is None else s)
        for c, o, r, s, _ in h["complaints"]])
    complaints["category"] = [row[4] for row in h["complaints"]]
    interactions = f.interactions([(c, t, kind, way or "outbound")
                                   for c, t, kind, way, _ in h["interactions"]])
    interactions["direction"] = [row[3] for row in h["interactions"]]
    interactions["channel"] = [row[4] for row in h["interactions"]]
    return f.tables(
        purchases=f.purchases(h["purchases"]), complaints=complaints, interactions=interactions,
        customers=f.customers([(c, s, seg, x) for c, (s, seg, x)
                               in zip(CUSTOMERS, h["master"], strict=True)]),
    )


def _no_tied_resolutions(complaints: pd.DataFrame) -> bool:
    """Ties in resolved_at make "the latest rating" ambiguous; the definition needs an order."""
    solved = complaints.dropna(subset=["resolved_at"])
    return not solved.duplicated(["customer_id", "resolved_at"]).any()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=history)
def test_feature_build_matches_the_reference_implementation(history):
    tables = _tables(history)
    assume(_no_tied_resolutions(tables.complaints))
    built = build_customer_features(tables, AS_OF).drop(columns=["as_of", "last_purchase_date"])
    expected = reference_features(tables, AS_OF)
    if expected.empty:
        assert built.empty
        return
    expected = expected[built.columns]
    pd.testing.assert_frame_equal(
        built.reset_index(drop=True), expected.reset_index(drop=True),
        check_dtype=False, rtol=1e-9,
    )
