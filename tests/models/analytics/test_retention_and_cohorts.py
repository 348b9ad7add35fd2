"""Retention rates and cohorts against hand counts on tiny frames."""

from __future__ import annotations

import datetime as dt

import pytest

from features.labels import LabelSpec
from models.analytics.cohorts import cohort_matrix, cohort_table
from models.analytics.policy import AnalyticsPolicy, point_in_time
from models.analytics.rates import period_ends, wilson_interval
from models.analytics.retention import retention_rates, tenure_band
from tests import factories as f

AS_OF = dt.date(2024, 6, 30)


def tiny():
    # A: buys Jan, Mar (active at Mar 31), buys again Apr 20 -> stays.
    # B: buys Feb 10, nothing after -> churns after Mar 31.
    # C: buys Mar 5 and May 1 -> active at Mar 31, stays; cancelled in the master later.
    # D: first buys Apr 2 (not active at Mar 31).
    purchases = f.purchases([
        ("A", "2024-01-05", 100), ("A", "2024-03-01", 50), ("A", "2024-04-20", 70),
        ("B", "2024-02-10", 30),
        ("C", "2024-03-05", 20), ("C", "2024-05-01", 20),
        ("D", "2024-04-02", 40), ("D", "2024-04-03", 999, "cancelled"),
    ])
    customers = f.customers([("A", "2024-01-01", "SMB"), ("B", "2024-01-01", "Consumer"),
                             ("C", "2024-01-01", "Consumer"), ("D", "2024-01-01", "SMB")])
    return f.tables(purchases=purchases, customers=customers)


def test_period_ends_are_whole_periods_up_to_the_as_of_date():
    assert period_ends(dt.date(2024, 6, 30), "month", 2) == [dt.date(2024, 5, 31),
                                                            dt.date(2024, 6, 30)]
    assert period_ends(dt.date(2024, 6, 29), "month", 1) == [dt.date(2024, 5, 31)]
    assert period_ends(dt.date(2024, 8, 15), "quarter", 2) == [dt.date(2024, 3, 31),
                                                              dt.date(2024, 6, 30)]


def test_wilson_interval_matches_the_textbook_value():
    low, high = wilson_interval(3, 10, 0.95)
    assert (float(low), float(high)) == pytest.approx((0.1078, 0.6032), abs=1e-4)
    low, high = wilson_interval(0, 0)
    assert low != low and high != high  # NaN for an empty group


def test_churn_rate_of_a_period_uses_the_label_spec_and_counts_by_hand():
    policy = AnalyticsPolicy(n_periods=1, label=LabelSpec(horizon_days=60))
    rates = retention_rates(tiny(), dt.date(2024, 5, 31), policy)
    whole = rates[rates["dimension"] == "all"].iloc[0]
    # last labelled cutoff 2024-04-01 -> the period ending 2024-03-31: A, B, C active;
    # B buys nothing in (Mar 31, May 30] -> 1 of 3 churned
    assert whole["period"] == "2024-03" and str(whole["cutoff"]) == "2024-03-31"
    assert (whole["customers"], whole["churned"]) == (3, 1)
    assert whole["churn_rate"] == pytest.approx(1 / 3)
    assert whole["retention_rate"] == pytest.approx(2 / 3)
    by_segment = rates[rates["dimension"] == "master_segment"].set_index("group")
    assert by_segment.loc["Consumer", "churned"] == 1 and by_segment.loc["SMB", "churned"] == 0
    for dimension in ("rfm_segment", "region", "first_channel", "tenure_band"):
        assert rates.loc[rates["dimension"] == dimension, "customers"].sum() == 3


def test_a_cancellation_in_the_window_is_churn_and_before_it_leaves_the_base():
    tables = tiny()
    master = tables.customers.copy()
    master.loc[master["customer_id"] == "C", "cancelled_at"] = f.ts("2024-04-10")
    policy = AnalyticsPolicy(n_periods=1, label=LabelSpec(horizon_days=60))
    rates = retention_rates(f.tables(purchases=tables.purchases, customers=master),
                            dt.date(2024, 5, 31), policy)
    whole = rates[rates["dimension"] == "all"].iloc[0]
    assert (whole["customers"], whole["churned"]) == (3, 2)


def test_tenure_bands_name_their_edges():
    import pandas as pd

    bands = tenure_band(pd.Series([0, 89, 90, 400, 800]), (90, 365, 730))
    assert list(bands) == ["0-90", "0-90", "90-365", "365-730", "730+"]


def test_cohorts_by_hand():
    cohorts = cohort_table(tiny(), AS_OF, AnalyticsPolicy(cohort_months=3))
    customers = cohort_matrix(cohorts, "customer_retention")
    revenue = cohort_matrix(cohorts, "revenue_retention")
    # cohort Jan: A (Jan 100, Mar 50, Apr 70)
    assert list(customers.loc["2024-01"]) == [1.0, 0.0, 1.0, 1.0]
    assert list(revenue.loc["2024-01"]) == pytest.approx([1.0, 0.0, 0.5, 0.7])
    # cohort Mar: C (Mar 20, May 20); the cancelled order of D never counts
    assert list(customers.loc["2024-03"]) == [1.0, 0.0, 1.0, 0.0]
    sizes = cohorts.drop_duplicates("cohort").set_index("cohort")["cohort_customers"]
    assert sizes.to_dict() == {"2024-01": 1, "2024-02": 1, "2024-03": 1, "2024-04": 1}


def test_months_not_over_yet_are_empty_not_a_drop():
    cohorts = cohort_table(tiny(), dt.date(2024, 5, 15), AnalyticsPolicy(cohort_months=3))
    may = cohorts[(cohorts["cohort"] == "2024-03") & (cohorts["months_since"] == 2)].iloc[0]
    assert not may["complete"] and may["customer_retention"] != may["customer_retention"]
    assert may["active_customers"] == 1  # counted, just not shown as a rate


def test_point_in_time_forgets_later_resolutions_and_ratings():
    complaints = f.complaints([("A", "2024-03-01", "2024-03-05", 0.25),
                               ("A", "2024-03-20", "2024-04-05", 1.0)])
    known = point_in_time(f.tables(purchases=tiny().purchases, complaints=complaints),
                          dt.date(2024, 3, 31))
    assert known.complaints["resolved_at"].isna().tolist() == [False, True]
    assert known.complaints["satisfaction"].tolist()[0] == 0.25
    with pytest.raises(TypeError):
        point_in_time(tiny(), "2024-03-31")  # type: ignore[arg-type]


def test_policy_refuses_bands_out_of_order():
    with pytest.raises(ValueError, match="increasing"):
        AnalyticsPolicy(resolution_bands_days=(7.0, 1.0))
