"""HubSpot's own records of the team's outreach as retention actions: logged calls, meetings
and the per-recipient events of marketing e-mails.

Each reads the file as the HubSpot export writes its property labels (the calls / meetings
index page export), and in the API property names (a connector or an API dump):

- HubSpot calls (properties: https://developers.hubspot.com/docs/api/crm/calls): `Record ID`
  (`hs_object_id`) is the action id, `Activity date` (`hs_timestamp`) when the call was
  made, `Call outcome` (`hs_call_disposition`: Connected, Left voicemail, No answer, Busy,
  Wrong number... as the export writes it; the API's GUIDs pass through as they are) the
  outcome, `Activity assigned to` (`hubspot_owner_id`) the owner, `Last modified date` the
  updated-at of overlapping exports. `Call status` (`hs_call_status`) says whether the call
  took place: Completed, Busy and No answer are attempts the team made (kept, the status as
  the outcome where no outcome is written); Queued, Ringing, Connecting, In progress and
  Calling CRM user are not finished when exported, Canceled and Failed never reached the
  customer: set aside. An `INBOUND` `Call direction` is the customer calling: an interaction,
  not the team's action, set aside. Where the file has `Activity type` (an activities export
  that also carries call properties), rows of another type (e-mails, notes, tasks) are set
  aside: such a file belongs under raw/interactions/.
- HubSpot meetings (https://developers.hubspot.com/docs/api/crm/meetings): as calls, at the
  `Meeting start time` (`hs_meeting_start_time`, else the activity date), outcome from
  `Meeting outcome` (`hs_meeting_outcome`: scheduled, completed, rescheduled, no show,
  canceled). Completed and no-show meetings are kept (a no-show is an attempt, like an
  unanswered call); scheduled and rescheduled ones have not happened yet and canceled ones
  never did: set aside, and a later export that shows them completed stages them.
- The customer of a call or meeting is the first of the `;`-separated `Associated Contact
  IDs` (HubSpot contact record ids, id space `hubspot`, as the engagements and contacts
  presets read them); one with only a company keeps the first `Associated Company IDs` as a
  further id (`_id:hubspot-company`: company and contact numbers are separate sequences).
- HubSpot marketing e-mail events (the email events API:
  https://developers.hubspot.com/docs/methods/email/email_events_overview, one row per event
  as a connector replicates it): `id`, `created` (milliseconds since the epoch, or a
  time as text), `type`, `recipient` (the e-mail address: the customer key) and
  `emailCampaignId`. A `SENT` event is the action, an "email campaign" in that campaign (its
  name where the file has a campaign name column, else the campaign id). Every other event
  is set aside with what it is: `DROPPED` / `SUPPRESSED` (never sent), delivery and
  engagement events of a sent message (`PROCESSED`, `DELIVERED`, `DEFERRED`, `BOUNCE`,
  `OPEN`, `CLICK`, `PRINT`, `FORWARD`: the `SENT` row already records the action), the
  recipient's responses (`STATUSCHANGE` such as an unsubscribe, `SPAMREPORT`) and
  `UNBOUNCE` (an address cleared, no recipient).
- Never read: call and meeting notes (`Call notes`, `hs_call_body`, `Meeting description`),
  titles, durations (the effort, not the action), recording links, `Create date` (when it
  was logged).
"""

from __future__ import annotations

import pandas as pd

from pipelines.ingest.cells import cell_text, map_unique
from pipelines.ingest.headers import fold_header
from pipelines.ingest.keys import EXTRA_ID_PREFIX
from pipelines.ingest.presets.activities import first_reason
from pipelines.ingest.presets.base import (
    PresetResult,
    epoch_or_text,
    find_column,
    require_column,
)
from pipelines.ingest.staging import PRESET_REASON, SOURCE_LINE, UPDATED_AT

HUBSPOT_CALL_NOT_DONE = "HubSpot call not finished when exported (queued, ringing, in progress)"
HUBSPOT_CALL_NOT_PLACED = "HubSpot call canceled or failed (never reached the customer)"
HUBSPOT_CALL_INBOUND = "inbound HubSpot call (the customer's contact, not the team's action)"
HUBSPOT_MEETING_NOT_HELD = "HubSpot meeting scheduled or rescheduled, not held yet"
HUBSPOT_MEETING_CANCELED = "HubSpot meeting canceled"
HUBSPOT_OTHER_ACTIVITY = ("HubSpot activity of another type than the export's calls or "
                          "meetings (an activities export: read it under raw/interactions/)")
HUBSPOT_EMAIL_NOT_SENT = "HubSpot marketing e-mail dropped or suppressed (never sent)"
HUBSPOT_EMAIL_FOLLOW_UP = ("delivery or engagement event of a sent HubSpot marketing e-mail "
                           "(its SENT row is the action)")
HUBSPOT_EMAIL_RESPONSE = ("the recipient's response to a HubSpot marketing e-mail "
                          "(unsubscribe, spam report), not an action")
HUBSPOT_EMAIL_OTHER = "HubSpot e-mail event of no recipient or of an unknown type"

