"""The `actions` kind through a whole ingest: a CRM call log in three languages, the risk list
filled in and dropped back, rows nobody worked set aside, every row accounted."""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.ingest.action_rows import NO_ACTION
from pipelines.ingest.run import ingest_raw_exports
from pipelines.store.staged import load_source_tables, load_staged_actions
from tests.pipelines.ingest.raw_files import write

NOW = dt.datetime(2024, 6, 20, tzinfo=dt.UTC)
PURCHASES = "customer_id,order_id,order_date,amount\nC1,O1,2024-01-05,29\nC2,O2,2024-01-06,9\n"


@pytest.mark.parametrize("header", [
    "Customer ID,Call Date,Action,Call Outcome,Agent,Cost,Campaign",
    "Müşteri No,Arama Tarihi,Yapılan Aksiyon,Arama Sonucu,Temsilci,Maliyet,Kampanya",
    "Klantnummer,Actiedatum,Genomen actie,Resultaat,Accountmanager,Kosten,Campagne",
])
def test_a_call_log_in_english_turkish_and_dutch(settings, header):
    write(settings, "purchases", "p.csv", PURCHASES)
    cost = "\"4,50\"" if "Maliyet" in header or "Kosten" in header else "4.50"
    write(settings, "actions", "calls.csv", f"{header}\n"
          f"C1,2024-06-03,personal call,reached,Ayla,{cost},spring\n"
          "C2,2024-06-04,,no answer,Ayla,1,spring\n"
          "C2,2024-06-04,offer,accepted,Ayla,-3,spring\n"
          "C2,,offer,accepted,Ayla,3,spring\n")
    report = ingest_raw_exports(settings, now=NOW)
    account = next(a for a in report.accounts if a.kind == "actions")
    assert (account.rows_read, account.staged, account.quarantined) == (4, 1, 3)
    assert account.reasons == {NO_ACTION: 1, "negative cost": 1, "missing action_at": 1}
    staged = load_staged_actions(settings)
    row = staged.iloc[0]
    assert (row["customer_id"], row["action"], row["outcome"], row["owner"], row["cost"],
            row["campaign"]) == ("C1", "personal call", "reached", "Ayla", 4.5, "spring")
    assert row["action_id"].startswith("auto-")
    # the team's log is no source of features
    assert "actions" not in load_source_tables(settings).available


def test_the_filled_in_risk_list_round_trips_and_a_re_export_deduplicates(settings):
    write(settings, "purchases", "p.csv", PURCHASES)
    worked = ("rank,customer_id,risk_tier,suggested_action,owner,list_run_id,row_id,holdout,"
              "action_taken,action_date,action_outcome,action_cost\n"
              "1,C1,Critical,Call today.,Ayla,R1,R1-00001,0,called,2024-06-03,reached,5\n"
              "2,C2,Critical,Holdout: do not contact,Ayla,R1,R1-00002,1,,,,\n")
    write(settings, "actions", "list_week1.csv", worked)
    write(settings, "actions", "list_week1_again.csv", worked)
    report = ingest_raw_exports(settings, now=NOW)
    accounts = [a for a in report.accounts if a.kind == "actions"]
    assert all(a.balanced for a in accounts)
    # each file: one action staged, one unworked row set aside; the second copy is a duplicate
    assert [(a.rows_read, a.staged, a.quarantined, a.duplicates) for a in accounts] == [
        (2, 0, 1, 1), (2, 1, 1, 0)]  # the later copy of the worked row is kept
    assert all(a.reasons == {NO_ACTION: 1} for a in accounts)
    staged = load_staged_actions(settings)
    assert staged[["customer_id", "action", "list_run_id", "row_id", "cost"]].values.tolist() \
        == [["C1", "called", "R1", "R1-00001", 5.0]]
