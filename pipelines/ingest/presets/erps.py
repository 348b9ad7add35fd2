"""ERP exports: Logo invoice reports, Netsis customer ledgers, Mikro customer movements and
Exact Online sales invoices.

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
- Mikro `CARI_HESAP_HAREKETLERI` (customer account movements, one row per document): key
  `cha_kod` (the cari code, kept as text); date `cha_tarihi`; amount `cha_meblag`; document
  number `cha_evrakno_seri` + `cha_evrakno_sira` (`A-1001`; else `cha_belge_no`). A sales
  invoice is `cha_evrak_tip = 63` with `cha_normal_Iade = 0`; a sales return is
  `cha_evrak_tip = 0` (the purchase type) with `cha_normal_Iade = 1`, staged as its own
  `returned` row (id prefixed `İADE-`, so it never collides with a sale's number) that never
  counts as spend; `cha_iptal = 1` → `cancelled`. Every other movement (purchases, purchase
  returns, receipts and payments) is set aside as "not a sale or sales return". Some installs
  use 63 for receipts: check a file before trusting it. No export-time columns.
- Exact Online sales invoices (API field names: `InvoiceNumber, InvoiceDate, OrderedBy,
  AmountDC, Type`): key `OrderedBy` (the account GUID); amount `AmountDC` (incl. btw, in the
  division currency; `AmountFC` is not read); `Type` 8020 (invoice) → completed, 8021 (credit
  note) → its own `returned` row at the positive amount, which never counts as spend; any
  other type is set aside. OData dates (`/Date(1709596800000)/`, milliseconds since the epoch
  in UTC) are rewritten as ISO UTC times; other dates are read as delivered. `Status`
  (20 open / 50 processed) is export-time and never read.
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


def _flag(values: pd.Series) -> pd.Series:
    """1/true/evet cells of a Mikro flag column (anything else, blanks included: false)."""
    folded = map_unique(cell_text(values).fillna("0"), fold_header)
    return folded.isin(["1", "true", "evet", "e"])


def mikro_movements(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Sales invoices (63) and sales returns (0 + iade) as purchases; other movements aside."""
    kind_col = require_column(frame, "cha_evrak_tip", preset="mikro")
    kind = cell_text(frame[kind_col]).fillna("")
    refund_col = find_column(frame, "cha_normal_Iade")
    is_return = (_flag(frame[refund_col]) if refund_col
                 else pd.Series(False, index=frame.index))
    cancelled_col = find_column(frame, "cha_iptal")
    cancelled = (_flag(frame[cancelled_col]) if cancelled_col
                 else pd.Series(False, index=frame.index))
    sale = (kind == "63") & ~is_return
    sales_return = (kind == "0") & is_return
    seri_col = find_column(frame, "cha_evrakno_seri")
    sira_col = find_column(frame, "cha_evrakno_sira")
    if sira_col:
        seri = cell_text(frame[seri_col]).fillna("") if seri_col else pd.Series("", frame.index)
        sira = cell_text(frame[sira_col])
        number = (seri + "-").where(seri != "", "") + sira
        order_id = number.where(sira.notna(), None)
        mapping = {sira_col: "order_id"} | ({seri_col: "order_id"} if seri_col else {})
    else:
        belge = require_column(frame, "cha_belge_no", preset="mikro",
                               why=" for the document number (no cha_evrakno_sira column)")
        order_id, mapping = cell_text(frame[belge]), {belge: "order_id"}
    result = pick_columns(frame, lines, {
        "customer_id": require_column(frame, "cha_kod", preset="mikro"),
        "order_date": require_column(frame, "cha_tarihi", preset="mikro"),
        "amount": require_column(frame, "cha_meblag", preset="mikro"),
    })
    out = result.frame
    out["order_id"] = order_id.where(~sales_return, "İADE-" + order_id)
    out["status"] = np.where(cancelled, "cancelled",
                             np.where(sales_return, "returned", "completed"))
    reason = pd.Series(None, index=frame.index, dtype=object)
    reason[~(sale | sales_return)] = "not a sale or sales return (cha_evrak_tip / cha_normal_Iade)"
    out[PRESET_REASON] = reason
    result.mapping.update(mapping | {kind_col: "status", **(
        {refund_col: "status"} if refund_col else {}), **(
        {cancelled_col: "status"} if cancelled_col else {})})
    return result


_ODATA_DATE = r"^/Date\((-?\d+)([+-]\d{4})?\)/$"


def exact_invoices(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Invoices (8020) as sales, credit notes (8021) as returned rows; other types aside."""
    date_col = require_column(frame, "InvoiceDate", preset="exact")
    amount_col = require_column(frame, "AmountDC", preset="exact")
    type_col = require_column(frame, "Type", preset="exact")
    result = pick_columns(frame, lines, {
        "customer_id": require_column(frame, "OrderedBy", preset="exact"),
        "order_id": find_column(frame, "InvoiceNumber") or require_column(
            frame, "InvoiceID", preset="exact"),
    })
    out = result.frame
    dates = cell_text(frame[date_col])
    millis = dates.str.extract(_ODATA_DATE)[0]
    odata = pd.to_datetime(pd.to_numeric(millis), unit="ms", utc=True)
    out["order_date"] = frame[date_col].where(millis.isna(), odata.dt.strftime(
        "%Y-%m-%dT%H:%M:%S+00:00"))
    kind = cell_text(frame[type_col]).fillna("")
    amount = parse_numbers(frame[amount_col], locale)[0]
    credit = kind == "8021"
    out["amount"] = frame[amount_col].where(~(credit & amount.notna()), amount.abs())
    out["status"] = np.where(credit, "returned", "completed")
    reason = pd.Series(None, index=frame.index, dtype=object)
    reason[~kind.isin(["8020", "8021"])] = ("Exact invoice Type is neither 8020 (invoice) nor "
                                            "8021 (credit note)")
    out[PRESET_REASON] = reason
    result.mapping.update({date_col: "order_date", amount_col: "amount",
                           type_col: "status (8021: credit note, returned)"})
    return result
