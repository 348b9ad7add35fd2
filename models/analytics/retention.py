"""Churn and retention rates per period, for the whole base and by dimension.

The rate of a period is measured at its last day c: of the customers active at c (a
completed order in the `active_days` up to c and not cancelled by then), the share who
churned by the model's definition (`LabelSpec` through `churn_labels`: by default no
completed order in (c, c + 90 days] or a cancellation in that window). Retention = 1 - churn.
Only periods whose label window has ended by the as-of date are shown (no censoring).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features.labels import churn_labels, window_buyers
from features.membership import is_in
from features.sources import SourceTables
from models.analytics.policy import AnalyticsPolicy, point_in_time
from models.analytics.rates import (
    active_customers,
    completed_orders,
    customer_codes,
    period_ends,
    period_label,
    wilson_interval,
)
from models.segments import rfm_scores, rfm_segment

DIMENSIONS = ("all", "rfm_segment", "master_segment", "region", "first_channel", "tenure_band")
UNKNOWN = "(unknown)"
RATE_COLUMNS = ["period", "cutoff", "dimension", "group", "customers", "churned", "churn_rate",
                "retention_rate", "ci_low", "ci_high"]


def tenure_band(days: pd.Series, edges: tuple[int, ...]) -> pd.Series:
    """`0-90`, `90-365`, ..., `730+` (days since the first purchase; lower edge included)."""
    labels = [f"{lo}-{hi}" for lo, hi in zip((0, *edges[:-1]), edges, strict=True)]
    labels.append(f"{edges[-1]}+")
    bins = [-np.inf, *edges, np.inf]
    return pd.cut(days, bins=bins, labels=labels, right=False).astype(str)


def customer_dimensions(orders: pd.DataFrame, ids: pd.Series, cutoff: dt.date,
                        policy: AnalyticsPolicy,
                        customers: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per customer in `ids`: their RFM segment, CRM segment, region, first-purchase
    channel and tenure band at `cutoff` (from orders on or before `cutoff` only)."""
    stop = pd.Timestamp(cutoff)
    known = orders[(orders["day"] <= stop) & is_in(orders["customer_id"], ids)]
    known = known.sort_values(["customer_id", "day"], kind="stable")
    year = known[known["day"] > stop - pd.Timedelta(days=365)]
    per = pd.DataFrame(index=pd.Index(ids, name="customer_id"))
    per["recency_days"] = (stop - known.groupby("customer_id")["day"].max()).dt.days
    per["orders_365d"] = year.groupby("customer_id").size()
    per["spend_365d"] = year.groupby("customer_id")["amount"].sum()
    per[["orders_365d", "spend_365d"]] = per[["orders_365d", "spend_365d"]].fillna(0)
    first = known.groupby("customer_id").first()
    per["tenure_band"] = tenure_band((stop - first["day"]).dt.days.reindex(per.index),
                                     policy.tenure_bands_days)
    per["first_channel"] = first["channel"].reindex(per.index)
    per["rfm_segment"] = rfm_segment(rfm_scores(per)) if len(per) else pd.Series(dtype=str)
    for column, source in (("master_segment", "segment"), ("region", "region")):
        if customers is not None and len(customers):
            master = customers.drop_duplicates("customer_id").set_index("customer_id")[source]
            per[column] = master.reindex(per.index)
        else:
            per[column] = np.nan
    per["all"] = "all"
    out = per[list(DIMENSIONS)].astype(object)
    return out.where(out.notna() & (out != "nan"), UNKNOWN).reset_index()


