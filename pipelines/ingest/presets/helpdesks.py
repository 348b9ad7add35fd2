"""Helpdesk ticket exports as complaints: Zendesk, Freshdesk and Salesforce cases.

- Zendesk / Freshdesk: `Status` is kept as the export-time status for display only; opened
  and resolved times come from `Created at` (a Zendesk view: `Requested`) / `Solved at`
  (Freshdesk: `Resolved time`, else `Closed time`). Customer keys: the requester's external
  id (Freshdesk: `Unique External ID`) is the business's own customer number; `Requester ID`
  (Freshdesk: `Contact ID`) is the helpdesk's own user number (id space `zendesk` /
  `freshdesk`), which meets other systems through `Requester email` / `Requester phone`
  (Freshdesk contact fields: `Email`, `Mobile phone`, else `Work phone`); a view that shows
  only the requester's name and e-mail is keyed by the e-mail. The requester's name never is
  a key. Satisfaction (export-time)
  is only ever used from `resolved_at` on (see the complaints contract). `Tags` are not read.
- Salesforce cases: see `salesforce_cases`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.ingest.cells import cell_text
from pipelines.ingest.keys import EXTRA_ID_PREFIX
from pipelines.ingest.presets.base import PresetResult, find_column, pick_columns, translated_words
from pipelines.ingest.staging import PRESET_REASON, UPDATED_AT

_ZENDESK_SATISFACTION = {"good": "good", "bad": "bad", "offered": None, "notoffered": None,
                         "unoffered": None}


def zendesk_tickets(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Tickets as complaints; a numeric CSAT custom field wins over Good/Bad."""
    csat = find_column(frame, startswith="csat")
    external = find_column(frame, "Requester external ID")
    zendesk_id = find_column(frame, "Requester ID")
    result = pick_columns(frame, lines, {
        "complaint_id": find_column(frame, "ID"),
        # the business's own customer number where Zendesk has it, else Zendesk's user id
        "customer_id": external or zendesk_id,
        "email": find_column(frame, "Requester email"),
        "phone": find_column(frame, "Requester phone"),
        "opened_at": find_column(frame, "Created at", "Requested"),
        "resolved_at": find_column(frame, "Solved at"),
        "status": find_column(frame, "Status"),
        "category": (find_column(frame, startswith="ticketcategory")
                     or find_column(frame, "Ticket type")),
        "satisfaction": csat or find_column(frame, "Satisfaction Score"),
        UPDATED_AT: find_column(frame, "Updated at", "Updated"),
    })
    if external and zendesk_id:  # both: the Zendesk id links files that only have it
        result.frame[EXTRA_ID_PREFIX + "zendesk"] = frame[zendesk_id]
        result.mapping[zendesk_id] = "customer key (zendesk id)"
    if not csat and "satisfaction" in result.frame:
        result.frame["satisfaction"] = translated_words(result.frame["satisfaction"],
                                                   _ZENDESK_SATISFACTION)
    return PresetResult(result.frame, 0, result.mapping,
                        id_space="" if external else "zendesk")


_FRESHDESK_SATISFACTION = {
    "extremelysatisfied": "5", "satisfied": "4", "neutral": "3", "dissatisfied": "2",
    "extremelydissatisfied": "1", "awesome": "5", "justokay": "3", "notgood": "1",
}


def freshdesk_tickets(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Tickets as complaints; "(in hrs)" columns are ignored (durations come from times)."""
    resolved, closed = find_column(frame, "Resolved time"), find_column(frame, "Closed time")
    if resolved and closed:  # closed without a resolve step: the close time resolves it
        frame = frame.assign(**{resolved: cell_text(frame[resolved]).fillna(
            cell_text(frame[closed]))})
    external = find_column(frame, "Unique External ID", "External ID")
    contact = find_column(frame, "Contact ID")
    result = pick_columns(frame, lines, {
        "complaint_id": find_column(frame, "Ticket ID"),
        "customer_id": external or contact,
        "email": find_column(frame, "Email"),
        "phone": find_column(frame, "Mobile phone", "Work phone", "Phone"),
        "opened_at": find_column(frame, "Created time"),
        "resolved_at": resolved or closed,
        "status": find_column(frame, "Status"),
        "category": find_column(frame, "Type"),
        "satisfaction": find_column(frame, "Survey results"),
        UPDATED_AT: find_column(frame, "Last updated time"),
    })
    if "satisfaction" in result.frame:
        result.frame["satisfaction"] = translated_words(result.frame["satisfaction"],
                                                   _FRESHDESK_SATISFACTION)
    if external and contact:
        result.frame[EXTRA_ID_PREFIX + "freshdesk"] = frame[contact]
        result.mapping[contact] = "customer key (freshdesk id)"
    return PresetResult(result.frame, 0, result.mapping,
                        id_space="" if external else "freshdesk")


def salesforce_cases(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Cases as complaints: opened at CreatedDate, resolved at ClosedDate.

    Status, IsClosed and IsEscalated describe the case at export time and are not read; "open
    at a cutoff" comes from the two timestamps. A case merged into another (MasterRecordId set)
    is set aside: its master carries the history. The account is the customer, else the contact.
    """
    result = pick_columns(frame, lines, {
        "customer_id": find_column(frame, "AccountId", "Account ID")
        or find_column(frame, "ContactId", "Contact ID"),
        "complaint_id": find_column(frame, "CaseNumber", "Case Number"),
        "opened_at": find_column(frame, "CreatedDate", "Created Date", "Date/Time Opened"),
        "resolved_at": find_column(frame, "ClosedDate", "Closed Date", "Date/Time Closed"),
        "category": find_column(frame, "Reason", "Case Reason", "Type"),
    })
    result = PresetResult(result.frame, 0, result.mapping, id_space="salesforce")
    modified = find_column(frame, "LastModifiedDate", "Last Modified Date")
    if modified:
        result.frame[UPDATED_AT] = frame[modified]
    master = find_column(frame, "MasterRecordId", "Master Record ID")
    merged = (cell_text(frame[master]).notna() if master
              else pd.Series(False, index=frame.index))
    # numpy's stubs take no None among np.where's choices; at runtime it is an object cell
    result.frame[PRESET_REASON] = np.where(  # type: ignore[call-overload]
        merged, "case merged into another (MasterRecordId)", None)
    return result
