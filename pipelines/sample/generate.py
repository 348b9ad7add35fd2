"""`churn generate`: simulate a business and write it into `raw/` as one dialect's exports,
with the ground truth beside (never under) `raw/`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipelines.sample.config import SimulationConfig
from pipelines.sample.dialects import DIALECTS, SAMPLE_FILE_NAMES, SOURCES_MARKER, write_dialect
from pipelines.sample.simulator import SimulatedBusiness, simulate_business
from pipelines.store.atomic import write_text_atomic
from pipelines.store.settings import Settings


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


def _remove_earlier_samples(settings: Settings) -> None:
    """Files an earlier `churn generate` wrote (any dialect); the user's own files stay."""
    if settings.raw_dir.is_dir():
        for path in settings.raw_dir.glob("*/*"):
            if path.name in SAMPLE_FILE_NAMES:
                path.unlink()
    sources = settings.data_dir / "sources.yaml"
    if sources.exists() and sources.read_text(encoding="utf-8").startswith(SOURCES_MARKER):
        sources.unlink()


def generate_and_write(
    settings: Settings, *, customers: int, seed: int, end: dt.date | None = None,
    dialect: str = "canonical",
) -> dict[str, Path]:
    """Simulate and write raw exports in `dialect` plus the ground truth (outside `raw/`)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    config = SimulationConfig(customers=customers, seed=seed)
    if end is not None:
        config = SimulationConfig(customers=customers, seed=seed, end=end,
                                  start=end - (config.end - config.start))
    business = simulate_business(config)
    _remove_earlier_samples(settings)
    frames = export_frames(business)
    written = write_dialect(dialect, business, frames, settings.raw_dir, settings.data_dir)
    truth = business.ground_truth.copy()
    written["ground_truth"] = write_text_atomic(
        truth.to_csv(index=False), ground_truth_path(settings)
    )
    return written
