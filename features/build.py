"""Point-in-time customer features at a cutoff, computed with DuckDB over staged frames.

`as_of` is a calendar date in UTC. Features see events whose timestamp falls on or before the
end of that day (`ts < as_of + 1 day`) and nothing later: every source is filtered by that
bound before any aggregate runs, so a late event cannot reach a feature through any path.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from features.catalog import CATEGORICAL_FEATURES, feature_names
from features.sources import SourceTables

BAD_RATING = 0.25  # a CSAT of 1 or 2 out of 5
REPEAT_COMPLAINT_DAYS = 14


def to_naive_utc(series: pd.Series) -> pd.Series:
    """UTC wall-clock timestamps without a zone, so DuckDB never applies a session time zone."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.to_datetime(series)


def as_date(value: dt.date | str | pd.Timestamp) -> dt.date:
    return pd.Timestamp(value).date()


def _frame_for_duckdb(frame: pd.DataFrame, ts_columns: tuple[str, ...]) -> pd.DataFrame:
    out = frame.copy()
    for column in ts_columns:
        out[column] = to_naive_utc(out[column])
    out["customer_id"] = out["customer_id"].astype(object)
    return out


def _rfm_sql(as_of: dt.date) -> str:
    d = f"DATE '{as_of.isoformat()}'"
    cut = f"(TIMESTAMP '{as_of.isoformat()}' + INTERVAL 1 DAY)"
    return f"""
    WITH p AS (
        SELECT customer_id, order_date AS ts, CAST(order_date AS DATE) AS d, amount, status
        FROM purchases WHERE order_date < {cut}
    ),
    done AS (SELECT * FROM p WHERE status = 'completed'),
    gaps AS (
        SELECT customer_id,
               date_diff('day', lag(d) OVER (PARTITION BY customer_id ORDER BY ts), d) AS gap
        FROM done
    ),
    cadence AS (
        SELECT customer_id, median(gap) AS median_interval_days,
               CASE WHEN count(gap) >= 2 THEN stddev_samp(gap) END AS interval_std_days
        FROM gaps WHERE gap IS NOT NULL GROUP BY customer_id
    ),
    agg AS (
        SELECT customer_id,
            date_diff('day', max(d), {d}) AS recency_days,
            date_diff('day', min(d), {d}) AS tenure_days,
            max(d) AS last_purchase_date,
            count(*) FILTER (WHERE d > {d} - 30) AS orders_30d,
            count(*) FILTER (WHERE d > {d} - 90) AS orders_90d,
            count(*) FILTER (WHERE d > {d} - 180) AS orders_180d,
            count(*) FILTER (WHERE d > {d} - 365) AS orders_365d,
            count(*) AS orders_lifetime,
            coalesce(sum(amount) FILTER (WHERE d > {d} - 90), 0) AS spend_90d,
            coalesce(sum(amount) FILTER (WHERE d > {d} - 365), 0) AS spend_365d,
            sum(amount) AS spend_lifetime,
            count(*) FILTER (WHERE d > {d} - 180 AND d <= {d} - 90) AS orders_prev_90d,
            coalesce(sum(amount) FILTER (WHERE d > {d} - 180 AND d <= {d} - 90), 0)
                AS spend_prev_90d
        FROM done GROUP BY customer_id
    ),
    returns AS (
        SELECT customer_id,
               count(*) FILTER (WHERE status = 'returned') AS n_returned,
               count(*) FILTER (WHERE status IN ('completed', 'returned')) AS n_kept_or_returned
        FROM p GROUP BY customer_id
    )
    SELECT a.customer_id, a.recency_days, a.tenure_days, a.last_purchase_date,
        a.orders_30d, a.orders_90d, a.orders_180d, a.orders_365d, a.orders_lifetime,
        a.spend_90d, a.spend_365d, a.spend_lifetime, a.orders_prev_90d, a.spend_prev_90d,
        a.spend_lifetime / a.orders_lifetime AS avg_order_value,
        c.median_interval_days, c.interval_std_days,
        CASE WHEN c.median_interval_days IS NOT NULL
             THEN a.recency_days / greatest(c.median_interval_days, 1) END AS overdue_ratio,
        CAST(a.orders_lifetime = 1 AS INTEGER) AS is_one_time_buyer,
        CASE WHEN a.orders_90d + a.orders_prev_90d = 0 THEN 0.0
             ELSE (a.orders_90d - a.orders_prev_90d) / (a.orders_90d + a.orders_prev_90d) END
             AS orders_change_90d,
        CASE WHEN a.spend_90d + a.spend_prev_90d <= 0 THEN 0.0
             ELSE (a.spend_90d - a.spend_prev_90d) / (a.spend_90d + a.spend_prev_90d) END
             AS spend_change_90d,
        r.n_returned / r.n_kept_or_returned AS return_share
    FROM agg a
    LEFT JOIN cadence c USING (customer_id)
    LEFT JOIN returns r USING (customer_id)
    """


