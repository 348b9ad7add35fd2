"""HubSpot and Netsis presets on the fixture corpus: exact staged values and accounting."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.ingest.run import read_export
from pipelines.ingest.sources_file import SourceRule
from tests.fixtures.make_corpus import write_corpus

NOW = pd.Timestamp("2026-01-01", tz="UTC")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root)
    return root / "raw"


def staged(raw, relative: str, timezone: str = "UTC"):
    path = raw / relative
    return read_export(path, path.parent.name, SourceRule(timezone=timezone), "UTC", NOW)


def test_hubspot_engagements_become_interactions_with_direction(raw):
    result = staged(raw, "interactions/hubspot_activities.csv")
    assert result.reading.preset == "hubspot-engagements"
    frame = result.staged.set_index("interaction_id")
    assert frame["channel"].to_dict() == {"9001": "email", "9002": "email", "9003": "phone",
                                          "9004": "meeting", "9005": "note", "9008": "email"}
    assert frame["type"].tolist() == ["email", "email", "call", "meeting", "note", "email"]
    # EMAIL is sent, INCOMING_EMAIL (type or Email direction) and Call direction INBOUND are
    # inbound; meetings and notes have no direction
    assert frame["direction"].tolist() == ["outbound", "inbound", "inbound", None, None,
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
    assert frame["owner"].to_dict() == {"5101": "Sanne Bakker", "5102": None}


def test_netsis_ledger_debits_are_sales_credits_are_set_aside(raw):
    result = staged(raw, "purchases/netsis_ledger.csv", "Europe/Istanbul")
    reading = result.reading
    assert (reading.preset, reading.locale, reading.delimiter) == ("netsis", "tr", ";")
    assert reading.encoding == "utf-8 (repaired: cp1254 once read as latin-1)"
    frame = result.staged.set_index("order_id")
    assert frame["amount"].to_dict() == {"FAT-000123": 1234.56, "FAT-000124": 99.90}
    assert frame["customer_id"].tolist() == ["120.01.001", "120.01.002"]
    assert frame["order_date"].tolist() == [utc("2024-03-04 21:00"), utc("2024-04-09 21:00")]
    assert set(frame["status"]) == {"completed"}
    quarantined = result.quarantined.set_index("_source_line")["reason"].to_dict()
    # DEVİR arrives as `DEVÝR`: only the repaired text is recognised as a carried balance
    assert quarantined == {
        2: "balance carried over (DEVİR), not a sale",
        4: "ledger credit (ALACAK): a payment or return, not a purchase",
        5: "ledger credit (ALACAK): a payment or return, not a purchase",
        7: "amount is not a number",
        8: "ledger row with neither BORC nor ALACAK",
    }
    assert (result.account.rows_read, result.account.staged,
            result.account.quarantined) == (7, 2, 5)


def test_netsis_customer_names_are_repaired_from_mojibake(raw):
    result = staged(raw, "customers/netsis_cari.csv")
    assert result.staged["name"].tolist() == ["ŞÜKRÜ ÇAĞLAR LTD. ŞTİ.", "İPEK IŞIK"]
    assert result.staged["customer_id"].tolist() == ["120.01.001", "120.01.002"]
