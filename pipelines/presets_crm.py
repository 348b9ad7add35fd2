"""HubSpot, Netsis and Salesforce presets (`pipelines.presets` has the others and the rules).

- HubSpot engagements (the activities export: emails, calls, meetings, notes with their own
  `Activity date`) become interactions keyed by `Record ID`, with `Last modified date` as the
  updated-at of overlapping exports. The customer is the first of the `;`-separated
  `Associated Contact IDs` (HubSpot contact record ids, as in the contacts export). Direction
  comes from `Call direction` / `Email direction` or an incoming-email activity type; meetings
  and notes carry none. Tasks are internal to-dos, set aside with a reason.
- HubSpot contacts become customers: `Record ID`, name from `First Name` + `Last Name`,
  `Email`, `Create Date` as signup date, `Contact owner`, `City`. `Last Activity Date`,
  `Lifecycle Stage` (and other "current state" columns such as `Lead Status`) describe the
  contact at export time and are never read.
- Netsis customer ledgers (`CARI_KOD, TARIH, BORC, ALACAK, BELGE_NO`): a debit (`BORC`) row
  is an invoice the customer owes, i.e. a sale of that amount; a credit (`ALACAK`) row is a
  payment received (or a return credit note): it is not a purchase and is set aside with that
  reason, so spend from a ledger is gross of returns. A `DEVİR` row is the balance carried
  over from an earlier period, not a sale. Text garbled by an earlier cp1254-as-Latin-1 read
  (`DEVÝR`, `ÞÜKRÜ`) is repaired by the reader before any of this.
- Salesforce cases become complaints (see `salesforce_cases`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.locales import cell_text, map_unique, parse_numbers
from pipelines.presets import PresetResult, _column, _pick
from pipelines.staging import PRESET_REASON, SOURCE_LINE, UPDATED_AT, fold_header

# folded HubSpot activity type -> (channel, type); None: not an interaction
_HUBSPOT_ACTIVITIES: dict[str, tuple[str, str] | None] = {
    "email": ("email", "email"), "incomingemail": ("email", "email"),
    "forwardedemail": ("email", "email"), "call": ("phone", "call"),
    "meeting": ("meeting", "meeting"), "note": ("note", "note"), "task": None,
}
_HUBSPOT_DIRECTIONS = {
    "inbound": "inbound", "incoming": "inbound", "incomingemail": "inbound",
    "received": "inbound", "outbound": "outbound", "outgoing": "outbound", "email": "outbound",
    "sent": "outbound", "sentemail": "outbound", "forwardedemail": "outbound",
    "forwarded": "outbound",
}


def hubspot_engagements(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Emails, calls, meetings and notes as interactions, with direction where exported."""
    activity_col = _column(frame, "Activity type", "Engagement type")
    contacts_col = _column(frame, "Associated Contact IDs", "Associated Contact ID",
                           "Contact ID")
    activity = map_unique(cell_text(frame[activity_col]).fillna(""), fold_header)
    known = activity.map(lambda a: _HUBSPOT_ACTIVITIES.get(a, ("?", "?")))
    direction = pd.Series(np.where(activity == "incomingemail", "inbound",
                                   np.where(activity.str.endswith("email"), "outbound", None)),
                          index=frame.index, dtype=object)
    for name in ("Call direction", "Email direction", "Direction"):
        column = _column(frame, name)
        if column:  # an exported direction wins; unknown words reach staging, which flags them
            said = cell_text(frame[column])
            words = map_unique(said, lambda v: _HUBSPOT_DIRECTIONS.get(fold_header(v), v))
            direction = words.where(said.notna(), direction)
    contacts = cell_text(frame[contacts_col]) if contacts_col else pd.Series(None, frame.index)
    out = pd.DataFrame({
        "interaction_id": cell_text(frame[_column(frame, "Record ID", "Activity ID")]),
        "customer_id": contacts.str.split(";").str[0].str.strip(),
        "occurred_at": frame[_column(frame, "Activity date", "Timestamp")],
        "channel": known.map(lambda k: k[0] if k else None),
        "type": known.map(lambda k: k[1] if k else None),
        "direction": direction,
    }, index=frame.index)
    modified = _column(frame, "Last modified date")
    if modified:
        out[UPDATED_AT] = frame[modified]
    out[SOURCE_LINE] = lines
    unknown = known == ("?", "?")
    out[PRESET_REASON] = np.where(
        known.isna(), "HubSpot task (an internal to-do, not an interaction)",
        np.where(unknown, "unknown HubSpot activity type", None))
    out.loc[unknown, ["channel", "type"]] = None
    mapping = {_column(frame, "Record ID", "Activity ID"): "interaction_id",
               contacts_col: "customer_id", activity_col: "channel, type",
               _column(frame, "Activity date", "Timestamp"): "occurred_at"}
    return PresetResult(out, 0, {k: v for k, v in mapping.items() if k})