def _complaint_sql(as_of: dt.date) -> str:
    d = f"DATE '{as_of.isoformat()}'"
    cut = f"(TIMESTAMP '{as_of.isoformat()}' + INTERVAL 1 DAY)"
    return f"""
    WITH c AS (
        SELECT customer_id, opened_at, CAST(opened_at AS DATE) AS od,
               -- a resolution after the cutoff is unknown at the cutoff
               CASE WHEN resolved_at < {cut} THEN resolved_at END AS resolved_at,
               CASE WHEN resolved_at < {cut} THEN satisfaction END AS satisfaction
        FROM complaints WHERE opened_at < {cut}
    ),
    seq AS (
        SELECT *, date_diff('day', lag(od) OVER (PARTITION BY customer_id ORDER BY opened_at), od)
                  AS days_after_previous
        FROM c
    ),
    agg AS (
        SELECT customer_id,
            count(*) FILTER (WHERE od > {d} - 30) AS complaints_30d,
            count(*) FILTER (WHERE od > {d} - 90) AS complaints_90d,
            count(*) FILTER (WHERE od > {d} - 365) AS complaints_365d,
            date_diff('day', max(od), {d}) AS days_since_last_complaint,
            count(*) FILTER (WHERE resolved_at IS NULL) AS open_complaints,
            date_diff('day', min(od) FILTER (WHERE resolved_at IS NULL), {d})
                AS oldest_open_complaint_days,
            median(epoch(resolved_at - opened_at) / 86400.0)
                FILTER (WHERE CAST(resolved_at AS DATE) > {d} - 365)
                AS median_resolution_days_365d,
            max(epoch(resolved_at - opened_at) / 86400.0)
                FILTER (WHERE CAST(resolved_at AS DATE) > {d} - 365)
                AS max_resolution_days_365d,
            count(*) FILTER (WHERE od > {d} - 365
                             AND days_after_previous <= {REPEAT_COMPLAINT_DAYS})
                AS repeat_complaints_365d,
            arg_max(satisfaction, resolved_at) FILTER (WHERE satisfaction IS NOT NULL)
                AS last_satisfaction,
            max(resolved_at) FILTER (WHERE satisfaction IS NOT NULL) AS last_rated_at,
            min(satisfaction) FILTER (WHERE CAST(resolved_at AS DATE) > {d} - 365)
                AS worst_satisfaction_365d,
            count(*) FILTER (WHERE CAST(resolved_at AS DATE) > {d} - 365
                             AND satisfaction IS NULL) AS unrated_resolved_365d
        FROM seq GROUP BY customer_id
    )
    SELECT * FROM agg
    """


def _engagement_sql(as_of: dt.date) -> str:
    d = f"DATE '{as_of.isoformat()}'"
    cut = f"(TIMESTAMP '{as_of.isoformat()}' + INTERVAL 1 DAY)"
    return f"""
    WITH i AS (
        SELECT customer_id, CAST(occurred_at AS DATE) AS d, direction, type
        FROM interactions WHERE occurred_at < {cut}
    )
    SELECT customer_id,
        count(*) FILTER (WHERE d > {d} - 30) AS interactions_30d,
        count(*) FILTER (WHERE d > {d} - 90) AS interactions_90d,
        count(*) FILTER (WHERE d > {d} - 90 AND d <= {d} - 30) AS interactions_prev_60d,
        date_diff('day', max(d), {d}) AS days_since_last_interaction,
        count(*) FILTER (WHERE d > {d} - 90 AND direction = 'inbound') AS inbound_90d,
        CAST(bool_or(type = 'newsletter_unsubscribe') AS INTEGER) AS unsubscribed
    FROM i GROUP BY customer_id
    """


def _eligible_customers(tables: SourceTables, rfm: pd.DataFrame, as_of: dt.date) -> pd.Series:
    """Mask over `rfm` rows: bought on or before as_of and not cancelled by then."""
    eligible = pd.Series(True, index=rfm.index)
    if tables.customers is not None and len(tables.customers):
        cancelled = tables.customers[["customer_id", "cancelled_at"]].dropna()
        cut = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1)
        gone = set(cancelled.loc[cancelled["cancelled_at"] < cut, "customer_id"])
        eligible &= ~rfm["customer_id"].isin(gone)
    return eligible


