"""CRM activity logs as actions: a Salesforce `Task.csv` and a Pipedrive activities table in
their API field names, staged row by row; open tasks and to-dos set aside; a file without
the preset's signature falls back to the generic synonyms or says what it lacks."""

from __future__ import annotations

import pytest

from pipelines.ingest.action_rows import NO_ACTION
from pipelines.ingest.presets.activities import (
    PIPEDRIVE_OPEN,
    PIPEDRIVE_TODO,
    PIPEDRIVE_UNKNOWN,
    SALESFORCE_CHILD_EVENT,
    SALESFORCE_LEAD,
    SALESFORCE_OPEN,
    SALESFORCE_TODO,
)
from pipelines.ingest.presets.registry import detect_preset
from pipelines.ingest.run import ingest_raw_exports, read_export
from pipelines.ingest.sources_file import SourceRule
from pipelines.ingest.staging import StagingError
from pipelines.store.staged import load_source_tables, load_staged_actions
from tests.pipelines.ingest.raw_files import cells, write

from .conftest import NOW, utc

# the Task object's fields as a Data Export / Data Loader writes them (API names)
SALESFORCE_HEADER = ("Id,WhoId,WhatId,Subject,ActivityDate,Status,Priority,IsHighPriority,"
                     "OwnerId,Description,Type,IsDeleted,AccountId,IsClosed,CreatedDate,"
                     "LastModifiedDate,CallDurationInSeconds,CallType,CallDisposition,"
                     "CompletedDateTime,TaskSubtype")
SALESFORCE_ROWS = [
    # a completed outbound call on an account, with its result and completion time
    "00T000000000001AAA,003000000000001AAA,001000000000001AAA,Retention call,2024-06-03,"
    "Completed,Normal,false,005000000000001AAA,Offered 10%,Call,false,001000000000001AAA,"
    "true,2024-06-03T09:00:00.000Z,2024-06-03T09:20:00.000Z,240,Outbound,Accepted offer,"
    "2024-06-03T09:15:00.000Z,Call",
    # a list e-mail of a campaign (WhatId 701…), completed, no completion time: its date
    "00T000000000002AAA,003000000000002AAA,701000000000001AAA,Win-back mail,2024-06-04,"
    "Completed,Normal,false,005000000000001AAA,,Email,false,001000000000002AAA,true,"
    "2024-06-04T08:00:00.000Z,2024-06-04T08:00:00.000Z,,,,,ListEmail",
    # a call not made yet
    "00T000000000003AAA,003000000000002AAA,001000000000002AAA,Call back,2024-06-10,"
    "Not Started,High,true,005000000000001AAA,,Call,false,001000000000002AAA,false,"
    "2024-06-04T08:00:00.000Z,2024-06-04T08:00:00.000Z,,,,,Call",
    # a to-do of no contact type, done
    "00T000000000004AAA,,001000000000001AAA,Update address,2024-06-05,Completed,Normal,"
    "false,005000000000001AAA,,Other,false,001000000000001AAA,true,"
    "2024-06-05T08:00:00.000Z,2024-06-05T08:00:00.000Z,,,,,Task",
    # a call to a lead: no account, WhoId 00Q…
    "00T000000000005AAA,00Q000000000001AAA,,Intro call,2024-06-05,Completed,Normal,false,"
    "005000000000002AAA,,Call,false,,true,2024-06-05T08:00:00.000Z,"
    "2024-06-05T08:00:00.000Z,60,Outbound,No answer,2024-06-05T10:00:00.000Z,Call",
    # a meeting with a contact whose account is not filled in: the contact is the customer
    "00T000000000006AAA,003000000000003AAA,,Renewal meeting,2024-06-06,Completed,Normal,"
    "false,005000000000002AAA,,Meeting,false,,true,2024-06-06T08:00:00.000Z,"
    "2024-06-06T08:00:00.000Z,,,,,Task",
]

# the activities table's fields (Pipedrive API names, as a connector replicates them)
PIPEDRIVE_HEADER = ("id,subject,type,done,marked_as_done_time,org_id,person_id,deal_id,"
                    "due_date,due_time,duration,owner_id,add_time,update_time,note")
PIPEDRIVE_ROWS = [
    "101,Retention call,call,true,2024-06-03 10:00:00,7,31,,2024-06-03,10:00,00:15,12,"
    "2024-06-01 09:00:00,2024-06-03 10:01:00,offered a discount",
    "102,Check-in,meeting,1,,,32,,2024-06-05,,,12,2024-06-01 09:00:00,"
    "2024-06-05 16:00:00,",
    "103,Follow-up,call,false,,7,31,,2024-06-12,,,12,2024-06-03 10:01:00,"
    "2024-06-03 10:01:00,",
    "104,Send contract,task,true,2024-06-04 11:00:00,8,,,2024-06-04,,,13,"
    "2024-06-01 09:00:00,2024-06-04 11:00:00,",
    "105,Webinar,webinar,true,2024-06-06 15:00:00,8,,,2024-06-06,,,13,2024-06-01 09:00:00,"
    "2024-06-06 15:00:00,",
]