# folded hs_call_status -> reason to set the call aside (None: the call took place)
_CALL_STATUSES: dict[str, str | None] = {
    "completed": None, "busy": None, "noanswer": None,
    "queued": HUBSPOT_CALL_NOT_DONE, "ringing": HUBSPOT_CALL_NOT_DONE,
    "connecting": HUBSPOT_CALL_NOT_DONE, "inprogress": HUBSPOT_CALL_NOT_DONE,
    "callingcrmuser": HUBSPOT_CALL_NOT_DONE,
    "canceled": HUBSPOT_CALL_NOT_PLACED, "cancelled": HUBSPOT_CALL_NOT_PLACED,
    "failed": HUBSPOT_CALL_NOT_PLACED,
}
# folded hs_meeting_outcome -> reason to set the meeting aside (None: it took place)
_MEETING_OUTCOMES: dict[str, str | None] = {
    "completed": None, "noshow": None,
    "scheduled": HUBSPOT_MEETING_NOT_HELD, "rescheduled": HUBSPOT_MEETING_NOT_HELD,
    "canceled": HUBSPOT_MEETING_CANCELED, "cancelled": HUBSPOT_MEETING_CANCELED,
}
# folded email event type -> reason to set it aside (None: the send, the action)
_EMAIL_EVENTS: dict[str, str | None] = {
    "sent": None, "dropped": HUBSPOT_EMAIL_NOT_SENT, "suppressed": HUBSPOT_EMAIL_NOT_SENT,
    **{t: HUBSPOT_EMAIL_FOLLOW_UP for t in ("processed", "delivered", "deferred", "bounce",
                                           "open", "click", "print", "forward")},
    "statuschange": HUBSPOT_EMAIL_RESPONSE, "spamreport": HUBSPOT_EMAIL_RESPONSE,
}
EMAIL_CAMPAIGN = "email campaign"
_OTHER = "_other_activity"  # helper column: rows of another activity type


def _words(values: pd.Series) -> pd.Series:
    return map_unique(cell_text(values).fillna(""), fold_header)


def _reasons(words: pd.Series, table: dict[str, str | None], unknown: str | None
             ) -> pd.Series:
    """Per row the table's reason for its word; an empty cell has none, an unknown word
    `unknown` (None: kept, staging judges the text)."""
    return words.map(lambda w: table.get(w, unknown) if w else None).astype(object)


def _first_id(values: pd.Series) -> pd.Series:
    """The first of `;`-separated record ids, None where there is none."""
    first = cell_text(values).str.split(";").str[0].str.strip()
    return first.where(first != "", None)


