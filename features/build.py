"""Point-in-time customer features at a cutoff, computed with DuckDB over staged frames.

`as_of` is a calendar date in UTC. Features see events whose timestamp falls on or before the
end of that day (`ts < as_of + 1 day`) and nothing later: every source is filtered by that
bound before any aggregate runs, so a late event cannot reach a feature through any path.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from features.catalog import CATEGORICAL_FEATURES, feature_names
from features.contracts import TIMESTAMP_COLUMNS
from features.sources import SourceTables
from features.sql import (
    BAD_RATING,
    DETRACTOR_RATING,
    cancelled_sql,
    complaint_sql,
    engagement_sql,
    profile_sql,
    rfm_sql,
)
from features.subscriptions import stopped_subscribers_sql, subscription_sql


def to_naive_utc(series: pd.Series) -> pd.Series:
    """UTC wall-clock timestamps without a zone, so DuckDB never applies a session time zone."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").dt.tz_localize(None)
    return pd.to_datetime(series)


def _frame_for_duckdb(frame: pd.DataFrame, ts_columns: tuple[str, ...]) -> pd.DataFrame:
    # Only the converted timestamps are new columns (pandas copies on write): a deep copy of
    # every staged table at every cutoff sat beside the tables and the snapshots built so far.
    # The ids stay as staged (Arrow-backed text), which DuckDB reads without Python objects.
    return frame.assign(**{column: to_naive_utc(frame[column]) for column in ts_columns})


# Features that stay empty when their event never happened; other complaint and engagement
# features are counts or flags and read 0 for a customer without such events.
_EMPTY_WHEN_ABSENT = frozenset({
    "days_since_last_complaint", "oldest_open_complaint_days", "median_resolution_days_365d",
    "max_resolution_days_365d", "last_satisfaction", "worst_satisfaction_365d", "last_rated_at",
    "days_since_last_interaction", "mrr", "days_to_renewal", "discount_ends_in_days",
})


# Features computed in the final SELECT from more than one source query.
_DERIVED = frozenset({
    "complaint_order_ratio_365d", "rated_bad_not_recovered", "nps_detractor",
    "engagement_change", "inbound_share_90d",
})


def _source_columns(source: str) -> list[str]:
    """Columns the source's query returns (besides `customer_id`)."""
    columns = [name for name in feature_names([source]) if name not in _DERIVED]
    return [*columns, "last_rated_at"] if source == "complaints" else columns


def _filled(alias: str, columns: list[str]) -> list[str]:
    return [
        f"{alias}.{c} AS {c}" if c in _EMPTY_WHEN_ABSENT else f"coalesce({alias}.{c}, 0) AS {c}"
        for c in columns
    ]


def features_query(as_of: dt.date, available: tuple[str, ...]) -> str:
    """One SQL query over the tables in `con` giving every feature of the available sources."""
    parts = [f"WITH r AS ({rfm_sql(as_of)})"]
    select = ["r.*"]
    joins = []
    if "complaints" in available:
        parts.append(f", c AS ({complaint_sql(as_of)})")
        select += _filled("c", _source_columns("complaints"))
        select += [
            "coalesce(c.complaints_365d, 0) / greatest(r.orders_365d, 1) "
            "AS complaint_order_ratio_365d",
            # "Rated bad and not recovered": the latest rating is bad, no order on a later day.
            f"CAST(coalesce(c.last_satisfaction <= {BAD_RATING} AND "
            "r.last_purchase_date + INTERVAL 1 DAY <= c.last_rated_at, false) AS INTEGER) "
            "AS rated_bad_not_recovered",
            f"CAST(coalesce(c.last_satisfaction <= {DETRACTOR_RATING}, false) AS INTEGER) "
            "AS nps_detractor",
        ]
        joins.append("LEFT JOIN c USING (customer_id)")
    if "interactions" in available:
        parts.append(f", e AS ({engagement_sql(as_of)})")
        select += _filled("e", _source_columns("interactions"))
        select += [
            "CASE WHEN 2 * coalesce(e.interactions_30d, 0) + coalesce(e.interactions_prev_60d, 0)"
            " = 0 THEN 0.0 ELSE (2 * e.interactions_30d - e.interactions_prev_60d) "
            "/ (2 * e.interactions_30d + e.interactions_prev_60d) END AS engagement_change",
            "CASE WHEN e.interactions_90d > 0 THEN e.inbound_90d / e.interactions_90d END "
            "AS inbound_share_90d",
        ]
        joins.append("LEFT JOIN e USING (customer_id)")
    if "subscriptions" in available:  # features.subscriptions: its group and who is gone
        parts.append(f", s AS ({subscription_sql(as_of)}), "
                     f"stopped AS ({stopped_subscribers_sql(as_of)})")
        select += _filled("s", _source_columns("subscriptions"))
        joins += ["LEFT JOIN s USING (customer_id)", "ANTI JOIN stopped USING (customer_id)"]
    if "customers" in available:
        parts.append(f", m AS ({profile_sql(as_of)}), gone AS ({cancelled_sql(as_of)})")
        select += ["m.segment", "m.region", "m.account_age_days"]
        joins.append("LEFT JOIN m USING (customer_id)")
        joins.append("ANTI JOIN gone USING (customer_id)")
    return "\n".join(parts) + f"\nSELECT {', '.join(select)} FROM r " + " ".join(joins)


