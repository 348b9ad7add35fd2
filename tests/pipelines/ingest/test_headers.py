"""Header synonyms in English, Turkish and Dutch, and `sources.yaml` rules."""

from __future__ import annotations

import pytest

from pipelines.ingest.headers import SYNONYMS, fold_header, header_language, map_headers

PURCHASE_COLUMNS = {"customer_id", "order_id", "order_date", "amount", "status", "quantity",
                    "channel"}


def test_fold_header_drops_the_combining_dot_that_lower_adds_to_capital_i():
    assert "İADE".lower() != "iade" and fold_header("İADE") == fold_header("Iade") == "iade"


@pytest.mark.parametrize("headers, language", [
    (["Cari Kod", "Fiş No", "Tarih", "Tutar"], "tr"),
    (["MÜŞTERİ NO", "SİPARİŞ NO", "TARİH", "TUTAR"], "tr"),
    (["Klantnummer", "Ordernummer", "Orderdatum", "Bedrag"], "nl"),
    (["Customer ID", "Order Number", "Date", "Total"], None),
])
def test_headers_map_in_every_language(headers, language):
    mapping = map_headers(headers, PURCHASE_COLUMNS)
    assert list(mapping.values()) == ["customer_id", "order_id", "order_date", "amount"]
    assert header_language(headers) == language


def test_every_canonical_column_has_english_turkish_and_dutch_synonyms():
    assert all(set(languages) == {"en", "tr", "nl"} for languages in SYNONYMS.values())


def test_exact_names_and_pins_win_and_each_target_is_used_once():
    mapping = map_headers(["Date", "order_date", "Customer", "Klant"], PURCHASE_COLUMNS,
                          pinned={"Klant": "customer_id"})
    assert mapping == {"Klant": "customer_id", "order_date": "order_date"}
