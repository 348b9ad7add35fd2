"""CRM activity logs as the team's retention actions: Salesforce tasks and events, Pipedrive
activities.

Each reads the files as their API / data-export field names write them (a Salesforce Data
Export or Data Loader `Task.csv` / `Event.csv`, a Pipedrive activities table from its API or
a warehouse connector); a file with other labels falls back to the generic `actions` synonyms.

- Salesforce tasks (field names: the Task object reference,
  https://developer.salesforce.com/docs/atlas.en-us.248.0.api.meta/api/sforce_api_objects_task.htm,
  and the field reference's labels, .../sfFieldRef/salesforce_field_reference_Task.htm): one
  row per task; `Id` is the action id, `LastModifiedDate` the updated-at of overlapping
  exports. The customer is `AccountId` (Salesforce's id space, as in the cases preset), else
  `WhatId` when it names an account (key prefix `001`), else `WhoId` when it names a contact
  (`003`); a task on a lead (`00Q`) names no customer and is set aside. The action comes from
  `TaskSubtype` (Call, Email, ListEmail, LinkedIn), else the `Type` picklist (Call, Email,
  Meeting); a plain to-do with neither is set aside. `CallDisposition` (label "Call Result") is
  the outcome, `OwnerId` ("Assigned To") the owner, `WhatId` the campaign when it names one
  (key prefix `701`). The action happened at `CompletedDateTime`, else on `ActivityDate` (the
  due date, a date only). A task not closed yet (`IsClosed` false, else `Status` not Completed)
  has not happened: it is set aside, and a later export that shows it completed stages it.
- Salesforce events (the Event object:
  https://developer.salesforce.com/docs/atlas.en-us.228.0.sfFieldRef.meta/sfFieldRef/
  salesforce_field_reference_Event.htm):
  keys, campaign, owner and updated-at as for tasks; an event is a `meeting` unless its
  `EventSubtype` / `Type` says call or e-mail, at `StartDateTime` (older exports:
  `ActivityDateTime`; else its `ActivityDate`). An invitee's copy of a group
  event (`IsChild` true) is set aside: the event itself is counted once. Events later than
  tomorrow are quarantined by the ingest as in the future; when they have taken place, a
  later export stages them.
- Pipedrive activities (field names: the activities table of
  https://kondado.io/wiki/en/a/pipedrive and
  https://github.com/pipedrive/client-nodejs/blob/master/docs/ActivityPostObject.md): `id`,
  `subject`, `type` (the activity type's key: call, meeting, email, lunch; task and deadline
  are to-dos, set aside), `done`, `marked_as_done_time` (when done; else `due_date`), `org_id`
  / `person_id`, `owner_id` / `user_id`, `update_time` as updated-at. The organisation is the
  customer (id space `pipedrive`); an activity with only a person keeps the person id as a
  further id (`_id:pipedrive-person`: person and organisation numbers are separate sequences).
  An activity not marked done is set aside as not happened yet.
- Never read: `Description` / `note` (free text), `Priority`, `IsHighPriority`, call durations
  (the effort, not the action), `CreatedDate` / `add_time` (when it was logged).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.ingest.cells import cell_text, map_unique
from pipelines.ingest.headers import fold_header
from pipelines.ingest.keys import EXTRA_ID_PREFIX
from pipelines.ingest.presets.base import PresetResult, find_column, require_column
from pipelines.ingest.staging import PRESET_REASON, SOURCE_LINE, UPDATED_AT

# folded Salesforce TaskSubtype / Type value -> (action, channel)
_SALESFORCE_ACTIONS = {
    "call": ("call", "phone"), "email": ("email", "email"), "listemail": ("email", "email"),
    "linkedin": ("linkedin message", "linkedin"), "meeting": ("meeting", "meeting"),
}
# the key prefixes of Salesforce record ids that say which object a reference names
_SALESFORCE_ACCOUNT, _SALESFORCE_CONTACT, _SALESFORCE_LEAD, _SALESFORCE_CAMPAIGN = (
    "001", "003", "00Q", "701")
SALESFORCE_OPEN = "open Salesforce task (not done yet)"
SALESFORCE_TODO = "Salesforce to-do (no call, e-mail or meeting)"
SALESFORCE_LEAD = "Salesforce activity on a lead only (WhoId 00Q…), no customer"
SALESFORCE_CHILD_EVENT = "an invitee's copy of a Salesforce event (IsChild)"

# folded Pipedrive activity type key -> (action, channel); None: an internal to-do
_PIPEDRIVE_ACTIONS: dict[str, tuple[str, str] | None] = {
    "call": ("call", "phone"), "meeting": ("meeting", "meeting"), "email": ("email", "email"),
    "lunch": ("meeting", "meeting"), "task": None, "deadline": None,
}
PIPEDRIVE_OPEN = "Pipedrive activity not done yet"
PIPEDRIVE_TODO = "Pipedrive task or deadline (an internal to-do)"
PIPEDRIVE_UNKNOWN = "unknown Pipedrive activity type"
_TRUE = {"true", "1", "yes", "y", "done"}


def _flags(values: pd.Series) -> pd.Series:
    """`True`/`1`/`yes` cells as True, anything else (empty included) as False."""
    return map_unique(cell_text(values).fillna(""), lambda v: fold_header(v) in _TRUE).astype(bool)


def first_reason(index: pd.Index, *rules: tuple[pd.Series, str]) -> pd.Series:
    """Per row the first reason whose mask holds, else None."""
    reason = pd.Series(None, index=index, dtype=object)
    for mask, why in rules:
        reason[mask.fillna(False).astype(bool) & reason.isna()] = why
    return reason


def _salesforce_activity(frame: pd.DataFrame, lines: list[int], subtype: str,
                         action_at: pd.Series) -> tuple[pd.DataFrame, dict[str, str],
                                                         pd.Series]:
    """What Salesforce tasks and events share: the customer from the account (`AccountId`,
    else an account `WhatId`) or a contact `WhoId`, a campaign `WhatId`, the action from the
    subtype field, else the `Type` picklist; id, owner, outcome and last-modified time.
    Returns the actions frame, its header mapping and the rows that name only a lead."""
    account_col = find_column(frame, "AccountId", "Account ID")
    who_col = find_column(frame, "WhoId", "Name ID")
    what_col = find_column(frame, "WhatId", "Related To ID")
    subtype_col = find_column(frame, subtype)
    type_col = find_column(frame, "Type")
    empty = pd.Series(None, index=frame.index, dtype=object)
    account = cell_text(frame[account_col]) if account_col else empty
    who = cell_text(frame[who_col]) if who_col else empty
    what = cell_text(frame[what_col]) if what_col else empty
    # AccountId is derived by Salesforce from WhatId / WhoId; a view without it still names
    # the account in WhatId (`001…`) or the contact in WhoId
    account = account.where(account.notna(), what.where(what.str.startswith(
        _SALESFORCE_ACCOUNT, na=False)))
    contact = who.where(who.str.startswith(_SALESFORCE_CONTACT, na=False))
    # the subtype says what the activity was; the Type picklist where it is a plain one
    kinds = empty
    for column in (subtype_col, type_col):
        if column:
            known = map_unique(cell_text(frame[column]).fillna(""),
                               lambda v: _SALESFORCE_ACTIONS.get(fold_header(v)))
            kinds = kinds.where(kinds.notna(), known)
    out = pd.DataFrame({
        "customer_id": account.where(account.notna(), contact),
        "action_at": action_at,
        "action": kinds.map(lambda k: k[0] if k else None),
        "channel": kinds.map(lambda k: k[1] if k else None),
        "campaign": what.where(what.str.startswith(_SALESFORCE_CAMPAIGN, na=False)),
    }, index=frame.index)
    mapping = {c: t for c, t in ((account_col, "customer_id"), (who_col, "customer_id"),
                                 (subtype_col, "action, channel"),
                                 (type_col, "action, channel"), (what_col, "campaign")) if c}
    for target, names in (("action_id", ("Id", "Activity ID")),
                          ("outcome", ("CallDisposition", "Call Result")),
                          ("owner", ("OwnerId", "Assigned To ID", "Assigned To"))):
        column = find_column(frame, *names)
        if column:
            out[target] = frame[column]
            mapping[column] = target
    modified = find_column(frame, "LastModifiedDate", "Last Modified Date")
    if modified:
        out[UPDATED_AT] = frame[modified]
    out[SOURCE_LINE] = lines
    lead_only = account.isna() & who.str.startswith(_SALESFORCE_LEAD, na=False)
    return out, mapping, lead_only


def _first_filled(frame: pd.DataFrame, columns: list[str | None]) -> pd.Series:
    """Per row the first non-empty cell of `columns` (as delivered), else None."""
    chosen = pd.Series(None, index=frame.index, dtype=object)
    for column in columns:
        if column:
            chosen = chosen.where(chosen.notna(), frame[column].where(
                cell_text(frame[column]).notna()))
    return chosen


def salesforce_tasks(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Completed calls, e-mails and meetings as actions; open tasks and to-dos set aside."""
    status_col = require_column(frame, "Status", preset="salesforce-tasks")
    due_col = require_column(frame, "ActivityDate", "Due Date", preset="salesforce-tasks")
    completed_col = find_column(frame, "CompletedDateTime", "Completed Date/Time")
    out, mapping, lead_only = _salesforce_activity(
        frame, lines, "TaskSubtype", _first_filled(frame, [completed_col, due_col]))
    mapping.update({status_col: "(open tasks set aside)", due_col: "action_at"})
    if completed_col:
        mapping[completed_col] = "action_at"
    closed_col = find_column(frame, "IsClosed", "Closed")
    closed = (_flags(frame[closed_col]) if closed_col
              else cell_text(frame[status_col]).map(lambda v: fold_header(v or "") == "completed"))
    out[PRESET_REASON] = first_reason(frame.index, (~closed, SALESFORCE_OPEN),
                                       (out["action"].isna(), SALESFORCE_TODO),
                                       (lead_only, SALESFORCE_LEAD))
    return PresetResult(out, 0, mapping, id_space="salesforce")


