"""Customer keys as systems write them: e-mails and phones normalised before matching."""

from __future__ import annotations

import pandas as pd
import pytest

from pipelines.ingest.keys import (
    missing_required,
    normalised_emails,
    normalised_phones,
    phone_country,
)


@pytest.mark.parametrize("cell, expected", [
    (" Ayse.Yilmaz@Example.COM ", "ayse.yilmaz@example.com"),
    ("MAILTO:Jan@Bakker.NL", "jan@bakker.nl"),
    ("Ayşe Yılmaz <ayse@firma.com.tr>", "ayse@firma.com.tr"),
    ("'info@firma.com.tr", "info@firma.com.tr"),
    ("JAN.DE.VRIES@KPNMAIL.NL", "jan.de.vries@kpnmail.nl"),
    ("N/A", None), ("", None), ("ayse@", None), ("ayse@localhost", None),
    ("a@b.nl; c@d.nl", None), ("Ayşe Yılmaz", None), ("ayse yilmaz@x.com", None),
])
def test_emails_are_trimmed_and_case_folded_and_non_addresses_dropped(cell, expected):
    assert normalised_emails(pd.Series([cell], dtype=object)).iloc[0] == expected


@pytest.mark.parametrize("cell", [
    "0532 123 45 67", "5321234567", "+90 532 123 45 67", "0090 532 123 4567",
    "'+905321234567", "(0532) 123-45-67", "+90-532-123-45-67", "0532.123.45.67",
])
def test_turkish_mobiles_in_every_spelling_meet_as_one_e164_number(cell):
    assert normalised_phones(pd.Series([cell]), "TR").iloc[0] == "+905321234567"


@pytest.mark.parametrize("cell", ["06-12345678", "06 1234 5678", "+31 6 12345678",
                                  "0031612345678", "+31(0)612345678"])
def test_dutch_mobiles_in_every_spelling_meet_as_one_e164_number(cell):
    assert normalised_phones(pd.Series([cell]), "NL").iloc[0] == "+31612345678"


def test_a_number_with_its_country_code_needs_no_country_and_one_without_is_not_guessed():
    phones = pd.Series(["+31 20 123 4567", "020 123 4567", "n/a", "123", None], dtype=object)
    assert normalised_phones(phones, None).tolist() == ["+31201234567", None, None, None, None]
    assert normalised_phones(phones, "NL").tolist()[:2] == ["+31201234567", "+31201234567"]


def test_the_country_for_national_numbers_comes_from_the_rule_language_or_time_zone():
    assert phone_country("BE", "nl") == "BE"
    assert phone_country(None, "tr") == "TR"
    assert phone_country(None, "en", "Europe/Amsterdam") == "NL"
    assert phone_country(None, "en", "Europe/Brussels") == "BE"
    assert phone_country(None, "en", "UTC") is None
    assert phone_country(None, "en") is None


def test_any_customer_key_satisfies_the_customer_id_requirement():
    required = ("customer_id", "order_id", "order_date", "amount")
    assert missing_required(required, ["email", "order_id", "order_date", "amount"]) == []
    assert missing_required(required, ["phone", "order_id"]) == ["order_date", "amount"]
    assert missing_required(required, ["_id:zendesk", "order_id", "order_date", "amount"]) == []
    assert missing_required(required, ["name", "order_id", "order_date", "amount"]) == [
        "customer_id"]
