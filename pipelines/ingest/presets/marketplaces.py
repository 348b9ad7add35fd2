"""Marketplace order exports: Trendyol, Hepsiburada and bol.com (legacy order CSV).

All three write one row per line item; each is folded into one order per order number (the
rows folded away are counted as merged). The customer key is the buyer's e-mail, lower-cased:
marketplaces export no customer id, and a row without an e-mail is set aside with that reason
(a buyer's name or address is never matched on).

- Trendyol (`Siparişler` xlsx, a title row above the header): one order per `Sipariş Numarası`
  (its packages, `Paket No`, folded together); the key is the relay address in `E-Posta`
  (`pf+…@trendyolmail.com`, stable per buyer and store); date `Sipariş Tarihi`
  (`dd.MM.yyyy HH:mm`); amount the sum of `Faturalanacak Tutar` (the billed amount, after
  discounts) over the lines, else of `Satış Tutarı`; quantity the sum of `Adet`.
  `Sipariş Statüsü` is export-time and only sets the status: a cancelled package (`Cancelled`,
  `İptal`, `UnSupplied`, `Tedarik Edilemedi`, `UnDelivered`, `Teslim Edilemedi`) or a returned
  one (`Returned`, `İade`) is netted out of an order that kept other packages; an order with
  nothing left is `cancelled`, or `returned` (gross) when something was returned. Other
  export-time columns (`Müşteri Sipariş Adedi`, `Yaş`, `Cinsiyet`, the `2.Teslimat` statuses)
  are never read.
- Hepsiburada (order export, one row per `Kalem Numarası`): one order per `Sipariş Numarası`;
  key `Alıcı Mail Adresi`; date `Sipariş Tarihi`; amount the sum of `Faturalandırılacak Satış
  Fiyatı` (taken as the line's billed total); quantity the sum of `Adet`. `Paket Durumu` is
  export-time and sets the status as for Trendyol (`İptal…` cancelled, `İade…` returned,
  progress words such as `Hazırlanıyor`, `Kargoda`, `Teslim Edildi` completed); `Müşteri Tipi`
  is never read.
- bol.com legacy order CSV (`bestelnummer, besteldatum, prijs, emailadres, aantal, …`): one
  order per `bestelnummer`; key `emailadres`; date `besteldatum` (ISO with `T`); amount the
  sum of `prijs` (the line total incl. btw); quantity the sum of `aantal`. The file carries no
  cancellations or returns, so every order is `completed`. No export-time columns.

A status word none of these lists knows reaches staging unchanged, which quarantines the
order as "unknown order status" rather than guess.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.ingest.cells import cell_text, map_unique, parse_numbers
from pipelines.ingest.headers import fold_header
from pipelines.ingest.presets.base import PresetResult, find_column, require_column
from pipelines.ingest.staging import PRESET_REASON, SOURCE_LINE

ORDER_STATUSES = ("completed", "cancelled", "returned")

# folded package/order status -> canonical status (Trendyol API enum and the Turkish labels)
_TURKISH_MARKETPLACE_STATUS: dict[str, str] = {
    "created": "completed", "picking": "completed", "invoiced": "completed",
    "shipped": "completed", "delivered": "completed", "repack": "completed",
    "unpacked": "completed", "awaiting": "completed",
    "cancelled": "cancelled", "canceled": "cancelled", "unsupplied": "cancelled",
    "undelivered": "cancelled", "returned": "returned",
    "yeni": "completed", "olusturuldu": "completed", "onaylandi": "completed",
    "hazirlaniyor": "completed", "paketlendi": "completed", "faturalandi": "completed",
    "kargoyaverildi": "completed", "kargoda": "completed", "kargolandi": "completed",
    "teslimedildi": "completed", "tedarikedilemedi": "cancelled",
    "teslimedilemedi": "cancelled",
}


def turkish_marketplace_status(word: str | None) -> str | None:
    """Canonical status of one Trendyol/Hepsiburada status label; unknown words unchanged."""
    if word is None:
        return None
    folded = fold_header(word)
    if folded in _TURKISH_MARKETPLACE_STATUS:
        return _TURKISH_MARKETPLACE_STATUS[folded]
    if "iptal" in folded:  # İptal, İptal Edildi, Müşteri İptali
        return "cancelled"
    if "iade" in folded:  # İade, İade Edildi, İade Talebi
        return "returned"
    return word


def fold_order_lines(frame: pd.DataFrame, lines: list[int], locale: str, *, order_col: str,
                     customer_col: str | None, date_col: str, amount_col: str,
                     quantity_col: str | None, line_status: pd.Series | None,
                     no_customer: str) -> PresetResult:
    """One order per order number from one row per line item.

    `line_status` holds each line's canonical status (or an unknown word). Lines whose status
    differs from the order's are netted out: an order keeps its completed lines; with none it
    is `returned` (the returned lines, gross) or else `cancelled` (all lines, gross). An order
    with a line status nobody knows carries that word, for staging to quarantine. Date and
    customer come from the order's first line; amount and quantity are sums.
    """
    order_text = cell_text(frame[order_col])
    placeholder = pd.Series([f"\0{i}" for i in range(len(frame))], index=frame.index)
    key = order_text.where(order_text.notna(), placeholder)  # no number: a row of its own
    status = (line_status if line_status is not None
              else pd.Series("completed", index=frame.index, dtype=object)).fillna("completed")
    known = status.isin(ORDER_STATUSES)
    by_key = key.to_numpy()

    def any_of(mask: pd.Series) -> pd.Series:
        return mask.groupby(by_key).transform("any")

    first_unknown = status.where(~known).groupby(by_key).transform("first")
    has_unknown = any_of(~known)
    order_status = pd.Series(np.select(
        [has_unknown, any_of(status == "completed"), any_of(status == "returned")],
        [first_unknown, "completed", "returned"], "cancelled"), index=frame.index, dtype=object)
    counted = has_unknown | (order_status == "cancelled") | (status == order_status)
    amount = parse_numbers(frame[amount_col], locale)[0]
    amount_text = cell_text(frame[amount_col])
    unreadable = counted & amount.isna()
    first = ~key.duplicated()
    out = pd.DataFrame({
        "customer_id": (cell_text(frame[customer_col]).str.lower() if customer_col
                        else pd.Series(None, index=frame.index, dtype=object)),
        "order_id": order_text,
        "order_date": frame[date_col],
    }, index=frame.index)
    if customer_col:  # the first line that names the buyer
        out["customer_id"] = out["customer_id"].groupby(by_key).transform("first")
    total = amount.where(counted, 0.0).groupby(by_key).transform("sum").round(2)
    # an order with an unreadable line keeps that cell, so staging quarantines it with a reason
    bad_text = amount_text.where(unreadable).groupby(by_key).transform("first")
    out["amount"] = total.astype(object).where(~any_of(unreadable), bad_text)
    if quantity_col:
        quantity = parse_numbers(frame[quantity_col], locale)[0]
        out["quantity"] = quantity.where(counted, 0.0).groupby(by_key).transform("sum")
    out["status"] = order_status
    out[SOURCE_LINE] = lines
    out = out.loc[first].copy()
    out["amount"] = out["amount"].where(out["amount"].notna(), "")
    missing_amount = cell_text(out["amount"]).isna()
    reason = pd.Series(None, index=out.index, dtype=object)
    reason[missing_amount] = f"no amount ({amount_col} is empty)"
    reason[out["customer_id"].isna()] = no_customer
    out[PRESET_REASON] = reason
    mapping = {order_col: "order_id", date_col: "order_date", amount_col: "amount (summed)"}
    if customer_col:
        mapping[customer_col] = "customer_id"
    if quantity_col:
        mapping[quantity_col] = "quantity (summed)"
    return PresetResult(out, int((~first).sum()), mapping)


def trendyol_orders(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Line items folded per `Sipariş Numarası`; cancelled/returned packages netted out."""
    order_col = (find_column(frame, "Sipariş Numarası")
                 or require_column(frame, "Paket No", preset="trendyol"))
    status_col = require_column(frame, "Sipariş Statüsü", preset="trendyol")
    amount_col = require_column(frame, "Faturalanacak Tutar", "Satış Tutarı", preset="trendyol")
    result = fold_order_lines(
        frame, lines, locale, order_col=order_col, customer_col=find_column(frame, "E-Posta"),
        date_col=require_column(frame, "Sipariş Tarihi", preset="trendyol"),
        amount_col=amount_col, quantity_col=find_column(frame, "Adet"),
        line_status=map_unique(cell_text(frame[status_col]), turkish_marketplace_status),
        no_customer="no customer key (no E-Posta: Trendyol exports no customer id)")
    result.mapping[status_col] = "status (export-time: only sets the status)"
    return result


