"""The dialects of `churn generate --dialect`: which vendor files each one writes, and where.

`mixed` stages to exactly the same tables as `canonical` (tested), so the demo exercises the
reading, preset and mapping paths without changing the model.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd

from pipelines.sample.simulator import SimulatedBusiness
from pipelines.sample.vendor_files import (
    AMSTERDAM,
    ISTANBUL,
    customer_list_xlsx,
    localised_excel_csv,
    logo_invoice_report_text,
    shopify_orders_export_text,
    zendesk_ticket_export_texts,
)
from pipelines.store.atomic import write_bytes_atomic, write_text_atomic

DIALECTS = ("canonical", "tr", "nl", "shopify", "zendesk", "mixed")
CANONICAL_NAMES = {
    "purchases": "orders_export.csv",
    "complaints": "tickets_export.csv",
    "interactions": "interactions_log.csv",
    "customers": "customer_master.csv",
}
# Every file name a dialect writes, so a new `churn generate` removes an earlier one's files
# (of any dialect) and leaves the user's own.
SAMPLE_FILE_NAMES = {
    *CANONICAL_NAMES.values(), "logo_fatura_listesi.csv", "musteri_listesi.xlsx",
    "interactions_log.tsv.gz", "zendesk_export_1.csv", "zendesk_export_2.csv",
    "orders_nl.csv", "purchases.csv", "complaints.csv", "interactions.csv", "customers.csv",
    *(f"{kind}_{lang}.csv" for kind in ("complaints", "interactions", "customers")
      for lang in ("tr", "nl")),
}
SOURCES_MARKER = "# written by `churn generate`; see README: Bring your own exports\n"
MIXED_SOURCES = SOURCES_MARKER + """\
files:
  - pattern: "purchases/logo_*"
    timezone: Europe/Istanbul
  - pattern: "complaints/zendesk_*"
    timezone: Europe/Istanbul
  - pattern: "customers/*.xlsx"
    timezone: UTC
"""


def write_dialect(dialect: str, business: SimulatedBusiness,
                  canonical: dict[str, pd.DataFrame], raw_dir: Path,
                  data_dir: Path) -> dict[str, Path]:
    """Write `business` into `raw_dir` as `dialect` exports; the paths written per kind.

    `canonical` holds the four exports as text frames (`pipelines.sample.generate`); a
    dialect that needs a `sources.yaml` (time zones of naive local times) writes it too.
    """
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    if dialect == "canonical":
        return {kind: write_text_atomic(frame.to_csv(index=False),
                                        raw_dir / kind / CANONICAL_NAMES[kind])
                for kind, frame in canonical.items()}
    if dialect in ("tr", "nl"):
        return _write_localised(dialect, business, raw_dir, data_dir)
    if dialect == "shopify":
        return _write_shopify(business, canonical, raw_dir)
    complaints = _write_zendesk(business, raw_dir)
    if dialect == "zendesk":
        written: dict[str, Path] = {"complaints": complaints}
        written["sources"] = write_text_atomic(
            SOURCES_MARKER
            + 'files:\n  - pattern: "complaints/zendesk_*"\n    timezone: Europe/Istanbul\n',
            data_dir / "sources.yaml")
        for kind in ("purchases", "interactions", "customers"):
            written[kind] = write_text_atomic(canonical[kind].to_csv(index=False),
                                              raw_dir / kind / f"{kind}.csv")
        return written
    # mixed: a Logo ERP, a Zendesk helpdesk, a gzipped event log and an xlsx customer list
    return {
        "purchases": write_bytes_atomic(
            logo_invoice_report_text(business.purchases, business.customers).encode("cp1254"),
            raw_dir / "purchases" / "logo_fatura_listesi.csv"),
        "customers": customer_list_xlsx(business.customers,
                                        raw_dir / "customers" / "musteri_listesi.xlsx"),
        "interactions": write_bytes_atomic(
            gzip.compress(canonical["interactions"].to_csv(index=False, sep="\t").encode(),
                          mtime=0),
            raw_dir / "interactions" / "interactions_log.tsv.gz"),
        "sources": write_text_atomic(MIXED_SOURCES, data_dir / "sources.yaml"),
        "complaints": complaints,
    }


def _write_zendesk(business: SimulatedBusiness, raw_dir: Path) -> Path:
    """Two overlapping ticket exports (an early one, then the final state); the later path."""
    early, final = zendesk_ticket_export_texts(business.complaints, business.customers)
    write_text_atomic(early, raw_dir / "complaints" / "zendesk_export_1.csv")
    return write_text_atomic(final, raw_dir / "complaints" / "zendesk_export_2.csv")


def _write_localised(lang: str, business: SimulatedBusiness, raw_dir: Path,
                     data_dir: Path) -> dict[str, Path]:
    """Turkish (a Logo invoice report) or Dutch Excel CSVs, times in the country's zone."""
    written: dict[str, Path] = {}
    frames = {"complaints": business.complaints, "interactions": business.interactions,
              "customers": business.customers}
    for kind, frame in frames.items():
        written[kind] = write_bytes_atomic(localised_excel_csv(frame, lang),
                                           raw_dir / kind / f"{kind}_{lang}.csv")
    if lang == "tr":
        written["purchases"] = write_bytes_atomic(
            logo_invoice_report_text(business.purchases, business.customers).encode("cp1254"),
            raw_dir / "purchases" / "logo_fatura_listesi.csv")
    else:
        written["purchases"] = write_bytes_atomic(
            localised_excel_csv(business.purchases, "nl"), raw_dir / "purchases" / "orders_nl.csv")
    zone = ISTANBUL if lang == "tr" else AMSTERDAM
    written["sources"] = write_text_atomic(
        SOURCES_MARKER + f'files:\n  - pattern: "*"\n    timezone: {zone}\n',
        data_dir / "sources.yaml")
    return written


def _write_shopify(business: SimulatedBusiness, canonical: dict[str, pd.DataFrame],
                   raw_dir: Path) -> dict[str, Path]:
    """A shop knows its customers by e-mail: every export keyed by it."""
    emails = business.customers.set_index("customer_id")["email"]
    written = {"purchases": write_text_atomic(
        shopify_orders_export_text(business.purchases, emails),
        raw_dir / "purchases" / "orders_export.csv")}
    for kind in ("complaints", "interactions", "customers"):
        frame = canonical[kind].assign(customer_id=canonical[kind]["customer_id"].map(emails))
        written[kind] = write_text_atomic(frame.to_csv(index=False),
                                          raw_dir / kind / f"{kind}.csv")
    return written
