"""CLV, its out-of-time check and the revenue concentration."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.analytics.policy import AnalyticsPolicy
from models.analytics.value import (
    clv_estimates,
    clv_vs_run_rate,
    pareto_curve,
    purchase_summary,
    top_revenue_by_tier,
    top_share_of_revenue,
)
from tests import factories as f


def test_concentration_by_hand():
    revenue = pd.Series({"a": 50.0, "b": 30.0, "c": 10.0, "d": 5.0, "e": 5.0})
    assert top_share_of_revenue(revenue, 0.2) == pytest.approx(0.5)   # a alone
    assert top_share_of_revenue(revenue, 0.4) == pytest.approx(0.8)   # a and b
    curve = pareto_curve(revenue, points=6)
    assert curve["revenue_share"].tolist() == pytest.approx([0, 0.5, 0.8, 0.9, 0.95, 1.0])
    risk = pd.DataFrame({"customer_id": ["a", "b"], "risk_tier": ["Critical", "Safe"]})
    split = top_revenue_by_tier(revenue, risk, 0.6, ["Critical", "Safe"]).set_index("tier")
    assert split["revenue"].to_dict() == {"Critical": 50.0, "Safe": 30.0,
                                          "(not scored)": 10.0}
    assert split["revenue_share"].sum() == pytest.approx(1.0)


def test_purchase_summary_counts_purchase_days_by_hand():
    purchases = f.purchases([("A", "2024-01-01", 10), ("A", "2024-01-01 15:00", 5),
                             ("A", "2024-01-15", 30), ("A", "2024-01-29", 50),
                             ("B", "2024-01-22", 7), ("B", "2024-02-01", 99, "returned")])
    summary = purchase_summary(f.tables(purchases=purchases), dt.date(2024, 2, 4)).set_index(
        "customer_id")
    assert summary.loc["A", "x"] == 2  # three purchase days, the first one summed
    assert summary.loc["A", "t_x"] == pytest.approx(4.0)
    assert summary.loc["A", "T"] == pytest.approx(5.0)  # to the end of Feb 4
    assert summary.loc["A", "mean_spend"] == pytest.approx(40.0)  # repeat days only
    assert (summary.loc["B", "x"], summary.loc["B", "mean_spend"]) == (0, 0.0)


def test_clv_beats_nothing_it_cannot_know_and_has_sensible_intervals(simulated):
    as_of = dt.date(2026, 10, 31)
    policy = AnalyticsPolicy(simulations=100)
    clv = clv_estimates(simulated, as_of, policy)
    assert clv["p_alive"].between(0, 1).all()
    assert (clv["revenue_12m_low"] <= clv["revenue_12m_high"]).all()
    inside = ((clv["expected_revenue_12m"] >= clv["revenue_12m_low"])
              & (clv["expected_revenue_12m"] <= clv["revenue_12m_high"])).mean()
    assert inside > 0.8  # the mean sits inside the central 80 % for most customers
    assert (clv["residual_value"] >= 0).all()
    # a customer silent for long after frequent buying is worth less than a recent one
    assert clv.loc[clv["p_alive"] < 0.2, "expected_revenue_12m"].median() < \
        clv.loc[clv["p_alive"] > 0.9, "expected_revenue_12m"].median()
    check = clv_vs_run_rate(simulated, as_of, policy).set_index("estimate")
    assert check.loc["clv", "customers"] == check.loc["run_rate", "customers"] > 100
    assert check.loc["clv", "actual_total"] == check.loc["run_rate", "actual_total"]
    assert check.attrs["cutoff"] == "2025-10-31"
    assert check.loc["clv", "mae"] < check.loc["run_rate", "mae"]  # on this business


def test_value_at_risk_uses_the_estimate_that_predicted_the_past_better(simulated):
    from models.analytics.value import chosen_revenue_estimate

    as_of = dt.date(2026, 10, 31)
    chosen = chosen_revenue_estimate(simulated, as_of)
    check = clv_vs_run_rate(simulated, as_of).set_index("estimate")
    assert chosen.method == "clv"  # CLV's error per customer is lower on this business
    assert chosen.evidence["clv_mae"] == round(check.loc["clv", "mae"], 2)
    assert chosen.evidence["run_rate_mae"] == round(check.loc["run_rate", "mae"], 2)
    assert chosen.evidence["cutoff"] == "2025-10-31"
    point = clv_estimates(simulated, as_of, interval=False).set_index("customer_id")
    assert chosen.per_customer is not None
    # the revenue of a customer who stays: BG/NBD's expectation given alive
    staying = point["expected_revenue_12m"] / point["p_alive"].clip(lower=0.01)
    assert chosen.per_customer.sort_index().to_numpy() == pytest.approx(
        staying.sort_index().to_numpy())
    assert (chosen.per_customer >= point["expected_revenue_12m"].reindex(
        chosen.per_customer.index) - 1e-9).all()
    # a history too short for an out-of-time comparison keeps the run-rate
    short = chosen_revenue_estimate(simulated, dt.date(2025, 3, 1))
    assert (short.method, short.per_customer) == ("run_rate", None)


def test_value_at_risk_takes_the_given_estimate_and_the_run_rate_elsewhere():
    from models.segments import expected_revenue_12m, value_at_risk

    features = pd.DataFrame({"customer_id": ["a", "b", "c"], "tenure_days": [400, 400, 100],
                             "spend_365d": [120.0, 60.0, 30.0],
                             "spend_lifetime": [200.0, 90.0, 30.0]})
    estimate = pd.Series({"a": 50.0, "c": 10.0})
    assert expected_revenue_12m(features, estimate).tolist() == [50.0, 60.0, 10.0]
    assert expected_revenue_12m(features).tolist() == [120.0, 60.0, 30.0 * 365 / 100]
    assert value_at_risk(pd.Series([0.5, 0.5, 1.0]), features, estimate).tolist() == [
        25.0, 30.0, 10.0]
    # a subscriber's MRR wins over both
    with_mrr = features.assign(mrr=[0.0, 10.0, 0.0])
    assert expected_revenue_12m(with_mrr, estimate).tolist() == [50.0, 120.0, 10.0]


def test_the_interval_survives_a_business_of_regular_payers():
    """Subscriptions fit a BG/NBD with a tiny `a`: its beta draws of the drop-out chance
    underflow to 0, which numpy's geometric draw refuses (the subscription demo failed)."""
    import numpy as np

    from models.analytics.value import _predictive_interval
    from models.btyd import BgNbdParams, GammaGammaParams

    summary = pd.DataFrame({"x": [10.0, 0.0], "T": [52.0, 20.0], "mean_spend": [30.0, 0.0]})
    low, high = _predictive_interval(
        BgNbdParams(r=2.0, alpha=5.0, a=1e-9, b=50.0), GammaGammaParams(p=5.0, q=3.0, gamma=20.0),
        summary, np.array([1.0, 0.5]), 365.0, AnalyticsPolicy(simulations=50))
    assert np.isfinite(low).all() and np.isfinite(high).all() and (low <= high).all()


