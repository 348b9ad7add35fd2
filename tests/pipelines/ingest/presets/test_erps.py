"""Netsis, Mikro and Exact presets on the fixture corpus (Logo: test_corpus.py)."""

from __future__ import annotations

from tests.pipelines.ingest.presets.conftest import staged, utc


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
        "Exact invoice Type is neither 8020 (invoice) nor 8021 (credit note)"]
    account = result.account
    assert (account.rows_read, account.staged, account.quarantined) == (4, 3, 1)
