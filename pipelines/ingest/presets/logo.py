"""Logo Tiger / GO invoices: the Turkish-caption invoice report (`logo`) and exports of the
invoice table itself, `LG_fff_pp_INVOICE`, with its document type code (`logo-db`).

- Invoice reports (`Tarih, Fiş No, Cari Kod, Fatura Tipi, …`): every row is a document with
  its own date; the type is the caption text. A return invoice (`İade`) that names its sale in
  the same file (`İade Edilen Fiş No`, `İlgili Fiş No`) is netted into it (full return: the
  sale becomes `returned`; partial: its amount drops); other return invoices are staged as
  their own `returned` rows, so they never count as spend; proforma invoices are not sales;
  `İptal` = evet/1 → `cancelled`.
- Invoice table exports (SQL query results or reports over `LG_fff_pp_INVOICE`: `FICHENO,
  DATE_, TRCODE, CANCELLED, CLIENTREF, NETTOTAL`; Turkish aliases `Fiş No`, `Tarih`, `Cari
  Kod`, `Tutar` are read too). `TRCODE` is the invoice type; the codes below are the ones
  listed for `LG_INVOICE.TRCODE` in public Logo SQL references (ugurozpinar/Logo, "Faturalar
  Satır Detaylı"; the table's field list gives `GRPCODE` 1 purchase / 2 sales and
  `CANCELLED`), not an official Logo document:
  - 7 Perakende Satış, 8 Toptan Satış, 9 Verilen Hizmet (a service billed to the customer)
    → sales (`completed`);
  - 2 Perakende Satış İade, 3 Toptan Satış İade → their own `returned` rows (never spend),
    numbered `İADE-<FICHENO>` because Logo numbers each type separately (a return may carry
    a sale's number);
  - 10 Verilen Proforma → set aside (not a sale); 14 Satış Fiyat Farkı → set aside (a price
    correction of earlier sales, not a purchase of its own);
  - 1, 4, 5, 6, 12, 13, 26 (purchases, services and proformas received, purchase returns,
    price/due-date differences received, producer receipts) → set aside as purchase-side;
  - any other code is set aside: the customer-ledger table (`CLFLINE`) numbers invoices 31-56
    and public mappings of those disagree, so a ledger export is not read as invoices.
  `CANCELLED = 1` → `cancelled`. The key is the cari code when the export joins it (`CODE` of
  `LG_fff_CLCARD`, or `Cari Kod`): the business's own customer number. `CLIENTREF` alone is
  Logo's internal record number of the cari card (id space `logo`); with a code it is kept as
  a further key. `NETTOTAL` (Net Toplam, in the local currency whatever `TRCURR` says) is the
  amount; `TRNET` (transaction currency) is not read.
- Export-time state: none of the columns read. `ESTATUS` (e-invoice state), `STATUS`,
  `ACCOUNTED` (posted to the ledger) and `PRINTCNT` change after the sale and are never read;
  `CANCELLED` is read although it, too, can be set later: a cancelled invoice is no sale
  whenever it was cancelled (as in the report preset).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.ingest.cells import cell_text, map_unique, parse_numbers
from pipelines.ingest.headers import fold_header
from pipelines.ingest.keys import EXTRA_ID_PREFIX
from pipelines.ingest.presets.base import (
    PresetResult,
    find_column,
    pick_columns,
    require_column,
)
from pipelines.ingest.staging import PRESET_REASON


def _cancelled_flags(values: pd.Series) -> pd.Series:
    """Evet/1/true/İptal cells of a cancelled column (anything else, blanks too: false)."""
    folded = map_unique(cell_text(values).fillna(""), fold_header)
    return folded.isin(["evet", "e", "1", "true", "iptal"])


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
    cancelled = (_cancelled_flags(frame[cancelled_col]) if cancelled_col
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


_SALES_CODES = {"7": "Perakende Satış", "8": "Toptan Satış", "9": "Verilen Hizmet"}
_RETURN_CODES = {"2": "Perakende Satış İade", "3": "Toptan Satış İade"}
_ASIDE_CODES = {
    "10": "proforma invoice (TRCODE 10 Verilen Proforma), not a sale",
    "14": "sales price-difference invoice (TRCODE 14 Satış Fiyat Farkı), not a purchase",
    **{code: f"purchase-side invoice (TRCODE {code} {name}), not a sale" for code, name in {
        "1": "Satınalma", "4": "Alınan Hizmet", "5": "Alınan Proforma", "6": "Satınalma İade",
        "12": "Alınan Vade Farkı", "13": "Satınalma Fiyat Farkı",
        "26": "Müstahsil Makbuzu"}.items()},
}


def _trcode_reasons(codes: pd.Series) -> pd.Series:
    """Why a row with this TRCODE is not a sale or sales return (None for those that are)."""
    def one(code: str) -> str | None:
        if code in _SALES_CODES or code in _RETURN_CODES:
            return None
        return _ASIDE_CODES.get(code, f"TRCODE {code or '(empty)'} is not an LG_INVOICE sales "
                                      "or sales-return type (a cari ledger code?)")
    return map_unique(codes.fillna(""), one)


def logo_database_invoices(frame: pd.DataFrame, lines: list[int],
                           locale: str) -> PresetResult:
    """`LG_fff_pp_INVOICE` rows by TRCODE: sales (7, 8, 9), sales returns (2, 3) as returned
    rows, everything else set aside with its type; `CANCELLED = 1` → cancelled."""
    code_col = require_column(frame, "TRCODE", preset="logo-db")
    codes = cell_text(frame[code_col]).str.replace(r"\.0+$", "", regex=True)
    cari_col = find_column(frame, "CODE", "CLCARD_CODE", "CLCARD.CODE", "Cari Kod",
                           "Cari Kodu", "CARI_KODU")
    ref_col = find_column(frame, "CLIENTREF")
    if cari_col is None and ref_col is None:
        require_column(frame, "CODE", "Cari Kod", "CLIENTREF", preset="logo-db")
    number_col = require_column(frame, "FICHENO", "Fiş No", "Fatura No", preset="logo-db")
    result = pick_columns(frame, lines, {
        "customer_id": cari_col or ref_col,
        "order_date": require_column(frame, "DATE_", "Tarih", preset="logo-db"),
        "amount": require_column(frame, "NETTOTAL", "Net Toplam", "Toplam Tutar", "Net Tutar",
                                 "Tutar", preset="logo-db"),
    })
    out = result.frame
    number = cell_text(frame[number_col])
    sales_return = codes.isin(list(_RETURN_CODES))
    out["order_id"] = number.where(~sales_return, "İADE-" + number)
    cancelled_col = find_column(frame, "CANCELLED", "İptal")
    cancelled = (_cancelled_flags(frame[cancelled_col]) if cancelled_col
                 else pd.Series(False, index=frame.index))
    out["status"] = np.where(cancelled, "cancelled",
                             np.where(sales_return, "returned", "completed"))
    out[PRESET_REASON] = _trcode_reasons(codes)
    result.mapping.update({number_col: "order_id", code_col: "status (TRCODE)"} | (
        {cancelled_col: "status (cancelled)"} if cancelled_col else {}))
    if cari_col and ref_col:  # Logo's record number links files that only carry it
        out[EXTRA_ID_PREFIX + "logo"] = frame[ref_col]
        result.mapping[ref_col] = "customer key (logo id)"
    return PresetResult(out, 0, result.mapping, id_space="" if cari_col else "logo")
