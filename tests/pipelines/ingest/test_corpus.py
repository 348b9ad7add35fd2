"""The fixture corpus (tests/fixtures/make_corpus.py): exact staged values per trap."""

from __future__ import annotations

import datetime as dt
import shutil

import pandas as pd
import pytest

from pipelines.ingest.run import IngestError, ingest_raw_exports, read_export
from pipelines.ingest.sources_file import SourceRule
from pipelines.ingest.staging import StagingError
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables
from tests.fixtures.make_corpus import BAD, GOOD, write_corpus
from tests.pipelines.ingest.raw_files import cells

NOW = pd.Timestamp("2026-01-01", tz="UTC")
ISTANBUL = SourceRule(timezone="Europe/Istanbul")
AMSTERDAM = SourceRule(timezone="Europe/Amsterdam")


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    written = write_corpus(root)
    return root, written


def staged(corpus, relative: str, rule: SourceRule = ISTANBUL):
    root, _ = corpus
    path = root / "raw" / relative
    return read_export(path, path.parent.name, rule, "UTC", NOW)


def test_corpus_has_at_least_twenty_files(corpus):
    _, written = corpus
    assert len(written) >= 20 and len(GOOD) + len(BAD) + 3 == len(written)


@pytest.mark.parametrize("relative, encoding, delimiter", [
    ("purchases/tr_cp1254_semicolon.csv", "cp1254", ";"),
    ("purchases/tr_utf16_tab.txt", "utf-16", "\t"),
])
def test_turkish_excel_csvs_in_any_encoding(corpus, relative, encoding, delimiter):
    result = staged(corpus, relative)
    assert (result.reading.encoding, result.reading.delimiter) == (encoding, delimiter)
    assert result.reading.locale == "tr"
    frame = result.staged.set_index("order_id")
    assert frame["customer_id"].tolist() == ["00123", "00123", "00124", "0123456789"]
    assert frame["amount"].tolist() == [1234.56, -1234.50, 12.50, 1000.0]
    assert frame["status"].tolist() == ["completed", "returned", "cancelled", "completed"]
    # 5.03.2024 00:00 and 15.03.2024 14:30 in Istanbul (UTC+3)
    assert frame.loc["S-001", "order_date"] == utc("2024-03-04 21:00")
    assert frame.loc["S-002", "order_date"] == utc("2024-03-15 11:30")


@pytest.mark.parametrize("relative", ["customers/tr_cp1254_customers.csv",
                                      "customers/tr_utf8_bom_customers.csv"])
def test_turkish_names_survive_without_mojibake(corpus, relative):
    result = staged(corpus, relative)
    frame = result.staged
    assert frame["name"].tolist() == ["Şükrü Çağlar Ltd. Şti.", "İpek Işıkoğlu"]
    assert frame["region"].tolist() == ["İstanbul", "Iğdır"]
    assert frame["customer_id"].tolist() == ["00123", "12345678901"]  # national id as text
    assert frame["signup_date"].tolist() == [utc("2024-03-04 21:00"), utc("2023-02-27 21:00")]


def test_dutch_file_reads_euro_negatives_and_quarantines_the_ambiguous_dst_hour(corpus):
    result = staged(corpus, "purchases/nl_cp1252.csv", AMSTERDAM)
    assert (result.reading.encoding, result.reading.locale) == ("cp1252", "nl")
    frame = result.staged.set_index("order_id")
    assert frame["amount"].tolist() == [-1234.50, 99.95]
    assert frame["status"].tolist() == ["cancelled", "completed"]
    assert frame.loc["NL-1", "order_date"] == utc("2024-12-30 23:00")  # 31-12-2024 CET
    # 27-10-2024 02:30 happens twice in Amsterdam: refused rather than guessed
    assert result.quarantined["reason"].tolist() == ["unparseable order_date"]
    assert result.account.balanced


def test_ambiguous_slash_dates_follow_the_file_locale(corpus):
    dutch = staged(corpus, "customers/nl_be_slash_dates.csv", AMSTERDAM).staged
    assert dutch["signup_date"].tolist() == [utc("2024-01-31 23:00"), utc("2023-11-11 23:00")]
    assert dutch["name"].tolist() == ["Café De Gouden Leeuw", "Brasserie Ééntje"]