def salesforce_events(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Calendar events as meetings (a Call / Email `Type` says otherwise) at their start;
    invitees' copies of a group event set aside (the event itself is counted)."""
    start_col = require_column(frame, "StartDateTime", "ActivityDateTime",
                               preset="salesforce-events")
    day_col = find_column(frame, "ActivityDate")
    out, mapping, lead_only = _salesforce_activity(
        frame, lines, "EventSubtype", _first_filled(frame, [start_col, day_col]))
    mapping.update({c: "action_at" for c in (start_col, day_col) if c})
    plain = out["action"].isna()  # an event of no other type is a meeting
    out.loc[plain, ["action", "channel"]] = ("meeting", "meeting")
    child_col = find_column(frame, "IsChild")
    child = _flags(frame[child_col]) if child_col else pd.Series(False, index=frame.index)
    out[PRESET_REASON] = first_reason(frame.index, (child, SALESFORCE_CHILD_EVENT),
                                       (lead_only, SALESFORCE_LEAD))
    return PresetResult(out, 0, mapping, id_space="salesforce")


def pipedrive_activities(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Done calls, meetings and e-mails as actions; open activities and to-dos set aside."""
    type_col = require_column(frame, "type", preset="pipedrive-activities")
    done_col = require_column(frame, "done", preset="pipedrive-activities")
    due_col = require_column(frame, "due_date", preset="pipedrive-activities")
    done_at_col = find_column(frame, "marked_as_done_time")
    org_col, person_col = find_column(frame, "org_id"), find_column(frame, "person_id")
    empty = pd.Series(None, index=frame.index, dtype=object)
    kinds = map_unique(cell_text(frame[type_col]).fillna(""),
                       lambda v: _PIPEDRIVE_ACTIONS.get(fold_header(v), ("?", "?")))
    unknown = kinds.map(lambda k: k == ("?", "?")).astype(bool)
    kinds = kinds.where(~unknown, None)
    done_at = cell_text(frame[done_at_col]) if done_at_col else empty
    out = pd.DataFrame({
        "customer_id": cell_text(frame[org_col]) if org_col else empty,
        "action_at": done_at.where(done_at.notna(), frame[due_col]),
        "action": kinds.map(lambda k: k[0] if k else None),
        "channel": kinds.map(lambda k: k[1] if k else None),
    }, index=frame.index)
    mapping = {type_col: "action, channel", done_col: "(open activities set aside)",
               due_col: "action_at"}
    if done_at_col:
        mapping[done_at_col] = "action_at"
    if org_col:
        mapping[org_col] = "customer_id"
    if person_col:  # person numbers are their own sequence: a further id, never customer_id
        out[EXTRA_ID_PREFIX + "pipedrive-person"] = frame[person_col]
        mapping[person_col] = "customer key (pipedrive person id)"
    for target, names in (("action_id", ("id",)), ("owner", ("owner_id", "user_id"))):
        column = find_column(frame, *names)
        if column:
            out[target] = frame[column]
            mapping[column] = target
    modified = find_column(frame, "update_time")
    if modified:
        out[UPDATED_AT] = frame[modified]
    out[SOURCE_LINE] = lines
    todo = pd.Series(np.asarray(kinds.isna() & ~unknown), index=frame.index)
    out[PRESET_REASON] = first_reason(frame.index, (~_flags(frame[done_col]), PIPEDRIVE_OPEN),
                                       (unknown, PIPEDRIVE_UNKNOWN), (todo, PIPEDRIVE_TODO))
    return PresetResult(out, 0, mapping, id_space="pipedrive")
