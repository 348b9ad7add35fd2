"""Churn labels: what happens strictly after the cutoff.

Two definitions, chosen per business:
- `no_purchase` (non-contractual retail, the default): an eligible customer makes no completed
  purchase with a date in (c + g, c + g + H], or cancels with a date in (c, c + g + H].
- `cancellation` (contractual): the customer master records a cancellation dated in
  (c, c + g + H]; purchases do not matter.
H is the horizon and g an optional gap (days between cutoff and label window, e.g. the time a
retention action needs).
Eligible at c: at least one completed purchase on or before c and not cancelled by then.
The label window's last day is included; the cutoff day itself belongs to the features.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from features.build import as_date, to_naive_utc

CHURN_DEFINITIONS = ("no_purchase", "cancellation")


class CensoredCutoffError(ValueError):
    """The label window of a cutoff runs past the end of the data, so its labels are unknown."""


def label_window_end(as_of: dt.date, horizon_days: int, gap_days: int = 0) -> dt.date:
    """Last calendar day of the label window of cutoff `as_of`."""
    return as_date(as_of) + dt.timedelta(days=gap_days + horizon_days)


def churn_labels(
    eligible_customers: pd.Series,
    purchases: pd.DataFrame,
    as_of: dt.date | str,
    horizon_days: int,
    *,
    data_end: dt.date | str,
    customers: pd.DataFrame | None = None,
    gap_days: int = 0,
    definition: str = "no_purchase",
) -> pd.DataFrame:
    """`customer_id, churned` (0/1) for the given eligible customers at `as_of`.

    Raises `CensoredCutoffError` when the window ends after `data_end`, the last day the data
    covers: an unseen future must never be read as "no purchase".
    """
    if definition not in CHURN_DEFINITIONS:
        raise ValueError(f"unknown churn definition {definition!r}; use one of {CHURN_DEFINITIONS}")
    has_master = customers is not None and "cancelled_at" in customers
    if definition == "cancellation" and not has_master:
        raise ValueError(
            "the 'cancellation' churn definition needs a customer master with cancelled_at; "
            "supply a customers export or use the 'no_purchase' definition"
        )
    as_of = as_date(as_of)
    window_end = label_window_end(as_of, horizon_days, gap_days)
    if window_end > as_date(data_end):
        raise CensoredCutoffError(
            f"cutoff {as_of} needs data up to {window_end} for a {horizon_days}-day label, "
            f"but the data ends on {as_date(data_end)}"
        )
    start = pd.Timestamp(as_of + dt.timedelta(days=gap_days + 1))
    stop = pd.Timestamp(window_end + dt.timedelta(days=1))
    order_day = to_naive_utc(purchases["order_date"])
    in_window = (order_day >= start) & (order_day < stop) & (purchases["status"] == "completed")
    bought = set(purchases.loc[in_window, "customer_id"])
    if definition == "cancellation":
        churned = pd.Series(False, index=eligible_customers.index)
    else:
        churned = ~eligible_customers.isin(bought)
    if customers is not None and has_master and len(customers):
        cancel_day = to_naive_utc(customers["cancelled_at"])
        after = pd.Timestamp(as_of + dt.timedelta(days=1))
        cancelled = customers.loc[(cancel_day >= after) & (cancel_day < stop), "customer_id"]
        churned |= eligible_customers.isin(set(cancelled))
    return pd.DataFrame(
        {"customer_id": eligible_customers.to_numpy(), "churned": churned.astype(int).to_numpy()}
    )