def build_customer_features(
    tables: SourceTables, as_of: dt.date | str, *, validate: bool = True
) -> pd.DataFrame:
    """One row per customer eligible at `as_of`: the catalog features from available sources.

    Key: `customer_id`. Also carries `as_of` and `last_purchase_date` (not model features).
    Missing sources drop their feature groups; counts default to 0, "days since" stay empty.
    """
    as_of = as_date(as_of)
    if validate:
        tables = tables.validated()
    con = duckdb.connect()
    try:
        con.register("purchases", _frame_for_duckdb(tables.purchases, ("order_date",)))
        frame = con.execute(_rfm_sql(as_of)).df()
        frame = frame.loc[_eligible_customers(tables, frame, as_of)].reset_index(drop=True)
        if tables.complaints is not None:
            con.register(
                "complaints", _frame_for_duckdb(tables.complaints, ("opened_at", "resolved_at"))
            )
            complaints = con.execute(_complaint_sql(as_of)).df()
            frame = frame.merge(complaints, on="customer_id", how="left")
            frame = _finish_complaints(frame)
        if tables.interactions is not None:
            con.register("interactions", _frame_for_duckdb(tables.interactions, ("occurred_at",)))
            engagement = con.execute(_engagement_sql(as_of)).df()
            frame = frame.merge(engagement, on="customer_id", how="left")
            frame = _finish_engagement(frame)
    finally:
        con.close()
    if tables.customers is not None:
        frame = _add_profile(frame, tables.customers, as_of)
    frame["as_of"] = pd.Timestamp(as_of)
    frame["last_purchase_date"] = pd.to_datetime(frame["last_purchase_date"])
    columns = ["customer_id", "as_of", "last_purchase_date", *feature_names(tables.available)]
    frame = frame[columns].sort_values("customer_id", kind="stable").reset_index(drop=True)
    frame["customer_id"] = frame["customer_id"].astype("str")
    return _with_numeric_dtypes(frame)


def _finish_complaints(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in (
        "complaints_30d", "complaints_90d", "complaints_365d", "open_complaints",
        "repeat_complaints_365d", "unrated_resolved_365d",
    ):
        out[column] = out[column].fillna(0)
    out["complaint_order_ratio_365d"] = out["complaints_365d"] / out["orders_365d"].clip(lower=1)
    # "Rated bad and not recovered": the latest rating is bad and no completed order came after.
    last_rated = pd.to_datetime(out["last_rated_at"])
    last_order = pd.to_datetime(out["last_purchase_date"]) + pd.Timedelta(days=1)
    bad = out["last_satisfaction"] <= BAD_RATING
    out["rated_bad_not_recovered"] = (bad & (last_order <= last_rated)).astype(int)
    return out


def _finish_engagement(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in ("interactions_30d", "interactions_90d", "interactions_prev_60d",
                   "inbound_90d", "unsubscribed"):
        out[column] = out[column].fillna(0)
    now, before = 2 * out["interactions_30d"], out["interactions_prev_60d"]
    total = now + before
    out["engagement_change"] = np.where(total > 0, (now - before) / total.where(total > 0, 1), 0.0)
    out["inbound_share_90d"] = out["inbound_90d"] / out["interactions_90d"].where(
        out["interactions_90d"] > 0
    )
    return out


def _add_profile(frame: pd.DataFrame, customers: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    master = customers[["customer_id", "signup_date", "segment", "region"]].copy()
    master["customer_id"] = master["customer_id"].astype(object)
    out = frame.merge(master, on="customer_id", how="left")
    signup = to_naive_utc(out["signup_date"]).dt.normalize()
    age = (pd.Timestamp(as_of) - signup).dt.days
    # A signup date after the cutoff is not known at the cutoff.
    out["account_age_days"] = age.where(age >= 0)
    for column in CATEGORICAL_FEATURES:
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def _with_numeric_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if column in ("customer_id", "as_of", "last_purchase_date", *CATEGORICAL_FEATURES):
            continue
        out[column] = pd.to_numeric(out[column], errors="raise").astype("float64")
    for column in CATEGORICAL_FEATURES:
        if column in out:
            out[column] = out[column].astype("str").where(out[column].notna(), None)
    return out
