"""Writing the simulated business as the CSV exports a real shop and helpdesk would produce."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from pipelines.dialects import DIALECTS, SOURCES_MARKER, write_dialect
from pipelines.settings import Settings
from pipelines.simulator import SimulatedBusiness, SimulationConfig, simulate_business
from pipelines.storage import write_text_atomic

EXPORT_NAMES = {
    "purchases": "orders_export.csv",
    "complaints": "tickets_export.csv",
    "interactions": "interactions_log.csv",
    "customers": "customer_master.csv",
}
SAMPLE_FILE_NAMES = {
    *EXPORT_NAMES.values(), "logo_fatura_listesi.csv", "musteri_listesi.xlsx",
    "interactions_log.tsv.gz", "zendesk_export_1.csv", "zendesk_export_2.csv",
    "orders_nl.csv", "purchases.csv", "complaints.csv", "interactions.csv", "customers.csv",
    *(f"{kind}_{lang}.csv" for kind in ("complaints", "interactions", "customers")
      for lang in ("tr", "nl")),
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
    if dialect == "canonical":
        written: dict[str, Path] = {}
        for kind, frame in frames.items():
            path = settings.raw_dir / kind / EXPORT_NAMES[kind]
            written[kind] = write_text_atomic(frame.to_csv(index=False), path)
    else:
        written = write_dialect(dialect, business, frames, settings.raw_dir, settings.data_dir)
    truth = business.ground_truth.copy()
    written["ground_truth"] = write_text_atomic(
        truth.to_csv(index=False), ground_truth_path(settings)
    )
    return written