def test_us_accounting_negatives_month_first_dates_and_a_ragged_row(corpus):
    result = staged(corpus, "purchases/us_accounting.csv", SourceRule(timezone="UTC"))
    frame = result.staged.set_index("order_id")
    assert frame["amount"].tolist() == [-1234.50, 1234.50]
    assert frame["order_date"].tolist() == [utc("2024-03-15"), utc("2024-12-31 23:59")]
    assert result.quarantined["reason"].tolist() == [  # U-2: `-$1,234.50` on a paid order
        "negative amount on a completed order (a refund or credit? give it a returned status "
        "or leave it out)", "1 more cell(s) than headers (unquoted delimiter?)"]
    assert result.quarantined["_source_line"].tolist() == [3, 5]


def test_every_quarantine_reason_with_its_line(corpus):
    result = staged(corpus, "purchases/quarantine_reasons.csv")
    assert result.staged["order_id"].tolist() == ["Q-1"]
    reasons = dict(zip(result.quarantined["_source_line"], result.quarantined["reason"],
                       strict=True))
    assert reasons == {3: "missing customer_id", 4: "amount is not a number",
                       6: "unknown order status", 7: "unparseable order_date",
                       5: "order_date in the future"}
    assert (result.account.rows_read, result.account.quarantined) == (6, 5)


@pytest.mark.parametrize("relative", ["purchases/plain_pipe.txt", "purchases/plain_gzip.csv.gz"])
def test_pipe_and_gzip_files(corpus, relative):
    frame = staged(corpus, relative).staged
    assert frame["customer_id"].tolist() == ["007", "008"]
    assert frame["amount"].tolist() == [10.5, 3.0]
    assert frame["order_date"].tolist() == [utc("2024-01-04 21:00"), utc("2024-01-06 20:30")]


def test_shopify_orders_aggregate_line_items_and_apply_order_semantics(corpus):
    result = staged(corpus, "purchases/shopify_orders.csv")
    assert result.reading.preset == "shopify"
    frame = result.staged.set_index("order_id")
    assert frame.index.tolist() == ["#1001", "#1002", "#1003"]
    # the file's key is the e-mail; the canonical id comes from linking (ingest-wide)
    assert frame["email"].tolist() == ["ayse@example.com"] * 2 + ["jan@example.nl"]
    assert frame["amount"].tolist() == [100.0, 50.0, 20.0]  # 110 - 10 partial refund
    assert frame["status"].tolist() == ["completed", "returned", "cancelled"]
    assert frame["quantity"].tolist() == [3.0, 1.0, 1.0]
    assert frame.loc["#1001", "order_date"] == utc("2025-10-07 07:50:26")
    assert sorted(result.quarantined["reason"]) == ["missing e-mail (this file's customer key)",
                                                    "test order"]
    account = result.account
    assert (account.rows_read, account.merged, account.quarantined) == (6, 1, 2)


def test_freshdesk_uses_close_time_and_maps_survey_words(corpus):
    frame = staged(corpus, "complaints/freshdesk.csv").staged.set_index("complaint_id")
    assert frame.loc["7", "resolved_at"] == utc("2024-04-02 05:00")
    assert frame["satisfaction"].tolist()[0] == 1.0 and pd.isna(frame["satisfaction"].iloc[1])
    assert frame["customer_id"].tolist() == ["C-7", "C-8"]


def test_freshdesk_contact_fields_give_keys_and_company_fields_are_never_read(corpus):
    result = staged(corpus, "complaints/freshdesk_contacts.csv",
                    SourceRule(timezone="Europe/Amsterdam"))
    assert result.reading.preset == "freshdesk"
    frame = result.staged.set_index("complaint_id")
    # the business's number where the contact has one; else Freshdesk's own contact id,
    # kept as the further key `_id:freshdesk` that identity linking names the customer by
    assert cells(frame["customer_id"]) == ["00017", None, None]
    assert result.reading.id_space == ""
    assert frame["_id:freshdesk"].tolist() == ["43000012", "43000013", "43000014"]
    assert cells(frame["email"]) == ["jan@bakker.nl", None, "kees@smit.nl"]
    # the mobile wins over the work phone; national numbers read in the file's zone (NL)
    assert cells(frame["phone"]) == ["+31612345678", "+905321234567", None]
    assert frame.loc["101", "resolved_at"] == utc("2024-05-03 07:00")
    assert pd.isna(frame.loc["103", "resolved_at"])  # closed, never resolved: no close time
    assert frame["category"].tolist() == ["Delivery", "Billing", "Question"]
    read = set(result.reading.columns)
    assert not read & {"Full name", "Tags", "Health score", "Account tier", "Renewal date",
                       "Company Name", "Time zone", "Status"} - {"Status"}
    assert result.account.balanced and result.account.staged == 3


