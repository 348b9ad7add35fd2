"""Complaint KPIs, churn by resolution band and engagement against hand counts, and the
measured effect of slow resolution against the simulator's own mechanism."""

from __future__ import annotations

import datetime as dt

import pytest

from features.labels import LabelSpec
from models.analytics.policy import AnalyticsPolicy
from models.analytics.service import (
    ALL_PERIODS,
    churn_by_resolution_band,
    complaint_kpis,
    engagement_kpis,
)
from tests import factories as f

AS_OF = dt.date(2024, 6, 30)


def test_complaint_kpis_by_hand():
    complaints = f.complaints([
        ("A", "2024-06-01 00:00", "2024-06-01 12:00", 1.0),   # 12 h, rated 5
        ("B", "2024-06-02 00:00", "2024-06-05 00:00", 0.0),   # 72 h, rated 1
        ("C", "2024-06-03 00:00", None, None),                # open, SLA long over
        ("D", "2024-06-30 12:00", None, None),                # open, still inside its SLA
        ("E", "2024-06-10 00:00", "2024-07-02 00:00", 1.0),   # resolved after the as-of
    ])
    purchases = f.purchases([("A", "2024-05-01", 10)])
    policy = AnalyticsPolicy(n_periods=1, sla_hours=48)
    kpis = complaint_kpis(f.tables(purchases=purchases, complaints=complaints), AS_OF, policy)
    june = kpis[(kpis["period"] == "2024-06") & (kpis["dimension"] == "all")].iloc[0]
    assert june["complaints"] == 5 and june["resolved"] == 2
    assert june["resolution_median_hours"] == pytest.approx(42.0)
    assert june["sla_decided"] == 4  # D is not decided yet
    assert june["within_sla_share"] == pytest.approx(1 / 4)
    assert june["unresolved_share"] == pytest.approx(3 / 5)
    assert june["satisfaction_mean"] == pytest.approx(3.0)  # (5 + 1) / 2; E's not known yet
    assert set(kpis["period"]) == {"2024-06", ALL_PERIODS}
    assert set(kpis.loc[kpis["dimension"] == "category", "group"]) == {"delivery"}


def test_churn_by_resolution_band_by_hand():
    spec = LabelSpec(horizon_days=30)
    # cutoff = as-of - 30 days = 2024-05-31; everyone bought in May
    purchases = f.purchases([
        ("A", "2024-05-01", 10), ("A", "2024-06-10", 10),   # fast complaint, stays
        ("B", "2024-05-02", 10),                            # slow complaint, churns
        ("C", "2024-05-03", 10),                            # never resolved, churns
        ("D", "2024-05-04", 10), ("D", "2024-06-12", 10),   # no complaint, stays
        ("E", "2024-05-05", 10),                            # no complaint, churns
    ])
    complaints = f.complaints([
        ("A", "2024-05-10 00:00", "2024-05-10 06:00", None),
        ("B", "2024-05-11 00:00", "2024-05-25 00:00", None),
        ("B", "2024-05-20 00:00", "2024-05-20 02:00", None),  # the slowest one counts
        ("C", "2024-05-12 00:00", None, None),
        ("A", "2024-06-05 00:00", None, None),                 # after the cutoff: ignored
    ])
    bands = churn_by_resolution_band(
        f.tables(purchases=purchases, complaints=complaints), AS_OF,
        AnalyticsPolicy(label=spec)).set_index("band")
    assert bands["customers"].to_dict() == {"none": 2, "le_low": 1, "low_high": 0,
                                            "gt_high": 1, "never": 1}
    assert bands["churned"].to_dict() == {"none": 1, "le_low": 0, "low_high": 0,
                                          "gt_high": 1, "never": 1}
    assert bands.loc["gt_high", "rate_ratio"] == pytest.approx(2.0)
    assert 0 <= bands.loc["none", "ci_low"] <= 0.5 <= bands.loc["none", "ci_high"] <= 1


def test_engagement_by_hand():
    purchases = f.purchases([("A", "2024-05-20", 10), ("B", "2024-05-21", 10),
                             ("A", "2024-06-05", 10)])
    interactions = f.interactions([
        ("A", "2024-06-01 10:00", "email_open", "outbound"),  # answered by the order Jun 5
        ("B", "2024-06-02 10:00", "email_open", "outbound"),  # never answered
        ("B", "2024-06-29 10:00", "email_open", "outbound"),  # window runs past the as-of
        ("B", "2024-06-20 10:00", "site_visit", "inbound"),
    ])
    frame = engagement_kpis(f.tables(purchases=purchases, interactions=interactions), AS_OF,
                            AnalyticsPolicy(n_periods=1, response_window_days=7))
    june = frame.iloc[0]
    assert (june["active_customers"], june["contacted"]) == (2, 2)
    assert (june["outbound_contacts"], june["answered"]) == (2, 1)
    assert june["response_rate"] == pytest.approx(0.5)


def test_slow_resolution_raises_churn_in_the_simulated_business(simulated):
    """The simulator moves a customer towards leaving once a complaint is open for over 14
    days (and after a bad rating, which slow resolution makes likelier): the measured churn
    of customers whose complaint took over a week must clearly exceed that of quickly served
    complainers and of customers without complaints."""
    bands = churn_by_resolution_band(simulated, dt.date(2026, 10, 31)).set_index("band")
    assert bands.loc["gt_high", "churn_rate"] > 2 * bands.loc["le_low", "churn_rate"]
    assert bands.loc["gt_high", "rate_ratio"] > 1.3
    assert bands.loc["gt_high", "ci_low"] > bands.loc["le_low", "ci_high"]
