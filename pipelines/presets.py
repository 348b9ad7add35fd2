"""System presets: exports recognised from their headers and turned into canonical rows.

Each preset applies its source's semantics and returns canonical columns (cells still as
delivered, except amounts it had to compute) plus `_source_line`, `_reason` for rows it sets
aside and `_updated_at` where the source has a last-modified time. Export-time "current
state" columns are treated as follows (none ever becomes a point-in-time fact):

- Shopify: `Financial Status` and `Refunded Amount` describe the order at export time. A fully
  refunded order is staged as `returned` (amount gross, like every returned order); a partial
  refund is netted into the amount. `Cancelled at` orders are staged as `cancelled`, which no
  purchase feature counts. Customer-level `Total Spent`/`Total Orders` are never read.
- Zendesk / Freshdesk: `Status` is kept as the export-time status for display only; opened and
  resolved times come from `Created at` / `Solved at` (Freshdesk: `Resolved time`, else
  `Closed time`). Satisfaction (export-time) is only ever used from `resolved_at` on (see the
  complaints contract). `Tags` are not read.
- Logo invoice reports: every row is a document with its own date; return invoices (`İade`)
  are staged as `returned`, so they never count as spend; proforma invoices are not sales.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.locales import cell_text, parse_numbers
from pipelines.staging import PRESET_REASON, SOURCE_LINE, UPDATED_AT, fold_header


@dataclass(frozen=True)
class PresetResult:
    frame: pd.DataFrame  # canonical columns + bookkeeping
    merged: int = 0  # input rows folded into another row (line items of one order)
    mapping: dict[str, str] | None = None  # source header -> canonical, for --explain


@dataclass(frozen=True)
class Preset:
    name: str
    kind: str
    signature: frozenset[str]  # folded headers that must all be present
    locale: str | None
    convert: Callable[[pd.DataFrame, list[int], str], PresetResult]


def _column(frame: pd.DataFrame, *names: str, startswith: str | None = None) -> str | None:
    """The first header of `frame` whose folded form is one of `names` (or starts with)."""
    folded = {fold_header(h): h for h in frame.columns}
    for name in names:
        if fold_header(name) in folded:
            return folded[fold_header(name)]
    if startswith:
        return next((h for f, h in folded.items() if f.startswith(startswith)), None)
    return None


def _pick(frame: pd.DataFrame, lines: list[int], wanted: dict[str, str | None]) -> PresetResult:
    """Canonical frame from a source header per canonical column (None: leave it out)."""
    out = pd.DataFrame({target: frame[source] for target, source in wanted.items() if source},
                       index=frame.index)
    out[SOURCE_LINE] = lines
    return PresetResult(out, 0, {s: t for t, s in wanted.items() if s})


def shopify_orders(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """One row per order from one row per line item; money from the order's first row."""
    name = _column(frame, "Name")
    first = ~cell_text(frame[name]).duplicated() | cell_text(frame[name]).isna()
    quantity_col = _column(frame, "Lineitem quantity")
    quantity = parse_numbers(frame[quantity_col], locale)[0] if quantity_col else None
    orders = frame.loc[first].copy()
    total = parse_numbers(orders[_column(frame, "Total")], locale)[0]
    refunded_col = _column(frame, "Refunded Amount")
    refunded = (parse_numbers(orders[refunded_col], locale)[0].fillna(0.0) if refunded_col
                else pd.Series(0.0, index=orders.index))
    financial = cell_text(orders[_column(frame, "Financial Status")]).fillna("").str.lower()
    cancelled_col = _column(frame, "Cancelled at")
    cancelled = (cell_text(orders[cancelled_col]).notna() if cancelled_col
                 else pd.Series(False, index=orders.index))
    fully_refunded = (financial == "refunded") | ((refunded >= total) & (refunded > 0))
    status = np.where(cancelled, "cancelled", np.where(fully_refunded, "returned", "completed"))
    amount = total.where(fully_refunded | cancelled, total - refunded)
    keys = cell_text(frame[name])
    out = pd.DataFrame({
        "customer_id": cell_text(orders[_column(frame, "Email")]).str.lower(),
        "order_id": cell_text(orders[name]),
        "order_date": orders[_column(frame, "Created at")],
        "amount": amount.where(total.notna(), orders[_column(frame, "Total")]),
        "status": status,
    }, index=orders.index)
    if quantity is not None:
        out["quantity"] = quantity.groupby(keys.fillna("")).transform("sum")[first]
    source = _column(frame, "Source")
    if source:
        out["channel"] = orders[source]
    out[SOURCE_LINE] = [line for line, keep in zip(lines, first, strict=True) if keep]
    gateway = _column(frame, "Payment Method", "Gateway")
    tags = _column(frame, "Tags")
    test = pd.Series(False, index=orders.index)
    if gateway:
        test |= cell_text(orders[gateway]).fillna("").str.lower().str.contains("bogus")
    if tags:
        test |= cell_text(orders[tags]).fillna("").str.lower().str.contains(r"\btest\b")
    out[PRESET_REASON] = np.where(test, "test order", None)
    mapping = {name: "order_id", _column(frame, "Email"): "customer_id",
               _column(frame, "Created at"): "order_date", _column(frame, "Total"): "amount"}
    return PresetResult(out, int((~first).sum()), mapping)


def _translated(values: pd.Series, words: dict[str, str | None]) -> pd.Series:
    """Known words replaced (by folded spelling), anything else kept for staging to judge."""
    return cell_text(values).map(
        lambda v: words.get(fold_header(v), v) if isinstance(v, str) else None)


