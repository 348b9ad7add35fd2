"""Renewals of a contractual business: each customer's billing period and the renewals due
after a cutoff that were never paid.

A renewal falls due one billing period (calendar months, as billing systems count them: the
31st renews on the last day of a shorter month) after the previous one, starting from the
customer's last completed payment on or before the cutoff. It counts as paid by a completed
payment from `RENEWAL_EARLY_DAYS` before to `RENEWAL_GRACE_DAYS` after its due day (payment
retries, dunning); the next one falls due a period after the due day, not after the payment,
as the billing anchor stays. A renewal can only be judged when its grace ends inside the label
window, which is why a label window must be longer than a billing period plus the grace: a
shorter one would call the customer who paid on the cutoff day a churner.

A customer whose renewal was already overdue at the cutoff and is still unpaid when its grace
ends counts as churned: lapsed without a recorded cancellation (with one, they are no longer
eligible at all).

The billing period of a customer at c: the `billing_period` of their latest subscription
started by c; else the period their own payments repeat at (median of the last intervals, a
calendar period within 15 %); else the business's most common one; else a month.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features.contracts import BILLING_PERIOD_MONTHS
from features.membership import is_in

RENEWAL_EARLY_DAYS = 3  # a renewal paid a few days early (a card updated, an invoice paid ahead)
RENEWAL_GRACE_DAYS = 14  # dunning: retries of a failed payment within two weeks
_DAYS_PER_MONTH = 30.44
_CADENCE_TOLERANCE = 0.15
_RECENT_INTERVALS = 4


def _naive_days(series: pd.Series) -> pd.Series:
    from features.build import to_naive_utc

    return to_naive_utc(series).dt.normalize()


def cadence_months(purchases: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """`customer_id -> months` for customers whose completed payments up to `as_of` repeat at
    a billing period (median of their last intervals within 15 % of 1, 3, 6 or 12 months)."""
    done = purchases.loc[purchases["status"] == "completed", ["customer_id", "order_date"]]
    day = _naive_days(done["order_date"])
    done = done.assign(day=day)[day < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    done = done.drop_duplicates(["customer_id", "day"]).sort_values(["customer_id", "day"])
    gaps = done.groupby("customer_id")["day"].diff().dt.days
    recent = gaps.groupby(done["customer_id"]).tail(_RECENT_INTERVALS)
    median = recent.groupby(done.loc[recent.index, "customer_id"]).median().dropna()
    months = pd.Series(np.nan, index=median.index)
    for period in sorted(set(BILLING_PERIOD_MONTHS.values())):
        length = period * _DAYS_PER_MONTH
        months[(median - length).abs() <= _CADENCE_TOLERANCE * length] = period
    return months.dropna().astype(int)


def subscription_months(subscriptions: pd.DataFrame | None, as_of: dt.date) -> pd.Series:
    """`customer_id -> months` from the billing period of each customer's latest subscription
    started by the end of `as_of` (empty without subscriptions)."""
    if subscriptions is None or not len(subscriptions):
        return pd.Series(dtype=int)
    started = _naive_days(subscriptions["started_at"])
    known = subscriptions[(started < pd.Timestamp(as_of) + pd.Timedelta(days=1))
                          & subscriptions["billing_period"].notna()]
    latest = known.assign(_start=started).sort_values("_start").groupby("customer_id").last()
    return latest["billing_period"].map(BILLING_PERIOD_MONTHS).astype(int)


def billing_months(customers: pd.Series, purchases: pd.DataFrame, as_of: dt.date,
                   subscriptions: pd.DataFrame | None = None) -> pd.Series:
    """Billing period in months of each of `customers` at `as_of` (see the module doc)."""
    by_subscription = subscription_months(subscriptions, as_of)
    by_cadence = cadence_months(purchases, as_of)
    known = pd.concat([by_cadence, by_subscription])
    known = known[~known.index.duplicated(keep="last")]  # a subscription's period wins
    usual = int(known.mode().iloc[0]) if len(known) else 1
    return customers.map(known).fillna(usual).astype(int)


def _plus_months(days: pd.Series, months: pd.Series) -> pd.Series:
    """Each day plus its number of calendar months (clipped to the month's last day)."""
    out = pd.Series(pd.NaT, index=days.index, dtype=days.dtype)
    for count in months.unique():
        rows = months == count
        out[rows] = days[rows] + pd.DateOffset(months=int(count))
    return out


def unpaid_renewal(customers: pd.Series, purchases: pd.DataFrame, as_of: dt.date,
                   window_end: dt.date, months: pd.Series) -> pd.Series:
    """True for each of `customers` with a renewal due after its last payment by `as_of` whose
    grace ended by `window_end` unpaid. `months`: each customer's billing period (same index).
    Payments after `window_end` are never read."""
    done = purchases.loc[purchases["status"] == "completed", ["customer_id", "order_date"]]
    day = _naive_days(done["order_date"])
    end = pd.Timestamp(window_end) + pd.Timedelta(days=1)
    paid = pd.DataFrame({"customer_id": done["customer_id"].astype(str), "day": day})
    paid = paid[(day < end) & is_in(paid["customer_id"], customers.unique())]
    cut = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    last = paid[paid["day"] < cut].groupby("customer_id")["day"].max()
    later = paid[paid["day"] >= cut].drop_duplicates().sort_values("day")
    ids = customers.astype(str)
    state = pd.DataFrame({"customer_id": ids.to_numpy(), "months": months.to_numpy()},
                         index=customers.index)
    state["due"] = _plus_months(ids.map(last), state["months"])
    state["after"] = pd.Timestamp(as_of)  # only payments after this day settle a renewal
    unpaid = pd.Series(False, index=customers.index)
    pending = state["due"].notna()
    grace, early = pd.Timedelta(days=RENEWAL_GRACE_DAYS), pd.Timedelta(days=RENEWAL_EARLY_DAYS)
    while pending.any():
        pending &= state["due"] + grace < end  # a renewal whose grace runs past the window waits
        if not pending.any():
            break
        rows = state[pending]
        start = np.maximum(rows["due"] - early, rows["after"] + pd.Timedelta(days=1))
        probe = pd.DataFrame({"customer_id": rows["customer_id"], "start": start,
                              "row": rows.index}).sort_values("start")
        found = pd.merge_asof(probe, later.rename(columns={"day": "paid"}), left_on="start",
                              right_on="paid", by="customer_id", direction="forward")
        found = found.set_index("row").reindex(rows.index)
        settled = found["paid"].notna() & (found["paid"] <= rows["due"] + grace)
        missed = rows.index[~settled]
        unpaid[missed] = True
        pending[missed] = False
        kept = rows.index[settled]
        state.loc[kept, "after"] = found.loc[kept, "paid"]
        state.loc[kept, "due"] = _plus_months(rows.loc[kept, "due"], rows.loc[kept, "months"])
    return unpaid


def subscription_cancelled(customers: pd.Series, subscriptions: pd.DataFrame | None,
                           as_of: dt.date, window_end: dt.date) -> pd.Series:
    """True for each of `customers` whose subscriptions stop in (as_of, window_end]: one is
    cancelled or ends in that window and none is still running at its end (a plan switch that
    ends one subscription and starts another is no churn)."""
    if subscriptions is None or not len(subscriptions):
        return pd.Series(False, index=customers.index)
    subs = subscriptions
    start, stop = pd.Timestamp(as_of) + pd.Timedelta(days=1), \
        pd.Timestamp(window_end) + pd.Timedelta(days=1)
    started = _naive_days(subs["started_at"])
    ended, cancelled = _naive_days(subs["ended_at"]), _naive_days(subs["cancelled_at"])
    stopped = ended.where(cancelled.isna() | (ended < cancelled), cancelled)  # the earlier
    stops_in_window = (stopped >= start) & (stopped < stop)
    running_at_end = (started < stop) & (stopped.isna() | (stopped >= stop))
    gone = set(subs.loc[stops_in_window, "customer_id"]) - set(
        subs.loc[running_at_end, "customer_id"])
    return pd.Series(is_in(customers, gone), index=customers.index)


def subscription_stopped_by(subscriptions: pd.DataFrame | None, as_of: dt.date) -> set[str]:
    """Customers whose every subscription started by `as_of` was cancelled or ended by then:
    no longer customers at `as_of` (not eligible for a label)."""
    if subscriptions is None or not len(subscriptions):
        return set()
    cut = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    started = _naive_days(subscriptions["started_at"])
    ended = _naive_days(subscriptions["ended_at"])
    cancelled = _naive_days(subscriptions["cancelled_at"])
    stopped = ended.where(cancelled.isna() | (ended < cancelled), cancelled)
    seen = started < cut
    running = seen & (stopped.isna() | (stopped >= cut))
    return set(subscriptions.loc[seen, "customer_id"]) - set(
        subscriptions.loc[running, "customer_id"])


def subscriptions_known_at(subscriptions: pd.DataFrame | None, stop: pd.Timestamp
                           ) -> pd.DataFrame | None:
    """Subscriptions started before `stop`, their later cancellations and ends unknown (the
    renewal labels need their billing periods: a yearly plan is not an unpaid monthly one)."""
    if subscriptions is None:
        return None
    known = subscriptions[subscriptions["started_at"] < stop].copy()
    for column in ("cancelled_at", "ended_at"):
        if column in known:
            known.loc[known[column] >= stop, column] = pd.NaT
    return known
