"""CRM exports: HubSpot engagements (interactions) and contacts (the customer master).

- HubSpot engagements (the activities export: emails, calls, meetings, notes with their own
  `Activity date`) become interactions keyed by `Record ID`, with `Last modified date` as the
  updated-at of overlapping exports. The customer is the first of the `;`-separated
  `Associated Contact IDs` (HubSpot contact record ids, as in the contacts export). Direction
  comes from `Call direction` / `Email direction` or an incoming-email activity type; meetings
  and notes carry none. Tasks are internal to-dos, set aside with a reason.
- HubSpot's record ids are HubSpot's own numbers (id space `hubspot`): they meet the contacts
  export, and other systems through the contact's `Email` / `Phone Number`.
- HubSpot contacts become customers: `Record ID`, name from `First Name` + `Last Name`,
  `Email` and `Phone Number` (keys), `Create Date` as signup date, `Contact owner`, `City`.
  `Last Activity Date`, `Lifecycle Stage` (and other "current state" columns such as
  `Lead Status`) describe the contact at export time and are never read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.ingest.cells import cell_text, map_unique
from pipelines.ingest.headers import fold_header
from pipelines.ingest.presets.base import (
    PresetResult,
    find_column,
    pick_columns,
    require_column,
)
from pipelines.ingest.staging import PRESET_REASON, SOURCE_LINE, UPDATED_AT

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
    activity_col = require_column(frame, "Activity type", "Engagement type",
                                  preset="hubspot-engagements")
    record_col = require_column(frame, "Record ID", "Activity ID", preset="hubspot-engagements")
    date_col = require_column(frame, "Activity date", "Timestamp", preset="hubspot-engagements")
    contacts_col = find_column(frame, "Associated Contact IDs", "Associated Contact ID",
                           "Contact ID")
    activity = map_unique(cell_text(frame[activity_col]).fillna(""), fold_header)
    known = activity.map(lambda a: _HUBSPOT_ACTIVITIES.get(a, ("?", "?")))
    # numpy's stubs take no None among np.where's choices; at runtime it is an object cell
    sent = np.where(activity.str.endswith("email"), "outbound", None)  # type: ignore[call-overload]
    direction = pd.Series(np.where(activity == "incomingemail", "inbound", sent),
                          index=frame.index, dtype=object)
    for name in ("Call direction", "Email direction", "Direction"):
        column = find_column(frame, name)
        if column:  # an exported direction wins; unknown words reach staging, which flags them
            said = cell_text(frame[column])
            words = map_unique(said, lambda v: _HUBSPOT_DIRECTIONS.get(fold_header(v), v))
            direction = words.where(said.notna(), direction)
    contacts = cell_text(frame[contacts_col]) if contacts_col else pd.Series(None, frame.index)
    out = pd.DataFrame({
        "interaction_id": cell_text(frame[record_col]),
        "customer_id": contacts.str.split(";").str[0].str.strip(),
        "occurred_at": frame[date_col],
        "channel": known.map(lambda k: k[0] if k else None),
        "type": known.map(lambda k: k[1] if k else None),
        "direction": direction,
    }, index=frame.index)
    modified = find_column(frame, "Last modified date")
    if modified:
        out[UPDATED_AT] = frame[modified]
    out[SOURCE_LINE] = lines
    unknown = known == ("?", "?")
    out[PRESET_REASON] = np.where(
        known.isna(), "HubSpot task (an internal to-do, not an interaction)",
        # numpy's stubs take no None among np.where's choices; at runtime it is an object cell
        np.where(unknown, "unknown HubSpot activity type", None))  # type: ignore[call-overload]
    out.loc[unknown, ["channel", "type"]] = None
    mapping = {record_col: "interaction_id", contacts_col: "customer_id",
               activity_col: "channel, type", date_col: "occurred_at"}
    return PresetResult(out, 0, {k: v for k, v in mapping.items() if k}, id_space="hubspot")


def hubspot_contacts(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Contacts as the customer master; export-time state columns are not read."""
    result = pick_columns(frame, lines, {
        "customer_id": find_column(frame, "Record ID"),
        "email": find_column(frame, "Email"),
        "signup_date": find_column(frame, "Create Date"),
        "owner": find_column(frame, "Contact owner", "HubSpot Owner"),
        "region": find_column(frame, "City"),
    })
    first, last = find_column(frame, "First Name"), find_column(frame, "Last Name")
    if first or last:
        parts = [cell_text(frame[c]).fillna("") for c in (first, last) if c]
        name = parts[0].str.cat(parts[1:], sep=" ").str.strip()
        result.frame["name"] = name.where(name != "", None)
        result.mapping.update({c: "name" for c in (first, last) if c})
    phone = find_column(frame, "Phone Number", "Phone", "Mobile Phone Number")
    if phone:
        result.frame["phone"] = frame[phone]
        result.mapping[phone] = "phone"
    return PresetResult(result.frame, 0, result.mapping, id_space="hubspot")
