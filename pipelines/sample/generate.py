"""`churn generate`: simulate a business and write it into `raw/` as one dialect's exports,
with the ground truth beside (never under) `raw/`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipelines.sample.config import BUSINESSES, SimulationConfig
from pipelines.sample.dialects import DIALECTS, SAMPLE_FILE_NAMES, SOURCES_MARKER, write_dialect
from pipelines.sample.simulator import SimulatedBusiness, simulate_business
from pipelines.sample.subscription import simulate_subscription_business
from pipelines.store.atomic import write_text_atomic
from pipelines.store.settings import Settings

#: The files a simulated subscription business writes, per kind (removed by a later generate).
SUBSCRIPTION_FILE_NAMES = {
    "purchases": "payments_export.csv", "interactions": "product_events.csv",
    "customers": "customer_master.csv", "subscriptions": "subscriptions_export.csv",
}


def ground_truth_path(settings: Settings) -> Path:
    return settings.ground_truth_dir / "true_churn_probability.csv"


def _iso(series: pd.Series) -> pd.Series:
    stamps = pd.to_datetime(series)
    return stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ").where(stamps.notna(), "")


def export_frames(business: SimulatedBusiness) -> dict[str, pd.DataFrame]:
    """The four exports as text frames: UTC ISO-8601 timestamps, 2-decimal money, CSAT 1-5."""
    purchases = business.purchases.copy()
    purchases["order_date"] = _iso(purchases["order_date"])
    purchases["amount"] = purchases["amount"].map(lambda v: f"{v:.2f}")
    complaints = business.complaints.copy()
    complaints["opened_at"] = _iso(complaints["opened_at"])
    complaints["resolved_at"] = _iso(complaints["resolved_at"])
    complaints["satisfaction"] = complaints["satisfaction"].map(
        lambda v: "" if pd.isna(v) else str(int(v))
    )
    interactions = business.interactions.copy()
    interactions["occurred_at"] = _iso(interactions["occurred_at"])
    customers = business.customers.copy()
    customers["signup_date"] = pd.to_datetime(customers["signup_date"]).dt.strftime("%Y-%m-%d")
    customers["cancelled_at"] = _iso(customers["cancelled_at"])
    return {"purchases": purchases, "complaints": complaints,
            "interactions": interactions, "customers": customers}


def write_subscription_exports(frames: dict[str, pd.DataFrame], business: SimulatedBusiness,
                               raw_dir: Path) -> dict[str, Path]:
    """A subscription business's canonical CSVs: payments, product events, master and the
    subscriptions export (no tickets: the simulator has none)."""
    assert business.subscriptions is not None
    subscriptions = business.subscriptions.copy()
    for column in ("started_at", "cancelled_at", "ended_at", "discount_ends_at"):
        subscriptions[column] = _iso(subscriptions[column])
    subscriptions["mrr"] = subscriptions["mrr"].map(lambda v: f"{v:.2f}")
    subscriptions["discount"] = subscriptions["discount"].map(
        lambda v: "" if pd.isna(v) else f"{v:.2f}")
    tables = {kind: frames[kind] for kind in ("purchases", "interactions", "customers")}
    tables["subscriptions"] = subscriptions
    return {kind: write_text_atomic(frame.to_csv(index=False),
                                    raw_dir / kind / SUBSCRIPTION_FILE_NAMES[kind])
            for kind, frame in tables.items()}


def _remove_earlier_samples(settings: Settings) -> None:
    """Files an earlier `churn generate` wrote (any dialect); the user's own files stay."""
    if settings.raw_dir.is_dir():
        for path in settings.raw_dir.glob("*/*"):
            if path.name in SAMPLE_FILE_NAMES or path.name in SUBSCRIPTION_FILE_NAMES.values():
                path.unlink()
    sources = settings.data_dir / "sources.yaml"
    if sources.exists() and sources.read_text(encoding="utf-8").startswith(SOURCES_MARKER):
        sources.unlink()


def generate_and_write(
    settings: Settings, *, customers: int, seed: int, end: dt.date | None = None,
    dialect: str = "canonical", business: str = "retail",
) -> dict[str, Path]:
    """Simulate and write raw exports in `dialect` plus the ground truth (outside `raw/`).

    A `subscription` business is written in the canonical dialect only (its payments,
    product events, customer master and subscriptions export)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if business not in BUSINESSES:
        raise ValueError(f"unknown business {business!r}; choose one of "
                         f"{', '.join(BUSINESSES)}")
    config = SimulationConfig(customers=customers, seed=seed, business=business)
    if end is not None:
        config = SimulationConfig(customers=customers, seed=seed, end=end,
                                  start=end - (config.end - config.start), business=business)
    if business == "subscription":
        simulated = simulate_subscription_business(config)
        _remove_earlier_samples(settings)
        written = write_subscription_exports(export_frames(simulated), simulated,
                                             settings.raw_dir)
    else:
        simulated = simulate_business(config)
        _remove_earlier_samples(settings)
        frames = export_frames(simulated)
        written = write_dialect(dialect, simulated, frames, settings.raw_dir, settings.data_dir)
    truth = simulated.ground_truth.copy()
    written["ground_truth"] = write_text_atomic(
        truth.to_csv(index=False), ground_truth_path(settings)
    )
    return written
