"""First-purchase cohorts: customers by the month of their first completed order x months
since, as customer retention and as revenue retention.

- customer retention (cohort, k) = share of the cohort's customers with a completed order in
  calendar month k after their first (k = 0 is the first month itself: 100 %);
- revenue retention (cohort, k) = the cohort's completed revenue in month k / its revenue in
  month 0. Because repeat buyers who spend more make up for those who left, it is a net
  revenue retention and can exceed 100 %.
A month that has not ended by the as-of date is incomplete: its cells are left empty (NaN)
rather than shown as a drop; every cohort still counts in `cohort_customers`, so the cohort
sizes add up to the customers with a completed order on or before the as-of date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features.sources import SourceTables
from models.analytics.policy import AnalyticsPolicy, point_in_time
from models.analytics.rates import completed_orders

COHORT_COLUMNS = ["cohort", "months_since", "cohort_customers", "active_customers",
                  "customer_retention", "revenue", "revenue_retention", "complete"]


def cohort_table(tables: SourceTables, as_of: dt.date,
                 policy: AnalyticsPolicy | None = None) -> pd.DataFrame:
    """COHORT_COLUMNS: one row per cohort (`YYYY-MM`) x months since 0..cohort_months, for
    months that have started by `as_of`; `complete` says whether month k had ended."""
    policy = policy or AnalyticsPolicy()
    orders = completed_orders(point_in_time(tables, as_of).purchases)
    if orders.empty:
        return pd.DataFrame(columns=COHORT_COLUMNS)
    month = orders["day"].dt.to_period("M")
    first = month.groupby(orders["customer_id"]).transform("min")
    since = (month - first).map(lambda offset: offset.n).astype(int)
    frame = pd.DataFrame({"cohort": first.astype(str), "months_since": since,
                          "customer_id": orders["customer_id"], "amount": orders["amount"]})
    sizes = frame.drop_duplicates("customer_id").groupby("cohort").size()
    cells = frame[frame["months_since"] <= policy.cohort_months].groupby(
        ["cohort", "months_since"]).agg(active_customers=("customer_id", "nunique"),
                                        revenue=("amount", "sum"))
    as_of_month = pd.Period(as_of, "M")
    last_complete = as_of_month if (pd.Timestamp(as_of) + pd.Timedelta(days=1)).day == 1 \
        else as_of_month - 1
    grid = [(cohort, k) for cohort in sizes.index for k in range(policy.cohort_months + 1)
            if pd.Period(cohort, "M") + k <= as_of_month]
    out = cells.reindex(pd.MultiIndex.from_tuples(grid, names=["cohort", "months_since"]),
                        fill_value=0).reset_index()
    out["cohort_customers"] = out["cohort"].map(sizes).astype(int)
    out["complete"] = [pd.Period(c, "M") + k <= last_complete
                       for c, k in zip(out["cohort"], out["months_since"], strict=True)]
    base_revenue = out[out["months_since"] == 0].set_index("cohort")["revenue"]
    out["customer_retention"] = out["active_customers"] / out["cohort_customers"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["revenue_retention"] = out["revenue"] / out["cohort"].map(base_revenue)
    out.loc[~out["complete"], ["customer_retention", "revenue_retention"]] = np.nan
    return out[COHORT_COLUMNS].sort_values(["cohort", "months_since"]).reset_index(drop=True)


def cohort_matrix(cohorts: pd.DataFrame, value: str) -> pd.DataFrame:
    """Cohorts as rows, months since as columns, `value` in the cells (the heat map)."""
    return cohorts.pivot(index="cohort", columns="months_since", values=value)
