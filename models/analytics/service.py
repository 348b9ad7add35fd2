"""Complaint handling and engagement: KPIs per period and the link between resolution time
and churn, on the company's own data.

Complaint KPIs (complaints grouped by the period they were opened in; resolutions and
ratings known by the end of the as-of day, see `point_in_time`):
- resolution time: hours from opening to resolution of the complaints resolved so far
  (median, p90); recent periods are biased low, as their slow complaints are still open;
- within SLA: resolved within `sla_hours` of opening, among complaints whose SLA has run out
  or which were resolved (an open complaint still inside its SLA is not decided yet);
- unresolved: share still open at the as-of date;
- satisfaction: mean rating on the 1-5 scale (stored 0-1) of resolved complaints;
first response times and reopens are not in the staged exports, so they are not computed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from features.build import to_naive_utc
from features.labels import churn_labels
from features.membership import is_in
from features.sources import SourceTables
from models.analytics.policy import AnalyticsPolicy, end_of_day, point_in_time
from models.analytics.rates import (
    active_customers,
    completed_orders,
    customer_codes,
    period_ends,
    period_label,
    wilson_interval,
)

ALL_PERIODS = "all"
KPI_COLUMNS = ["period", "dimension", "group", "complaints", "resolved",
               "resolution_median_hours", "resolution_p90_hours", "sla_decided",
               "within_sla_share", "unresolved_share", "rated", "satisfaction_mean"]
BANDS = ("none", "le_low", "low_high", "gt_high", "never")
BAND_COLUMNS = ["band", "customers", "churned", "churn_rate", "ci_low", "ci_high",
                "rate_ratio"]
ENGAGEMENT_COLUMNS = ["period", "active_customers", "contacted", "contacted_share",
                      "outbound_contacts", "answered", "response_rate"]


def _periods(as_of: dt.date, policy: AnalyticsPolicy) -> list[tuple[str, pd.Timestamp,
                                                                    pd.Timestamp]]:
    """(label, first instant, instant after) of the whole periods up to `as_of`, UTC."""
    out = []
    for end in period_ends(as_of, policy.period, policy.n_periods):
        label = period_label(end, policy.period)
        start = pd.Period(label, "M" if policy.period == "month" else "Q").start_time
        out.append((label, start.tz_localize("UTC"), end_of_day(end)))
    return out


def _kpis(frame: pd.DataFrame, stop: pd.Timestamp, sla: pd.Timedelta) -> dict[str, float]:
    hours = (frame["resolved_at"] - frame["opened_at"]).dt.total_seconds() / 3600
    resolved = hours.notna()
    decided = resolved | (frame["opened_at"] + sla < stop)
    within = resolved & (hours <= sla.total_seconds() / 3600)
    rated = frame["satisfaction"].notna()
    n = len(frame)
    return {
        "complaints": n, "resolved": int(resolved.sum()),
        "resolution_median_hours": float(hours.median()) if resolved.any() else np.nan,
        "resolution_p90_hours": float(hours.quantile(0.9)) if resolved.any() else np.nan,
        "sla_decided": int(decided.sum()),
        "within_sla_share": float(within.sum() / decided.sum()) if decided.any() else np.nan,
        "unresolved_share": float((~resolved).mean()) if n else np.nan,
        "rated": int(rated.sum()),
        "satisfaction_mean": float(1 + 4 * frame.loc[rated, "satisfaction"].mean())
        if rated.any() else np.nan,
    }


def complaint_kpis(tables: SourceTables, as_of: dt.date,
                   policy: AnalyticsPolicy | None = None) -> pd.DataFrame:
    """KPI_COLUMNS per whole period (and `all` periods together), for every complaint
    (dimension `all`) and per `category`; empty without a complaints export."""
    return kpis_of_known_complaints(known_complaints(tables, as_of), as_of, policy)


#: What the complaint KPIs read of each complaint known at the as-of date.
KPI_INPUT_COLUMNS = ["opened_at", "resolved_at", "category", "satisfaction"]


def known_complaints(tables: SourceTables, as_of: dt.date) -> pd.DataFrame | None:
    """The `KPI_INPUT_COLUMNS` of the complaints as known at the end of `as_of`
    (`point_in_time`); None without a complaints export. Of a customer shard: that shard's
    rows, which the shards' rows joined in shard order make the whole base's."""
    complaints = point_in_time(tables, as_of).complaints
    return None if complaints is None else complaints[KPI_INPUT_COLUMNS]


def kpis_of_known_complaints(complaints: pd.DataFrame | None, as_of: dt.date,
                             policy: AnalyticsPolicy | None = None) -> pd.DataFrame:
    """`complaint_kpis` of the `known_complaints` at `as_of`."""
    policy = policy or AnalyticsPolicy()
    if complaints is None or complaints.empty:
        return pd.DataFrame(columns=KPI_COLUMNS)
    stop, sla = end_of_day(as_of), pd.Timedelta(hours=policy.sla_hours)
    complaints = complaints.assign(category=complaints["category"].fillna("(unknown)"))
    periods = _periods(as_of, policy)
    rows = []
    scopes = [(label, (complaints["opened_at"] >= lo) & (complaints["opened_at"] < hi))
              for label, lo, hi in periods]
    scopes.append((ALL_PERIODS, (complaints["opened_at"] >= periods[0][1])
                   & (complaints["opened_at"] < periods[-1][2])))
    for label, mask in scopes:
        chosen = complaints[mask]
        rows.append({"period": label, "dimension": "all", "group": "all",
                     **_kpis(chosen, stop, sla)})
        for category, group in chosen.groupby("category"):
            rows.append({"period": label, "dimension": "category", "group": str(category),
                         **_kpis(group, stop, sla)})
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def resolution_band(hours: pd.Series, policy: AnalyticsPolicy) -> pd.Series:
    """`le_low` (<= first edge), `low_high` (up to the second), `gt_high`, or `never`
    (NaN: not resolved) for resolution times in hours."""
    low, high = (24 * d for d in policy.resolution_bands_days)
    out = np.select([hours <= low, hours <= high, hours > high], BANDS[1:4], default="never")
    return pd.Series(out, index=hours.index, dtype=object)


def band_cutoff(as_of: dt.date, policy: AnalyticsPolicy) -> dt.date:
    """The cutoff whose churn is compared across bands: the latest one with a labelled
    window (as-of minus gap and horizon)."""
    return policy.label.last_labelled_cutoff(as_of)


def churn_by_resolution_band(tables: SourceTables, as_of: dt.date,
                             policy: AnalyticsPolicy | None = None) -> pd.DataFrame:
    """BAND_COLUMNS: churn of the customers active at `band_cutoff` by the slowest
    resolution of their complaints opened in the `complaint_lookback_days` up to it.

    A customer's band: `none` (no complaint in the lookback), else the band of their slowest
    complaint, with resolution times known by the end of `as_of` (a complaint still open
    then is `never`). Churned as the model defines it (`policy.label`); `rate_ratio` is the
    band's churn rate over that of `none`; `ci_low`/`ci_high` the Wilson interval.
    """
    policy = policy or AnalyticsPolicy()
    known = point_in_time(tables, as_of)
    cutoff = band_cutoff(as_of, policy)
    orders = completed_orders(known.purchases)
    base = active_customers(orders, cutoff, policy.active_days, known.customers)
    empty = pd.DataFrame({"band": list(BANDS), "customers": 0, "churned": 0})
    if base.empty:
        return _band_rates(empty, policy)
    labels = churn_labels(base, known.purchases, cutoff, policy.label, data_end=as_of,
                          customers=known.customers, subscriptions=known.subscriptions)
    labels["band"] = "none"
    complaints = known.complaints
    if complaints is not None and len(complaints):
        opened = to_naive_utc(complaints["opened_at"])
        stop = pd.Timestamp(cutoff) + pd.Timedelta(days=1)
        recent = complaints[(opened < stop)
                            & (opened >= stop - pd.Timedelta(days=policy.complaint_lookback_days))]
        hours = (recent["resolved_at"] - recent["opened_at"]).dt.total_seconds() / 3600
        slowest = hours.fillna(np.inf).groupby(recent["customer_id"].astype(str)).max()
        band = resolution_band(slowest.replace(np.inf, np.nan), policy)
        labels["band"] = labels["customer_id"].map(band).fillna("none")
    counts = labels.groupby("band")["churned"].agg(customers="size", churned="sum")
    counts = counts.reindex(list(BANDS), fill_value=0).reset_index()
    return _band_rates(counts, policy)


def _band_rates(counts: pd.DataFrame, policy: AnalyticsPolicy) -> pd.DataFrame:
    out = counts.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["churn_rate"] = out["churned"] / out["customers"].replace(0, np.nan)
    out["ci_low"], out["ci_high"] = wilson_interval(out["churned"], out["customers"],
                                                    policy.confidence)
    reference = out.loc[out["band"] == "none", "churn_rate"].iloc[0]
    out["rate_ratio"] = out["churn_rate"] / reference if reference and reference > 0 else np.nan
    return out[BAND_COLUMNS]


def engagement_kpis(tables: SourceTables, as_of: dt.date,
                    policy: AnalyticsPolicy | None = None) -> pd.DataFrame:
    """ENGAGEMENT_COLUMNS per whole period; empty without an interactions export.

    Contacted share: customers active at the period's end with an outbound interaction in the
    period. Response rate: outbound contacts of the period followed, within
    `response_window_days`, by an inbound interaction or a completed order of the same
    customer; contacts whose window runs past the as-of date are left out.
    """
    policy = policy or AnalyticsPolicy()
    known = point_in_time(tables, as_of)
    interactions = known.interactions
    if interactions is None or interactions.empty:
        return pd.DataFrame(columns=ENGAGEMENT_COLUMNS)
    orders = completed_orders(known.purchases)
    when = interactions["occurred_at"]
    outbound = interactions[interactions["direction"] == "outbound"]
    replies = pd.concat([
        pd.DataFrame({"customer_id": interactions.loc[interactions["direction"] == "inbound",
                                                      "customer_id"].astype(str),
                      "at": when[interactions["direction"] == "inbound"]}),
        pd.DataFrame({"customer_id": orders["customer_id"],
                      "at": pd.to_datetime(orders["day"]).dt.tz_localize("UTC")
                      + pd.Timedelta(hours=23, minutes=59)}),
    ]).sort_values("at")
    window = pd.Timedelta(days=policy.response_window_days)
    stop = end_of_day(as_of)
    contacts = outbound.assign(customer_id=outbound["customer_id"].astype(str))[
        ["customer_id", "occurred_at"]].sort_values("occurred_at")
    nxt = pd.merge_asof(contacts, replies.rename(columns={"at": "reply_at"}),
                        left_on="occurred_at", right_on="reply_at", by="customer_id",
                        direction="forward", allow_exact_matches=False)
    nxt["answered"] = nxt["reply_at"].notna() & (nxt["reply_at"] - nxt["occurred_at"] <= window)
    nxt["decided"] = nxt["answered"] | (nxt["occurred_at"] + window < stop)
    rows = []
    coded = customer_codes(orders)  # hashed once for every period's active base
    for label, lo, hi in _periods(as_of, policy):
        end = (hi - pd.Timedelta(days=1)).date()
        active = active_customers(orders, end, policy.active_days, known.customers, coded)
        in_period = nxt[(nxt["occurred_at"] >= lo) & (nxt["occurred_at"] < hi)]
        contacted = in_period["customer_id"][is_in(in_period["customer_id"], active)].nunique()
        decided = in_period[in_period["decided"]]
        rows.append({
            "period": label, "active_customers": len(active), "contacted": int(contacted),
            "contacted_share": contacted / len(active) if len(active) else np.nan,
            "outbound_contacts": len(decided), "answered": int(decided["answered"].sum()),
            "response_rate": float(decided["answered"].mean()) if len(decided) else np.nan,
        })
    return pd.DataFrame(rows, columns=ENGAGEMENT_COLUMNS)