def _read(tmp_path, name: str, text: str, rule: SourceRule | None = None):
    path = tmp_path / "actions" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return read_export(path, "actions", rule or SourceRule(timezone="UTC"), "UTC", NOW)


def test_salesforce_tasks_stage_completed_calls_mails_and_meetings(tmp_path):
    result = _read(tmp_path, "Task.csv", "\n".join([SALESFORCE_HEADER, *SALESFORCE_ROWS]))
    assert result.reading.preset == "salesforce-tasks"
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (6, 3, 3)
    assert account.reasons == {SALESFORCE_OPEN: 1, SALESFORCE_TODO: 1, SALESFORCE_LEAD: 1}
    frame = result.staged.set_index("action_id")
    assert frame["customer_id"].to_dict() == {"00T000000000001AAA": "001000000000001AAA",
                                              "00T000000000002AAA": "001000000000002AAA",
                                              "00T000000000006AAA": "003000000000003AAA"}
    assert frame["action"].tolist() == ["call", "email", "meeting"]
    assert frame["channel"].tolist() == ["phone", "email", "meeting"]
    # completion time where Salesforce has one, else the task's date
    assert frame["action_at"].tolist() == [utc("2024-06-03 09:15"), utc("2024-06-04"),
                                           utc("2024-06-06")]
    assert cells(frame["outcome"]) == ["Accepted offer", None, None]
    assert cells(frame["campaign"]) == [None, "701000000000001AAA", None]
    assert frame["owner"].tolist() == ["005000000000001AAA", "005000000000001AAA",
                                       "005000000000002AAA"]
    # free text, priority and the call's length are never read
    assert not {"Description", "Priority", "CallDurationInSeconds"} & set(result.reading.columns)


def test_a_task_completed_in_a_later_export_replaces_its_open_copy(settings):
    write(settings, "purchases", "p.csv", "customer_id,order_id,order_date,amount\n"
          "C1,O1,2024-01-05,29\n")
    open_call = SALESFORCE_ROWS[2]
    done_call = (open_call.replace("Not Started", "Completed")
                 .replace(",false,2024-06-04", ",true,2024-06-04")
                 .replace("2024-06-04T08:00:00.000Z,2024-06-04T08:00:00.000Z,,,,,Call",
                          "2024-06-04T08:00:00.000Z,2024-06-10T12:00:00.000Z,30,Outbound,"
                          "Reached,2024-06-10T11:30:00.000Z,Call"))
    write(settings, "actions", "tasks_week1.csv", f"{SALESFORCE_HEADER}\n{open_call}\n")
    write(settings, "actions", "tasks_week2.csv", f"{SALESFORCE_HEADER}\n{done_call}\n")
    report = ingest_raw_exports(settings, now=NOW)
    accounts = {a.file: a for a in report.accounts if a.kind == "actions"}
    assert [(a.staged, a.quarantined) for _, a in sorted(accounts.items())] == [(0, 1), (1, 0)]
    staged = load_staged_actions(settings)
    assert staged[["action", "outcome"]].values.tolist() == [["call", "Reached"]]
    assert staged["action_at"].tolist() == [utc("2024-06-10 11:30")]


def test_pipedrive_activities_stage_done_calls_and_meetings(tmp_path):
    result = _read(tmp_path, "activities.csv", "\n".join([PIPEDRIVE_HEADER, *PIPEDRIVE_ROWS]))
    assert result.reading.preset == "pipedrive-activities"
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (5, 2, 3)
    assert account.reasons == {PIPEDRIVE_OPEN: 1, PIPEDRIVE_TODO: 1, PIPEDRIVE_UNKNOWN: 1}
    frame = result.staged.set_index("action_id")
    assert frame["action"].to_dict() == {"101": "call", "102": "meeting"}
    assert frame["channel"].tolist() == ["phone", "meeting"]
    # the organisation is the customer; a person-only activity keeps the person's own id
    assert cells(frame["customer_id"]) == ["7", None]
    assert frame["_id:pipedrive-person"].tolist() == ["31", "32"]
    assert frame["action_at"].tolist() == [utc("2024-06-03 10:00"), utc("2024-06-05")]
    assert frame["owner"].tolist() == ["12", "12"]
    assert "note" not in result.reading.columns


