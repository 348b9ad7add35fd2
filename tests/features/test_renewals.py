"""The `renewal` label: renewals due in the window, paid or not, billing periods, censoring."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features.labels import MIN_RENEWAL_HORIZON_DAYS, LabelSpec, churn_labels
from features.renewals import (
    RENEWAL_GRACE_DAYS,
    billing_months,
    cadence_months,
    subscription_stopped_by,
)
from tests import factories as f

CUTOFF = dt.date(2024, 3, 31)
END = dt.date(2025, 6, 30)
SPEC = LabelSpec(definition="renewal", horizon_days=60)


def renewal_labels(purchases, subscriptions=None, customers=None, spec=SPEC, cutoff=CUTOFF):
    eligible = pd.Series(sorted(set(purchases["customer_id"])))
    out = churn_labels(eligible, purchases, cutoff, spec, data_end=END, customers=customers,
                       subscriptions=subscriptions)
    return dict(zip(out["customer_id"], out["churned"], strict=True))


def monthly(customer, first, count, late_days=0, status="completed"):
    start = pd.Timestamp(first)
    return [(customer, str((start + pd.DateOffset(months=k)
                            + pd.Timedelta(days=late_days if k else 0)).date()), 19, status)
            for k in range(count)]


def test_paid_on_the_cutoff_day_and_renewed_is_no_churner_in_a_31_day_month():
    # pays on the 31st: the renewals fall on Apr 30 and May 31 (clipped, anchored)
    purchases = f.purchases(monthly("A", "2023-12-31", 6))
    assert renewal_labels(purchases) == {"A": 0}
    # the same customer under "no purchase in 30 days" would be a churner: the reason for
    # the definition (Apr 30 is day 30, inside; a 30-day window after Mar 31 ends Apr 30)
    no_purchase = churn_labels(pd.Series(["A"]), purchases, dt.date(2024, 4, 30),
                               LabelSpec(horizon_days=30), data_end=END)
    assert no_purchase["churned"].tolist() == [1]  # May 31 is day 31: outside


def test_a_renewal_due_in_the_window_and_never_paid_is_churn():
    purchases = f.purchases(monthly("A", "2023-12-31", 4) + monthly("B", "2023-12-15", 6))
    assert renewal_labels(purchases) == {"A": 1, "B": 0}


def test_a_retried_payment_within_the_grace_renews_and_a_failed_one_does_not():
    rows = monthly("A", "2023-12-31", 4)
    rows += [("A", "2024-04-30", 19, "cancelled"),
             ("A", str(dt.date(2024, 4, 30) + dt.timedelta(days=RENEWAL_GRACE_DAYS)), 19)]
    rows += monthly("B", "2023-12-31", 4) + [("B", "2024-04-30", 19, "cancelled")]
    assert renewal_labels(f.purchases(rows)) == {"A": 0, "B": 1}


def test_a_late_payment_past_the_grace_is_churn():
    rows = monthly("A", "2023-12-31", 4) + [
        ("A", str(dt.date(2024, 4, 30) + dt.timedelta(days=RENEWAL_GRACE_DAYS + 1)), 19)]
    assert renewal_labels(f.purchases(rows)) == {"A": 1}


def test_an_annual_plan_with_no_renewal_in_the_window_is_judged_by_cancellations_only():
    purchases = f.purchases([("A", "2023-06-10", 190), ("B", "2023-06-10", 190)])
    subs = f.subscriptions([("A", "2023-06-10", "year"),
                            ("B", "2023-06-10", "year", "2024-05-01", "2024-04-20")])
    assert renewal_labels(purchases, subs) == {"A": 0, "B": 1}


def test_a_plan_switch_is_no_cancellation_and_the_master_cancellation_counts():
    purchases = f.purchases(monthly("A", "2024-01-10", 6) + monthly("C", "2024-01-10", 6))
    subs = f.subscriptions([("A", "2024-01-10", "month", "2024-04-10"),
                            ("A", "2024-04-10", "month")])
    master = f.customers([("A", "2024-01-10", "SMB"), ("C", "2024-01-10", "SMB", "2024-04-20")])
    assert renewal_labels(purchases, subs, master) == {"A": 0, "C": 1}


def test_renewals_whose_grace_runs_past_the_window_wait():
    # due May 31, grace ends June 14, after the 60-day window (May 30): not judged
    purchases = f.purchases(monthly("A", "2024-01-31", 3))  # last paid Mar 31... Apr 30 due
    spec = LabelSpec(definition="renewal", horizon_days=MIN_RENEWAL_HORIZON_DAYS)
    # Apr 30 + 14 = May 14 = day 44 <= 45: judged and unpaid
    assert renewal_labels(purchases, spec=spec) == {"A": 1}
    on_time = f.purchases(monthly("A", "2024-01-31", 3) + [("A", "2024-04-30", 19)])
    assert renewal_labels(on_time, spec=spec) == {"A": 0}


def test_the_window_must_hold_a_billing_period_and_its_grace():
    with pytest.raises(ValueError, match="at least 45 days"):
        LabelSpec(definition="renewal", horizon_days=30)
    assert MIN_RENEWAL_HORIZON_DAYS == 31 + RENEWAL_GRACE_DAYS
    assert LabelSpec(definition="renewal", horizon_days=60).file_tag == "h60_renewal"


def test_billing_periods_come_from_the_subscription_then_the_cadence_then_the_business():
    purchases = f.purchases(monthly("A", "2023-06-05", 10) + [
        ("B", "2022-03-01", 190), ("B", "2023-03-01", 190), ("B", "2024-03-01", 190),
        ("C", "2024-03-01", 19), ("D", "2023-05-01", 19), ("D", "2023-05-20", 19),
        ("D", "2023-08-01", 19)])
    subs = f.subscriptions([("D", "2023-05-01", "quarter")])
    assert cadence_months(purchases, CUTOFF).to_dict() == {"A": 1, "B": 12}
    months = billing_months(pd.Series(["A", "B", "C", "D"]), purchases, CUTOFF, subs)
    assert months.tolist() == [1, 12, 1, 3]  # C: one payment, the business's usual month


def test_payments_after_the_window_never_change_a_label():
    rows = monthly("A", "2023-12-31", 4) + monthly("B", "2023-12-15", 6)
    before = renewal_labels(f.purchases(rows))
    later = rows + [("A", "2024-06-20", 19), ("B", "2024-07-01", 19)]  # after May 30
    assert renewal_labels(f.purchases(later)) == before


def test_customers_whose_every_subscription_stopped_are_gone():
    subs = f.subscriptions([("A", "2024-01-01", "month", "2024-03-01"),
                            ("B", "2024-01-01", "month", "2024-03-01"),
                            ("B", "2024-03-01", "month"),
                            ("C", "2024-01-01", "month", "2024-05-01", "2024-03-20")])
    assert subscription_stopped_by(subs, CUTOFF) == {"A", "C"}


@settings(max_examples=60, deadline=None)
@given(anchor=st.integers(1, 31), lateness=st.lists(st.integers(-3, RENEWAL_GRACE_DAYS),
                                                      min_size=4, max_size=4),
       horizon=st.integers(MIN_RENEWAL_HORIZON_DAYS, 120))
def test_no_customer_who_paid_at_the_cutoff_and_renewed_is_labelled_churned(anchor, lateness,
                                                                            horizon):
    first = pd.Timestamp(2023, 12, 1) + pd.Timedelta(days=anchor - 1)
    cutoff = (first + pd.DateOffset(months=3)).date()  # the fourth payment, on the cutoff day
    rows = [("A", str((first + pd.DateOffset(months=k)).date()), 19) for k in range(4)]
    rows += [("A", str((first + pd.DateOffset(months=4 + k) + pd.Timedelta(days=late)).date()),
              19) for k, late in enumerate(lateness)]
    spec = LabelSpec(definition="renewal", horizon_days=horizon)
    assert renewal_labels(f.purchases(rows), spec=spec, cutoff=cutoff) == {"A": 0}