def customer_features_from_duckdb(
    con: duckdb.DuckDBPyConnection, as_of: dt.date, available: tuple[str, ...]
) -> pd.DataFrame:
    """The feature table at `as_of` from tables already in `con`.

    `con` must hold a table or view per available source, named after it (`purchases`,
    `complaints`, `interactions`, `customers`), with the staged columns and naive UTC
    `TIMESTAMP` columns. Used directly for parquet-scale inputs (the caller creates the views).
    """
    names = feature_names(available)
    typed = [c if c in CATEGORICAL_FEATURES else f"CAST({c} AS DOUBLE) AS {c}" for c in names]
    # Rows in customer order, so the same history always gives the same table (and snapshot
    # hash). Through Arrow with one block per column: building pandas' consolidated 2-D blocks
    # or sorting there copies the whole wide table again, which costs seconds at 1M customers.
    frame = con.sql(
        f"SELECT customer_id, last_purchase_date, {', '.join(typed)} "
        f"FROM ({features_query(as_of, available)}) ORDER BY customer_id"
    ).to_arrow_table().to_pandas(split_blocks=True)
    frame["as_of"] = pd.Timestamp(as_of)
    frame["last_purchase_date"] = pd.to_datetime(frame["last_purchase_date"])
    frame = frame[["customer_id", "as_of", "last_purchase_date", *names]]
    frame["customer_id"] = frame["customer_id"].astype("str")
    return _with_numeric_dtypes(frame)


def build_customer_features(tables: SourceTables, as_of: dt.date) -> pd.DataFrame:
    """One row per customer eligible at `as_of`: the catalog features from available sources.

    Key: `customer_id`. Also carries `as_of` and `last_purchase_date` (not model features).
    Eligible: a completed purchase on or before `as_of` and not cancelled by then.
    Missing sources drop their feature groups; counts default to 0, "days since" stay empty.
    The tables are checked against their contracts unless they already were (see
    `SourceTables.checked`).
    """
    tables = tables.validated()
    con = duckdb.connect()
    try:
        for kind, frame in tables.as_dict().items():
            if frame is not None:
                con.register(kind, _frame_for_duckdb(frame, TIMESTAMP_COLUMNS[kind]))
        return customer_features_from_duckdb(con, as_of, tables.available)
    finally:
        con.close()


def _with_numeric_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Every feature as float64 except the categoricals (text, empty as None), in place."""
    keep = ("customer_id", "as_of", "last_purchase_date", *CATEGORICAL_FEATURES)
    for column in frame.columns:
        values = frame[column]
        if column in CATEGORICAL_FEATURES:
            frame[column] = values.astype("str").where(values.notna(), None)
        elif column not in keep and values.dtype != "float64":
            frame[column] = values.astype("float64")
    return frame