@pytest.mark.parametrize("header, preset", [
    (SALESFORCE_HEADER, "salesforce-tasks"),
    # a reduced Task view: the signature and two further Task fields
    ("Id,Subject,ActivityDate,Status,WhoId,TaskSubtype,CallDisposition", "salesforce-tasks"),
    # an older Event export: ActivityDateTime and a duration instead of start and end
    ("Id,Subject,ActivityDateTime,DurationInMinutes,AccountId,Type,OwnerId",
     "salesforce-events"),
    (PIPEDRIVE_HEADER, "pipedrive-activities"),
    ("id,subject,type,done,due_date,org_id", "pipedrive-activities"),
])
def test_activity_exports_are_recognised_from_their_fields(header, preset):
    assert detect_preset(header.split(",")).name == preset


def test_a_partial_task_export_falls_back_to_the_generic_synonyms(tmp_path):
    # no Status: not the preset; AccountId and Activity Date are generic synonyms, `Action`
    # and `Call Outcome` too, so the file still stages through them
    result = _read(tmp_path, "calls.csv", "AccountId,ActivityDate,Action,Call Outcome\n"
                   "001000000000001AAA,2024-06-03,call,reached\n"
                   "001000000000002AAA,2024-06-04,,\n")
    assert result.reading.preset is None
    assert (result.account.staged, result.account.quarantined) == (1, 1)
    assert result.account.reasons == {NO_ACTION: 1}
    assert result.staged[["customer_id", "action", "outcome"]].values.tolist() == [
        ["001000000000001AAA", "call", "reached"]]


def test_a_task_export_without_an_action_column_says_what_it_lacks(tmp_path):
    with pytest.raises(StagingError, match="missing required column.*action"):
        _read(tmp_path, "tasks.csv", "Id,Subject,ActivityDate,AccountId\n"
              "00T000000000001AAA,Call,2024-06-03,001000000000001AAA\n")


def test_sources_yaml_naming_the_preset_on_a_file_without_status_says_so(tmp_path):
    with pytest.raises(StagingError, match="no Status column, which the salesforce-tasks"):
        _read(tmp_path, "tasks.csv", "Id,Subject,ActivityDate,AccountId\n"
              "00T000000000001AAA,Call,2024-06-03,001000000000001AAA\n",
              SourceRule(timezone="UTC", preset="salesforce-tasks"))


def test_footer_lines_under_a_task_export_are_set_aside(tmp_path):
    # a report-style export ends with its totals, confidentiality and copyright lines
    footer = ['', '"Grand Totals (2 records)"', '"Confidential Information - Do Not Distribute"',
              '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."']
    result = _read(tmp_path, "Task.csv",
                   "\n".join([SALESFORCE_HEADER, *SALESFORCE_ROWS[:2], *footer]) + "\n")
    assert result.reading.preset == "salesforce-tasks"
    assert (result.account.rows_read, result.account.staged) == (2, 2)
    assert sum(result.reading.skipped_lines.values()) == 4


def test_an_activities_file_re_saved_by_excel_in_turkish_settings(tmp_path):
    # `;` between cells, day-first dates, times in the account's zone (Istanbul, UTC+3)
    text = (PIPEDRIVE_HEADER.replace(",", ";") + "\n"
            "101;Retention call;call;true;03.06.2024 10:00;7;31;;03.06.2024;10:00;00:15;12;"
            "01.06.2024 09:00;03.06.2024 10:01;\n"
            "102;Check-in;meeting;1;;;32;;13.06.2024;;;12;01.06.2024 09:00;05.06.2024 16:00;\n")
    result = _read(tmp_path, "aktiviteler.csv", text, SourceRule(timezone="Europe/Istanbul"))
    assert result.reading.preset == "pipedrive-activities"
    assert result.staged["action_at"].tolist() == [utc("2024-06-03 07:00"),
                                                   utc("2024-06-12 21:00")]


def _case_and_task_ingested(settings, account: str, contact: str):
    """A purchase, one Case on `account` / `contact` and the first task (on account
    001000000000001AAA) ingested: the report, the complaints' and the actions' customers."""
    write(settings, "purchases", "p.csv", "customer_id,order_id,order_date,amount\n"
          "C1,O1,2024-01-05,29\n")
    write(settings, "complaints", "Case.csv", "CaseNumber,AccountId,ContactId,CreatedDate\n"
          f"00001026,{account},{contact},2024-05-20T08:00:00.000Z\n")
    write(settings, "actions", "Task.csv", f"{SALESFORCE_HEADER}\n{SALESFORCE_ROWS[0]}\n")
    report = ingest_raw_exports(settings, now=NOW)
    return (report, load_source_tables(settings).complaints["customer_id"].tolist(),
            load_staged_actions(settings)["customer_id"].tolist())


