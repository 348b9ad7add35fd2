"""Ingesting a raw directory: accounting, outputs, clear errors."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from pipelines.ingest import IngestError, ingest_raw_exports
from pipelines.settings import Settings
from pipelines.storage import load_source_tables

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def write(settings: Settings, kind: str, name: str, text: str) -> None:
    folder = settings.raw_dir / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env(tmp_path / "data")


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
