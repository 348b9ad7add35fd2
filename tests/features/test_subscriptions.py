"""Subscription features: MRR from payments, its change, renewal timing, failures, coupons,
and who is no longer a customer; all at or before the cutoff."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.build import build_customer_features
from tests import factories as f

CUTOFF = dt.date(2024, 6, 30)


def features_for(purchases, subscriptions, as_of=CUTOFF):
    tables = f.tables(purchases=f.purchases(purchases), subscriptions=subscriptions)
    return build_customer_features(tables, as_of).set_index("customer_id")


def monthly(customer, first, count, amount=20):
    start = pd.Timestamp(first)
    return [(customer, str((start + pd.DateOffset(months=k)).date()), amount)
            for k in range(count)]


def test_mrr_its_change_tenure_and_the_next_renewal():
    rows = monthly("A", "2024-01-10", 3, 20) + monthly("A", "2024-04-10", 3, 40)
    rows += [("Y", "2023-09-01", 240), ("Y", "2024-06-01", 10, "cancelled")]
    subs = f.subscriptions([("A", "2024-01-10", "month"), ("Y", "2023-09-01", "year")])
    out = features_for(rows, subs)
    a, y = out.loc["A"], out.loc["Y"]
    assert a["mrr"] == 40 and a["mrr_change_90d"] == (40 - 20) / 60  # an upgrade
    assert a["days_to_renewal"] == (dt.date(2024, 7, 10) - CUTOFF).days
    assert a["tenure_periods"] == 5 and a["billing_months"] == 1
    assert y["mrr"] == 20 and y["billing_months"] == 12 and y["payment_failures_90d"] == 1
    assert y["days_to_renewal"] == (dt.date(2024, 9, 1) - CUTOFF).days


def test_a_discount_end_is_known_ahead_and_the_export_time_mrr_is_never_read():
    subs = f.subscriptions([("A", "2024-01-10", "month", None, None, 999.0)])
    subs["discount_ends_at"] = pd.Timestamp("2024-07-10", tz="UTC")
    out = features_for(monthly("A", "2024-01-10", 6), subs)
    assert out.loc["A", "discount_ends_in_days"] == 10 and out.loc["A", "mrr"] == 20


def test_customers_whose_subscriptions_all_stopped_are_not_eligible():
    rows = monthly("A", "2024-01-10", 6) + monthly("B", "2024-01-10", 6)
    subs = f.subscriptions([("A", "2024-01-10", "month", "2024-06-20"),
                            ("B", "2024-01-10", "month", "2024-07-20", "2024-07-01")])
    out = features_for(rows, subs)
    assert "A" not in out.index and out.loc["B", "active_subscriptions"] == 1


def test_later_payments_and_subscriptions_never_reach_the_features():
    rows = monthly("A", "2024-01-10", 6)
    subs = f.subscriptions([("A", "2024-01-10", "month")])
    before = features_for(rows, subs)
    later_rows = rows + [("A", "2024-07-10", 90), ("A", "2024-07-01", 5, "cancelled")]
    later_subs = f.subscriptions([("A", "2024-01-10", "month", "2024-07-02"),
                                  ("A", "2024-07-02", "year")])
    later = features_for(later_rows, later_subs)
    pd.testing.assert_frame_equal(before, later)


_day = st.integers(-400, 0).map(lambda d: str(CUTOFF + dt.timedelta(days=d)))
_later = st.integers(1, 300).map(lambda d: str(CUTOFF + dt.timedelta(days=d)))
_who = st.sampled_from(["A", "B", "C"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payments=st.lists(st.tuples(_who, _day, st.integers(1, 99),
                                   st.sampled_from(["completed", "completed", "cancelled"])),
                         min_size=1, max_size=12),
       starts=st.lists(st.tuples(_who, _day, st.sampled_from(["month", "year"])), max_size=4),
       late_payments=st.lists(st.tuples(_who, _later, st.integers(1, 99)), max_size=5),
       late_starts=st.lists(st.tuples(_who, _later, st.sampled_from(["month", "year"])),
                            max_size=3),
       stop=st.one_of(st.none(), _later))
def test_nothing_after_the_cutoff_reaches_a_subscription_feature(payments, starts,
                                                                 late_payments, late_starts,
                                                                 stop):
    # a stop after the cutoff is not known at it; Z (no payments) keeps the table non-empty,
    # so both builds have the subscription group
    rows = [("Z", "2020-01-01", "month"), *((*s, stop) for s in starts)]
    before = features_for(payments, f.subscriptions(rows))
    after = features_for(payments + late_payments, f.subscriptions(rows + list(late_starts)))
    pd.testing.assert_frame_equal(before, after)