def _hubspot_engagement(frame: pd.DataFrame, lines: list[int], preset: str, action: str,
                        channel: str, when: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """What calls and meetings share: id, customer (contact, else company), the time from the
    first of `when` that is filled, owner and last-modified time, and `other`: the rows an
    `Activity type` column says are not of this export's kind (a mixed activities export)."""
    record_col = require_column(frame, "Record ID", "hs_object_id", preset=preset)
    times = [c for c in (find_column(frame, name) for name in when) if c]
    if not times:
        require_column(frame, *when, preset=preset)
    at = pd.Series(None, index=frame.index, dtype=object)
    for column in times:
        at = at.where(at.notna(), frame[column].where(cell_text(frame[column]).notna()))
    out = pd.DataFrame({"action_id": cell_text(frame[record_col]), "action_at": at,
                        "action": action, "channel": channel}, index=frame.index)
    mapping = {record_col: "action_id", **{c: "action_at" for c in times}}
    contact_col = find_column(frame, "Associated Contact IDs", "Associated Contact ID",
                              "Contact ID")
    company_col = find_column(frame, "Associated Company IDs", "Associated Company ID",
                              "Associated Company IDs (Primary)")
    out["customer_id"] = (_first_id(frame[contact_col]) if contact_col
                          else pd.Series(None, index=frame.index, dtype=object))
    if contact_col:
        mapping[contact_col] = "customer_id"
    if company_col:  # company numbers are their own sequence: a further id, never customer_id
        company = _first_id(frame[company_col])
        out[EXTRA_ID_PREFIX + "hubspot-company"] = company.where(out["customer_id"].isna())
        mapping[company_col] = "customer key (hubspot company id)"
    for target, names in (("owner", ("Activity assigned to", "hubspot_owner_id",
                                     "HubSpot owner", "Owner")),
                          (UPDATED_AT, ("Last modified date", "hs_lastmodifieddate"))):
        found = find_column(frame, *names)
        if found:
            out[target] = frame[found]
            if target != UPDATED_AT:
                mapping[found] = target
    type_col = find_column(frame, "Activity type", "Engagement type")
    out[_OTHER] = (_words(frame[type_col]).map(lambda w: bool(w) and w != action)
                   if type_col else pd.Series(False, index=frame.index)).astype(bool)
    if type_col:
        mapping[type_col] = f"(activities other than {action}s set aside)"
    out[SOURCE_LINE] = lines
    return out, mapping


def _reason_column(out: pd.DataFrame, *rules: tuple[pd.Series, str]) -> pd.Series:
    """The first reason per row: another activity type first, then `rules`; drops the
    helper column."""
    other = out.pop(_OTHER)
    return first_reason(out.index, (other, HUBSPOT_OTHER_ACTIVITY), *rules)


def hubspot_calls(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Outbound calls the team made (answered or not) as actions; calls not finished, not
    placed or made by the customer set aside."""
    out, mapping = _hubspot_engagement(frame, lines, "hubspot-calls", "call", "phone",
                                       ["Activity date", "hs_timestamp"])
    outcome_col = find_column(frame, "Call outcome", "hs_call_disposition")
    status_col = find_column(frame, "Call status", "hs_call_status")
    direction_col = find_column(frame, "Call direction", "hs_call_direction")
    status = _words(frame[status_col]) if status_col else pd.Series("", index=frame.index)
    outcome = (cell_text(frame[outcome_col]) if outcome_col
               else pd.Series(None, index=frame.index, dtype=object))
    if status_col:  # Busy / No answer say what happened where no outcome was written
        said = cell_text(frame[status_col])
        attempt = status.isin(["busy", "noanswer"])
        outcome = outcome.where(outcome.notna() | ~attempt, said)
        mapping[status_col] = "(calls not placed set aside), outcome"
    out["outcome"] = outcome
    if outcome_col:
        mapping[outcome_col] = "outcome"
    inbound = (_words(frame[direction_col]) == "inbound") if direction_col else (
        pd.Series(False, index=frame.index))
    if direction_col:
        mapping[direction_col] = "(inbound calls set aside)"
    status_reason = _reasons(status, _CALL_STATUSES, None)
    out[PRESET_REASON] = _reason_column(
        out, *((status_reason == why, why) for why in
                       (HUBSPOT_CALL_NOT_DONE, HUBSPOT_CALL_NOT_PLACED)),
        (inbound, HUBSPOT_CALL_INBOUND))
    return PresetResult(out, 0, mapping, id_space="hubspot")


def hubspot_meetings(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Held (or no-show) meetings as actions at their start; scheduled, rescheduled and
    canceled ones set aside."""
    out, mapping = _hubspot_engagement(
        frame, lines, "hubspot-meetings", "meeting", "meeting",
        ["Meeting start time", "hs_meeting_start_time", "Activity date", "hs_timestamp"])
    outcome_col = find_column(frame, "Meeting outcome", "hs_meeting_outcome")
    words = _words(frame[outcome_col]) if outcome_col else pd.Series("", index=frame.index)
    out["outcome"] = (cell_text(frame[outcome_col]) if outcome_col
                      else pd.Series(None, index=frame.index, dtype=object))
    if outcome_col:
        mapping[outcome_col] = "outcome (meetings not held set aside)"
    reason = _reasons(words, _MEETING_OUTCOMES, None)
    out[PRESET_REASON] = _reason_column(
        out, *((reason == why, why) for why in
                       (HUBSPOT_MEETING_NOT_HELD, HUBSPOT_MEETING_CANCELED)))
    return PresetResult(out, 0, mapping, id_space="hubspot")


def hubspot_email_events(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """Each SENT event as an "email campaign" action to its recipient; every other event set
    aside with what it is."""
    preset = "hubspot-email-events"
    id_col = require_column(frame, "id", preset=preset)
    created_col = require_column(frame, "created", preset=preset)
    type_col = require_column(frame, "type", preset=preset)
    recipient_col = require_column(frame, "recipient", preset=preset)
    campaign_id_col = require_column(frame, "emailCampaignId", preset=preset)
    name_col = find_column(frame, "Campaign name", "emailCampaignName", "Email name")
    campaign = cell_text(frame[campaign_id_col])
    if name_col:
        named = cell_text(frame[name_col])
        campaign = named.where(named.notna(), campaign)
    words = _words(frame[type_col])
    out = pd.DataFrame({
        "action_id": cell_text(frame[id_col]), "email": frame[recipient_col],
        "action_at": epoch_or_text(frame[created_col], "ms"),
        "action": EMAIL_CAMPAIGN, "channel": "email", "campaign": campaign,
    }, index=frame.index)
    out[SOURCE_LINE] = lines
    no_recipient = cell_text(frame[recipient_col]).isna()
    reason = _reasons(words, _EMAIL_EVENTS, HUBSPOT_EMAIL_OTHER)
    out[PRESET_REASON] = first_reason(
        frame.index, (no_recipient | (words == ""), HUBSPOT_EMAIL_OTHER),
        *((reason == why, why) for why in (HUBSPOT_EMAIL_NOT_SENT, HUBSPOT_EMAIL_FOLLOW_UP,
                                           HUBSPOT_EMAIL_RESPONSE, HUBSPOT_EMAIL_OTHER)))
    mapping = {id_col: "action_id", created_col: "action_at", recipient_col: "email",
               type_col: "(events other than SENT set aside)", campaign_id_col: "campaign"}
    if name_col:
        mapping[name_col] = "campaign"
    return PresetResult(out, 0, mapping, id_space="hubspot")