def test_salesforce_footer_lines_are_set_aside_and_counted(corpus):
    result = staged(corpus, "complaints/salesforce_cases.csv", SourceRule(timezone="UTC"))
    assert result.reading.preset == "salesforce-cases"
    assert result.staged["complaint_id"].tolist() == ["00001026", "00001027"]
    assert result.staged["customer_id"].tolist() == ["001A", "001B"]  # the account
    assert result.staged["opened_at"].tolist() == [utc("2024-03-15 14:05"),
                                                   utc("2024-03-17 10:00")]
    assert result.staged["resolved_at"].iloc[0] == utc("2024-03-16 09:00")
    assert pd.isna(result.staged["resolved_at"].iloc[1])
    assert result.staged["category"].tolist() == ["Billing", "Delivery"]
    # export-time state is never read: "open" comes from the timestamps
    assert not {"Status", "IsClosed"} & set(result.reading.columns)
    assert result.quarantined["reason"].tolist() == ["case merged into another (MasterRecordId)"]
    assert (result.account.rows_read, result.account.staged,
            result.account.quarantined) == (3, 2, 1)
    assert result.account.skipped_lines == {"blank lines": 2, "total/footer rows": 3}


def test_logo_invoices_compute_totals_net_returns_and_skip_proformas(corpus):
    result = staged(corpus, "purchases/logo_invoices.csv")
    assert result.reading.preset == "logo" and result.reading.header_line == 4
    frame = result.staged.set_index("order_id")
    assert frame["amount"].tolist() == [2400.0, 1200.0, 99.9]
    assert frame["status"].tolist() == ["completed", "returned", "cancelled"]
    assert frame["customer_id"].tolist() == ["1234567890", "1234567890", "09876543210"]
    assert result.quarantined["reason"].tolist() == ["proforma invoice (not a sale)"]
    assert result.account.skipped_lines == {"title rows above the header": 3,
                                            "total/footer rows": 1}


def test_woocommerce_guests_by_email_and_refund_records_netted_once(corpus):
    result = staged(corpus, "purchases/woocommerce_orders.csv", SourceRule(timezone="UTC"))
    assert result.reading.preset == "woocommerce"
    frame = result.staged.set_index("order_id")
    assert frame["amount"].to_dict() == {"501": 60.0, "502": 30.0, "503": 12.0}
    assert frame["status"].tolist() == ["completed", "returned", "completed"]
    assert pd.isna(frame.loc["503", "customer_id"])  # a guest: WooCommerce user 0
    assert frame.loc["503", "email"] == "guest@shop.nl"
    reasons = dict(zip(result.quarantined["order_id"], result.quarantined["reason"],
                       strict=True))
    assert reasons == {"506": "refund record without its order in this file",
                       "507": "no customer key (customer_id and e-mail all empty)"}
    account = result.account
    assert (account.rows_read, account.staged, account.merged, account.quarantined) == (7, 3,
                                                                                         2, 2)


def test_logo_returns_that_name_their_invoice_are_netted_into_it(corpus):
    result = staged(corpus, "purchases/logo_linked_returns.csv")
    frame = result.staged.set_index("order_id")
    assert frame["amount"].to_dict() == {"F-10": 600.0, "F-11": 250.0, "R-99": 50.0}
    assert frame["status"].to_dict() == {"F-10": "completed", "F-11": "returned",
                                         "R-99": "returned"}
    assert (result.account.rows_read, result.account.merged) == (5, 2)


def test_hubspot_contacts_map_without_export_time_state(corpus):
    result = staged(corpus, "customers/hubspot_contacts.csv", SourceRule(timezone="UTC"))
    assert result.reading.columns == {"Email": "email", "Record ID": "customer_id",
                                      "Create Date": "signup_date", "Contact owner": "owner",
                                      "First Name": "name", "Last Name": "name"}
    row = result.staged.iloc[0]
    assert (row["customer_id"], row["signup_date"]) == ("5101", utc("2024-01-15 09:30"))


def test_xlsx_title_rows_real_text_and_serial_dates_share_a_column(corpus):
    result = staged(corpus, "purchases/erp_export.xlsx")
    frame = result.staged.set_index("order_id")
    assert frame["order_date"].tolist() == [
        utc("2024-03-05 11:30"), utc("2024-03-05 21:00"), utc("2023-03-14 21:00")]
    assert frame["amount"].tolist() == [1234.56, 1234.50, 7.0]
    assert frame["customer_id"].tolist() == ["00042", "00042", "42"]


def test_parquet_keeps_types(corpus):
    frame = staged(corpus, "purchases/warehouse.parquet").staged
    assert frame["order_date"].tolist() == [utc("2024-05-01 12:00")]
    assert frame["customer_id"].tolist() == ["00099"]


