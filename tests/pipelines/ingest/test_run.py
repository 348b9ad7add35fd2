"""Ingesting a raw directory: accounting, outputs, clear errors."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from pipelines.ingest.run import IngestError, ingest_raw_exports
from pipelines.store.staged import load_source_tables
from tests.pipelines.ingest.raw_files import write

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def test_every_row_is_staged_deduplicated_or_quarantined(settings):
    write(settings, "purchases", "2024-01.csv",
          "customer_id,order_id,order_date,amount\n"
          "007,A1,2024-01-05,10.00\n007,A2,2024-01-06,x\n008,A3,2024-01-07,5\n")
    write(settings, "purchases", "2024-02.csv",
          "customer_id;order_id;order_date;amount\n"
          "007;A1;2024-01-05;11.00\n009;A4;2030-01-01;5\n")
    write(settings, "complaints", "tickets.csv",
          "customer_id,complaint_id,opened_at,resolved_at,satisfaction\n"
          "007,T1,2024-01-10,2024-01-12,2\n")
    report = ingest_raw_exports(settings, now=NOW)
    accounts = {a.file: a for a in report.accounts}
    jan, feb = accounts["purchases/2024-01.csv"], accounts["purchases/2024-02.csv"]
    assert (jan.rows_read, jan.staged, jan.duplicates, jan.quarantined) == (3, 1, 1, 1)
    assert (feb.rows_read, feb.staged, feb.duplicates, feb.quarantined) == (2, 1, 0, 1)
    assert feb.reasons == {"order_date in the future": 1}
    assert all(a.balanced for a in report.accounts)
    tables = load_source_tables(settings)
    staged = tables.purchases.set_index("order_id")
    assert staged.loc["A1", "amount"] == 11.0 and staged.loc["A1", "customer_id"] == "007"
    assert tables.complaints["satisfaction"].tolist() == [0.25]
    quarantine = pd.read_csv(settings.quarantine_dir / "purchases.csv", dtype=str)
    assert set(quarantine["reason"]) == {"amount is not a number", "order_date in the future"}
    saved = json.loads((settings.reports_dir / "ingest_report.json").read_text())
    assert saved["staged_rows"] == {"purchases": 2, "complaints": 1}


def test_ingesting_twice_gives_identical_staged_tables(settings):
    write(settings, "purchases", "a.csv", "customer_id,order_id,order_date,amount\n1,A,2024-01-01,1\n")
    ingest_raw_exports(settings, now=NOW)
    first = load_source_tables(settings).purchases
    ingest_raw_exports(settings, now=NOW)
    pd.testing.assert_frame_equal(first, load_source_tables(settings).purchases)


def test_unusable_files_are_listed_and_nothing_is_written(settings):
    write(settings, "purchases", "good.csv", "customer_id,order_id,order_date,amount\n1,A,2024-01-01,1\n")
    write(settings, "purchases", "bad.csv", "klant,datum\n1,2024-01-01\n")
    write(settings, "complaints", "bad.csv", "customer_id,opened_at\n1,2024-01-01\n")
    with pytest.raises(IngestError) as caught:
        ingest_raw_exports(settings, now=NOW)
    assert len(caught.value.problems) == 2
    assert "purchases/bad.csv: missing required column(s) customer_id" in caught.value.problems[0]
    assert not (settings.staged_dir / "purchases.parquet").exists()


def test_no_purchases_is_a_clear_error(settings):
    write(settings, "complaints", "t.csv", "customer_id,complaint_id,opened_at\n1,T,2024-01-01\n")
    with pytest.raises(IngestError, match="purchases: no files"):
        ingest_raw_exports(settings, now=NOW)


def test_a_new_export_adds_only_what_is_new_and_updates_re_exported_orders(settings):
    header = "customer_id,order_id,order_date,amount\n"
    write(settings, "purchases", "2024-01.csv", header + "1,A1,2024-01-01,5\n1,A2,2024-01-02,6\n")
    first = ingest_raw_exports(settings, now=NOW)
    assert first.staged_rows == {"purchases": 2}
    write(settings, "purchases", "2024-02.csv", header + "1,A2,2024-01-02,7\n1,A3,2024-02-01,8\n")
    second = ingest_raw_exports(settings, now=NOW)
    accounts = {a.file: (a.staged, a.duplicates) for a in second.accounts}
    assert accounts == {"purchases/2024-01.csv": (1, 1), "purchases/2024-02.csv": (2, 0)}
    staged = load_source_tables(settings).purchases.set_index("order_id")["amount"]
    assert staged.to_dict() == {"A1": 5.0, "A2": 7.0, "A3": 8.0}
    assert ingest_raw_exports(settings, now=NOW).unchanged


def test_sources_yaml_pins_mapping_locale_formats_and_statuses(settings):
    (settings.raw_dir / "purchases").mkdir(parents=True)
    (settings.raw_dir / "purchases" / "erp.csv").write_bytes(
        "Klant;Bon;Wanneer;Waarde;Stand\n00042;B1;03/04/2024;1.234;Bezorgd\n".encode("cp1252"))
    (settings.data_dir / "sources.yaml").write_text(
        "files:\n"
        "  - pattern: purchases/erp.csv\n"
        "    locale: nl\n"
        "    encoding: cp1252\n"
        "    timezone: Europe/Amsterdam\n"
        "    columns: {Klant: customer_id, Bon: order_id, Wanneer: order_date, Waarde: amount,"
        " Stand: status}\n"
        "    date_formats: {order_date: MM/dd/yyyy}\n"
        "    statuses: {Bezorgd: completed}\n", encoding="utf-8")
    ingest_raw_exports(settings, now=NOW)
    row = load_source_tables(settings).purchases.iloc[0]
    assert (row["customer_id"], row["amount"], row["status"]) == ("00042", 1234.0, "completed")
    assert row["order_date"] == pd.Timestamp("2024-03-03 23:00", tz="UTC")  # pinned US order


def test_invalid_sources_yaml_is_one_clear_problem(settings):
    write(settings, "purchases", "a.csv", "customer_id,order_id,order_date,amount\n1,A,2024-01-01,1\n")
    (settings.data_dir / "sources.yaml").write_text(
        "files:\n  - pattern: '*'\n    locale: fr\n", encoding="utf-8")
    with pytest.raises(IngestError, match="locale must be one of en, tr, nl"):
        ingest_raw_exports(settings, now=NOW)


def test_a_preset_export_dropped_straight_into_raw_finds_its_kind(settings):
    settings.raw_dir.mkdir(parents=True)
    (settings.raw_dir / "orders_export.csv").write_text(
        "Name,Email,Financial Status,Total,Created at,Lineitem quantity\n"
        "#1,a@b.nl,paid,9.99,2024-01-01 10:00:00 +0100,1\n", encoding="utf-8")
    report = ingest_raw_exports(settings, now=NOW)
    assert report.staged_rows == {"purchases": 1}
    assert report.readings[0].preset == "shopify"


def test_a_preset_export_in_the_wrong_folder_says_where_it_belongs(settings):
    write(settings, "purchases", "a.csv", "customer_id,order_id,order_date,amount\n1,A,2024-01-01,1\n")
    write(settings, "purchases", "tickets.csv",
          "ID,Requester ID,Created at,Solved at\n1,007,2024-01-01 10:00:00,\n")
    with pytest.raises(IngestError, match="looks like a zendesk export of complaints, but is "
                                          "read as purchases; move it to raw/complaints/"):
        ingest_raw_exports(settings, now=NOW)


def test_rows_without_their_source_key_are_quarantined(settings):
    write(settings, "purchases", "a.csv",
          "customer_id,order_id,order_date,amount\n1,,2024-01-01,1\n1,A,2024-01-01,1\n")
    report = ingest_raw_exports(settings, now=NOW)
    assert report.accounts[0].reasons == {"missing order_id": 1}
    assert report.staged_rows == {"purchases": 1}


def test_a_second_ingest_waits_for_the_first_and_says_so_when_it_gives_up(settings):
    from filelock import FileLock

    from pipelines.ingest.run import INGEST_LOCK

    write(settings, "purchases", "a.csv", "customer_id,order_id,order_date,amount\n1,A,2024-01-01,1\n")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(settings.data_dir / INGEST_LOCK):  # another ingest in progress
        with pytest.raises(IngestError, match="another ingest still holds .*ingest.lock"):
            ingest_raw_exports(settings, now=NOW, wait_seconds=0.2)
        assert not settings.staged_dir.exists()  # it wrote nothing
        explained = ingest_raw_exports(settings, now=NOW, explain=True)  # read-only: no wait
        assert explained.staged_rows == {"purchases": 1}
    report = ingest_raw_exports(settings, now=NOW, wait_seconds=0.2)  # free again
    assert report.staged_rows == {"purchases": 1}
    assert len(load_source_tables(settings).purchases) == 1


def test_a_preset_forced_on_a_file_without_its_columns_is_one_clear_problem(settings):
    # sources.yaml names the preset, so its header signature was never checked
    (settings.data_dir).mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "sources.yaml").write_text(
        'files:\n  - pattern: "purchases/*"\n    preset: shopify\n', encoding="utf-8")
    write(settings, "purchases", "orders.csv",
          "Name,Email,Total,Created at\n#1,a@example.com,10.00,2024-01-05 10:00:00 +0000\n")
    with pytest.raises(IngestError) as failed:
        ingest_raw_exports(settings, now=NOW)
    [problem] = failed.value.problems
    assert problem.startswith("purchases/orders.csv: no Financial Status column")
    assert "shopify preset" in problem


def test_a_logo_report_with_no_amount_and_no_price_columns_is_one_clear_problem(settings):
    write(settings, "purchases", "logo.csv",
          "Tarih;Cari Kod;Fiş No;Fatura Tipi\n01.05.2024;C1;F1;Satış Faturası\n")
    with pytest.raises(IngestError) as failed:
        ingest_raw_exports(settings, now=NOW)
    [problem] = failed.value.problems
    assert problem.startswith("purchases/logo.csv: no ") and "logo preset" in problem


@pytest.mark.parametrize("entry, message", [
    ("date_formats: dd.MM.yyyy", "`date_formats` must be a mapping"),
    ("columns: foo", "`columns` must be a mapping"),
    ("timezone: {a: b}", "`timezone` must be a single value"),
])
def test_sources_yaml_values_of_the_wrong_shape_are_one_clear_problem(settings, entry, message):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "sources.yaml").write_text(
        f'files:\n  - pattern: "purchases/*"\n    {entry}\n', encoding="utf-8")
    write(settings, "purchases", "a.csv", "customer_id,order_id,order_date,amount\n1,A,2024-01-05,1\n")
    with pytest.raises(IngestError) as failed:
        ingest_raw_exports(settings, now=NOW)
    assert message in " ".join(failed.value.problems)


@pytest.mark.parametrize("name, value", [("CHURN_MAX_AMOUNT", "1e9x"), ("CHURN_MAX_QUANTITY", "-5"),
                                         ("CHURN_EARLIEST_DATE", "someday")])
def test_a_bound_set_to_nonsense_is_one_clear_problem_not_a_silent_default(
        settings, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    write(settings, "purchases", "a.csv", "customer_id,order_id,order_date,amount\n1,A,2024-01-05,1\n")
    with pytest.raises(IngestError) as failed:
        ingest_raw_exports(settings, now=NOW)
    [problem] = failed.value.problems
    assert problem.startswith(f"{name}={value!r} is not a")


def test_warnings_are_still_reported_when_the_raw_files_are_unchanged(settings):
    write(settings, "purchases", "a.csv", "customer_id,order_id,order_date,amount\n00123,A,2024-01-05,1\n")
    write(settings, "complaints", "t.csv", "customer_id,complaint_id,opened_at\n123,T1,2024-01-06\n")
    first = ingest_raw_exports(settings, now=NOW)
    again = ingest_raw_exports(settings, now=NOW)
    assert again.unchanged and first.warnings and again.warnings == first.warnings


def test_quarantined_cells_that_a_spreadsheet_would_run_are_made_inert(settings):
    write(settings, "purchases", "orders.csv",
          "customer_id,order_id,order_date,amount\n"
          '"=HYPERLINK(""http://evil"",""x"")",A1,not a date,10\n'
          "+cmd|' /C calc'!A0,A2,2024-01-05,@SUM(1)\nC3,A3,2024-01-05,5\n")
    ingest_raw_exports(settings, now=NOW)
    text = (settings.quarantine_dir / "purchases.csv").read_text()
    quarantine = pd.read_csv(settings.quarantine_dir / "purchases.csv", dtype=str)
    assert quarantine["customer_id"].tolist() == ["'=HYPERLINK(\"http://evil\",\"x\")",
                                                  "'+cmd|' /C calc'!A0"]
    assert quarantine["amount"].tolist()[1] == "'@SUM(1)"
    assert "\n=" not in text and ",=" not in text and ",+" not in text


def test_a_new_ingest_release_restages_unchanged_raw_files(settings, monkeypatch):
    from pipelines.ingest import run

    write(settings, "purchases", "o.csv", "customer_id,order_id,order_date,amount\nC1,A1,"
                                          "2024-01-05,10\n")
    assert not ingest_raw_exports(settings, now=NOW).unchanged
    assert ingest_raw_exports(settings, now=NOW).unchanged
    monkeypatch.setattr(run, "ingest_code_digest", lambda: "another release")
    assert not ingest_raw_exports(settings, now=NOW).unchanged
