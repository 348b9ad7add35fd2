"""Churners who were still customers: paid again after the window, or never cancelled."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from features.label_checks import REFUSE_SHARE, churners_still_customers
from features.labels import LabelSpec
from tests import factories as f

SPEC = LabelSpec(horizon_days=30)
END = dt.date(2024, 12, 31)


def model_input(rows):
    return pd.DataFrame(rows, columns=["customer_id", "cutoff", "churned"]).assign(
        cutoff=lambda d: pd.to_datetime(d["cutoff"]))


def test_a_churner_who_paid_at_the_cutoff_and_renewed_later_is_still_a_customer():
    purchases = f.purchases([("A", "2024-03-31", 19), ("A", "2024-05-01", 19),
                             ("B", "2024-02-10", 19)])
    frame = model_input([("A", "2024-03-31", 1), ("B", "2024-03-31", 1), ("C", "2024-03-31", 0)])
    check = churners_still_customers(frame, purchases, SPEC, END)
    assert (check.churners, check.paid_again, check.still_customers, check.paid_at_cutoff) == (
        2, 1, 1, 1)
    assert check.never_cancelled is None and check.share == 0.5 and check.contradicts
    assert check.message().startswith("50% of the churners (1 of 2 on 1 cutoff(s)) were still")


def test_with_recorded_cancellations_a_churner_who_never_cancelled_counts():
    purchases = f.purchases([("A", "2024-03-01", 19), ("B", "2024-03-01", 19)])
    master = f.customers([("A", "2024-01-01", "SMB", "2024-04-10"), ("B", "2024-01-01", "SMB")])
    frame = model_input([("A", "2024-03-31", 1), ("B", "2024-03-31", 1)])
    check = churners_still_customers(frame, purchases, SPEC, END, customers=master)
    assert (check.never_cancelled, check.still_customers) == (1, 1)
    assert "1 never cancelled" in check.message()


def test_cutoffs_without_data_after_their_window_are_not_checked():
    purchases = f.purchases([("A", "2024-12-01", 19)])
    frame = model_input([("A", "2024-11-30", 1)])
    check = churners_still_customers(frame, purchases, SPEC, END)
    assert check.cutoffs == () and not check.contradicts
    assert "cannot be checked" in check.message() and 0 < REFUSE_SHARE < 1
