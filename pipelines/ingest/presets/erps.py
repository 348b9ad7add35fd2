"""Turkish ERP exports: Logo invoice reports and Netsis customer ledgers.

- Logo invoice reports: every row is a document with its own date; a return invoice (`İade`)
  that names its sale in the same file (`İade Edilen Fiş No`, `İlgili Fiş No`) is netted into
  it (full return: the sale becomes `returned`; partial: its amount drops); other return
  invoices are staged as their own `returned` rows, so they never count as spend; proforma
  invoices are not sales.
- Netsis customer ledgers (`CARI_KOD, TARIH, BORC, ALACAK, BELGE_NO`): a debit (`BORC`) row
  is an invoice the customer owes, i.e. a sale of that amount; a credit (`ALACAK`) row is a
  payment received (or a return credit note): it is not a purchase and is set aside with that
  reason, so spend from a ledger is gross of returns. A `DEVİR` row is the balance carried
  over from an earlier period, not a sale. Text garbled by an earlier cp1254-as-Latin-1 read
  (`DEVÝR`, `ÞÜKRÜ`) is repaired by the reader before any of this.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.ingest.cells import cell_text, map_unique, parse_numbers
from pipelines.ingest.headers import fold_header
from pipelines.ingest.presets.base import (
    PresetResult,
    find_column,
    pick_columns,
    require_column,
)
from pipelines.ingest.staging import PRESET_REASON


def logo_invoices(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Invoice documents as purchases: returns staged as returned, proformas set aside."""
    amount = find_column(frame, "Toplam Tutar", "Net Tutar", "Tutar")
    wanted = {
        "customer_id": find_column(frame, "Cari Kod", "Cari Kodu"),
        "order_id": find_column(frame, "Fiş No", "Fatura No"),
        "order_date": find_column(frame, "Tarih"),
        "amount": amount,
        "quantity": find_column(frame, "Miktar"),
        "channel": find_column(frame, "Satış Kanalı", "Kanal"),
    }
    result = pick_columns(frame, lines, wanted)
    out = result.frame
    if amount is None:  # quantity x unit price + VAT
        why = " to compute the amount (no Toplam Tutar, Net Tutar or Tutar column)"
        quantity_col = require_column(frame, "Miktar", preset="logo", why=why)
        price_col = require_column(frame, "Birim Fiyat", preset="logo", why=why)
        vat_col = require_column(frame, "KDV Tutar", preset="logo", why=why)
        quantity = parse_numbers(frame[quantity_col], locale)[0]
        price = parse_numbers(frame[price_col], locale)[0]
        vat = parse_numbers(frame[vat_col], locale)[0].fillna(0.0)
        out["amount"] = (quantity * price + vat).round(2)
    kind_col = require_column(frame, "Fatura Tipi", "Fiş Türü", preset="logo")
    kind = map_unique(cell_text(frame[kind_col]).fillna(""), fold_header)
    cancelled_col = find_column(frame, "İptal", "İptal Edildi")
    cancelled = (map_unique(cell_text(frame[cancelled_col]).fillna(""), fold_header)
                 .isin(["evet", "e", "1", "true", "iptal"]) if cancelled_col
                 else pd.Series(False, index=frame.index))
    out["status"] = np.where(cancelled, "cancelled",
                             np.where(kind.str.contains("iade"), "returned", "completed"))
    # numpy's stubs take no None among np.where's choices; at runtime it is an object cell
    out[PRESET_REASON] = np.where(kind.str.contains("proforma"),  # type: ignore[call-overload]
                                  "proforma invoice (not a sale)", None)
    link = find_column(frame, "İade Edilen Fiş No", "İlgili Fiş No", "Kaynak Fiş No")
    if link is None:
        return PresetResult(out, 0, result.mapping)
    return _net_linked_returns(out, cell_text(frame[link]), locale, result.mapping)


def _net_linked_returns(out: pd.DataFrame, link: pd.Series, locale: str,
                        mapping: dict[str, str]) -> PresetResult:
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


def netsis_ledger(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Debit (BORC) rows as sales; credits (payments, returns) and carried balances set aside."""
    debit_col = require_column(frame, "BORC", preset="netsis")
    credit_col = require_column(frame, "ALACAK", preset="netsis")
    debit_text = cell_text(frame[debit_col])
    debit = parse_numbers(debit_text, locale)[0]
    credit = parse_numbers(frame[credit_col], locale)[0]
    sale = debit_text.notna() & (debit != 0)  # text that is not a number: staging flags it
    result = pick_columns(frame, lines, {
        "customer_id": find_column(frame, "CARI_KOD"),
        "order_id": find_column(frame, "BELGE_NO"),
        "order_date": find_column(frame, "TARIH"),
    })
    out = result.frame
    out["amount"] = debit_text
    out["status"] = "completed"
    note_col = find_column(frame, "ACIKLAMA", "Açıklama")
    note = (map_unique(cell_text(frame[note_col]).fillna(""), fold_header) if note_col
            else pd.Series("", index=frame.index))
    carried = note.str.startswith("devir") | map_unique(
        cell_text(out["order_id"]).fillna(""), fold_header).str.startswith("devir")
    out[PRESET_REASON] = np.where(
        carried, "balance carried over (DEVİR), not a sale",
        # numpy's stubs take no None among np.where's choices; at runtime it is an object cell
        np.where(sale, None, np.where(  # type: ignore[call-overload]
            credit > 0, "ledger credit (ALACAK): a payment or return, not a purchase",
            "ledger row with neither BORC nor ALACAK")))
    result.mapping.update({debit_col: "amount (debits only)"})
    return PresetResult(out, 0, result.mapping)
