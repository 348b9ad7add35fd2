"""Writers of the files real systems export, filled from the simulated business: a Logo ERP
invoice report in cp1254, Zendesk ticket exports that overlap, a Shopify order export, Turkish
and Dutch Excel CSVs, an xlsx customer list with title and total rows.

The twins that *read* these formats are the presets in `pipelines.ingest.presets`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

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


def logo_invoice_report_text(purchases: pd.DataFrame, customers: pd.DataFrame) -> str:
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


def zendesk_ticket_export_texts(complaints: pd.DataFrame,
                                customers: pd.DataFrame) -> tuple[str, str]:
    """Two overlapping Zendesk exports in account time: the earlier one sees every ticket
    still open (no solve time, no rating), the later one the final state."""
    names = customers.set_index("customer_id")["name"]
    emails = customers.set_index("customer_id")["email"]
    codes = pd.Index(customers["customer_id"])
    zendesk_user = (360_000_000_000 + codes.get_indexer(complaints["customer_id"])).astype(str)
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
            "Requester ID": zendesk_user,  # Zendesk's own user number, not the customer code
            "Requester external id": complaints["customer_id"],  # the code, synced by the shop
            "Requester email": complaints["customer_id"].map(emails).fillna(""),
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


def customer_list_xlsx(customers: pd.DataFrame, path: Path) -> Path:
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


_HEADERS = {
    "tr": {"complaint_id": "Şikayet No", "customer_id": "Cari Kod", "opened_at": "Açılış Tarihi",
           "resolved_at": "Çözüm Tarihi", "category": "Kategori", "status": "Durum",
           "satisfaction": "Memnuniyet", "interaction_id": "Etkileşim No",
           "occurred_at": "Zaman", "channel": "Kanal", "type": "Tür", "direction": "Yön",
           "name": "Cari Ad", "email": "E-posta", "signup_date": "Kayıt Tarihi",
           "segment": "Segment", "region": "Bölge", "owner": "Temsilci",
           "cancelled_at": "İptal Tarihi"},
    "nl": {"customer_id": "Klantnummer", "order_id": "Ordernummer", "order_date": "Orderdatum",
           "amount": "Bedrag", "status": "Orderstatus", "quantity": "Aantal",
           "channel": "Kanaal", "complaint_id": "Klachtnummer", "opened_at": "Aangemaakt op",
           "resolved_at": "Opgelost op", "category": "Categorie", "satisfaction": "Tevredenheid",
           "interaction_id": "Interactienummer", "occurred_at": "Tijdstip", "type": "Soort",
           "direction": "Richting", "name": "Naam", "email": "E-mailadres",
           "signup_date": "Inschrijfdatum", "segment": "Segment", "region": "Regio",
           "owner": "Accountmanager", "cancelled_at": "Opzegdatum"},
}
_DATES = {"tr": (ISTANBUL, "%d.%m.%Y %H:%M:%S", "cp1254"),
          "nl": (AMSTERDAM, "%d-%m-%Y %H:%M:%S", "cp1252")}
_NL_STATUS = {"completed": "Voltooid", "cancelled": "Geannuleerd", "returned": "Geretourneerd"}
_TIMES = ("order_date", "opened_at", "resolved_at", "occurred_at", "signup_date", "cancelled_at")


def localised_excel_csv(frame: pd.DataFrame, lang: str) -> bytes:
    """A business frame as that country's Excel CSV: `;`, local headers, times and money."""
    zone, fmt, encoding = _DATES[lang]
    out = frame.copy()
    for column in _TIMES:
        if column in out:
            out[column] = _local(out[column], zone, fmt)
    if "amount" in out:
        out["amount"] = "€ " + _money(out["amount"]) if lang == "nl" else _money(out["amount"])
    if "satisfaction" in out:
        out["satisfaction"] = out["satisfaction"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    if lang == "nl" and "status" in out and "order_id" in out:
        out["status"] = out["status"].map(_NL_STATUS)
    out = out.rename(columns=_HEADERS[lang])
    # Excel writes `?` for letters its code page lacks (Turkish names in a Dutch file).
    return out.to_csv(sep=";", index=False, lineterminator="\r\n").encode(encoding, "replace")


def shopify_orders_export_text(purchases: pd.DataFrame, emails: pd.Series) -> str:
    """Shopify's orders export: one row per line item, order money on the first row only."""
    rows = []
    for order in purchases.itertuples(index=False):
        items = max(1, min(int(order.quantity), 3))
        quantities = [int(order.quantity) - (items - 1)] + [1] * (items - 1)
        created = pd.Timestamp(order.order_date).tz_localize("UTC").tz_convert(AMSTERDAM)
        stamp = created.strftime("%Y-%m-%d %H:%M:%S %z")
        for position, quantity in enumerate(quantities):
            first = position == 0
            rows.append({
                "Name": f"#{order.order_id}", "Email": emails[order.customer_id] if first else "",
                "Financial Status": ("refunded" if order.status == "returned" else "paid")
                if first else "",
                "Paid at": stamp if first else "", "Currency": "EUR" if first else "",
                "Subtotal": f"{order.amount:.2f}" if first else "",
                "Total": f"{order.amount:.2f}" if first else "",
                "Created at": stamp,
                "Lineitem quantity": str(quantity), "Lineitem name": f"Item {position + 1}",
                "Cancelled at": stamp if first and order.status == "cancelled" else "",
                "Refunded Amount": f"{order.amount:.2f}"
                if first and order.status == "returned" else "",
                "Source": order.channel if first else "", "Payment Method": "",
            })
    return pd.DataFrame(rows).to_csv(index=False)