def _summary_by_groupby(purchases: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The summary's definition written the plain way, with pandas groupbys on the ids."""
    done = purchases[(purchases["status"] == "completed")
                     & (purchases["order_date"] < pd.Timestamp(as_of, tz="UTC")
                        + pd.Timedelta(days=1))]
    if done.empty:
        return pd.DataFrame()
    done = done.assign(day=done["order_date"].dt.tz_localize(None).dt.normalize())
    daily = done.groupby(["customer_id", "day"], as_index=False)["amount"].sum()
    grouped = daily.groupby("customer_id")
    first, last = grouped["day"].min(), grouped["day"].max()
    repeat = daily[daily["day"] > daily["customer_id"].map(first)]
    year = done[done["day"] > pd.Timestamp(as_of) - pd.Timedelta(days=365)]
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    out = pd.DataFrame({
        "x": grouped.size() - 1, "t_x": (last - first).dt.days / 7, "T": (end - first).dt.days / 7,
        "mean_spend": repeat.groupby("customer_id")["amount"].mean(),
        "tenure_days": (pd.Timestamp(as_of) - first).dt.days,
        "spend_lifetime": grouped["amount"].sum(),
        "spend_365d": done[done.index.isin(year.index)].groupby("customer_id")["amount"].sum()})
    return out.fillna({"mean_spend": 0.0, "spend_365d": 0.0}).rename_axis("customer_id")


@settings(max_examples=60, deadline=None)
@given(orders=st.lists(st.tuples(st.sampled_from(["A", "B", "c", "Ç", "A1"]),
                                 st.integers(0, 900), st.integers(0, 23),
                                 st.floats(0, 500), st.sampled_from(["completed", "returned"])),
                       min_size=1, max_size=40),
       as_of_day=st.integers(0, 1000),
       cancelled=st.dictionaries(st.sampled_from(["A", "B", "c", "Ç", "A1"]),
                                 st.integers(0, 1000), max_size=3))
def test_purchase_summary_matches_its_plain_definition(orders, as_of_day, cancelled):
    """Every customer with a completed order by `as_of`, but those cancelled by then."""
    start = pd.Timestamp("2023-01-01")
    purchases = f.purchases([(c, str(start + pd.Timedelta(days=d, hours=h)), a, s)
                             for c, d, h, a, s in orders])
    master = f.customers([(c, "2022-01-01", "SMB",
                           str(start + pd.Timedelta(days=cancelled[c], hours=12))
                           if c in cancelled else None) for c in ["A", "B", "c", "Ç", "A1"]])
    as_of = (start + pd.Timedelta(days=as_of_day)).date()
    summary = purchase_summary(f.tables(purchases=purchases, customers=master),
                               as_of).set_index("customer_id")
    expected = _summary_by_groupby(purchases, as_of)
    gone = [c for c, day in cancelled.items() if day <= as_of_day]  # cancelled by `as_of`
    expected = expected.drop(index=[c for c in gone if c in expected.index])
    if expected.empty:
        assert summary.empty
        return
    pd.testing.assert_frame_equal(summary, expected, check_dtype=False, check_index_type=False,
                                  rtol=1e-9)
