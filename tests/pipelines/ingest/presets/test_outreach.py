"""HubSpot calls, meetings and marketing e-mail events as actions: read through their own
preset under raw/actions/ (the same header under raw/interactions/ stays an engagements
export), rows that are no action set aside with a reason, every row accounted for."""

from __future__ import annotations

import pytest

from pipelines.ingest.presets.outreach import (
    EMAIL_CAMPAIGN,
    HUBSPOT_CALL_INBOUND,
    HUBSPOT_CALL_NOT_DONE,
    HUBSPOT_CALL_NOT_PLACED,
    HUBSPOT_EMAIL_FOLLOW_UP,
    HUBSPOT_EMAIL_NOT_SENT,
    HUBSPOT_EMAIL_OTHER,
    HUBSPOT_EMAIL_RESPONSE,
    HUBSPOT_MEETING_CANCELED,
    HUBSPOT_MEETING_NOT_HELD,
    HUBSPOT_OTHER_ACTIVITY,
)
from pipelines.ingest.presets.registry import detect_preset
from pipelines.ingest.run import IngestError, ingest_raw_exports, read_export
from pipelines.ingest.sources_file import SourceRule
from pipelines.ingest.staging import StagingError
from pipelines.store.staged import load_staged_actions
from tests.pipelines.ingest.raw_files import cells, write

from .conftest import NOW, utc

# the calls index page export: property labels; `Activity type` makes it fit the
# engagements preset as well
CALLS_HEADER = ("Record ID,Activity type,Call Title,Activity date,Activity assigned to,"
                "Call outcome,Call status,Call direction,Call duration (HH:mm:ss),"
                "Associated Contact IDs,Associated Company IDs,Last modified date,Call notes")
CALLS_ROWS = [
    # a completed outbound retention call with its outcome
    "7001,CALL,Retention call,2024-06-03 09:15,Ayse Demir,Connected,Completed,OUTBOUND,"
    "00:12:00,5101;5102,880,2024-06-03 09:30,offered 10%",
    # an attempt nobody answered: the status is the outcome
    "7002,CALL,Retention call,2024-06-04 10:00,Ayse Demir,,No answer,OUTBOUND,00:00:30,"
    "5103,,2024-06-04 10:01,",
    # a call on a company only: its id is a further key
    "7003,CALL,Account review,2024-06-05 11:00,Jan de Vries,Left voicemail,Completed,"
    "OUTBOUND,00:01:00,,881,2024-06-05 11:02,",
    # queued in the dialer when exported
    "7004,CALL,Call back,2024-06-06 12:00,Jan de Vries,,Queued,OUTBOUND,,5104,,"
    "2024-06-06 12:00,",
    # canceled before it was placed
    "7005,CALL,Call back,2024-06-06 13:00,Jan de Vries,,Canceled,OUTBOUND,,5104,,"
    "2024-06-06 13:00,",
    # the customer called in
    "7006,CALL,Support,2024-06-07 08:00,Ayse Demir,Connected,Completed,INBOUND,00:05:00,"
    "5101,,2024-06-07 08:05,",
]
MEETINGS_HEADER = ("Record ID,Meeting name,Activity date,Meeting start time,Meeting end time,"
                   "Meeting outcome,Activity assigned to,Associated Contact IDs,"
                   "Meeting description")
MEETINGS_ROWS = [
    "8001,Renewal review,2024-06-01 08:00,2024-06-03 13:00,2024-06-03 14:00,Completed,"
    "Ayse Demir,5101,went well",
    "8002,QBR,2024-06-01 08:00,2024-06-04 13:00,2024-06-04 14:00,No show,Ayse Demir,5102,",
    "8003,Check-in,2024-06-01 08:00,2024-06-20 13:00,2024-06-20 13:30,Scheduled,Jan de Vries,"
    "5103,",
    "8004,Check-in,2024-06-01 08:00,2024-06-05 13:00,2024-06-05 13:30,Rescheduled,"
    "Jan de Vries,5103,",
    "8005,Demo,2024-06-01 08:00,2024-06-06 13:00,2024-06-06 13:30,Canceled,Jan de Vries,"
    "5104,",
]
# the email events API as a connector replicates it: `created` in epoch milliseconds
EMAIL_HEADER = "id,created,type,recipient,emailCampaignId,portalId,appName,Campaign name"
EMAIL_ROWS = [
    "e1,1717405200000,SENT,anna@example.nl,3301,62515,Batch,June win-back",
    "e2,1717405260000,DELIVERED,anna@example.nl,3301,62515,Batch,June win-back",
    "e3,1717405800000,OPEN,anna@example.nl,3301,62515,Batch,June win-back",
    "e4,1717405200000,SENT,bram@example.nl,3301,62515,Batch,",
    "e5,1717405260000,BOUNCE,bram@example.nl,3301,62515,Batch,",
    "e6,1717405200000,DROPPED,cem@example.com,3301,62515,Batch,June win-back",
    "e7,1717491600000,STATUSCHANGE,anna@example.nl,3301,62515,Batch,June win-back",
    "e8,1717491600000,UNBOUNCE,,3301,62515,Batch,",
]


