"""HubSpot presets on the fixture corpus: exact staged values and accounting."""

from __future__ import annotations

from tests.pipelines.ingest.presets.conftest import staged, utc
from tests.pipelines.ingest.raw_files import cells


def test_hubspot_engagements_become_interactions_with_direction(raw):
    result = staged(raw, "interactions/hubspot_activities.csv")
    assert result.reading.preset == "hubspot-engagements"
    frame = result.staged.set_index("interaction_id")
    assert frame["channel"].to_dict() == {"9001": "email", "9002": "email", "9003": "phone",
                                          "9004": "meeting", "9005": "note", "9008": "email"}
    assert frame["type"].tolist() == ["email", "email", "call", "meeting", "note", "email"]
    # EMAIL is sent, INCOMING_EMAIL (type or Email direction) and Call direction INBOUND are
    # inbound; meetings and notes have no direction
    assert cells(frame["direction"]) == ["outbound", "inbound", "inbound", None, None,
                                           "inbound"]
    assert frame.loc["9001", "customer_id"] == "5101"  # first of "5101;5102"
    assert frame.loc["9003", "occurred_at"] == utc("2024-03-03 09:15")
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (8, 6, 2)
    assert account.reasons == {"HubSpot task (an internal to-do, not an interaction)": 1,
                               "missing customer_id": 1}


def test_hubspot_contacts_never_read_export_time_state(raw):
    result = staged(raw, "customers/hubspot_contacts.csv")
    assert result.reading.preset == "hubspot-contacts"
    assert not {"Last Activity Date", "Lifecycle Stage"} & set(result.reading.columns)
    frame = result.staged.set_index("customer_id")
    assert frame["name"].to_dict() == {"5101": "Anouk de Vries", "5102": "Jan"}
    assert frame["email"].to_dict() == {"5101": "anouk@example.nl", "5102": "jan@example.nl"}
    assert frame["signup_date"].to_dict() == {"5101": utc("2024-01-15 09:30"),
                                              "5102": utc("2024-02-01 08:00")}
    assert dict(zip(frame.index, cells(frame["owner"]), strict=True)) == {
        "5101": "Sanne Bakker", "5102": None}
