"""`churn generate --dialect`: the same business as real-system exports."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from pipelines.ingest.run import ingest_raw_exports
from pipelines.sample.generate import generate_and_write
from pipelines.store.settings import Settings
from pipelines.store.staged import SOURCE_KINDS, load_source_tables

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def staged_tables(tmp_path, dialect: str):
    settings = Settings.from_env(tmp_path / dialect)
    generate_and_write(settings, customers=120, seed=11, dialect=dialect)
    report = ingest_raw_exports(settings, now=NOW)
    return load_source_tables(settings), report


@pytest.fixture(scope="module")
def canonical(tmp_path_factory):
    return staged_tables(tmp_path_factory.mktemp("canonical"), "canonical")[0]


@pytest.mark.parametrize("dialect", ["mixed", "tr"])
def test_dialect_stages_exactly_the_canonical_tables(tmp_path, canonical, dialect):
    tables, report = staged_tables(tmp_path, dialect)
    for kind in SOURCE_KINDS:
        if getattr(canonical, kind) is None:  # a kind the retail sample has no export of
            assert getattr(tables, kind) is None
            continue
        pd.testing.assert_frame_equal(getattr(tables, kind), getattr(canonical, kind))
    assert all(a.balanced for a in report.accounts)


def test_mixed_exercises_presets_title_rows_overlaps_and_xlsx(tmp_path):
    _, report = staged_tables(tmp_path, "mixed")
    readings = {r.file: r for r in report.readings}
    logo = readings["purchases/logo_fatura_listesi.csv"]
    assert (logo.preset, logo.encoding, logo.delimiter) == ("logo", "cp1254", ";")
    assert logo.skipped_lines == {"title rows above the header": 3, "total/footer rows": 1}
    assert readings["customers/musteri_listesi.xlsx"].file_type == "xlsx"
    accounts = {a.file: a for a in report.accounts}
    early = accounts["complaints/zendesk_export_1.csv"]
    assert early.staged == 0 and early.duplicates == early.rows_read > 0
    assert accounts["purchases/logo_fatura_listesi.csv"].reasons == {
        "proforma invoice (not a sale)": 3}


def test_switching_dialect_replaces_the_earlier_sample_files(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    generate_and_write(settings, customers=60, seed=1, dialect="mixed")
    generate_and_write(settings, customers=60, seed=1, dialect="canonical")
    names = sorted(p.name for p in settings.raw_dir.glob("*/*"))
    assert names == ["customer_master.csv", "interactions_log.csv", "orders_export.csv",
                     "tickets_export.csv"]
    assert not (settings.data_dir / "sources.yaml").exists()


def test_shopify_dialect_stages_every_order_once_keyed_by_email(tmp_path, canonical):
    tables, report = staged_tables(tmp_path, "shopify")
    orders = {a.file: a for a in report.accounts}["purchases/orders_export.csv"]
    assert orders.merged > 0 and orders.balanced
    assert len(tables.purchases) == len(canonical.purchases)
    assert tables.purchases["customer_id"].str.contains("@").all()
    by_status = tables.purchases["status"].value_counts().to_dict()
    assert by_status == canonical.purchases["status"].value_counts().to_dict()


def test_nl_dialect_only_refuses_local_times_that_dst_makes_ambiguous(tmp_path):
    _, report = staged_tables(tmp_path, "nl")
    assert all(a.balanced for a in report.accounts)
    reasons = {reason for a in report.accounts for reason in a.reasons}
    assert reasons <= {"unparseable order_date", "unparseable opened_at",
                       "unparseable resolved_at", "unparseable occurred_at",
                       "unparseable cancelled_at", "unparseable signup_date"}
