"""Tiny staged frames for tests, with the exact dtypes the contracts produce, and synthetic
model-input snapshots for the model tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from features.catalog import feature_names
from features.contracts import STAGED_SCHEMAS
from features.sources import SourceTables


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def purchases(rows: list[tuple]) -> pd.DataFrame:
    """rows: (customer_id, order_date, amount[, status])."""
    records = []
    for i, row in enumerate(rows):
        customer, when, amount, *rest = row
        records.append({
            "customer_id": customer, "order_id": f"O{i:05d}", "order_date": ts(when),
            "amount": float(amount), "status": rest[0] if rest else "completed",
            "quantity": 1.0, "channel": "web",
        })
    frame = pd.DataFrame(records, columns=list(STAGED_SCHEMAS["purchases"].to_schema().columns))
    return STAGED_SCHEMAS["purchases"].validate(frame)


def complaints(rows: list[tuple]) -> pd.DataFrame:
    """rows: (customer_id, opened_at, resolved_at or None, satisfaction 0-1 or None)."""
    records = [
        {"customer_id": c, "complaint_id": f"T{i:05d}", "opened_at": ts(o),
         "resolved_at": ts(r) if r else pd.NaT, "category": "delivery", "status": None,
         "satisfaction": s}
        for i, (c, o, r, s) in enumerate(rows)
    ]
    frame = pd.DataFrame(records, columns=list(STAGED_SCHEMAS["complaints"].to_schema().columns))
    return STAGED_SCHEMAS["complaints"].validate(frame)


def interactions(rows: list[tuple]) -> pd.DataFrame:
    """rows: (customer_id, occurred_at[, type[, direction]])."""
    records = []
    for i, row in enumerate(rows):
        customer, when, *rest = row
        records.append({
            "customer_id": customer, "interaction_id": f"I{i:05d}", "occurred_at": ts(when),
            "channel": "email", "type": rest[0] if rest else "email_open",
            "direction": rest[1] if len(rest) > 1 else "outbound",
        })
    frame = pd.DataFrame(records, columns=list(STAGED_SCHEMAS["interactions"].to_schema().columns))
    return STAGED_SCHEMAS["interactions"].validate(frame)


def customers(rows: list[tuple]) -> pd.DataFrame:
    """rows: (customer_id, signup_date, segment[, cancelled_at])."""
    records = [
        {"customer_id": c, "name": f"Customer {c}", "email": None, "signup_date": ts(s),
         "segment": seg, "region": "Istanbul", "owner": None,
         "cancelled_at": ts(rest[0]) if rest and rest[0] else pd.NaT}
        for c, s, seg, *rest in rows
    ]
    frame = pd.DataFrame(records, columns=list(STAGED_SCHEMAS["customers"].to_schema().columns))
    return STAGED_SCHEMAS["customers"].validate(frame)


def subscriptions(rows: list[tuple]) -> pd.DataFrame:
    """rows: (customer_id, started_at, billing_period[, ended_at[, cancelled_at[, mrr]]])."""
    records = []
    for i, row in enumerate(rows):
        customer, started, period, *rest = (*row, None, None, None)[:6]
        ended, cancelled, mrr = rest[:3]
        records.append({
            "customer_id": customer, "subscription_id": f"S{i:05d}", "plan": "pro",
            "started_at": ts(started), "ended_at": ts(ended) if ended else pd.NaT,
            "cancelled_at": ts(cancelled) if cancelled else pd.NaT, "billing_period": period,
            "mrr": mrr, "seats": None, "status": None, "discount": None,
            "discount_ends_at": pd.NaT, "channel": None,
        })
    columns = list(STAGED_SCHEMAS["subscriptions"].to_schema().columns)
    return STAGED_SCHEMAS["subscriptions"].validate(pd.DataFrame(records, columns=columns))


def tables(**kinds: pd.DataFrame) -> SourceTables:
    return SourceTables(**kinds)


MODEL_SOURCES = ["purchases", "complaints", "interactions", "customers"]


def synthetic_model_input(n_per_cutoff: int = 600, seed: int = 0) -> pd.DataFrame:
    """Snapshots at 4 monthly cutoffs where churn follows recency, complaints and engagement."""
    rng = np.random.default_rng(seed)
    features = feature_names(MODEL_SOURCES)
    parts = []
    for cutoff in pd.date_range("2024-01-31", periods=5, freq="30D"):
        n = n_per_cutoff
        frame = pd.DataFrame({name: rng.gamma(2.0, 5.0, n) for name in features})
        frame["recency_days"] = rng.integers(0, 200, n).astype(float)
        frame["median_interval_days"] = rng.integers(5, 60, n).astype(float)
        frame["overdue_ratio"] = frame["recency_days"] / frame["median_interval_days"]
        frame["is_one_time_buyer"] = (rng.random(n) < 0.1).astype(float)
        frame["open_complaints"] = rng.poisson(0.3, n).astype(float)
        frame["last_satisfaction"] = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, np.nan], n)
        frame["segment"] = rng.choice(["Consumer", "SMB", "Corporate"], n)
        frame["region"] = rng.choice(["Istanbul", "Amsterdam"], n)
        logit = (-2.0 + 1.2 * np.log1p(frame["overdue_ratio"]) + 0.9 * frame["open_complaints"]
                 + 1.0 * (frame["last_satisfaction"] <= 0.25))
        frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
        frame.insert(0, "customer_id", [f"{i:05d}" for i in range(n)])
        frame.insert(1, "cutoff", cutoff)
        frame.insert(2, "last_purchase_date", cutoff - pd.to_timedelta(frame["recency_days"], "D"))
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def actions(rows: list[tuple]) -> pd.DataFrame:
    """rows: (customer_id, action_at, action[, cost])."""
    records = [{"customer_id": c, "action_id": f"A{i:05d}", "action_at": ts(when),
                "action": what, "channel": None, "owner": None,
                "cost": rest[0] if rest else None, "outcome": None, "campaign": None,
                "list_run_id": None, "row_id": None}
               for i, (c, when, what, *rest) in enumerate(rows)]
    columns = list(STAGED_SCHEMAS["actions"].to_schema().columns)
    return STAGED_SCHEMAS["actions"].validate(pd.DataFrame(records, columns=columns))
