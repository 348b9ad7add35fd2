"""Tiny staged frames for tests, with the exact dtypes the contracts produce."""

from __future__ import annotations

import pandas as pd

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


def tables(**kinds: pd.DataFrame) -> SourceTables:
    return SourceTables(**kinds)
