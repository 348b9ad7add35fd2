"""A slow, obviously-correct feature implementation: plain Python, one customer at a time.

It restates every catalog definition directly on Python dates and numbers, so the vectorised
DuckDB build can be checked against it on random histories.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics

import pandas as pd

from features.catalog import (
    COMPLAINT_CATEGORIES,
    INTERACTION_CHANNELS,
    INTERACTION_TYPES,
    category_feature,
    channel_feature,
    type_feature,
)
from features.sources import SourceTables
from features.sql import RATING_DELAY_DAYS

NAN = math.nan


def _naive(ts: pd.Timestamp) -> dt.datetime | None:
    return None if pd.isna(ts) else ts.tz_convert("UTC").tz_localize(None).to_pydatetime()


def _rows(frame: pd.DataFrame | None, customer: str, ts_columns: tuple[str, ...]) -> list[dict]:
    if frame is None:
        return []
    out = []
    for record in frame[frame["customer_id"] == customer].to_dict("records"):
        for column in ts_columns:
            record[column] = _naive(record[column])
        out.append(record)
    return out


def _ratio(now: float, before: float) -> float:
    return 0.0 if now + before <= 0 else (now - before) / (now + before)


def poisson_surprise(count: int, expected: float) -> float:
    """-ln P(X <= count) for X ~ Poisson(expected), summed term by term."""
    cdf = sum(math.exp(-expected + i * math.log(expected) - math.lgamma(i + 1))
              for i in range(count + 1))
    return max(-math.log(cdf), 0.0)


def _order_baseline(row: dict) -> dict:
    baseline_days = row["tenure_days"] - 90 + 1
    if baseline_days < 90:
        return dict.fromkeys(("usual_orders_per_30d", "orders_90d_vs_usual",
                              "orders_surprise_30d", "orders_surprise_90d",
                              "order_silence_surprise"), NAN)
    usual = 30 * (row["orders_lifetime"] - row["orders_90d"]) / baseline_days
    return {
        "usual_orders_per_30d": usual,
        "orders_90d_vs_usual": row["orders_90d"] / (3 * usual),
        "orders_surprise_30d": poisson_surprise(row["orders_30d"], usual),
        "orders_surprise_90d": poisson_surprise(row["orders_90d"], 3 * usual),
        "order_silence_surprise": row["recency_days"] * usual / 30,
    }


def reference_features(tables: SourceTables, as_of: dt.date) -> pd.DataFrame:
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    master = {} if tables.customers is None else {
        r["customer_id"]: r for r in tables.customers.to_dict("records")}
    rows = []
    for customer in sorted(set(tables.purchases["customer_id"])):
        def age(moment: dt.datetime) -> int:
            return (as_of - moment.date()).days

        seen = [p for p in _rows(tables.purchases, customer, ("order_date",))
                if p["order_date"] < end]
        done = sorted((p for p in seen if p["status"] == "completed"),
                      key=lambda p: p["order_date"])
        cancelled = _naive(master.get(customer, {}).get("cancelled_at", pd.NaT))
        if not done or (cancelled is not None and cancelled < end):
            continue
        ages = [age(p["order_date"]) for p in done]
        row = {"customer_id": customer, "recency_days": min(ages), "tenure_days": max(ages)}
        for n in (30, 90, 180, 365):
            row[f"orders_{n}d"] = sum(a < n for a in ages)
        row["orders_lifetime"] = len(done)
        for n in (30, 90, 180, 365):
            row[f"spend_{n}d"] = sum(p["amount"] for p, a in zip(done, ages, strict=True) if a < n)
        row["spend_lifetime"] = sum(p["amount"] for p in done)
        row["avg_order_value"] = row["spend_lifetime"] / len(done)
        gaps = [(b["order_date"].date() - a["order_date"].date()).days
                for a, b in zip(done, done[1:], strict=False)]
        row["median_interval_days"] = statistics.median(gaps) if gaps else NAN
        row["interval_std_days"] = statistics.stdev(gaps) if len(gaps) >= 2 else NAN
        row["overdue_ratio"] = (row["recency_days"] / max(row["median_interval_days"], 1)
                                if gaps else NAN)
        row["is_one_time_buyer"] = int(len(done) == 1)
        prev = [p for p, a in zip(done, ages, strict=True) if 90 <= a < 180]
        row["orders_prev_90d"] = len(prev)
        row["spend_prev_90d"] = sum(p["amount"] for p in prev)
        row["orders_change_90d"] = _ratio(row["orders_90d"], row["orders_prev_90d"])
        row["spend_change_90d"] = _ratio(row["spend_90d"], row["spend_prev_90d"])
        returned = sum(p["status"] == "returned" for p in seen)
        row["return_share"] = returned / (returned + len(done))
        row.update(_order_baseline(row))
        last_purchase = done[-1]["order_date"].date()
        if tables.complaints is not None:
            row.update(_complaint_features(tables, customer, as_of, end, row, last_purchase))
        if tables.interactions is not None:
            row.update(_engagement_features(tables, customer, as_of, end))
        if tables.customers is not None:
            record = master.get(customer, {})
            signup = _naive(record.get("signup_date", pd.NaT))
            row["account_age_days"] = (NAN if signup is None or signup.date() > as_of
                                       else age(signup))
            row["segment"] = record.get("segment")
            row["region"] = record.get("region")
        rows.append(row)
    return pd.DataFrame(rows)


def _complaint_features(tables, customer, as_of, end, rfm, last_purchase) -> dict:
    def age(moment: dt.datetime) -> int:
        return (as_of - moment.date()).days

    tickets = sorted(
        (t for t in _rows(tables.complaints, customer, ("opened_at", "resolved_at"))
         if t["opened_at"] < end), key=lambda t: t["opened_at"])
    for t in tickets:  # what is known at the cutoff
        if t["resolved_at"] is None or t["resolved_at"] >= end:
            t["resolved_at"], t["satisfaction"] = None, NAN
        t["survey_closed"] = (t["resolved_at"] is not None
                              and t["resolved_at"] + dt.timedelta(days=RATING_DELAY_DAYS) < end)
        if not t["survey_closed"]:
            t["satisfaction"] = NAN
    out = {f"complaints_{n}d": sum(age(t["opened_at"]) < n for t in tickets)
           for n in (30, 90, 365)}
    out["days_since_last_complaint"] = min((age(t["opened_at"]) for t in tickets), default=NAN)
    still_open = [t for t in tickets if t["resolved_at"] is None]
    out["open_complaints"] = len(still_open)
    out["oldest_open_complaint_days"] = max((age(t["opened_at"]) for t in still_open),
                                            default=NAN)
    solved = [t for t in tickets if t["resolved_at"] is not None]
    recent = [t for t in solved if age(t["resolved_at"]) < 365]
    durations = [(t["resolved_at"] - t["opened_at"]).total_seconds() / 86400 for t in recent]
    out["median_resolution_days_365d"] = statistics.median(durations) if durations else NAN
    out["max_resolution_days_365d"] = max(durations, default=NAN)
    out["repeat_complaints_365d"] = sum(
        age(b["opened_at"]) < 365 and (b["opened_at"].date() - a["opened_at"].date()).days <= 14
        for a, b in zip(tickets, tickets[1:], strict=False))
    out["complaint_order_ratio_365d"] = out["complaints_365d"] / max(rfm["orders_365d"], 1)
    for category in COMPLAINT_CATEGORIES:
        out[category_feature(category)] = sum(
            age(t["opened_at"]) < 90 and t["category"] == category for t in tickets)
    out[category_feature("other")] = sum(
        age(t["opened_at"]) < 90 and t["category"] not in COMPLAINT_CATEGORIES for t in tickets)
    rated = sorted((t for t in solved if not math.isnan(t["satisfaction"])),
                   key=lambda t: t["resolved_at"])
    last = rated[-1]["satisfaction"] if rated else NAN
    out["last_satisfaction"] = last
    out["worst_satisfaction_365d"] = min(
        (t["satisfaction"] for t in recent if not math.isnan(t["satisfaction"])), default=NAN)
    out["rated_bad_not_recovered"] = int(
        bool(rated) and last <= 0.25 and rated[-1]["resolved_at"].date() > last_purchase)
    out["unrated_resolved_365d"] = sum(
        t["survey_closed"] and math.isnan(t["satisfaction"]) for t in recent)
    out["nps_detractor"] = int(bool(rated) and last <= 0.6)
    surveyed = [t for t in solved if t["survey_closed"]]
    latest = max(surveyed, key=lambda t: t["resolved_at"], default=None)
    out["surveyed_no_answer"] = int(latest is not None and math.isnan(latest["satisfaction"]))
    return out


def _engagement_features(tables, customer, as_of, end) -> dict:
    events = [e for e in _rows(tables.interactions, customer, ("occurred_at",))
              if e["occurred_at"] < end]
    ages = [(as_of - e["occurred_at"].date()).days for e in events]
    pairs = list(zip(events, ages, strict=True))
    out = {
        "interactions_30d": sum(a < 30 for a in ages),
        "interactions_90d": sum(a < 90 for a in ages),
        "interactions_prev_60d": sum(30 <= a < 90 for a in ages),
    }
    out["engagement_change"] = _ratio(2 * out["interactions_30d"], out["interactions_prev_60d"])
    out["days_since_last_interaction"] = min(ages, default=NAN)
    out["inbound_90d"] = sum(a < 90 and e["direction"] == "inbound" for e, a in pairs)
    out["outbound_90d"] = sum(a < 90 and e["direction"] == "outbound" for e, a in pairs)
    out["inbound_share_90d"] = (out["inbound_90d"] / out["interactions_90d"]
                                if out["interactions_90d"] else NAN)
    for days in (30, 90):
        for channel in INTERACTION_CHANNELS:
            out[channel_feature(channel, days)] = sum(
                a < days and e["channel"] == channel for e, a in pairs)
        for kind in INTERACTION_TYPES:
            out[type_feature(kind, days)] = sum(a < days and e["type"] == kind for e, a in pairs)
    out["unsubscribed"] = int(any(e["type"] == "newsletter_unsubscribe" for e in events))
    baseline_days = max(ages, default=0) - 60 + 1
    per_day = (sum(a >= 60 for a in ages) / baseline_days if events and baseline_days >= 90
               else 0.0)
    out["interactions_surprise_30d"] = (
        poisson_surprise(out["interactions_30d"], 30 * per_day) if per_day else 0.0)
    out["interactions_surprise_60d"] = (
        poisson_surprise(sum(a < 60 for a in ages), 60 * per_day) if per_day else 0.0)
    out["interaction_silence_surprise"] = (
        out["days_since_last_interaction"] * per_day if per_day else 0.0)
    return out
