"""The point-in-time cut the analytics share: later rows gone, and the source tables untouched."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from models.analytics.policy import end_of_day, point_in_time, rows_before
from tests import factories as f


def _events() -> pd.DataFrame:
    return pd.DataFrame({
        "at": pd.to_datetime(["2024-01-01", "2024-01-02", None, "2024-01-03"], utc=True),
        "amount": [1.0, 2.0, 3.0, 4.0]})


def test_rows_before_drops_later_and_undated_rows():
    kept = rows_before(_events(), "at", end_of_day(dt.date(2024, 1, 2)))
    assert kept["amount"].tolist() == [1.0, 2.0]


def test_rows_before_shares_a_frame_that_is_all_known_but_never_lets_an_edit_through():
    events = _events().dropna()
    kept = rows_before(events, "at", end_of_day(dt.date(2024, 1, 5)))
    assert kept["amount"].tolist() == [1.0, 2.0, 4.0]
    kept.loc[kept["amount"] > 1, "amount"] = 0.0  # what an analytic may do to its cut
    kept["new"] = 1
    assert events["amount"].tolist() == [1.0, 2.0, 4.0]
    assert "new" not in events


def test_point_in_time_hides_later_resolutions_without_touching_the_tables():
    tables = f.tables(purchases=f.purchases([("C1", "2024-01-01", 10.0)]),
                      complaints=f.complaints([("C1", "2024-01-01", "2024-03-01", 0.9)]))
    before = tables.complaints.copy()
    known = point_in_time(tables, dt.date(2024, 2, 1))
    assert known.complaints["resolved_at"].isna().all()
    assert known.complaints["satisfaction"].isna().all()
    pd.testing.assert_frame_equal(tables.complaints, before)
