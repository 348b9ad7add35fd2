"""Own-history features: usual rates before the recent window and Poisson surprises."""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import pytest

from features.build import build_customer_features
from features.sql import poisson_surprise_sql
from tests import factories as f

AS_OF = dt.date(2024, 3, 31)


def ago(days: int) -> str:
    return (AS_OF - dt.timedelta(days=days)).isoformat() + " 12:00"


def rows_by_customer(frame):
    return {row["customer_id"]: row for _, row in frame.iterrows()}


def test_order_rate_is_measured_before_the_last_90_days_and_compared_with_recent_orders():
    purchases = f.purchases([
        ("001", ago(209), 10), ("001", ago(150), 10), ("001", ago(120), 10),
        ("001", ago(10), 10),
        ("002", ago(150), 10), ("002", ago(5), 10),  # 61 days of baseline: too short
    ])
    rows = rows_by_customer(build_customer_features(f.tables(purchases=purchases), AS_OF))
    row = rows["001"]
    # 3 orders aged >= 90 days over the 209 - 90 + 1 = 120 days from the first order
    assert row["usual_orders_per_30d"] == pytest.approx(30 * 3 / 120)
    assert row["orders_90d_vs_usual"] == pytest.approx(1 / 2.25)
    # P(Poisson(0.75) <= 1) = e^-0.75 (1 + 0.75); P(Poisson(2.25) <= 1) = e^-2.25 (1 + 2.25)
    assert row["orders_surprise_30d"] == pytest.approx(0.75 - math.log(1.75))
    assert row["orders_surprise_90d"] == pytest.approx(2.25 - math.log(3.25))
    assert row["order_silence_surprise"] == pytest.approx(10 * 0.75 / 30)
    short = rows["002"]
    for name in ("usual_orders_per_30d", "orders_90d_vs_usual", "orders_surprise_30d",
                 "orders_surprise_90d", "order_silence_surprise"):
        assert math.isnan(short[name]), name


def test_interaction_surprises_use_the_rate_before_the_last_60_days():
    purchases = f.purchases([("001", ago(30), 10), ("002", ago(30), 10), ("003", ago(30), 10)])
    interactions = f.interactions([
        ("001", ago(179)), ("001", ago(100)), ("001", ago(70)), ("001", ago(40)),
        ("002", ago(50)), ("002", ago(5)),  # no history before the window: no baseline
    ])
    frame = build_customer_features(
        f.tables(purchases=purchases, interactions=interactions), AS_OF)
    rows = rows_by_customer(frame)
    per_day = 3 / (179 - 60 + 1)  # 3 interactions aged >= 60 days over 120 days
    row = rows["001"]
    assert row["interactions_surprise_30d"] == pytest.approx(30 * per_day)  # none: -ln e^-0.75
    assert row["interactions_surprise_60d"] == pytest.approx(60 * per_day - math.log(2.5))
    assert row["interaction_silence_surprise"] == pytest.approx(40 * per_day)
    for customer in ("002", "003"):  # too short a history, or no interactions at all
        for name in ("interactions_surprise_30d", "interactions_surprise_60d",
                     "interaction_silence_surprise"):
            assert rows[customer][name] == 0, (customer, name)


@pytest.mark.parametrize(("count", "expected", "surprise"), [
    (0, 900.0, 900.0),  # e^-900 underflows a double; the log-space sum does not
    (2, 0.5, -math.log(math.exp(-0.5) * (1 + 0.5 + 0.125))),
    (40, 2.0, 0.0),  # far more than usual: no surprise, never negative
])
def test_poisson_surprise_is_stable_and_non_negative(count, expected, surprise):
    value = duckdb.sql(f"SELECT {poisson_surprise_sql(str(count), str(expected))}").fetchall()
    assert value[0][0] == pytest.approx(surprise, abs=1e-12)