def _read(tmp_path, kind: str | None, name: str, text: str):
    folder = tmp_path / kind if kind else tmp_path
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return read_export(path, kind, SourceRule(timezone="UTC"), "UTC", NOW)


def _balanced(result) -> None:
    account = result.account
    assert account.staged + account.quarantined + account.merged == account.rows_read
    assert sum(account.reasons.values()) == account.quarantined


def test_a_hubspot_calls_export_under_actions_is_read_as_actions(tmp_path):
    result = _read(tmp_path, "actions", "calls.csv", "\n".join([CALLS_HEADER, *CALLS_ROWS]))
    assert result.reading.preset == "hubspot-calls"
    assert result.reading.kind == "actions"
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (6, 3, 3)
    assert account.reasons == {HUBSPOT_CALL_NOT_DONE: 1, HUBSPOT_CALL_NOT_PLACED: 1,
                               HUBSPOT_CALL_INBOUND: 1}
    _balanced(result)
    frame = result.staged.set_index("action_id")
    assert dict(zip(frame.index, cells(frame["customer_id"]), strict=True)) == {
        "7001": "5101", "7002": "5103", "7003": None}
    assert cells(frame["_id:hubspot-company"]) == [None, None, "881"]
    assert frame["action"].tolist() == ["call"] * 3
    assert frame["channel"].tolist() == ["phone"] * 3
    assert frame["outcome"].tolist() == ["Connected", "No answer", "Left voicemail"]
    assert frame["owner"].tolist() == ["Ayse Demir", "Ayse Demir", "Jan de Vries"]
    assert frame["action_at"].tolist() == [utc("2024-06-03 09:15"), utc("2024-06-04 10:00"),
                                           utc("2024-06-05 11:00")]
    # notes, titles and durations are never read
    assert not {"Call notes", "Call Title", "Call duration (HH:mm:ss)"} & set(
        result.reading.columns)


def test_the_same_calls_header_under_interactions_stays_an_engagements_export(tmp_path):
    result = _read(tmp_path, "interactions", "calls.csv",
                   "\n".join([CALLS_HEADER, *CALLS_ROWS]))
    assert result.reading.preset == "hubspot-engagements"
    assert result.account.rows_read == 6
    _balanced(result)


def test_detection_prefers_the_folder_s_kind():
    headers = CALLS_HEADER.split(",")
    assert detect_preset(headers, kind="actions").name == "hubspot-calls"
    assert detect_preset(headers, kind="interactions").name == "hubspot-engagements"
    # a folder of a kind no preset fits still names the preset that fits (wrong folder)
    assert detect_preset(headers, kind="purchases").name == "hubspot-engagements"


def test_a_file_at_the_top_of_raw_that_fits_two_kinds_says_where_to_put_it(tmp_path):
    with pytest.raises(StagingError, match=r"hubspot-engagements export of interactions or "
                       r"a hubspot-calls export of actions; put it under raw/interactions/ "
                       r"or raw/actions/"):
        _read(tmp_path, None, "calls.csv", "\n".join([CALLS_HEADER, *CALLS_ROWS]))


def test_a_calls_export_without_activity_type_is_actions_at_the_top_of_raw(tmp_path):
    header = CALLS_HEADER.replace("Activity type,", "")
    rows = [r.replace(",CALL,", ",", 1) for r in CALLS_ROWS[:2]]
    result = _read(tmp_path, None, "calls.csv", "\n".join([header, *rows]))
    assert (result.reading.preset, result.reading.kind) == ("hubspot-calls", "actions")
    assert result.account.staged == 2