def test_a_task_and_a_case_on_one_account_are_one_customer(settings):
    _, cases, actions = _case_and_task_ingested(settings, "001000000000001AAA",
                                                "003000000000001AAA")
    # Salesforce's own account id is the customer's id: no other key names this customer
    assert actions == cases == ["001000000000001AAA"]


def test_a_case_report_with_15_character_ids_meets_the_tasks_18_character_ones(settings):
    # a Case *report* writes record ids in 15 characters, a Data Export `Task.csv` in 18
    report, cases, actions = _case_and_task_ingested(settings, "001000000000001",
                                                     "003000000000001")
    assert cases == actions == ["001000000000001"]
    assert report.identity["in_several_sources"] == 1


def test_a_task_view_without_account_id_takes_the_account_from_what_id(tmp_path):
    # WhatId names an account (001…) on the first task, a campaign (701…) on the second,
    # whose contact (003…) is then the customer
    result = _read(tmp_path, "Task.csv", "Id,WhoId,WhatId,Subject,ActivityDate,Status,"
                   "TaskSubtype,IsClosed\n"
                   "00T1,003A,001A,Call,2024-06-03,Completed,Call,true\n"
                   "00T2,003B,701A,Mail,2024-06-04,Completed,Email,true\n")
    assert result.reading.preset == "salesforce-tasks"
    assert cells(result.staged[["customer_id", "campaign"]]) == [
        ["001A", None], ["003B", "701A"]]


EVENT_HEADER = ("Id,WhoId,WhatId,AccountId,Subject,Location,IsAllDayEvent,ActivityDateTime,"
                "ActivityDate,DurationInMinutes,StartDateTime,EndDateTime,Description,OwnerId,"
                "Type,IsPrivate,ShowAs,IsChild,IsGroupEvent,CreatedDate,LastModifiedDate,"
                "EventSubtype")
EVENT_ROWS = [
    # a meeting with an account
    "00U1,003A,001A,001A,Renewal review,Office,false,2024-06-03T13:00:00.000Z,2024-06-03,60,"
    "2024-06-03T13:00:00.000Z,2024-06-03T14:00:00.000Z,,005A,Meeting,false,Busy,false,true,"
    "2024-05-20T08:00:00.000Z,2024-05-20T08:00:00.000Z,Event",
    # the invitee's copy of that group event
    "00U2,003A,001A,001A,Renewal review,Office,false,2024-06-03T13:00:00.000Z,2024-06-03,60,"
    "2024-06-03T13:00:00.000Z,2024-06-03T14:00:00.000Z,,005B,Meeting,false,Busy,true,true,"
    "2024-05-20T08:00:00.000Z,2024-05-20T08:00:00.000Z,Event",
    # a scheduled call
    "00U3,,001B,001B,Check-in call,,false,2024-06-04T09:00:00.000Z,2024-06-04,15,"
    "2024-06-04T09:00:00.000Z,2024-06-04T09:15:00.000Z,,005A,Call,false,Busy,false,false,"
    "2024-05-20T08:00:00.000Z,2024-05-20T08:00:00.000Z,Event",
    # a demo for a lead
    "00U4,00QA,,,Demo,,false,2024-06-05T09:00:00.000Z,2024-06-05,30,"
    "2024-06-05T09:00:00.000Z,2024-06-05T09:30:00.000Z,,005A,Meeting,false,Busy,false,false,"
    "2024-05-20T08:00:00.000Z,2024-05-20T08:00:00.000Z,Event",
    # a meeting that has not taken place when the file is read
    "00U5,003C,001C,001C,QBR,,false,2026-03-01T09:00:00.000Z,2026-03-01,60,"
    "2026-03-01T09:00:00.000Z,2026-03-01T10:00:00.000Z,,005A,Meeting,false,Busy,false,false,"
    "2025-12-20T08:00:00.000Z,2025-12-20T08:00:00.000Z,Event",
]


def test_salesforce_events_stage_meetings_and_calls_once(tmp_path):
    result = _read(tmp_path, "Event.csv", "\n".join([EVENT_HEADER, *EVENT_ROWS]))
    assert result.reading.preset == "salesforce-events"
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (5, 2, 3)
    assert account.reasons == {SALESFORCE_CHILD_EVENT: 1, SALESFORCE_LEAD: 1,
                               "action_at in the future": 1}
    frame = result.staged.set_index("action_id")
    assert frame["customer_id"].to_dict() == {"00U1": "001A", "00U3": "001B"}
    assert frame["action"].tolist() == ["meeting", "call"]
    assert frame["channel"].tolist() == ["meeting", "phone"]
    assert frame["action_at"].tolist() == [utc("2024-06-03 13:00"), utc("2024-06-04 09:00")]
    assert frame["owner"].tolist() == ["005A", "005A"]