_ZENDESK_SATISFACTION = {"good": "good", "bad": "bad", "offered": None, "notoffered": None,
                         "unoffered": None}


def zendesk_tickets(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Tickets as complaints; a numeric CSAT custom field wins over Good/Bad."""
    csat = _column(frame, startswith="csat")
    result = _pick(frame, lines, {
        "complaint_id": _column(frame, "ID"),
        "customer_id": _column(frame, "Requester external ID", "Requester ID"),
        "opened_at": _column(frame, "Created at"),
        "resolved_at": _column(frame, "Solved at"),
        "status": _column(frame, "Status"),
        "category": _column(frame, startswith="ticketcategory") or _column(frame, "Ticket type"),
        "satisfaction": csat or _column(frame, "Satisfaction Score"),
        UPDATED_AT: _column(frame, "Updated at"),
    })
    if not csat and "satisfaction" in result.frame:
        result.frame["satisfaction"] = _translated(result.frame["satisfaction"],
                                                   _ZENDESK_SATISFACTION)
    return result


_FRESHDESK_SATISFACTION = {
    "extremelysatisfied": "5", "satisfied": "4", "neutral": "3", "dissatisfied": "2",
    "extremelydissatisfied": "1", "awesome": "5", "justokay": "3", "notgood": "1",
}


def freshdesk_tickets(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Tickets as complaints; "(in hrs)" columns are ignored (durations come from times)."""
    resolved, closed = _column(frame, "Resolved time"), _column(frame, "Closed time")
    if resolved and closed:  # closed without a resolve step: the close time resolves it
        frame = frame.assign(**{resolved: cell_text(frame[resolved]).fillna(
            cell_text(frame[closed]))})
    result = _pick(frame, lines, {
        "complaint_id": _column(frame, "Ticket ID"),
        "customer_id": _column(frame, "Contact ID") or _column(frame, "Email"),
        "opened_at": _column(frame, "Created time"),
        "resolved_at": resolved or closed,
        "status": _column(frame, "Status"),
        "category": _column(frame, "Type"),
        "satisfaction": _column(frame, "Survey results"),
        UPDATED_AT: _column(frame, "Last updated time"),
    })
    if "satisfaction" in result.frame:
        result.frame["satisfaction"] = _translated(result.frame["satisfaction"],
                                                   _FRESHDESK_SATISFACTION)
    return result


def logo_invoices(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Invoice documents as purchases: returns staged as returned, proformas set aside."""
    amount = _column(frame, "Toplam Tutar", "Net Tutar", "Tutar")
    wanted = {
        "customer_id": _column(frame, "Cari Kod", "Cari Kodu"),
        "order_id": _column(frame, "Fiş No", "Fatura No"),
        "order_date": _column(frame, "Tarih"),
        "amount": amount,
        "quantity": _column(frame, "Miktar"),
        "channel": _column(frame, "Satış Kanalı", "Kanal"),
    }
    result = _pick(frame, lines, wanted)
    out = result.frame
    if amount is None:  # quantity x unit price + VAT
        quantity = parse_numbers(frame[wanted["quantity"]], locale)[0]
        price = parse_numbers(frame[_column(frame, "Birim Fiyat")], locale)[0]
        vat = parse_numbers(frame[_column(frame, "KDV Tutar")], locale)[0].fillna(0.0)
        out["amount"] = (quantity * price + vat).round(2)
    kind = cell_text(frame[_column(frame, "Fatura Tipi", "Fiş Türü")]).fillna("").map(fold_header)
    cancelled_col = _column(frame, "İptal", "İptal Edildi")
    cancelled = (cell_text(frame[cancelled_col]).fillna("").map(fold_header)
                 .isin(["evet", "e", "1", "true", "iptal"]) if cancelled_col
                 else pd.Series(False, index=frame.index))
    out["status"] = np.where(cancelled, "cancelled",
                             np.where(kind.str.contains("iade"), "returned", "completed"))
    out[PRESET_REASON] = np.where(kind.str.contains("proforma"), "proforma invoice (not a sale)",
                                  None)
    return PresetResult(out, 0, result.mapping)


PRESETS: tuple[Preset, ...] = (
    Preset("shopify", "purchases", frozenset({"name", "email", "financialstatus",
                                              "lineitemquantity", "total", "createdat"}),
           "en", shopify_orders),
    Preset("zendesk", "complaints", frozenset({"id", "requesterid", "createdat", "solvedat"}),
           None, zendesk_tickets),
    Preset("freshdesk", "complaints", frozenset({"ticketid", "createdtime", "status"}),
           None, freshdesk_tickets),
    Preset("logo", "purchases", frozenset({"tarih", "carikod", "fisno", "faturatipi"}),
           "tr", logo_invoices),
)
PRESET_NAMES = tuple(p.name for p in PRESETS)


def detect_preset(headers: list[str], name: str | None = None) -> Preset | None:
    """The preset named in sources.yaml, else the first whose signature the headers carry."""
    if name is not None:
        return next((p for p in PRESETS if p.name == name), None)
    folded = {fold_header(h) for h in headers}
    return next((p for p in PRESETS if p.signature <= folded), None)


def is_preset_header(text: str) -> bool:
    """True for headers that belong to a preset's signature (for header-row detection)."""
    folded = fold_header(text)
    return any(folded in p.signature for p in PRESETS)
