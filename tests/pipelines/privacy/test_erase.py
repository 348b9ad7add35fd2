"""`churn erase` on a small data dir: staged tables, identity keys, quarantine, the log, and a
re-ingest of the same raw files that keeps the customer out (counted as erased)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from models.privacy import keyed_hash
from pipelines.ingest.run import ingest_raw_exports
from pipelines.privacy.erase import erase_customers
from pipelines.privacy.erasure_log import erasure_key, erasure_records
from pipelines.store.partitioned import key_ranges
from pipelines.store.settings import Settings

PURCHASES = ("customer_id,order_id,order_date,amount\n"
             "C1,O1,2024-01-05,5\nC1,O2,2024-02-05,7\nC1,O3,2024-02-06,not-a-number\n"
             "C2,O4,2024-01-09,9\n")
CUSTOMERS = ("customer_id,name,email,phone\n"
             "C1,Ann Erased,ann@example.org,+31 6 1234 5678\nC2,Bob Kept,bob@example.org,\n")


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv("CHURN_ERASURE_KEY", raising=False)
    monkeypatch.delenv("CHURN_PERSONAL_COLUMNS", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    settings = Settings.from_env(tmp_path / "data")
    for kind, text in (("purchases", PURCHASES), ("customers", CUSTOMERS)):
        (settings.raw_dir / kind).mkdir(parents=True)
        (settings.raw_dir / kind / f"{kind}.csv").write_text(text)
    ingest_raw_exports(settings)
    return settings


def _staged(settings: Settings, kind: str) -> pd.DataFrame:
    return pd.read_parquet(settings.staged_dir / f"{kind}.parquet")


def test_the_staged_master_keeps_no_contact_details_by_default(settings):
    master = _staged(settings, "customers")
    assert master["email"].isna().all() and master["phone"].isna().all()
    keys = _staged(settings, "customer_keys")
    assert "ann@example.org" in set(keys["key"])  # identity keys stay: they link the rows


def test_contact_details_are_staged_when_a_list_may_show_them(settings, monkeypatch):
    monkeypatch.setenv("CHURN_PERSONAL_COLUMNS", "name,email,phone")
    widened = Settings.from_env(settings.data_dir)
    assert not ingest_raw_exports(widened).unchanged  # the setting is part of the manifest
    master = _staged(widened, "customers").set_index("customer_id")
    assert master.loc["C1", "email"] == "ann@example.org"
    assert master.loc["C1", "phone"] == "+31612345678"


def test_erasing_by_e_mail_removes_every_row_and_key_of_the_customer(settings):
    assert (settings.quarantine_dir / "purchases.csv").read_text().count("C1") == 1
    done = erase_customers(settings, ["ann@example.org"])
    assert done.customers == ["C1"] and done.not_found == []
    assert done.touched["staged/purchases"] == 2 and done.touched["staged/customer_keys"] >= 2
    assert done.touched["quarantine/purchases.csv"] == 1
    for kind in ("purchases", "customers", "customer_keys"):
        assert "C1" not in set(_staged(settings, kind)["customer_id"])
    assert "ann@example.org" not in set(_staged(settings, "customer_keys")["key"])
    assert "C1" not in (settings.quarantine_dir / "purchases.csv").read_text()
    assert set(_staged(settings, "purchases")["customer_id"]) == {"C2"}
    # the rewritten tables are still stored in shard order: readable one shard at a time
    for kind in ("purchases", "customers"):
        assert key_ranges(settings.staged_dir / f"{kind}.parquet") is not None


def test_the_log_keeps_a_keyed_hash_and_what_was_touched_never_the_id(settings):
    erase_customers(settings, ["C1", "C-unknown"])
    log = (settings.data_dir / "privacy" / "erasures.json").read_text()
    assert "C1" not in log and "ann" not in log.lower() and "C-unknown" not in log
    records = erasure_records(settings)
    key = erasure_key(settings)
    assert key is not None
    assert {r["id_hash"] for r in records} == {keyed_hash("C1", key), keyed_hash("C-unknown", key)}
    assert all(r["erased_at"] and r["touched"]["staged/purchases"] == 2 for r in records)
    assert json.loads(log)["erasures"] == records


def test_a_reingest_of_the_same_raw_files_keeps_erased_customers_out_and_counts_them(settings):
    erase_customers(settings, ["C1"])
    report = ingest_raw_exports(settings)
    assert not report.unchanged  # the erasure is part of the manifest
    by_file = {a.file: a for a in report.accounts}
    purchases = by_file["purchases/purchases.csv"]
    assert (purchases.rows_read, purchases.staged, purchases.quarantined, purchases.erased) == \
        (4, 1, 0, 3)
    assert purchases.balanced and all(a.balanced for a in report.accounts)
    assert by_file["customers/customers.csv"].erased == 1
    assert "C1" not in set(_staged(settings, "customers")["customer_id"])
    assert not (settings.quarantine_dir / "purchases.csv").exists()


def test_a_key_from_the_environment_is_used_and_written_nowhere(settings, monkeypatch):
    monkeypatch.setenv("CHURN_ERASURE_KEY", "an erasure key kept outside the data dir")
    erase_customers(settings, ["C1"])
    assert not (settings.data_dir / "privacy" / "erasure.key").exists()
    assert erasure_records(settings)[0]["id_hash"] == keyed_hash(
        "C1", b"an erasure key kept outside the data dir")


def test_a_phone_number_written_as_in_the_export_finds_its_customer(settings):
    assert erase_customers(settings, ["+31 6 1234 5678"]).customers == ["C1"]
