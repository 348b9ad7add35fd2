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


# Salesforce ids: 15 characters (reports, the UI) and 18 (API, Data Loader, Data Export)
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipelines.ingest.keys import linking_ids, salesforce_id_18  # noqa: E402


@pytest.mark.parametrize("id15, id18", [
    ("001D000000IqhSL", "001D000000IqhSLIAZ"),  # Salesforce's own documented pair
    ("a0D30000001n7Pi", "a0D30000001n7PiEAI"),
    ("001000000000001", "001000000000001AAA"),  # no letters: nothing upper case
])
def test_a_15_character_id_gets_its_case_suffix_and_an_18_character_one_keeps_it(id15, id18):
    assert salesforce_id_18(id15) == id18
    assert salesforce_id_18(id18) == id18


def test_an_18_character_id_whose_case_was_lost_gets_it_back_from_its_suffix():
    assert salesforce_id_18("001d000000iqhsliaz") == "001D000000IqhSLIAZ"  # lower-cased
    assert salesforce_id_18("001D000000IQHSLIAZ") == "001D000000IqhSLIAZ"  # upper-cased


@pytest.mark.parametrize("text", [
    "001A", "00001026", "001D000000IqhS", "001D000000IqhSLI", "001D000000IqhSL-AZ",
    "ayse@firma.com.tr", "001000000000001AAB",  # a suffix no casing of the digits gives
    "001D000000IqhSL9AZ",  # 9 is no suffix character
])
def test_text_that_is_no_salesforce_id_is_left_as_it_is(text):
    assert salesforce_id_18(text) == text


def test_only_the_salesforce_space_links_ids_by_another_form():
    ids = pd.Series(["001D000000IqhSL", None, "00042"], dtype=object)
    assert linking_ids(ids, "salesforce").tolist() == ["001D000000IqhSLIAZ", None, "00042"]
    assert linking_ids(ids, "").tolist() == ids.tolist()
    assert linking_ids(ids, "zendesk").tolist() == ids.tolist()


_ID15 = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                min_size=15, max_size=15)


@settings(max_examples=300, deadline=None)
@given(_ID15, _ID15)
def test_every_written_form_of_one_id_links_and_two_ids_never_do(one, other):
    linked = salesforce_id_18(one)
    assert linked[:15] == one and len(linked) == 18
    for written in (one, linked, linked.lower(), linked.upper()):
        assert salesforce_id_18(written) == linked
    # ids differ by case alone are different records (15-character ids are case-sensitive)
    assert (salesforce_id_18(other) == linked) == (other == one)
