"""The single-system sample dialects: Turkish Excel CSVs, Dutch Excel CSVs, a Shopify shop,
a Zendesk helpdesk. `pipelines.dialects` holds the shared writers and `mixed`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipelines.dialects import (
    AMSTERDAM,
    ISTANBUL,
    SOURCES_MARKER,
    _local,
    _money,
    logo_invoices,
    zendesk_tickets,
)
from pipelines.storage import write_bytes_atomic, write_text_atomic

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


def localised_csv(frame: pd.DataFrame, language: str) -> bytes:
    """A business frame as that country's Excel CSV: `;`, local headers, times and money."""
    zone, fmt, encoding = _DATES[language]
    out = frame.copy()
    for column in _TIMES:
        if column in out:
            out[column] = _local(out[column], zone, fmt)
    if "amount" in out:
        out["amount"] = "€ " + _money(out["amount"]) if language == "nl" else _money(out["amount"])
    if "satisfaction" in out:
        out["satisfaction"] = out["satisfaction"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    if language == "nl" and "status" in out and "order_id" in out:
        out["status"] = out["status"].map(_NL_STATUS)
    out = out.rename(columns=_HEADERS[language])
    # Excel writes `?` for letters its code page lacks (Turkish names in a Dutch file).
    return out.to_csv(sep=";", index=False, lineterminator="\r\n").encode(encoding, "replace")


def shopify_orders(purchases: pd.DataFrame, emails: pd.Series) -> str:
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


def write_other_dialect(dialect: str, business, canonical: dict[str, pd.DataFrame],
                        raw_dir: Path, data_dir: Path) -> dict[str, Path]:
    written: dict[str, Path] = {}
    if dialect in ("tr", "nl"):
        frames = {"complaints": business.complaints, "interactions": business.interactions,
                  "customers": business.customers}
        for kind, frame in frames.items():
            written[kind] = write_bytes_atomic(localised_csv(frame, dialect),
                                               raw_dir / kind / f"{kind}_{dialect}.csv")
        if dialect == "tr":
            written["purchases"] = write_bytes_atomic(
                logo_invoices(business.purchases, business.customers).encode("cp1254"),
                raw_dir / "purchases" / "logo_fatura_listesi.csv")
        else:
            written["purchases"] = write_bytes_atomic(
                localised_csv(business.purchases, "nl"), raw_dir / "purchases" / "orders_nl.csv")
        zone = ISTANBUL if dialect == "tr" else AMSTERDAM
        written["sources"] = write_text_atomic(
            SOURCES_MARKER + f'files:\n  - pattern: "*"\n    timezone: {zone}\n',
            data_dir / "sources.yaml")
        return written
    if dialect == "shopify":  # a shop knows its customers by e-mail
        emails = business.customers.set_index("customer_id")["email"]
        written["purchases"] = write_text_atomic(
            shopify_orders(business.purchases, emails), raw_dir / "purchases" / "orders_export.csv")
        for kind in ("complaints", "interactions", "customers"):
            frame = canonical[kind].assign(customer_id=canonical[kind]["customer_id"].map(emails))
            written[kind] = write_text_atomic(frame.to_csv(index=False),
                                              raw_dir / kind / f"{kind}.csv")
        return written
    early, final = zendesk_tickets(business.complaints, business.customers)
    write_text_atomic(early, raw_dir / "complaints" / "zendesk_export_1.csv")
    written["complaints"] = write_text_atomic(final, raw_dir / "complaints" /
                                              "zendesk_export_2.csv")
    written["sources"] = write_text_atomic(
        SOURCES_MARKER
        + 'files:\n  - pattern: "complaints/zendesk_*"\n    timezone: Europe/Istanbul\n',
        data_dir / "sources.yaml")
    for kind in ("purchases", "interactions", "customers"):
        written[kind] = write_text_atomic(canonical[kind].to_csv(index=False),
                                          raw_dir / kind / f"{kind}.csv")
    return written

