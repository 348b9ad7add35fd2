"""Property tests: the analytics never read past their as-of date; rates are shares; cohorts
add up to the base."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.labels import LabelSpec
from models.analytics.cohorts import cohort_table
from models.analytics.policy import AnalyticsPolicy
from models.analytics.retention import retention_rates
from models.analytics.service import churn_by_resolution_band, complaint_kpis, engagement_kpis
from models.analytics.value import pareto_curve, revenue_last_year, top_share_of_revenue
from tests import factories as f

AS_OF = dt.date(2024, 6, 30)
CUSTOMERS = ["001", "002", "003", "004"]
POLICY = AnalyticsPolicy(n_periods=3, label=LabelSpec(horizon_days=30), cohort_months=4)


def moments(lo_days: int, hi_days: int):
    base = dt.datetime.combine(AS_OF, dt.time())
    return st.integers(lo_days * 1440, hi_days * 1440 - 1).map(
        lambda m: (base + dt.timedelta(minutes=m)).isoformat())


past, future = moments(-300, 1), moments(1, 200)
customer = st.sampled_from(CUSTOMERS)
status = st.sampled_from(["completed", "completed", "returned", "cancelled"])


def purchases_of(when):
    return st.lists(st.tuples(customer, when, st.integers(1, 500), status), max_size=20)


def complaints_of(when):
    return st.lists(st.tuples(customer, when, st.none(), st.none()), max_size=6)


def interactions_of(when):
    return st.lists(st.tuples(customer, when, st.just("email_open"),
                              st.sampled_from(["inbound", "outbound"])), max_size=10)


def resolved(rows, resolutions):
    """Complaint rows with resolution moments (some after the as-of date) and ratings."""
    out = []
    for (c, opened, _, _), (hours, rating) in zip(rows, resolutions, strict=False):
        end = None if hours is None else (pd.Timestamp(opened) + pd.Timedelta(
            hours=hours)).isoformat()
        out.append((c, opened, end, rating))
    return out + rows[len(resolutions):]


resolution = st.tuples(st.one_of(st.none(), st.integers(1, 3000)),
                       st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0])))


def everything(tables):
    return {
        "retention": retention_rates(tables, AS_OF, POLICY),
        "cohorts": cohort_table(tables, AS_OF, POLICY),
        "complaints": complaint_kpis(tables, AS_OF, POLICY),
        "bands": churn_by_resolution_band(tables, AS_OF, POLICY),
        "engagement": engagement_kpis(tables, AS_OF, POLICY),
        "revenue": revenue_last_year(tables, AS_OF).to_frame(),
    }


def build(purchases, complaints, interactions):
    # checked once here, so the functions under test do not validate the bundle again
    return f.tables(purchases=f.purchases(purchases), complaints=f.complaints(complaints),
                    interactions=f.interactions(interactions)).validated()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(purchases=purchases_of(past), later_purchases=purchases_of(future),
       complaints=complaints_of(past), resolutions=st.lists(resolution, max_size=6),
       later_complaints=complaints_of(future), interactions=interactions_of(past),
       later_interactions=interactions_of(future))
def test_rows_after_the_as_of_date_change_nothing(purchases, later_purchases, complaints,
                                                  resolutions, later_complaints, interactions,
                                                  later_interactions):
    # the label windows of the rates end by the as-of date, so "later" is after it too
    purchases = [("001", "2024-01-02T10:00", 10, "completed"), *purchases]
    before = everything(build(purchases, resolved(complaints, resolutions), interactions))
    after = everything(build(purchases + later_purchases,
                             resolved(complaints, resolutions) + later_complaints,
                             interactions + later_interactions))
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame.reset_index(drop=True),
                                      after[name].reset_index(drop=True), obj=name)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(purchases=purchases_of(past))
def test_rates_are_shares_and_cohorts_add_up_to_the_base(purchases):
    purchases = [("001", "2024-01-02T10:00", 10, "completed"), *purchases]
    tables = f.tables(purchases=f.purchases(purchases)).validated()
    rates = retention_rates(tables, AS_OF, POLICY)
    assert rates["churn_rate"].between(0, 1).all()
    assert (rates["retention_rate"] + rates["churn_rate"]).round(12).eq(1).all()
    assert (rates["ci_low"] <= rates["churn_rate"]).all()
    assert (rates["churn_rate"] <= rates["ci_high"]).all()
    for _, period in rates.groupby("period"):  # every dimension splits the same base
        totals = period.groupby("dimension")["customers"].sum()
        assert totals.nunique() == 1
    cohorts = cohort_table(tables, AS_OF, POLICY)
    done = [p for p in purchases if p[3] == "completed"]
    sizes = cohorts.drop_duplicates("cohort")["cohort_customers"].sum()
    assert sizes == len({p[0] for p in done})
    shown = cohorts["customer_retention"].dropna()
    assert shown.between(0, 1).all()
    revenue = revenue_last_year(tables, AS_OF)
    share = top_share_of_revenue(revenue, 0.2)
    assert 0.2 - 1e-9 <= share <= 1 or revenue.empty
    curve = pareto_curve(revenue)
    if not revenue.empty:
        assert curve["revenue_share"].is_monotonic_increasing
        assert curve["revenue_share"].iloc[-1] == 1.0


def test_point_in_time_keeps_subscriptions_and_hides_their_later_cancellations():
    """Renewal labels need each subscription's billing period: a yearly plan paid once is
    not an unpaid monthly renewal (the subscription demo's analytics showed 80 % 90-day
    retention against the simulator's ~93 % while the subscriptions were dropped)."""
    import datetime as dt

    import pandas as pd

    from features.renewals import subscriptions_known_at

    utc = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731
    subscriptions = pd.DataFrame({
        "customer_id": ["a", "b", "c"], "subscription_id": ["s1", "s2", "s3"],
        "started_at": [utc("2024-01-01"), utc("2024-02-01"), utc("2024-09-01")],
        "cancelled_at": [utc("2024-03-01"), utc("2024-08-01"), pd.NaT],
        "ended_at": [utc("2024-03-31"), utc("2024-08-31"), pd.NaT]})
    known = subscriptions_known_at(subscriptions, utc(dt.date(2024, 6, 1)))
    assert known["subscription_id"].tolist() == ["s1", "s2"]  # s3 had not started
    assert known["cancelled_at"].tolist()[0] == utc("2024-03-01")
    assert pd.isna(known["cancelled_at"].iloc[1]) and pd.isna(known["ended_at"].iloc[1])
    assert subscriptions_known_at(None, utc("2024-06-01")) is None