def hepsiburada_orders(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """One row per `Kalem Numarası` folded per `Sipariş Numarası`; key `Alıcı Mail Adresi`."""
    status_col = find_column(frame, "Paket Durumu")
    status = (map_unique(cell_text(frame[status_col]), turkish_marketplace_status)
              if status_col else None)
    result = fold_order_lines(
        frame, lines, locale,
        order_col=require_column(frame, "Sipariş Numarası", preset="hepsiburada"),
        customer_col=find_column(frame, "Alıcı Mail Adresi"),
        date_col=require_column(frame, "Sipariş Tarihi", preset="hepsiburada"),
        amount_col=require_column(frame, "Faturalandırılacak Satış Fiyatı",
                                  preset="hepsiburada"),
        quantity_col=find_column(frame, "Adet"), line_status=status,
        no_customer="no customer key (no Alıcı Mail Adresi: Hepsiburada exports no customer "
                    "id)")
    if status_col:
        result.mapping[status_col] = "status (export-time: only sets the status)"
    return result


def bol_orders(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Legacy bol.com order lines folded per `bestelnummer` (no returns in this file)."""
    return fold_order_lines(
        frame, lines, locale, order_col=require_column(frame, "bestelnummer", preset="bol"),
        customer_col=find_column(frame, "emailadres"),
        date_col=require_column(frame, "besteldatum", preset="bol"),
        amount_col=require_column(frame, "prijs", preset="bol"),
        quantity_col=find_column(frame, "aantal"), line_status=None,
        no_customer="no customer key (no emailadres: bol.com exports no customer id)")
