"""Netsis presets on the fixture corpus (Logo: tests/pipelines/ingest/test_corpus.py)."""

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
