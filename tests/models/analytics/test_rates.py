"""The active base at a cutoff: the same customers with codes made once or per call."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from models.analytics.rates import active_customers, completed_orders, customer_codes
from tests import factories as f


@settings(max_examples=60, deadline=None)
@given(orders=st.lists(st.tuples(st.sampled_from(["b", "A", "ç", "a1", "B"]),
                                 st.integers(0, 400), st.sampled_from(["completed", "returned"])),
                       min_size=1, max_size=30),
       cancelled=st.dictionaries(st.sampled_from(["b", "A", "ç"]), st.integers(0, 400)),
       cutoff_day=st.integers(0, 400), active_days=st.integers(30, 200))
def test_active_customers_are_the_plain_definition(orders, cancelled, cutoff_day, active_days):
    start = pd.Timestamp("2024-01-01")
    day = lambda d: str(start + pd.Timedelta(days=d))  # noqa: E731
    purchases = f.purchases([(c, day(d), 10.0, s) for c, d, s in orders])
    master = f.customers([(c, "2023-01-01", "SMB", day(cancelled[c]) if c in cancelled else None)
                          for c in sorted({c for c, _, _ in orders})])
    done = completed_orders(purchases)
    cutoff = (start + pd.Timedelta(days=cutoff_day)).date()
    stop = pd.Timestamp(cutoff)
    expected = sorted(
        c for c, d, s in orders if s == "completed"
        and stop - pd.Timedelta(days=active_days) < start + pd.Timedelta(days=d) <= stop
        and not (c in cancelled and start + pd.Timedelta(days=cancelled[c]) <= stop))
    expected = sorted(set(expected))
    once = customer_codes(done)
    for coded in (None, once):
        got = active_customers(done, cutoff, active_days, master, coded)
        assert got.tolist() == expected and got.name == "customer_id"


def test_no_order_in_the_window_is_an_empty_base():
    done = completed_orders(f.purchases([("A", "2024-01-01", 5.0)]))
    assert active_customers(done, dt.date(2025, 6, 1), 30).tolist() == []
