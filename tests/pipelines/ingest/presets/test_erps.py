"""Netsis, Mikro and Exact presets on the fixture corpus (Logo: test_logo.py and
test_corpus.py)."""

from __future__ import annotations

from pipelines.ingest.run import read_export
from pipelines.ingest.sources_file import SourceRule
from tests.pipelines.ingest.presets.conftest import NOW, staged, utc


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


def test_mikro_sales_and_sales_returns_by_evrak_tip_and_iade_flag(raw):
    result = staged(raw, "purchases/mikro_cari_hareketleri.csv", "Europe/Istanbul")
    reading = result.reading
    assert (reading.preset, reading.locale, reading.encoding) == ("mikro", "tr", "cp1254")
    frame = result.staged.set_index("order_id")
    assert frame["amount"].to_dict() == {"A-1001": 1234.56, "İADE-A-1001": 234.56,
                                         "A-1002": 99.9}
    # 63 = sales invoice; 0 + cha_normal_Iade 1 = sales return; cha_iptal 1 = cancelled
    assert frame["status"].to_dict() == {"A-1001": "completed", "İADE-A-1001": "returned",
                                         "A-1002": "cancelled"}
    assert frame["customer_id"].tolist() == ["120.01.001", "120.01.001", "00042"]
    assert frame.loc["A-1001", "order_date"] == utc("2024-03-04 21:00")
    reasons = result.quarantined.set_index("_source_line")["reason"].to_dict()
    assert reasons == {5: "not a sale or sales return (cha_evrak_tip / cha_normal_Iade)",
                       6: "not a sale or sales return (cha_evrak_tip / cha_normal_Iade)"}
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (5, 3, 2)


def test_exact_credit_notes_are_returned_rows_and_odata_dates_are_utc(raw):
    result = staged(raw, "purchases/exact_verkoopfacturen.csv", "Europe/Amsterdam")
    assert result.reading.preset == "exact"
    assert result.reading.id_space == "exact"  # OrderedBy: Exact's own account GUID
    assert "Status" not in result.reading.columns  # 20 open / 50 processed: export-time
    frame = result.staged.set_index("order_id")
    assert frame["amount"].to_dict() == {"24700001": 1210.0, "24700002": 121.0,
                                         "24700003": 60.5}
    assert frame["status"].to_dict() == {"24700001": "completed", "24700002": "returned",
                                         "24700003": "completed"}
    assert frame["customer_id"].tolist() == ["5d1c2a10-aaaa-4bbb-8ccc-000000000123"] * 2 + [
        "5d1c2a10-aaaa-4bbb-8ccc-000000000456"]
    # /Date(ms)/ is UTC whatever the file's timezone
    assert frame["order_date"].tolist() == [utc("2024-03-05"), utc("2024-03-11"),
                                            utc("2024-04-01")]
    assert result.quarantined["reason"].tolist() == [
        "Exact document type is neither an invoice (8020, Factuur) nor a credit note (8021, "
        "Creditnota)"]
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (4, 3, 1)


def test_exact_dutch_export_keyed_by_debtor_code_credit_notes_returned(raw):
    result = staged(raw, "purchases/exact_nl_verkoopfacturen.csv", "Europe/Amsterdam")
    reading = result.reading
    assert (reading.preset, reading.locale, reading.encoding, reading.delimiter) == (
        "exact", "nl", "cp1252", ";")
    assert reading.id_space == ""  # the debtor code is the business's own number
    assert reading.columns == {
        "Debiteurcode": "customer_id", "Factuurnummer": "order_id",
        "Factuurdatum": "order_date", "Bedrag incl. btw": "amount",
        "Soort": "status (8021 / Creditnota: credit note, returned)"}
    frame = result.staged.set_index("order_id")
    assert frame["amount"].to_dict() == {"24700101": 1210.0, "24700102": 121.0,
                                         "24700103": 60.5}
    assert frame["status"].to_dict() == {"24700101": "completed", "24700102": "returned",
                                         "24700103": "completed"}
    assert frame["customer_id"].tolist() == ["000123", "000123", "000456"]  # zeros kept
    # dd-MM-yyyy in Amsterdam: CET in March, CEST from the end of March
    assert frame["order_date"].tolist() == [utc("2024-03-04 23:00"), utc("2024-03-10 23:00"),
                                            utc("2024-03-31 22:00")]
    reasons = result.quarantined.set_index("_source_line")["reason"].to_dict()
    assert reasons == {
        5: "Exact document type is neither an invoice (8020, Factuur) nor a credit note "
           "(8021, Creditnota)",  # `Directe factuur`, as 8023 in the API
        6: "missing customer_id"}  # a debtor name alone is no key
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (5, 3, 2)


def test_a_reduced_dutch_exact_view_with_code_and_guid(tmp_path):
    path = tmp_path / "purchases" / "facturen.csv"
    path.parent.mkdir()
    path.write_text("Factuurnr.;Factuurdatum;Klantcode;OrderedBy;Totaal (EUR);Type\n"
                    "V-1;15-01-2024;K-0001;guid-1;€ 242,00;8020 - Factuur\n"
                    "V-2;20-01-2024;K-0001;guid-1;€ -42,00;8021 - Creditnota\n",
                    encoding="utf-8")
    result = read_export(path, "purchases", SourceRule(timezone="UTC"), "UTC", NOW)
    assert (result.reading.preset, result.reading.id_space) == ("exact", "")
    assert result.reading.columns["OrderedBy"] == "customer key (exact id)"
    frame = result.staged.set_index("order_id")
    assert frame["amount"].to_dict() == {"V-1": 242.0, "V-2": 42.0}
    assert frame["status"].to_dict() == {"V-1": "completed", "V-2": "returned"}
    assert frame["customer_id"].tolist() == ["K-0001", "K-0001"]
    assert frame["_id:exact"].tolist() == ["guid-1", "guid-1"]
    assert frame["order_date"].tolist() == [utc("2024-01-15"), utc("2024-01-20")]