@pytest.mark.parametrize("name, message", [
    ("mixed_dates.csv", "column order_date: mixes date formats (ISO: '2024-03-05'; "
                        "dd.MM.yyyy: '05.03.2024')"),
    ("mixed_decimals.csv", "column amount: mixes decimal-comma and decimal-point numbers "
                           "(e.g. '1.234,56' and '1,234.56')"),
    ("day_and_month_first.csv", "column order_date: mixes day-first and month-first dates"),
    ("unknown_headers.csv", "missing required column(s) customer_id, order_id, amount "
                            "(found: klant, datum)"),
    ("not_really.xlsx", "cannot open as xlsx"),
])
def test_unreadable_files_name_the_column_and_examples(corpus, name, message):
    root, _ = corpus
    with pytest.raises(StagingError) as caught:
        read_export(root / "bad" / "purchases" / name, "purchases", SourceRule(), "UTC", NOW)
    assert message in str(caught.value)


def test_whole_corpus_ingest_accounts_for_every_row_and_is_idempotent(corpus, tmp_path):
    root, _ = corpus
    settings = Settings.from_env(tmp_path / "data")
    shutil.copytree(root / "raw", settings.raw_dir)
    (settings.data_dir / "sources.yaml").write_text(
        'files:\n  - pattern: "*nl_*"\n    timezone: Europe/Amsterdam\n'
        '  - pattern: "*"\n    timezone: Europe/Istanbul\n', encoding="utf-8")
    report = ingest_raw_exports(settings, now=NOW.to_pydatetime())
    assert all(a.balanced for a in report.accounts)
    accounts = {a.file: a for a in report.accounts}
    # the Turkish CSV and its UTF-16 twin carry the same orders: the later file wins
    assert (accounts["purchases/tr_cp1254_semicolon.csv"].duplicates,
            accounts["purchases/tr_utf16_tab.txt"].staged) == (4, 4)
    assert accounts["purchases/plain_gzip.csv.gz"].duplicates == 2
    complaints = load_source_tables(settings).complaints.set_index("complaint_id")
    # ticket 101: newer in zendesk_2; ticket 102: newer in zendesk_1 (by Updated at); the
    # Freshdesk export numbers its own tickets 101-103 too: both systems' tickets are kept
    assert complaints.loc["zendesk:101", "status"] == "solved"
    assert complaints.loc["zendesk:101", "satisfaction"] == 1.0
    assert complaints.loc["zendesk:102", "satisfaction"] == 0.0
    assert complaints.loc["freshdesk:101", "status"] == "resolved"
    assert "103" in complaints.index  # used by one system only: its id as exported
    assert any("kept apart" in w and "freshdesk and zendesk" in w for w in report.warnings)
    assert (accounts["complaints/zendesk_1.csv"].staged,
            accounts["complaints/zendesk_1.csv"].duplicates) == (1, 1)
    staged_bytes = (settings.staged_dir / "purchases.parquet").read_bytes()
    again = ingest_raw_exports(settings, now=NOW.to_pydatetime())
    assert again.unchanged and (settings.staged_dir / "purchases.parquet").read_bytes() \
        == staged_bytes


def test_bad_files_fail_the_run_unless_skipped(corpus, tmp_path):
    root, _ = corpus
    settings = Settings.from_env(tmp_path / "data")
    shutil.copytree(root / "bad", settings.raw_dir)
    shutil.copy(root / "raw" / "purchases" / "plain_pipe.txt", settings.raw_dir / "purchases")
    with pytest.raises(IngestError) as caught:
        ingest_raw_exports(settings, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert len(caught.value.problems) == len(BAD)
    assert not settings.staged_dir.exists()
    report = ingest_raw_exports(settings, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                skip_bad_files=True)
    assert len(report.skipped_files) == len(BAD) and report.staged_rows == {"purchases": 2}


def test_explain_reports_detection_and_writes_nothing(corpus, tmp_path):
    root, _ = corpus
    settings = Settings.from_env(tmp_path / "data")
    shutil.copytree(root / "raw", settings.raw_dir)
    report = ingest_raw_exports(settings, now=NOW.to_pydatetime(), explain=True)
    readings = {r.file: r for r in report.readings}
    logo = readings["purchases/logo_invoices.csv"]
    assert (logo.preset, logo.encoding, logo.delimiter, logo.locale) == ("logo", "cp1254", ";",
                                                                         "tr")
    assert logo.columns["Cari Kod"] == "customer_id"
    assert readings["purchases/tr_cp1254_semicolon.csv"].formats == {"order_date": "dd.MM.yyyy"}
    assert not settings.staged_dir.exists() and not settings.reports_dir.exists()
