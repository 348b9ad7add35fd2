"""Label windows: (c + g, c + g + H], eligibility, cancellation, censoring, and LabelSpec."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from features.labels import CensoredCutoffError, LabelSpec, churn_labels, window_buyers
from tests import factories as f

CUTOFF = dt.date(2024, 3, 31)


def labels_for(purchases, customers=None, horizon=30, gap=0, data_end=dt.date(2024, 12, 31)):
    eligible = pd.Series(sorted(set(purchases["customer_id"])))
    out = churn_labels(eligible, purchases, CUTOFF, LabelSpec(horizon_days=horizon, gap_days=gap),
                       data_end=data_end, customers=customers)
    return dict(zip(out["customer_id"], out["churned"], strict=True))


def test_purchase_on_the_last_window_day_counts_and_the_day_after_does_not():
    purchases = f.purchases([
        ("A", "2024-03-01", 1), ("A", "2024-04-30 23:00", 1),   # c + 30 = 2024-04-30
        ("B", "2024-03-01", 1), ("B", "2024-05-01 00:00", 1),
    ])
    assert labels_for(purchases) == {"A": 0, "B": 1}


def test_purchase_on_the_cutoff_day_belongs_to_features_not_the_label():
    purchases = f.purchases([("A", "2024-03-01", 1), ("A", "2024-03-31 20:00", 1)])
    assert labels_for(purchases) == {"A": 1}


def test_cancelled_and_returned_orders_are_not_purchases():
    purchases = f.purchases([
        ("A", "2024-03-01", 1), ("A", "2024-04-10", 1, "cancelled"),
        ("B", "2024-03-01", 1), ("B", "2024-04-10", 1, "returned"),
    ])
    assert labels_for(purchases) == {"A": 1, "B": 1}


def test_cancellation_inside_the_window_is_churn_even_with_a_purchase():
    purchases = f.purchases([("A", "2024-03-01", 1), ("A", "2024-04-10", 1)])
    master = f.customers([("A", "2023-01-01", "SMB", "2024-04-20")])
    assert labels_for(purchases, customers=master) == {"A": 1}


def test_gap_moves_the_window():
    purchases = f.purchases([("A", "2024-03-01", 1), ("A", "2024-04-05", 1)])
    assert labels_for(purchases, gap=7) == {"A": 1}  # window starts 2024-04-08
    assert labels_for(purchases, gap=0) == {"A": 0}


def test_window_past_the_data_end_is_censored():
    purchases = f.purchases([("A", "2024-03-01", 1)])
    with pytest.raises(CensoredCutoffError, match="data ends on 2024-04-29"):
        labels_for(purchases, data_end=dt.date(2024, 4, 29))
    assert labels_for(purchases, data_end=dt.date(2024, 4, 30)) == {"A": 1}


def test_contractual_definition_counts_only_cancellations():
    purchases = f.purchases([("A", "2024-03-01", 1), ("B", "2024-03-01", 1),
                             ("C", "2024-03-01", 1), ("C", "2024-04-10", 1)])
    master = f.customers([("A", "2023-01-01", "SMB", "2024-04-30 22:00"),  # last window day
                          ("B", "2023-01-01", "SMB", "2024-05-01"),        # day after: no
                          ("C", "2023-01-01", "SMB", "2024-04-20")])       # bought, cancelled
    eligible = pd.Series(["A", "B", "C"])
    out = churn_labels(eligible, purchases, CUTOFF,
                       LabelSpec(definition="cancellation", horizon_days=30),
                       data_end=dt.date(2024, 12, 31), customers=master)
    assert out["churned"].tolist() == [1, 0, 1]


def test_contractual_definition_needs_a_customer_master():
    purchases = f.purchases([("A", "2024-03-01", 1)])
    with pytest.raises(ValueError, match="needs a customer master"):
        churn_labels(pd.Series(["A"]), purchases, CUTOFF,
                     LabelSpec(definition="cancellation", horizon_days=30),
                     data_end=dt.date(2024, 12, 31))
    with pytest.raises(ValueError, match="'no_purchase', 'cancellation' or 'renewal'"):
        LabelSpec(definition="lapsed", horizon_days=30)


def test_gap_also_delays_censoring():
    purchases = f.purchases([("A", "2024-03-01", 1)])
    with pytest.raises(CensoredCutoffError, match="needs data up to 2024-05-07"):
        labels_for(purchases, gap=7, data_end=dt.date(2024, 5, 6))


def test_a_cancellation_during_the_gap_is_churn_under_both_definitions():
    purchases = f.purchases([("A", "2024-03-01", 1), ("A", "2024-04-20", 1)])  # bought in window
    master = f.customers([("A", "2023-01-01", "SMB", "2024-04-03")])  # cancelled in the gap
    assert labels_for(purchases, customers=master, gap=7) == {"A": 1}
    out = churn_labels(pd.Series(["A"]), purchases, CUTOFF,
                       LabelSpec(definition="cancellation", horizon_days=30, gap_days=7),
                       data_end=dt.date(2024, 12, 31), customers=master)
    assert out["churned"].tolist() == [1]


def test_label_spec_defaults_are_the_retail_definition():
    spec = LabelSpec()
    assert (spec.definition, spec.horizon_days, spec.gap_days) == ("no_purchase", 90, 0)
    assert spec.span_days == 90 and spec.file_tag == "h90"


def test_label_spec_window_arithmetic():
    spec = LabelSpec(horizon_days=30, gap_days=7)
    cutoff = dt.date(2024, 3, 31)
    assert spec.span_days == 37
    assert spec.window_start(cutoff) == dt.date(2024, 4, 8)  # c + g + 1: first counted day
    assert spec.window_end(cutoff) == dt.date(2024, 5, 7)  # c + g + H: last counted day
    assert spec.cancellation_start(cutoff) == dt.date(2024, 4, 1)  # c + 1, gap or not
    assert spec.last_labelled_cutoff(dt.date(2024, 5, 7)) == cutoff
    assert spec.is_labelled(cutoff, dt.date(2024, 5, 7))
    assert not spec.is_labelled(cutoff, dt.date(2024, 5, 6))
    assert LabelSpec(horizon_days=30).window_start(cutoff) == dt.date(2024, 4, 1)


def test_label_spec_file_tag_keeps_the_snapshot_names():
    assert LabelSpec(horizon_days=60).file_tag == "h60"
    assert LabelSpec(gap_days=30).file_tag == "h90_g30"
    assert LabelSpec(definition="cancellation", horizon_days=60).file_tag == "h60_cancellation"
    assert LabelSpec(definition="cancellation", gap_days=14).file_tag == "h90_g14_cancellation"


def test_label_spec_is_validated_frozen_and_equal_by_value():
    for bad in ({"horizon_days": 6}, {"gap_days": -1}, {"horizon": 90}, {"definition": ""}):
        with pytest.raises(ValidationError):
            LabelSpec(**bad)
    spec = LabelSpec(definition="cancellation", gap_days=30)
    with pytest.raises(ValidationError):
        spec.gap_days = 0
    assert spec.model_dump() == {"definition": "cancellation", "horizon_days": 90, "gap_days": 30}
    again = LabelSpec.model_validate(spec.model_dump())
    assert again == spec and hash(again) == hash(spec)
    assert spec != LabelSpec(gap_days=30)


_STATUSES = ("completed", "completed", "cancelled", "returned")


def _coded_completed(purchases: pd.DataFrame):
    done = purchases[purchases["status"] == "completed"]
    codes, ids = pd.factorize(done["customer_id"], sort=True)
    return done["order_date"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(), codes, ids


@settings(max_examples=40, deadline=None)
@given(orders=st.lists(st.tuples(st.sampled_from("ABCDEF"), st.integers(0, 400),
                                 st.integers(0, 23), st.sampled_from(_STATUSES)),
                       min_size=1, max_size=40),
       cancels=st.dictionaries(st.sampled_from("ABCDEF"), st.integers(0, 400), max_size=3),
       horizon=st.integers(30, 120), gap=st.integers(0, 20),
       offsets=st.lists(st.integers(0, 200), min_size=1, max_size=6, unique=True),
       whole_days=st.booleans())
def test_buyers_from_coded_orders_give_the_labels_the_orders_give(
        orders, cancels, horizon, gap, offsets, whole_days):
    """`window_buyers` spares each cutoff its scan of the orders, never changes a label:
    orders on the window's edges, refunds and cancellations included, from timestamps or
    from their days."""
    start = dt.date(2024, 1, 1)
    purchases = f.purchases([(c, f"{start + dt.timedelta(days=d)} {h:02d}:00", 1, status)
                             for c, d, h, status in orders])
    master = f.customers([(c, "2023-01-01", "SMB",
                           str(start + dt.timedelta(days=cancels[c])) if c in cancels else None)
                          for c in "ABCDEF"])
    spec = LabelSpec(horizon_days=horizon, gap_days=gap)
    days, codes, ids = _coded_completed(purchases)
    if whole_days:
        days = days.astype("datetime64[D]").astype(days.dtype)
    eligible = pd.Series(list("ABCDEF"))
    end = dt.date(2026, 1, 1)
    for cutoff in (start + dt.timedelta(days=o) for o in offsets):
        expected = churn_labels(eligible, purchases, cutoff, spec, data_end=end, customers=master)
        buyers = window_buyers(days, codes, ids, cutoff, spec)
        got = churn_labels(eligible, purchases.iloc[:0], cutoff, spec, data_end=end,
                           customers=master, buyers=buyers)
        pd.testing.assert_frame_equal(got, expected)


def test_the_window_buyers_are_the_completed_orders_in_the_window():
    purchases = f.purchases([("B", "2024-04-20", 1), ("D", "2024-04-02", 1, "returned"),
                             ("A", "2024-04-01 00:00", 1), ("C", "2024-03-31 23:59", 1),
                             ("E", "2024-05-01", 1)])
    buyers = window_buyers(*_coded_completed(purchases), CUTOFF, LabelSpec(horizon_days=30))
    assert sorted(buyers) == ["A", "B"]