def retention_rates(tables: SourceTables, as_of: dt.date,
                    policy: AnalyticsPolicy | None = None,
                    dimensions: tuple[str, ...] = DIMENSIONS) -> pd.DataFrame:
    """RATE_COLUMNS: one row per labelled period x dimension x group, oldest period first.

    `customers` is the base behind the rate, `ci_low`/`ci_high` the Wilson interval of the
    churn rate at `policy.confidence`.
    """
    policy = policy or AnalyticsPolicy()
    spec = policy.label
    known = point_in_time(tables, as_of)
    orders = completed_orders(known.purchases)
    master = known.customers
    if spec.definition == "cancellation" and master is None:
        raise ValueError("the 'cancellation' churn definition needs a customer master")
    last = spec.last_labelled_cutoff(as_of)
    frames = []
    first_day = orders["day"].min() if len(orders) else None
    coded = customer_codes(orders)
    cutoffs = [c for c in period_ends(last, policy.period, policy.n_periods)
               if first_day is not None and pd.Timestamp(c) >= first_day]
    days = orders["day"].to_numpy()
    for cutoff in cutoffs:
        base = active_customers(orders, cutoff, policy.active_days, master, coded)
        if base.empty:
            continue
        # who bought in the window, from the orders coded once (churn_labels' own scan of
        # every order, at each of twelve cutoffs, was most of the table's time at 20 M)
        buyers = window_buyers(days, *coded, cutoff, spec) \
            if spec.definition == "no_purchase" else None
        labels = churn_labels(base, known.purchases, cutoff, spec, data_end=as_of,
                              customers=master, subscriptions=known.subscriptions,
                              buyers=buyers)
        if dimensions == ("all",):  # the whole base only: no per-customer groups needed
            dims = labels.assign(all="all")  # one row per customer of `base`, in its order
        else:
            dims = customer_dimensions(orders, base, cutoff, policy, master)
            dims = dims.merge(labels, on="customer_id", validate="one_to_one")
        for dimension in dimensions:
            grouped = dims.groupby(dimension)["churned"].agg(["size", "sum"])
            frames.append(pd.DataFrame({
                "period": period_label(cutoff, policy.period), "cutoff": cutoff,
                "dimension": dimension, "group": grouped.index.astype(str),
                "customers": grouped["size"].to_numpy(int),
                "churned": grouped["sum"].to_numpy(int)}))
    if not frames:
        return pd.DataFrame(columns=RATE_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["churn_rate"] = out["churned"] / out["customers"]
    out["retention_rate"] = 1 - out["churn_rate"]
    out["ci_low"], out["ci_high"] = wilson_interval(out["churned"], out["customers"],
                                                    policy.confidence)
    return out[RATE_COLUMNS]



#: The dimensions whose group a customer's own orders and master row decide (the RFM
#: segment compares the customer with the whole base's quantiles).
OWN_DIMENSIONS = ("all", "master_segment", "region", "first_channel", "tenure_band")


def joined_retention_rates(parts: list[pd.DataFrame],
                           policy: AnalyticsPolicy | None = None) -> pd.DataFrame:
    """`retention_rates` of the whole base from those of disjoint sets of customers (its
    customer shards), for the `OWN_DIMENSIONS`: every customer's activity and label read
    their own orders alone, so the bases and the churned add up; the rates and intervals
    are taken of the sums. A period no part has a customer in is left out, as the whole
    base's would be."""
    policy = policy or AnalyticsPolicy()
    kept = [part for part in parts if len(part)]
    if not kept:
        return pd.DataFrame(columns=RATE_COLUMNS)
    frame = pd.concat(kept, ignore_index=True)
    alien = set(frame["dimension"]) - set(OWN_DIMENSIONS)
    if alien:
        raise ValueError(f"the {sorted(alien)} rates do not add up over customer shards")
    keys = ["period", "cutoff", "dimension", "group"]
    out = frame.groupby(keys, as_index=False, sort=False)[["customers", "churned"]].sum()
    out["_dimension"] = out["dimension"].map(OWN_DIMENSIONS.index)
    out = out.sort_values(["cutoff", "_dimension", "group"], kind="stable",
                          ignore_index=True).drop(columns="_dimension")
    out = out.astype({"customers": int, "churned": int})
    out["churn_rate"] = out["churned"] / out["customers"]
    out["retention_rate"] = 1 - out["churn_rate"]
    out["ci_low"], out["ci_high"] = wilson_interval(out["churned"], out["customers"],
                                                    policy.confidence)
    return out[RATE_COLUMNS]