def hubspot_contacts(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Contacts as the customer master; export-time state columns are not read."""
    result = _pick(frame, lines, {
        "customer_id": _column(frame, "Record ID"),
        "email": _column(frame, "Email"),
        "signup_date": _column(frame, "Create Date"),
        "owner": _column(frame, "Contact owner", "HubSpot Owner"),
        "region": _column(frame, "City"),
    })
    first, last = _column(frame, "First Name"), _column(frame, "Last Name")
    if first or last:
        parts = [cell_text(frame[c]).fillna("") for c in (first, last) if c]
        name = parts[0].str.cat(parts[1:], sep=" ").str.strip()
        result.frame["name"] = name.where(name != "", None)
        result.mapping.update({c: "name" for c in (first, last) if c})
    if "email" in result.frame:
        result.frame["email"] = cell_text(result.frame["email"]).str.lower()
    return result


def netsis_ledger(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Debit (BORC) rows as sales; credits (payments, returns) and carried balances set aside."""
    debit_col, credit_col = _column(frame, "BORC"), _column(frame, "ALACAK")
    debit_text = cell_text(frame[debit_col])
    debit = parse_numbers(debit_text, locale)[0]
    credit = parse_numbers(frame[credit_col], locale)[0]
    sale = debit_text.notna() & (debit != 0)  # text that is not a number: staging flags it
    result = _pick(frame, lines, {
        "customer_id": _column(frame, "CARI_KOD"),
        "order_id": _column(frame, "BELGE_NO"),
        "order_date": _column(frame, "TARIH"),
    })
    out = result.frame
    out["amount"] = debit_text
    out["status"] = "completed"
    note_col = _column(frame, "ACIKLAMA", "Açıklama")
    note = (map_unique(cell_text(frame[note_col]).fillna(""), fold_header) if note_col
            else pd.Series("", index=frame.index))
    carried = note.str.startswith("devir") | map_unique(
        cell_text(out["order_id"]).fillna(""), fold_header).str.startswith("devir")
    out[PRESET_REASON] = np.where(
        carried, "balance carried over (DEVİR), not a sale",
        np.where(sale, None, np.where(
            credit > 0, "ledger credit (ALACAK): a payment or return, not a purchase",
            "ledger row with neither BORC nor ALACAK")))
    result.mapping.update({debit_col: "amount (debits only)"})
    return PresetResult(out, 0, result.mapping)


def salesforce_cases(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Cases as complaints: opened at CreatedDate, resolved at ClosedDate.

    Status, IsClosed and IsEscalated describe the case at export time and are not read; "open
    at a cutoff" comes from the two timestamps. A case merged into another (MasterRecordId set)
    is set aside: its master carries the history. The account is the customer, else the contact.
    """
    result = _pick(frame, lines, {
        "customer_id": _column(frame, "AccountId", "Account ID")
        or _column(frame, "ContactId", "Contact ID"),
        "complaint_id": _column(frame, "CaseNumber", "Case Number"),
        "opened_at": _column(frame, "CreatedDate", "Created Date", "Date/Time Opened"),
        "resolved_at": _column(frame, "ClosedDate", "Closed Date", "Date/Time Closed"),
        "category": _column(frame, "Reason", "Case Reason", "Type"),
    })
    modified = _column(frame, "LastModifiedDate", "Last Modified Date")
    if modified:
        result.frame[UPDATED_AT] = frame[modified]
    master = _column(frame, "MasterRecordId", "Master Record ID")
    merged = (cell_text(frame[master]).notna() if master
              else pd.Series(False, index=frame.index))
    result.frame[PRESET_REASON] = np.where(merged, "case merged into another (MasterRecordId)",
                                           None)
    return result
