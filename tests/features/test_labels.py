"""Label windows: (c, c + H], eligibility, cancellation and censoring."""

from __future__ import annotations

import pandas as pd
import pytest

from features.labels import CensoredCutoffError, LabelSpec, churn_labels
from tests import factories as f

CUTOFF = "2024-03-31"


def labels_for(purchases, customers=None, horizon=30, gap=0, data_end="2024-12-31"):
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
        labels_for(purchases, data_end="2024-04-29")
    assert labels_for(purchases, data_end="2024-04-30") == {"A": 1}


def test_contractual_definition_counts_only_cancellations():
    purchases = f.purchases([("A", "2024-03-01", 1), ("B", "2024-03-01", 1),
                             ("C", "2024-03-01", 1), ("C", "2024-04-10", 1)])
    master = f.customers([("A", "2023-01-01", "SMB", "2024-04-30 22:00"),  # last window day
                          ("B", "2023-01-01", "SMB", "2024-05-01"),        # day after: no
                          ("C", "2023-01-01", "SMB", "2024-04-20")])       # bought, cancelled
    eligible = pd.Series(["A", "B", "C"])
    out = churn_labels(eligible, purchases, CUTOFF,
                       LabelSpec(definition="cancellation", horizon_days=30),
                       data_end="2024-12-31", customers=master)
    assert out["churned"].tolist() == [1, 0, 1]


def test_contractual_definition_needs_a_customer_master():
    purchases = f.purchases([("A", "2024-03-01", 1)])
    with pytest.raises(ValueError, match="needs a customer master"):
        churn_labels(pd.Series(["A"]), purchases, CUTOFF,
                     LabelSpec(definition="cancellation", horizon_days=30),
                     data_end="2024-12-31")
    with pytest.raises(ValueError, match="'no_purchase' or 'cancellation'"):
        LabelSpec(definition="lapsed", horizon_days=30)


def test_gap_also_delays_censoring():
    purchases = f.purchases([("A", "2024-03-01", 1)])
    with pytest.raises(CensoredCutoffError, match="needs data up to 2024-05-07"):
        labels_for(purchases, gap=7, data_end="2024-05-06")
