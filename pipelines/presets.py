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
- Logo invoice reports: every row is a document with its own date; a return invoice (`İade`)
  that names its sale in the same file (`İade Edilen Fiş No`, `İlgili Fiş No`) is netted into
  it (full return: the sale becomes `returned`; partial: its amount drops); other return
  invoices are staged as their own `returned` rows, so they never count as spend; proforma
  invoices are not sales.
- WooCommerce: `status` is the order's state at export time; `refunded` orders are staged as
  `returned` and their refund records are not subtracted a second time; partial refund
  records (negative totals with a parent id) are netted into their order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.locales import cell_text, map_unique, parse_numbers
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
    return map_unique(cell_text(values),
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
    kind = map_unique(cell_text(frame[_column(frame, "Fatura Tipi", "Fiş Türü")]).fillna(""),
                      fold_header)
    cancelled_col = _column(frame, "İptal", "İptal Edildi")
    cancelled = (map_unique(cell_text(frame[cancelled_col]).fillna(""), fold_header)
                 .isin(["evet", "e", "1", "true", "iptal"]) if cancelled_col
                 else pd.Series(False, index=frame.index))
    out["status"] = np.where(cancelled, "cancelled",
                             np.where(kind.str.contains("iade"), "returned", "completed"))
    out[PRESET_REASON] = np.where(kind.str.contains("proforma"), "proforma invoice (not a sale)",
                                  None)
    link = _column(frame, "İade Edilen Fiş No", "İlgili Fiş No", "Kaynak Fiş No")
    if link is None:
        return PresetResult(out, 0, result.mapping)
    return _net_linked_returns(out, cell_text(frame[link]), locale, result.mapping)


def _net_linked_returns(out: pd.DataFrame, link: pd.Series, locale: str,
                        mapping: dict[str, str] | None) -> PresetResult:
    """Return invoices naming their sale in the same file are folded into it: a full return
    marks the sale `returned` (gross amount), a partial one lowers its amount."""
    amount = parse_numbers(out["amount"], locale)[0]
    order_id = cell_text(out["order_id"])
    sales = (out["status"] != "returned") & out[PRESET_REASON].isna()
    linked = (out["status"] == "returned") & link.isin(order_id[sales]) & amount.notna()
    returned = amount[linked].groupby(link[linked]).sum()
    is_target = sales & order_id.isin(returned.index)
    back = order_id[is_target].map(returned)
    full = back >= amount[is_target] - 0.005
    out = out.copy()
    out.loc[back.index[full], "status"] = "returned"
    partial = back.index[~full]
    out["amount"] = amount.where(amount.notna(), out["amount"]).astype(object)
    out.loc[partial, "amount"] = (amount[partial] - back[~full]).round(2)
    return PresetResult(out.loc[~linked], int(linked.sum()), mapping)


_WOO_STATUS = {"completed": "completed", "processing": "completed", "refunded": "returned",
               "cancelled": "cancelled", "failed": "cancelled", "pending": "cancelled",
               "onhold": "cancelled", "checkoutdraft": "cancelled", "trash": "cancelled"}


def woocommerce_orders(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Orders keyed by customer id, guests (id 0) by e-mail; refund records (negative totals
    pointing at a parent order) are netted into that order, unless it is already refunded."""
    total_col, parent_col = _column(frame, "order_total"), _column(frame, "parent_id",
                                                                   "parent_order_id")
    total = parse_numbers(frame[total_col], locale)[0]
    parent = cell_text(frame[parent_col]) if parent_col else pd.Series(None, index=frame.index)
    refund = (total < 0) & parent.notna() & (parent != "0")
    orders = frame.loc[~refund]
    customer = cell_text(orders[_column(frame, "customer_id")])
    email_col = _column(frame, "customer_email", "billing_email")
    email = cell_text(orders[email_col]).str.lower() if email_col else None
    guest = customer.isna() | (customer == "0")
    status_text = cell_text(orders[_column(frame, "status")]).fillna("")
    status = map_unique(status_text,
                        lambda v: _WOO_STATUS.get(fold_header((v or "").removeprefix("wc-")), v))
    order_id = cell_text(orders[_column(frame, "order_id")])
    amount = total[~refund].copy()
    net = total[refund].groupby(parent[refund]).sum()
    open_orders = order_id.isin(net.index) & (status != "returned")
    amount[open_orders] += order_id[open_orders].map(net).to_numpy()
    out = pd.DataFrame({
        "customer_id": customer.where(~guest, email if email is not None else None),
        "order_id": order_id, "order_date": orders[_column(frame, "order_date")],
        "amount": amount.where(amount.notna(), orders[total_col]), "status": status,
    }, index=orders.index)
    out[SOURCE_LINE] = [line for line, keep in zip(lines, ~refund, strict=True) if keep]
    orphans = refund & ~parent.isin(order_id)
    if orphans.any():  # a refund whose order is not in this file cannot be netted
        rows = frame.loc[orphans]
        extra = pd.DataFrame({
            "customer_id": cell_text(rows[_column(frame, "customer_id")]),
            "order_id": cell_text(rows[_column(frame, "order_id")]),
            "order_date": rows[_column(frame, "order_date")], "amount": rows[total_col],
            PRESET_REASON: "refund record without its order in this file"}, index=rows.index)
        extra[SOURCE_LINE] = [line for line, o in zip(lines, orphans, strict=True) if o]
        out = pd.concat([out, extra])
    mapping = {_column(frame, "order_id"): "order_id", _column(frame, "customer_id"):
               "customer_id", total_col: "amount", _column(frame, "order_date"): "order_date"}
    return PresetResult(out, int((refund & ~orphans).sum()), mapping)
