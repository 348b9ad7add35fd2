"""ERP exports: Netsis customer ledgers, Mikro customer movements and Exact Online sales
invoices (Logo: `presets/logo.py`).

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
- Exact Online sales invoices, API field names (`InvoiceNumber, InvoiceDate, OrderedBy,
  AmountDC, Type`, Exact's SalesInvoices resource): key `OrderedBy`, Exact's own account GUID
  (id space `exact`: it never meets another system's numbers by value); amount `AmountDC`
  (incl. btw, in the division currency; `AmountFC` is not read); `Type` 8020 (invoice) →
  completed, 8021 (credit note) → its own `returned` row at the positive amount, which never
  counts as spend; any other type (8023 direct invoice…) is set aside. OData dates
  (`/Date(1709596800000)/`, milliseconds since the epoch in UTC) are rewritten as ISO UTC
  times; other dates are read as delivered.
- Exact Online with Dutch headers (a list or report exported to CSV/Excel from the Dutch
  screens). That such exports exist is public; their columns are not documented and depend on
  the layout and language chosen, so the spellings below (Dutch names of the API fields and
  the usual Dutch invoice words) are matched by header, not read as a documented layout:
  number `Factuurnummer`/`Factuurnr`; date `Factuurdatum` (else `Datum`; `dd-MM-yyyy` read
  day-first); amount the incl.-btw total (`Bedrag incl. btw`, `Totaal incl. btw`,
  `Factuurbedrag`, `Totaalbedrag`, `Totaal`, `Bedrag`; an excl.-btw column only when there is
  no other); type `Type`/`Soort`/`Factuurtype` with `Factuur`/`Verkoopfactuur` (or 8020) →
  completed and `Creditnota`/`Creditfactuur` (or 8021, `8021 - Creditnota`) → `returned`;
  other words are set aside. The key is the debtor code (`Debiteurcode`, `Klantcode`,
  `Debiteurnummer`, `Code debiteur`, `Relatiecode`): the business's own number, shared by every
  file (with `OrderedBy` as well, the GUID is kept as a further key). A column holding the
  debtor's name (`Debiteur`, `Naam`) is never a key. Pinned with `preset: exact` and no type
  column, a negative total is read as a credit note.
- Export-time state in both: `Status` (20 open / 50 processed; `Open`/`Verwerkt`), payment
  state and open amounts (`Openstaand`, `Vervaldatum` reminders) are never read.
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
    whole_column,
)
from pipelines.ingest.staging import PRESET_REASON


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
# Exact's document types: API codes, and the Dutch words its screens and reports show
# (`Factuur`, `Creditnota`; `8021 - Creditnota` style cells too); anything else is set aside
_EXACT_INVOICE_WORDS = ("8020", "factuur", "verkoopfactuur", "invoice", "salesinvoice")
_EXACT_CREDIT_WORDS = ("8021", "creditnota", "creditfactuur", "verkoopcreditnota",
                       "creditnote", "salescreditnote")


def _exact_kinds(values: pd.Series) -> pd.Series:
    """'invoice', 'credit' or '' per Exact document type cell (code, word or `code - word`)."""
    def one(value: str) -> str:
        folded = fold_header(value)
        if folded.startswith("8021") or folded in _EXACT_CREDIT_WORDS:
            return "credit"
        if folded.startswith("8020") or folded in _EXACT_INVOICE_WORDS:
            return "invoice"
        return ""
    return map_unique(cell_text(values).fillna(""), one)


def exact_invoices(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Invoices (8020, `Factuur`) as sales, credit notes (8021, `Creditnota`) as returned
    rows; other types aside. API field names or the Dutch headers of an Exact export."""
    date_col = require_column(frame, "InvoiceDate", "Factuurdatum", "Datum", preset="exact")
    amount_col = whole_column(frame, "AmountDC", "Bedrag incl. btw", "Totaal incl. btw",
                               "Totaalbedrag incl. btw", "Factuurbedrag", "Totaalbedrag",
                               "Totaal", "Bedrag") or whole_column(
        frame, "Bedrag excl. btw", "Totaal excl. btw") or require_column(
        frame, "AmountDC", "Bedrag incl. btw", "Totaal", "Bedrag", preset="exact")
    type_col = find_column(frame, "Type", "Soort", "Factuurtype", "Type factuur",
                           "Soort factuur")
    code_col = find_column(frame, "Debiteurcode", "Klantcode", "Debiteurnummer", "Code debiteur",
                           "Relatiecode", "Klantnummer")
    guid_col = find_column(frame, "OrderedBy")
    result = pick_columns(frame, lines, {
        # the debtor code is the business's own number; OrderedBy is Exact's account GUID
        "customer_id": code_col or guid_col or require_column(
            frame, "OrderedBy", "Debiteurcode", "Klantcode", preset="exact"),
        "order_id": find_column(frame, "InvoiceNumber", "Factuurnummer", "Factuurnr")
        or require_column(frame, "InvoiceID", "Factuurnummer", preset="exact"),
    })
    out = result.frame
    dates = cell_text(frame[date_col])
    millis = dates.str.extract(_ODATA_DATE)[0]
    odata = pd.to_datetime(pd.to_numeric(millis), unit="ms", utc=True)
    out["order_date"] = frame[date_col].where(millis.isna(), odata.dt.strftime(
        "%Y-%m-%dT%H:%M:%S+00:00"))
    amount = parse_numbers(frame[amount_col], locale)[0]
    if type_col:
        kind = _exact_kinds(frame[type_col])
    else:  # pinned in sources.yaml without a type column: a credit note is a negative total
        kind = pd.Series(np.where(amount < 0, "credit", "invoice"), index=frame.index)
    credit = kind == "credit"
    out["amount"] = frame[amount_col].where(~(credit & amount.notna()), amount.abs())
    out["status"] = np.where(credit, "returned", "completed")
    reason = pd.Series(None, index=frame.index, dtype=object)
    reason[kind == ""] = ("Exact document type is neither an invoice (8020, Factuur) nor a "
                          "credit note (8021, Creditnota)")
    out[PRESET_REASON] = reason
    if code_col and guid_col:  # both: the GUID links files that only carry it
        out[EXTRA_ID_PREFIX + "exact"] = frame[guid_col]
        result.mapping[guid_col] = "customer key (exact id)"
    result.mapping.update({date_col: "order_date", amount_col: "amount"} | (
        {type_col: "status (8021 / Creditnota: credit note, returned)"} if type_col else {}))
    return PresetResult(out, 0, result.mapping, id_space="" if code_col else "exact")