def test_hubspot_meetings_stage_held_and_no_show_meetings_at_their_start(tmp_path):
    result = _read(tmp_path, "actions", "meetings.csv",
                   "\n".join([MEETINGS_HEADER, *MEETINGS_ROWS]))
    assert result.reading.preset == "hubspot-meetings"
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (5, 2, 3)
    assert account.reasons == {HUBSPOT_MEETING_NOT_HELD: 2, HUBSPOT_MEETING_CANCELED: 1}
    _balanced(result)
    frame = result.staged.set_index("action_id")
    assert frame["customer_id"].to_dict() == {"8001": "5101", "8002": "5102"}
    assert frame["action"].tolist() == ["meeting", "meeting"]
    assert frame["outcome"].tolist() == ["Completed", "No show"]
    # the start, not the day it was booked
    assert frame["action_at"].tolist() == [utc("2024-06-03 13:00"), utc("2024-06-04 13:00")]
    assert "Meeting description" not in result.reading.columns


def test_hubspot_email_events_stage_each_send_as_an_email_campaign(tmp_path):
    result = _read(tmp_path, "actions", "email_events.csv",
                   "\n".join([EMAIL_HEADER, *EMAIL_ROWS]))
    assert result.reading.preset == "hubspot-email-events"
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (8, 2, 6)
    assert account.reasons == {HUBSPOT_EMAIL_FOLLOW_UP: 3, HUBSPOT_EMAIL_NOT_SENT: 1,
                               HUBSPOT_EMAIL_RESPONSE: 1, HUBSPOT_EMAIL_OTHER: 1}
    _balanced(result)
    frame = result.staged.set_index("action_id")
    assert frame["email"].tolist() == ["anna@example.nl", "bram@example.nl"]
    assert frame["action"].tolist() == [EMAIL_CAMPAIGN, EMAIL_CAMPAIGN]
    assert frame["channel"].tolist() == ["email", "email"]
    # the campaign's name where the file has one, else its id
    assert frame["campaign"].tolist() == ["June win-back", "3301"]
    assert frame["action_at"].tolist() == [utc("2024-06-03 09:00")] * 2


@pytest.mark.parametrize("header, preset", [
    (CALLS_HEADER.replace("Activity type,", ""), "hubspot-calls"),
    # the API property names, as a connector writes them
    ("hs_object_id,hs_timestamp,hs_call_status,hs_call_disposition,hubspot_owner_id",
     "hubspot-calls"),
    (MEETINGS_HEADER, "hubspot-meetings"),
    ("hs_object_id,hs_timestamp,hs_meeting_start_time,hs_meeting_outcome,hubspot_owner_id",
     "hubspot-meetings"),
    (EMAIL_HEADER, "hubspot-email-events"),
    ("id,created,type,recipient,emailCampaignId", "hubspot-email-events"),
])
def test_outreach_exports_are_recognised_from_their_fields(header, preset):
    assert detect_preset(header.split(",")).name == preset


def test_an_ingest_names_the_ambiguous_file_and_the_folders_that_decide(settings):
    write(settings, "purchases", "p.csv", "customer_id,order_id,order_date,amount\n"
          "5101,O1,2024-01-05,29\n")
    settings.raw_dir.mkdir(parents=True, exist_ok=True)
    (settings.raw_dir / "calls.csv").write_text("\n".join([CALLS_HEADER, *CALLS_ROWS]),
                                                encoding="utf-8")
    with pytest.raises(IngestError, match=r"calls\.csv: looks like .* put it under raw/interactions/ or "
                                           r"raw/actions/"):
        ingest_raw_exports(settings, now=NOW)
    # once under raw/actions/ it is read as HubSpot calls, every row accounted for
    (settings.raw_dir / "actions").mkdir()
    (settings.raw_dir / "calls.csv").rename(settings.raw_dir / "actions" / "calls.csv")
    report = ingest_raw_exports(settings, now=NOW)
    [calls] = [a for a in report.accounts if a.kind == "actions"]
    assert (calls.rows_read, calls.staged, calls.quarantined) == (6, 3, 3)
    assert len(load_staged_actions(settings)) == 3


def test_other_activity_types_in_a_calls_export_are_set_aside_not_read_as_calls(tmp_path):
    # an activities export with call columns dropped under raw/actions/: its e-mail and note
    # rows are no calls
    rows = [CALLS_ROWS[0],
            "7101,EMAIL,,2024-06-03 10:00,Ayse Demir,,,,,5101,,2024-06-03 10:00,",
            "7102,NOTE,,2024-06-03 11:00,Ayse Demir,,,,,5101,,2024-06-03 11:00,"]
    result = _read(tmp_path, "actions", "activities.csv", "\n".join([CALLS_HEADER, *rows]))
    assert result.reading.preset == "hubspot-calls"
    assert (result.account.staged, result.account.reasons) == (1, {HUBSPOT_OTHER_ACTIVITY: 2})
    _balanced(result)
    assert "_other_activity" not in result.staged
