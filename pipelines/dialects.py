"""The simulated business written as the exports real systems produce (`churn generate
--dialect`): a Logo ERP invoice report in cp1254, Zendesk ticket exports that overlap, a
Shopify order export, Dutch Excel CSVs, an xlsx customer list with title and total rows.

`mixed` stages to exactly the same tables as `canonical` (tested), so the demo exercises the
reading, preset and mapping paths without changing the model.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.storage import write_bytes_atomic, write_text_atomic

DIALECTS = ("canonical", "tr", "nl", "shopify", "zendesk", "mixed")
ISTANBUL, AMSTERDAM = "Europe/Istanbul", "Europe/Amsterdam"


def _local(series: pd.Series, zone: str, fmt: str) -> pd.Series:
    """Naive UTC times as local wall-clock text in `zone` (empty for missing)."""
    stamps = pd.to_datetime(series).dt.tz_localize("UTC").dt.tz_convert(zone)
    return stamps.dt.strftime(fmt).where(stamps.notna(), "")


def _money(values: pd.Series, decimal: str = ",", thousands: str = ".") -> pd.Series:
    def one(value: float) -> str:
        text = f"{abs(value):,.2f}".replace(",", "\0").replace(".", decimal)
        text = text.replace("\0", thousands)
        return f"-{text}" if value < 0 else text
    return values.map(one)


def logo_invoices(purchases: pd.DataFrame, customers: pd.DataFrame) -> str:
    """A Logo "Fatura Listesi" report: title rows, Turkish captions, a Genel Toplam line."""
    names = customers.set_index("customer_id")["name"]
    kind = np.where(purchases["status"] == "returned", "Perakende Satış İade Faturası",
                    "Perakende Satış Faturası")
    quantity = purchases["quantity"].astype(int)
    frame = pd.DataFrame({
        "Tarih": _local(purchases["order_date"], ISTANBUL, "%d.%m.%Y %H:%M:%S"),
        "Fiş No": purchases["order_id"],
        "Cari Kod": purchases["customer_id"],
        "Cari Ad": purchases["customer_id"].map(names).fillna(""),
        "Fatura Tipi": kind,
        "Miktar": quantity.astype(str),
        "Birim Fiyat": _money(purchases["amount"] / quantity / 1.2),
        "KDV Tutar": _money(purchases["amount"] / 6),
        "Toplam Tutar": _money(purchases["amount"]),
        "Satış Kanalı": purchases["channel"],
        "İptal": np.where(purchases["status"] == "cancelled", "Evet", "Hayır"),
    })
    proforma = frame.head(3).assign(**{"Fatura Tipi": "Proforma Fatura",
                                       "Fiş No": [f"PRF-{i:06d}" for i in range(3)]})
    frame = pd.concat([frame, proforma], ignore_index=True)
    total = _money(pd.Series([purchases["amount"].sum()])).iloc[0]
    period = frame["Tarih"].str[:10]
    lines = ["LOGO TIGER - FATURA LİSTESİ", f"Dönem: {period.iloc[0]} - {period.iloc[-1]}", ""]
    body = frame.to_csv(sep=";", index=False, lineterminator="\r\n")
    footer = ";" * 8 + f"Genel Toplam;{total}\r\n"
    return "\r\n".join(lines) + "\r\n" + body + footer


def zendesk_tickets(complaints: pd.DataFrame, customers: pd.DataFrame) -> tuple[str, str]:
    """Two overlapping Zendesk exports in account time: the earlier one sees every ticket
    still open (no solve time, no rating), the later one the final state."""
    names = customers.set_index("customer_id")["name"]
    fmt = "%Y-%m-%d %H:%M:%S"
    score = complaints["satisfaction"].map(
        lambda s: "Offered" if pd.isna(s) else ("Good" if s >= 4 else "Bad" if s <= 2
                                                else "Offered"))

    def export(final: bool) -> pd.DataFrame:
        updated = complaints["resolved_at"].fillna(complaints["opened_at"]) if final \
            else complaints["opened_at"]
        return pd.DataFrame({
            "ID": complaints["complaint_id"],
            "Requester": complaints["customer_id"].map(names).fillna(""),
            "Requester ID": complaints["customer_id"],
            "Subject": "Şikayet: " + complaints["category"].astype(str),
            "Status": complaints["status"].str.capitalize() if final else "Open",
            "Created at": _local(complaints["opened_at"], ISTANBUL, fmt),
            "Updated at": _local(updated, ISTANBUL, fmt),
            "Solved at": _local(complaints["resolved_at"], ISTANBUL, fmt) if final else "",
            "Satisfaction Score": score if final else "Not Offered",
            "Ticket Category [list]": complaints["category"],
            "CSAT [int]": complaints["satisfaction"].map(
                lambda s: "" if pd.isna(s) or not final else str(int(s))),
        })
    early = export(final=False).iloc[: len(complaints) // 2]
    return early.to_csv(index=False), export(final=True).to_csv(index=False)


def customers_xlsx(customers: pd.DataFrame, path: Path) -> Path:
    """An "export to Excel" customer list: a title row, a blank row, real date cells, a total."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Müşteriler")
    sheet.append(["Müşteri Listesi"])
    sheet.append([])
    sheet.append(["Cari Kod", "Cari Ad", "E-posta", "Kayıt Tarihi", "Segment", "Bölge",
                  "Temsilci", "İptal Tarihi"])
    for row in customers.itertuples(index=False):
        cancelled = None if pd.isna(row.cancelled_at) else pd.Timestamp(row.cancelled_at)
        sheet.append([row.customer_id, row.name, row.email,
                      pd.Timestamp(row.signup_date).to_pydatetime(), row.segment, row.region,
                      row.owner, cancelled.to_pydatetime() if cancelled is not None else None])
    sheet.append(["Toplam", f"{len(customers)} müşteri"])
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    book.save(temp)
    temp.replace(path)
    return path


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


def write_dialect(dialect: str, business, canonical: dict[str, pd.DataFrame],
                  raw_dir: Path, data_dir: Path) -> dict[str, Path]:
    """Write `business` into `raw_dir` as `dialect` exports; the paths written per kind."""
    if dialect not in DIALECTS or dialect == "canonical":
        raise ValueError(f"unknown dialect {dialect!r}; choose one of {', '.join(DIALECTS)}")
    from pipelines.dialects_extra import write_other_dialect  # tr, nl, shopify, zendesk

    if dialect != "mixed":
        return write_other_dialect(dialect, business, canonical, raw_dir, data_dir)
    written = {
        "purchases": write_bytes_atomic(
            logo_invoices(business.purchases, business.customers).encode("cp1254"),
            raw_dir / "purchases" / "logo_fatura_listesi.csv"),
        "customers": customers_xlsx(business.customers,
                                    raw_dir / "customers" / "musteri_listesi.xlsx"),
        "interactions": write_bytes_atomic(
            gzip.compress(canonical["interactions"].to_csv(index=False, sep="\t").encode(),
                          mtime=0),
            raw_dir / "interactions" / "interactions_log.tsv.gz"),
        "sources": write_text_atomic(MIXED_SOURCES, data_dir / "sources.yaml"),
    }
    early, final = zendesk_tickets(business.complaints, business.customers)
    write_text_atomic(early, raw_dir / "complaints" / "zendesk_export_1.csv")
    written["complaints"] = write_text_atomic(final, raw_dir / "complaints" /
                                              "zendesk_export_2.csv")
    return written
