"""Shared pieces: Wilson intervals, period boundaries, the active base at a cutoff."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy.stats import norm

from features.build import to_naive_utc
from features.membership import is_in
from models.analytics.policy import Period


def wilson_interval(successes: np.ndarray | int, trials: np.ndarray | int,
                    confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper Wilson score bounds of successes / trials (NaN where trials = 0).

    Unlike the normal approximation it stays inside [0, 1] and behaves for small groups.
    """
    k = np.asarray(successes, float)
    n = np.asarray(trials, float)
    z = float(norm.ppf(0.5 + confidence / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        phat = k / n
        centre = (phat + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
    low, high = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    empty = n <= 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def period_ends(as_of: dt.date, period: Period, n: int) -> list[dt.date]:
    """The last days of the `n` latest whole periods ending on or before `as_of`, oldest
    first (a period ending on `as_of` itself counts as whole)."""
    months = 1 if period == "month" else 3
    stamp = pd.Timestamp(as_of)
    last = (stamp + pd.offsets.Day(1)).to_period("M" if months == 1 else "Q")
    ends = []
    current = last - 1
    for _ in range(n):
        ends.append(current.end_time.date())
        current = current - 1
    return sorted(ends)


def period_label(day: dt.date | pd.Timestamp, period: Period) -> str:
    """`2026-10` for a month, `2026-Q4` for a quarter."""
    stamp = pd.Timestamp(day)
    return str(stamp.to_period("M")) if period == "month" else str(stamp.to_period("Q"))


#: The purchases' columns `completed_orders` keeps (it reads `status` besides).
ORDER_COLUMNS = ("customer_id", "order_date", "amount", "channel")


def completed_orders(purchases: pd.DataFrame) -> pd.DataFrame:
    """`customer_id, day, amount, channel` of completed orders (naive UTC days)."""
    # the four columns only, before the rows are taken (the others would be copied too), and
    # they keep their Arrow-backed text: through NumPy they would become a Python string per
    # order (20 M of them at a million customers, twice)
    done = purchases.loc[purchases["status"] == "completed", list(ORDER_COLUMNS)]
    return pd.DataFrame({
        "customer_id": done["customer_id"].astype(str),
        "day": to_naive_utc(done["order_date"]).dt.normalize(),
        "amount": done["amount"].astype(float),
        "channel": done["channel"],
    }).reset_index(drop=True)


CustomerCodes = tuple[np.ndarray, pd.Index]


def customer_codes(orders: pd.DataFrame) -> CustomerCodes:
    """Each order's customer as a position in the sorted distinct ids: one pass of hashing
    that every cutoff's active base then reuses (at 20 M orders a distinct-and-sort of the
    ids per cutoff was most of a retention table's time)."""
    codes, ids = pd.factorize(orders["customer_id"], sort=True)
    return codes, pd.Index(ids, dtype=str)


def active_customers(orders: pd.DataFrame, cutoff: dt.date, active_days: int,
                     customers: pd.DataFrame | None = None,
                     coded: CustomerCodes | None = None) -> pd.Series:
    """IDs with a completed order in the `active_days` days up to `cutoff` and, with a
    master, not cancelled on or before `cutoff` (sorted). `coded`: `customer_codes(orders)`,
    for a caller that asks at many cutoffs."""
    stop = pd.Timestamp(cutoff)
    window = (orders["day"] > stop - pd.Timedelta(days=active_days)) & (orders["day"] <= stop)
    codes, distinct = coded if coded is not None else customer_codes(orders)
    seen = np.zeros(len(distinct), bool)
    seen[codes[window.to_numpy()]] = True
    ids = pd.Series(distinct[seen], dtype=str, name="customer_id")  # sorted, as `distinct`
    if customers is not None and len(customers):
        cancel = to_naive_utc(customers["cancelled_at"])
        gone = customers.loc[(cancel <= stop).fillna(False), "customer_id"]
        ids = ids[~is_in(ids, gone.astype(str).unique())].reset_index(drop=True)
    return ids
