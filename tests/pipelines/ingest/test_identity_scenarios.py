"""Whole ingests of businesses whose systems key customers differently: every ticket, order
and activity must reach the right customer, and the report must say how they were linked."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from pipelines.ingest.run import ingest_raw_exports
from pipelines.store.staged import load_source_tables
from tests.pipelines.ingest.raw_files import write

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


SHOPIFY_ORDERS = (
    "Name,Email,Financial Status,Paid at,Total,Created at,Lineitem quantity,Lineitem name\n"
    "#1001,Ayse.Yilmaz@Example.com,paid,2024-10-01 10:00:00 +0300,120.50,"
    "2024-10-01 10:00:00 +0300,1,Çay\n"
    "#1002,jan@bakker.nl,paid,2024-10-02 11:00:00 +0200,35.00,2024-10-02 11:00:00 +0200,2,Kop\n"
    "#1003, ayse.yilmaz@example.com ,paid,2024-11-05 09:00:00 +0300,80.25,"
    "2024-11-05 09:00:00 +0300,1,Demlik\n"
    "#1004,piet@voorbeeld.nl,refunded,2024-11-06 09:00:00 +0100,10.00,"
    "2024-11-06 09:00:00 +0100,1,Lepel\n")

ZENDESK_TICKETS = (  # Zendesk's own requester ids, the requester's e-mail in some rows only
    "Id,Requester,Requester id,Requester email,Subject,Status,Created at,Updated at,Solved at\n"
    "501,Ayşe Yılmaz,36001,AYSE.YILMAZ@EXAMPLE.COM,Kargo gecikti,Solved,2024-10-03 10:00:00,"
    "2024-10-04 10:00:00,2024-10-04 10:00:00\n"
    "502,Ayşe Yılmaz,36001,,İade,Open,2024-11-07 10:00:00,2024-11-07 10:00:00,\n"
    "503,Jan Bakker,36002,jan@bakker.nl,Broken cup,Solved,2024-10-05 08:00:00,"
    "2024-10-06 08:00:00,2024-10-06 08:00:00\n"
    "504,Kees Smit,36003,kees@smit.nl,Question,Solved,2024-10-07 08:00:00,"
    "2024-10-07 09:00:00,2024-10-07 09:00:00\n")


def test_shopify_and_zendesk_meet_by_email_with_zendesk_ids_carrying_the_link(settings):
    write(settings, "purchases", "orders_export.csv", SHOPIFY_ORDERS)
    write(settings, "complaints", "zendesk_tickets.csv", ZENDESK_TICKETS)
    report = ingest_raw_exports(settings, now=NOW)
    tables = load_source_tables(settings)
    orders = tables.purchases.set_index("order_id")["customer_id"].to_dict()
    assert orders == {"#1001": "ayse.yilmaz@example.com", "#1002": "jan@bakker.nl",
                      "#1003": "ayse.yilmaz@example.com", "#1004": "piet@voorbeeld.nl"}
    tickets = tables.complaints.set_index("complaint_id")["customer_id"].to_dict()
    # 502 names only Zendesk user 36001, whose e-mail ticket 501 gives
    assert tickets == {"501": "ayse.yilmaz@example.com", "502": "ayse.yilmaz@example.com",
                       "503": "jan@bakker.nl", "504": "kees@smit.nl"}
    keys = pd.read_parquet(settings.staged_dir / "customer_keys.parquet")
    ayse = keys[keys["customer_id"] == "ayse.yilmaz@example.com"]
    assert sorted(zip(ayse["key_type"], ayse["id_space"], ayse["key"], strict=True)) == [
        ("email", "", "ayse.yilmaz@example.com"), ("id", "zendesk", "36001")]
    identity = report.identity
    assert (identity["customers"], identity["in_several_sources"],
            identity["source_only"]) == (4, 2, 2)
    readings = {r.file: r for r in report.readings}
    zendesk = readings["complaints/zendesk_tickets.csv"]
    assert (zendesk.id_space, zendesk.keys) == ("zendesk", ["zendesk id", "e-mail"])
    assert (zendesk.customers, zendesk.with_purchases) == (3, 2)
    assert all(a.balanced for a in report.accounts)


def test_a_customer_master_links_code_email_and_phone_for_every_other_file(settings):
    """Dutch shop: the master has debtor numbers, e-mails and phones; Freshdesk tickets are
    keyed by Freshdesk's contact id with e-mail or mobile; a call log knows only phones.
    The Freshdesk export is in English: its national numbers are Dutch by its time zone."""
    settings.data_dir.mkdir(parents=True)
    (settings.data_dir / "sources.yaml").write_text(
        'files:\n  - pattern: "complaints/freshdesk.csv"\n    timezone: Europe/Amsterdam\n')
    write(settings, "customers", "klanten.csv",
          "Klantnummer;Naam;E-mailadres;Telefoon\n"
          "00017;Jan Bakker;Jan@Bakker.nl;06-12345678\n"
          "00018;Kees Smit;kees@smit.nl;+31 20 123 4567\n"
          "00019;Anna de Vries;;0031 6 87654321\n", "cp1252")
    write(settings, "purchases", "orders.csv",
          "customer_id,order_id,order_date,amount\n"
          "00017,A1,2024-10-01,10.00\n00018,A2,2024-10-02,20.00\n00019,A3,2024-10-03,30.00\n")
    write(settings, "complaints", "freshdesk.csv",
          "Ticket ID,Subject,Status,Created time,Resolved time,Contact ID,Email,Mobile phone\n"
          "9001,Te laat,Closed,2024-10-05 10:00:00,2024-10-06 10:00:00,77,JAN@BAKKER.NL,\n"
          "9002,Kapot,Open,2024-10-08 10:00:00,,78,,06 8765 4321\n"
          "9003,Vraag,Closed,2024-10-09 10:00:00,2024-10-09 12:00:00,77,,\n")
    write(settings, "interactions", "calls.csv",
          "Telefoonnummer,Tijdstip,Kanaal\n"
          "+31612345678,2024-10-10 09:00:00,phone\n"
          "020-1234567,2024-10-11 09:00:00,phone\n"
          "0612345678,2024-10-12 09:00:00,phone\n")
    report = ingest_raw_exports(settings, now=NOW)
    tables = load_source_tables(settings)
    assert tables.complaints.set_index("complaint_id")["customer_id"].to_dict() == {
        "9001": "00017", "9002": "00019", "9003": "00017"}  # 9003: Freshdesk contact 77
    # staged in customer-shard order: the calls' own order is their time
    assert tables.interactions.sort_values("occurred_at")["customer_id"].tolist() == [
        "00017", "00018", "00017"]
    # the keys link the rows; the master keeps no e-mail a list does not show (privacy)
    keys = pd.read_parquet(settings.staged_dir / "customer_keys.parquet")
    assert keys.set_index("key").loc["jan@bakker.nl", "customer_id"] == "00017"
    assert tables.customers["email"].isna().all()
    assert report.identity["customers"] == 3
    assert report.identity["source_only"] == 0
    readings = {r.file: r for r in report.readings}
    assert readings["interactions/calls.csv"].keys == ["phone"]
    assert readings["interactions/calls.csv"].with_purchases == 2


def test_turkish_helpdesk_keyed_by_mobile_meets_the_erps_cari_code(settings):
    write(settings, "customers", "cariler.csv",
          "Cari Kod;Cari Ad;E-posta;GSM\n"
          "120.01.0007;Ayşe Yılmaz;ayse@firma.com.tr;0532 123 45 67\n"
          "120.01.0008;Şükrü Öztürk;;+90 (542) 765 43 21\n", "cp1254")
    write(settings, "purchases", "satislar.csv",
          "Cari Kod;Fiş No;Tarih;Tutar (TL)\n"
          "120.01.0007;F-1;01.10.2024;1.250,50\n120.01.0008;F-2;02.10.2024;99,90\n", "cp1254")
    write(settings, "complaints", "talepler.csv",
          "Talep No;Cep Telefonu;Talep Tarihi;Kategori\n"
          "T-1;5321234567;03.10.2024;Kargo\n"
          "T-2;0542 765 4321;04.10.2024;İade\n"
          "T-3;0555 000 00 00;05.10.2024;Fatura\n", "cp1254")
    report = ingest_raw_exports(settings, now=NOW)
    tables = load_source_tables(settings)
    assert tables.complaints.set_index("complaint_id")["customer_id"].to_dict() == {
        "T-1": "120.01.0007", "T-2": "120.01.0008", "T-3": "+905550000000"}
    assert tables.purchases["amount"].tolist() == [1250.5, 99.9]
    talepler = {r.file: r for r in report.readings}["complaints/talepler.csv"]
    assert (talepler.customers, talepler.with_purchases) == (3, 2)


def test_a_shared_mailbox_never_merges_two_companies_and_its_rows_are_accounted(settings):
    write(settings, "customers", "customers.csv",
          "Customer Code,Name,Email\nC1,Yılmaz Ltd,info@yilmaz.com.tr\n"
          "C2,Yılmaz Lojistik,info@yilmaz.com.tr\nC3,Bakker BV,inkoop@bakker.nl\n")
    write(settings, "purchases", "orders.csv",
          "customer_id,order_id,order_date,amount\nC1,O1,2024-10-01,10\nC2,O2,2024-10-01,20\n"
          "C3,O3,2024-10-01,30\n")
    write(settings, "complaints", "tickets.csv",
          "Ticket ID,Email,Created At\nK1,info@yilmaz.com.tr,2024-10-02\n"
          "K2,INKOOP@bakker.nl,2024-10-02\nK3,not-an-address,2024-10-02\n")
    report = ingest_raw_exports(settings, now=NOW)
    tables = load_source_tables(settings)
    assert tables.complaints.set_index("complaint_id")["customer_id"].to_dict() == {"K2": "C3"}
    assert sorted(tables.purchases["customer_id"]) == ["C1", "C2", "C3"]
    tickets = {a.file: a for a in report.accounts}["complaints/tickets.csv"]
    assert (tickets.rows_read, tickets.staged, tickets.quarantined) == (3, 1, 2)
    assert tickets.balanced
    reasons = sorted(tickets.reasons)
    assert "belongs to several customers" in reasons[0]
    assert reasons[1] == "e-mail 'no…ss' is not an address"  # masked (pipelines.privacy)
    assert report.identity["shared_keys"] == 1
    quarantine = (settings.quarantine_dir / "complaints.csv").read_text()
    assert "info@yilmaz.com.tr" in quarantine


def test_the_same_number_in_two_systems_is_two_customers(settings):
    """HubSpot record 17 and ERP customer 17 are different people until a key links them."""
    write(settings, "purchases", "orders.csv",
          "customer_id,order_id,order_date,amount\n17,O1,2024-10-01,10\n")
    write(settings, "customers", "hubspot_contacts.csv",
          "Record ID,First Name,Last Name,Email,Phone Number,Lifecycle Stage\n"
          "17,Piet,Jansen,piet@jansen.nl,,customer\n")
    ingest_raw_exports(settings, now=NOW)
    tables = load_source_tables(settings)
    assert tables.purchases["customer_id"].tolist() == ["17"]
    assert tables.customers["customer_id"].tolist() == ["piet@jansen.nl"]


def test_a_sources_yaml_id_space_keeps_a_systems_numbers_apart(settings):
    (settings.data_dir).mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "sources.yaml").write_text(
        'files:\n  - pattern: "complaints/crm_*"\n    id_space: crm\n')
    write(settings, "purchases", "orders.csv",
          "customer_id,order_id,order_date,amount,email\n5,O1,2024-10-01,10,a@b.nl\n")
    write(settings, "complaints", "crm_cases.csv",
          "Customer ID,Case ID,Created At,Email\n5,K1,2024-10-02,\n9,K2,2024-10-02,A@b.nl\n")
    ingest_raw_exports(settings, now=NOW)
    tables = load_source_tables(settings)
    assert tables.complaints.set_index("complaint_id")["customer_id"].to_dict() == {
        "K1": "crm:5", "K2": "5"}
