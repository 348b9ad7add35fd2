"""Hand-computed feature values on tiny frames, one test per feature group."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from features.build import build_customer_features
from features.catalog import FEATURES, feature_names
from tests import factories as f

AS_OF = dt.date(2024, 3, 31)


def one(frame: pd.DataFrame, customer: str) -> pd.Series:
    rows = frame[frame["customer_id"] == customer]
    assert len(rows) == 1
    return rows.iloc[0]


def test_rfm_values_match_hand_computation():
    purchases = f.purchases([
        ("001", "2023-10-01 09:00", 100),   # 182 days before as_of: outside 180d window
        ("001", "2024-01-01 12:00", 50),    # 90 days before: outside the 90d window
        ("001", "2024-02-01 08:00", 30),
        ("001", "2024-03-02 10:00", 20),    # 29 days before: inside 30d
        ("001", "2024-03-05 10:00", 99, "returned"),
        ("001", "2024-03-06 10:00", 77, "cancelled"),
    ])
    row = one(build_customer_features(f.tables(purchases=purchases), AS_OF), "001")
    assert row["recency_days"] == 29
    assert row["tenure_days"] == 182
    assert (row["orders_30d"], row["orders_90d"], row["orders_180d"]) == (1, 2, 3)
    assert (row["orders_365d"], row["orders_lifetime"]) == (4, 4)
    assert row["spend_90d"] == 50 and row["spend_lifetime"] == 200
    assert row["avg_order_value"] == 50
    # gaps: 92, 31, 30 days -> median 31
    assert row["median_interval_days"] == 31
    assert row["overdue_ratio"] == pytest.approx(29 / 31)
    assert row["is_one_time_buyer"] == 0
    # previous 90 days (days 91..180 before): the 2024-01-01 order only
    assert (row["orders_prev_90d"], row["spend_prev_90d"]) == (1, 50)
    assert row["orders_change_90d"] == pytest.approx((2 - 1) / 3)
    assert row["spend_change_90d"] == 0
    assert row["return_share"] == pytest.approx(1 / 5)


def test_one_time_buyer_is_a_state_not_a_gap():
    frame = build_customer_features(
        f.tables(purchases=f.purchases([("007", "2024-03-01", 10)])), AS_OF
    )
    row = one(frame, "007")
    assert row["is_one_time_buyer"] == 1
    assert math.isnan(row["median_interval_days"]) and math.isnan(row["overdue_ratio"])
    assert row["recency_days"] == 30


def test_event_on_the_cutoff_day_is_included_and_next_day_is_not():
    purchases = f.purchases([
        ("001", "2024-03-01", 10),
        ("001", "2024-03-31 23:59:59", 5),
        ("001", "2024-04-01 00:00:00", 1000),
    ])
    row = one(build_customer_features(f.tables(purchases=purchases), AS_OF), "001")
    assert row["recency_days"] == 0
    assert row["spend_lifetime"] == 15


def test_time_zone_boundary_uses_utc_days():
    # 02:30 in Istanbul on April 1st is still March 31st in UTC: inside the cutoff day.
    late = pd.Timestamp("2024-04-01 02:30", tz="Europe/Istanbul").tz_convert("UTC")
    purchases = f.purchases([("001", "2024-03-01", 10), ("001", late.isoformat(), 5)])
    row = one(build_customer_features(f.tables(purchases=purchases), AS_OF), "001")
    assert row["recency_days"] == 0 and row["orders_lifetime"] == 2


def test_customers_without_a_purchase_by_the_cutoff_are_not_eligible():
    purchases = f.purchases([("001", "2024-03-01", 10), ("002", "2024-04-02", 10)])
    complaints = f.complaints([("003", "2024-03-01", None, None)])
    frame = build_customer_features(f.tables(purchases=purchases, complaints=complaints), AS_OF)
    assert frame["customer_id"].tolist() == ["001"]


def test_cancelled_customers_leave_the_population():
    purchases = f.purchases([("001", "2024-03-01", 10), ("002", "2024-03-01", 10)])
    master = f.customers([("001", "2023-01-01", "SMB", "2024-03-15"),
                          ("002", "2023-01-01", "SMB", "2024-04-15")])
    frame = build_customer_features(f.tables(purchases=purchases, customers=master), AS_OF)
    assert frame["customer_id"].tolist() == ["002"]


def test_complaint_and_satisfaction_features():
    purchases = f.purchases([("001", "2024-01-10", 10), ("001", "2024-02-20", 10)])
    complaints = f.complaints([
        ("001", "2024-03-01 10:00", "2024-03-04 10:00", 0.0),   # 3 days, rated 1/5
        ("001", "2024-03-10 10:00", None, None),                # open, 21 days old
        ("001", "2024-03-20 10:00", "2024-04-05 10:00", 1.0),   # resolved after as_of: open
        ("001", "2023-01-01 10:00", "2023-01-02 10:00", None),  # outside 365d
    ])
    row = one(build_customer_features(
        f.tables(purchases=purchases, complaints=complaints), AS_OF), "001")
    # 2024-03-01 is 30 days back: outside the 30-day window [03-02, 03-31]
    assert (row["complaints_30d"], row["complaints_90d"], row["complaints_365d"]) == (2, 3, 3)
    assert row["days_since_last_complaint"] == 11
    assert row["open_complaints"] == 2
    assert row["oldest_open_complaint_days"] == 21
    assert row["median_resolution_days_365d"] == pytest.approx(3.0)
    assert row["max_resolution_days_365d"] == pytest.approx(3.0)
    # 2024-03-10 is 9 days after 2024-03-01 and 2024-03-20 is 10 days after 2024-03-10
    assert row["repeat_complaints_365d"] == 2
    assert row["complaint_order_ratio_365d"] == pytest.approx(3 / 2)
    # the 1.0 rating arrives on 2024-04-05, after the cutoff: unknown at as_of
    assert row["last_satisfaction"] == 0.0 and row["worst_satisfaction_365d"] == 0.0
    assert row["rated_bad_not_recovered"] == 1
    assert row["unrated_resolved_365d"] == 0


def test_bad_rating_followed_by_a_purchase_is_recovered():
    purchases = f.purchases([("001", "2024-01-10", 10), ("001", "2024-03-20", 10)])
    complaints = f.complaints([("001", "2024-03-01", "2024-03-02", 0.25)])
    row = one(build_customer_features(
        f.tables(purchases=purchases, complaints=complaints), AS_OF), "001")
    assert row["rated_bad_not_recovered"] == 0


def test_engagement_features():
    purchases = f.purchases([("001", "2024-01-10", 10), ("002", "2024-01-10", 10)])
    interactions = f.interactions([
        ("001", "2024-03-30", "site_visit", "inbound"),
        ("001", "2024-02-15", "email_open", "outbound"),
        ("001", "2024-02-10", "email_open", "outbound"),
        ("001", "2024-01-15", "email_open", "outbound"),
        ("001", "2024-01-20", "newsletter_unsubscribe", "inbound"),
    ])
    frame = build_customer_features(
        f.tables(purchases=purchases, interactions=interactions), AS_OF)
    row = one(frame, "001")
    assert row["interactions_30d"] == 1 and row["interactions_90d"] == 5
    assert row["interactions_prev_60d"] == 4
    assert row["engagement_change"] == pytest.approx((2 - 4) / 6)
    assert row["days_since_last_interaction"] == 1
    assert row["inbound_share_90d"] == pytest.approx(2 / 5)
    assert row["unsubscribed"] == 1
    quiet = one(frame, "002")
    assert quiet["interactions_90d"] == 0 and quiet["engagement_change"] == 0
    assert math.isnan(quiet["days_since_last_interaction"])


def test_profile_features_and_missing_sources_drop_groups():
    purchases = f.purchases([("001", "2024-03-01", 10)])
    master = f.customers([("001", "2024-01-01", "SMB")])
    frame = build_customer_features(f.tables(purchases=purchases, customers=master), AS_OF)
    row = one(frame, "001")
    assert row["account_age_days"] == 90 and row["segment"] == "SMB"
    assert "complaints_30d" not in frame and "interactions_30d" not in frame
    assert list(frame.columns[3:]) == feature_names(["purchases", "customers"])


def test_catalog_documents_every_built_feature():
    purchases = f.purchases([("001", "2024-03-01", 10)])
    frame = build_customer_features(f.tables(
        purchases=purchases,
        complaints=f.complaints([("001", "2024-03-01", None, None)]),
        interactions=f.interactions([("001", "2024-03-01")]),
        customers=f.customers([("001", "2024-01-01", "SMB")]),
        subscriptions=f.subscriptions([("001", "2024-01-01", "month")]),
    ), AS_OF)
    assert list(frame.columns[3:]) == [spec.name for spec in FEATURES]


def test_spend_windows_30_and_180_days():
    purchases = f.purchases([
        ("001", "2023-10-03", 100),   # 180 days before as_of: outside the 180d window
        ("001", "2023-10-04", 40),    # 179 days before: inside
        ("001", "2024-03-01", 7),     # 30 days before: outside the 30d window
        ("001", "2024-03-02", 3),
    ])
    row = one(build_customer_features(f.tables(purchases=purchases), AS_OF), "001")
    assert row["spend_30d"] == 3 and row["spend_180d"] == 50 and row["spend_lifetime"] == 150


def _complaints_with_categories(rows):
    frame = f.complaints([(c, o, r, s) for c, o, r, s, _ in rows])
    frame["category"] = [cat for *_, cat in rows]
    return frame


def test_recent_complaints_are_counted_by_category():
    purchases = f.purchases([("001", "2024-01-10", 10)])
    complaints = _complaints_with_categories([
        ("001", "2024-03-30", None, None, "billing"),
        ("001", "2024-03-01", None, None, "billing"),
        ("001", "2024-01-02", None, None, "delivery"),   # 89 days before: inside 90d
        ("001", "2024-01-01", None, None, "delivery"),   # 90 days before: outside
        ("001", "2024-02-01", None, None, "Fatura"),     # unknown category
        ("001", "2024-02-02", None, None, None),         # no category
    ])
    row = one(build_customer_features(
        f.tables(purchases=purchases, complaints=complaints), AS_OF), "001")
    assert row["complaints_90d_billing"] == 2 and row["complaints_90d_delivery"] == 1
    assert row["complaints_90d_other"] == 2 and row["complaints_90d_service"] == 0
    assert row["complaints_90d"] == 5


def test_nps_detractor_and_surveyed_without_answer():
    purchases = f.purchases([("A", "2024-01-10", 10), ("B", "2024-01-10", 10),
                             ("C", "2024-01-10", 10), ("D", "2024-01-10", 10)])
    complaints = f.complaints([
        ("A", "2024-02-01", "2024-02-02", 0.5),    # detractor, answered
        ("B", "2024-02-01", "2024-02-02", 0.75),   # promoter side, answered
        ("B", "2024-02-10", "2024-02-12", None),   # latest resolved: no answer
        ("C", "2024-02-01", "2024-02-02", 0.0),
        ("C", "2024-03-25", "2024-04-02", 1.0),    # resolved after as_of: not known yet
    ])
    frame = build_customer_features(f.tables(purchases=purchases, complaints=complaints), AS_OF)
    a, b, c, d = (one(frame, k) for k in "ABCD")
    assert (a["nps_detractor"], a["surveyed_no_answer"]) == (1, 0)
    assert (b["nps_detractor"], b["surveyed_no_answer"]) == (0, 1)
    assert b["last_satisfaction"] == 0.75
    assert (c["nps_detractor"], c["surveyed_no_answer"]) == (1, 0)
    assert (d["nps_detractor"], d["surveyed_no_answer"]) == (0, 0)


def test_engagement_by_channel_type_and_direction():
    purchases = f.purchases([("001", "2024-01-10", 10)])
    interactions = f.interactions([
        ("001", "2024-03-31 23:59", "site_visit", "inbound"),   # on the cutoff day: included
        ("001", "2024-04-01 00:00", "site_visit", "inbound"),   # next day: excluded
        ("001", "2024-03-10", "email_click", "outbound"),
        ("001", "2024-02-15", "email_open", "outbound"),
        ("001", "2024-01-02", "call", "inbound"),               # 89 days before: in 90d
        ("001", "2024-01-01", "call", "outbound"),              # 90 days before: outside
    ])
    interactions["channel"] = ["web", "web", "email", "email", "phone", "phone"]
    row = one(build_customer_features(
        f.tables(purchases=purchases, interactions=interactions), AS_OF), "001")
    assert (row["web_channel_30d"], row["email_channel_30d"]) == (1, 1)
    assert (row["email_channel_90d"], row["phone_channel_90d"], row["app_channel_90d"]) == (2, 1, 0)
    assert (row["site_visits_30d"], row["email_clicks_30d"], row["email_opens_30d"]) == (1, 1, 0)
    assert (row["email_opens_90d"], row["calls_90d"], row["calls_30d"]) == (1, 1, 0)
    assert (row["inbound_90d"], row["outbound_90d"]) == (2, 2)
    assert row["inbound_share_90d"] == pytest.approx(0.5)
    assert row["days_since_last_interaction"] == 0


def test_customer_with_only_complaints_and_interactions_has_no_row():
    purchases = f.purchases([("001", "2024-03-01", 10)])
    complaints = f.complaints([("002", "2024-03-01", None, None)])
    interactions = f.interactions([("002", "2024-03-01")])
    frame = build_customer_features(
        f.tables(purchases=purchases, complaints=complaints, interactions=interactions), AS_OF)
    assert frame["customer_id"].tolist() == ["001"]
    row = one(frame, "001")
    assert row["complaints_90d_other"] == 0 and row["nps_detractor"] == 0
    assert row["email_opens_90d"] == 0 and math.isnan(row["last_satisfaction"])


def test_signup_after_the_cutoff_is_unknown():
    purchases = f.purchases([("001", "2024-03-01", 10)])
    master = f.customers([("001", "2024-04-01", "SMB")])
    row = one(build_customer_features(f.tables(purchases=purchases, customers=master), AS_OF),
              "001")
    assert math.isnan(row["account_age_days"])


def test_repeat_complaint_boundary_and_resolution_just_after_the_cutoff():
    purchases = f.purchases([("001", "2024-01-10", 10)])
    complaints = f.complaints([
        ("001", "2024-03-03 10:00", "2024-03-04 10:00", 0.5),
        ("001", "2024-03-17 23:00", "2024-04-01 00:00", 1.0),  # 14 days later; solved after c
        ("001", "2024-03-31 22:00", "2024-03-31 23:59", None),  # 14 days later again
    ])
    row = one(build_customer_features(
        f.tables(purchases=purchases, complaints=complaints), AS_OF), "001")
    assert row["repeat_complaints_365d"] == 2
    assert row["open_complaints"] == 1 and row["oldest_open_complaint_days"] == 14
    # the unanswered ticket was solved on as_of: its survey is still open, so no "no answer"
    assert row["last_satisfaction"] == 0.5 and row["surveyed_no_answer"] == 0
    later = f.complaints([("001", "2024-03-01", None, None), ("001", "2024-03-16", None, None)])
    row = one(build_customer_features(f.tables(purchases=purchases, complaints=later), AS_OF),
              "001")
    assert row["repeat_complaints_365d"] == 0  # 15 days apart


def test_complaint_and_interaction_time_zones_use_utc_days():
    # 01:30 in Amsterdam (CEST, +2) on April 1st is 23:30 UTC on March 31st: inside as_of.
    amsterdam = pd.Timestamp("2024-04-01 01:30", tz="Europe/Amsterdam").tz_convert("UTC")
    # 03:30 in Istanbul (+3) on April 1st is 00:30 UTC on April 1st: after as_of.
    istanbul = pd.Timestamp("2024-04-01 03:30", tz="Europe/Istanbul").tz_convert("UTC")
    purchases = f.purchases([("001", "2024-01-10", 10)])
    complaints = f.complaints([("001", amsterdam.isoformat(), None, None),
                               ("001", istanbul.isoformat(), None, None)])
    interactions = f.interactions([("001", amsterdam.isoformat()), ("001", istanbul.isoformat())])
    row = one(build_customer_features(f.tables(
        purchases=purchases, complaints=complaints, interactions=interactions), AS_OF), "001")
    assert row["complaints_30d"] == 1 and row["days_since_last_complaint"] == 0
    assert row["interactions_30d"] == 1 and row["days_since_last_interaction"] == 0


def test_a_rating_counts_only_once_the_survey_window_after_resolution_has_passed():
    # cut = 2024-04-01 00:00 (end of as_of); a rating is known from resolution + 3 days on
    purchases = f.purchases([("A", "2024-01-10", 10), ("B", "2024-01-10", 10)])
    complaints = f.complaints([
        ("A", "2024-03-20 10:00", "2024-03-28 23:59", 0.0),  # known from 03-31 23:59: in
        ("B", "2024-03-01 10:00", "2024-03-02 10:00", 1.0),
        ("B", "2024-03-20 10:00", "2024-03-29 00:00", 0.0),  # known from 04-01 00:00: not yet
        ("B", "2024-03-21 10:00", "2024-03-30 10:00", None),  # survey still open: no "no answer"
    ])
    frame = build_customer_features(f.tables(purchases=purchases, complaints=complaints), AS_OF)
    a, b = one(frame, "A"), one(frame, "B")
    assert a["last_satisfaction"] == 0.0 and a["rated_bad_not_recovered"] == 1
    assert b["last_satisfaction"] == 1.0 and b["worst_satisfaction_365d"] == 1.0
    assert (b["nps_detractor"], b["rated_bad_not_recovered"]) == (0, 0)
    assert (b["unrated_resolved_365d"], b["surveyed_no_answer"]) == (0, 0)
    # resolutions themselves count at once: 1, 8 + 14/24 and 9 days
    assert b["median_resolution_days_365d"] == pytest.approx(8 + 14 / 24)
