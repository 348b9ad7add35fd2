"""Model input: features at several cutoffs joined to the labels that followed each."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd

from features.build import as_date, build_customer_features
from features.labels import churn_labels
from features.sources import SourceTables


def monthly_cutoffs(last_cutoff: dt.date, count: int, step_days: int = 30) -> list[dt.date]:
    """`count` cutoffs ending at `last_cutoff`, `step_days` apart, oldest first."""
    last_cutoff = as_date(last_cutoff)
    return [last_cutoff - dt.timedelta(days=step_days * k) for k in range(count - 1, -1, -1)]


def labelled_cutoffs(
    data_end: dt.date, horizon_days: int, count: int, *, earliest: dt.date, step_days: int = 30
) -> list[dt.date]:
    """The latest `count` cutoffs whose label window fits in the data and that start after
    `earliest` (so features have history behind them), oldest first."""
    last = as_date(data_end) - dt.timedelta(days=horizon_days)
    return [c for c in monthly_cutoffs(last, count, step_days) if c >= as_date(earliest)]


def build_model_input(
    tables: SourceTables,
    cutoffs: list[dt.date],
    horizon_days: int,
    *,
    data_end: dt.date,
    gap_days: int = 0,
) -> pd.DataFrame:
    """`customer_id, cutoff, features…, churned`: one row per customer eligible at each cutoff."""
    tables = tables.validated()
    parts = []
    for cutoff in cutoffs:
        features = build_customer_features(tables, cutoff, validate=False)
        labels = churn_labels(
            features["customer_id"], tables.purchases, cutoff, horizon_days,
            data_end=data_end, customers=tables.customers, gap_days=gap_days,
        )
        snapshot = features.merge(labels, on="customer_id", how="left", validate="one_to_one")
        snapshot.insert(1, "cutoff", pd.Timestamp(cutoff))
        parts.append(snapshot.drop(columns=["as_of"]))
    return pd.concat(parts, ignore_index=True)


def frame_content_hash(frame: pd.DataFrame) -> str:
    """A stable SHA-256 of a frame's values and column names (row order included)."""
    digest = hashlib.sha256()
    digest.update("|".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


