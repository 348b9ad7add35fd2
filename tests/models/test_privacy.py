"""The privacy settings' values, the personal columns a risk list carries, keyed pseudonyms
of customer ids and masked contact keys (`models.privacy`)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.privacy import (
    DEFAULT_PERSONAL_COLUMNS,
    PERSONAL_COLUMNS,
    masked_contact,
    outbound_top_customers,
    personal_columns_setting,
    pseudonym,
    pseudonymize_setting,
    pseudonymized_ids,
    pseudonymized_text,
    retention_days_setting,
    with_personal_columns,
)


def test_unset_keeps_name_and_owner_and_none_keeps_nothing():
    assert personal_columns_setting(None) == DEFAULT_PERSONAL_COLUMNS == ("name", "owner")
    assert personal_columns_setting(" ") == ("name", "owner")
    assert personal_columns_setting("none") == ()


@given(st.lists(st.sampled_from(list(PERSONAL_COLUMNS)), min_size=1))
def test_any_subset_is_read_in_canonical_order_whatever_its_spelling(words):
    text = " , ".join(w.upper() if i % 2 else w for i, w in enumerate(words))
    parsed = personal_columns_setting(text)
    assert set(parsed) == set(words)
    assert list(parsed) == [c for c in PERSONAL_COLUMNS if c in parsed]


def test_an_unknown_column_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown column.*address.*name, email, phone, owner"):
        personal_columns_setting("name,address")


def test_e_mail_is_a_spelling_of_email():
    assert personal_columns_setting("E-mail") == ("email",)


@pytest.mark.parametrize("text, expected", [(None, False), ("1", True), ("yes", True),
                                            ("off", False), ("0", False)])
def test_pseudonymize_words(text, expected):
    assert pseudonymize_setting(text) is expected


def test_pseudonymize_refuses_other_words():
    with pytest.raises(ValueError, match="CHURN_PSEUDONYMIZE"):
        pseudonymize_setting("maybe")


@pytest.mark.parametrize("text", ["0", "-3", "ten", "1.5"])
def test_retention_needs_a_positive_whole_number(text):
    with pytest.raises(ValueError, match="CHURN_RETENTION_DAYS"):
        retention_days_setting(text)


def test_retention_unset_keeps_for_ever_and_a_number_is_days():
    assert retention_days_setting(None) is None
    assert retention_days_setting(" 30 ") == 30


def _risk() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["C1", "C2"], "customer_name": ["Ann", "Bob"],
                         "owner": ["Olga", "Olga"], "risk_tier": ["Critical", "Safe"]})


MASTER = pd.DataFrame({"customer_id": ["C2", "C1"], "name": ["Bob", "Ann"],
                       "email": ["bob@example.org", "ann@example.org"],
                       "phone": [None, "+31612345678"], "owner": ["Olga", "Olga"]})


def test_the_default_keeps_name_and_owner_and_adds_no_contact_details():
    out = with_personal_columns(_risk(), MASTER, DEFAULT_PERSONAL_COLUMNS)
    assert out["customer_name"].tolist() == ["Ann", "Bob"]
    assert "email" not in out and "phone" not in out


def test_columns_not_allowed_are_emptied_and_contact_details_added_when_allowed():
    out = with_personal_columns(_risk(), MASTER, ("email", "phone"))
    assert out["customer_name"].isna().all() and out["owner"].isna().all()
    assert out["email"].tolist() == ["ann@example.org", "bob@example.org"]
    assert out["phone"].iloc[0] == "+31612345678" and pd.isna(out["phone"].iloc[1])


def test_contact_columns_are_empty_without_a_master():
    out = with_personal_columns(_risk(), None, ("email",))
    assert out["email"].isna().all()


KEY = b"k" * 32


@given(st.text(min_size=1, max_size=30))
def test_a_pseudonym_is_stable_per_key_differs_across_keys_and_hides_the_id(customer_id):
    first = pseudonym(customer_id, KEY)
    assert first == pseudonym(customer_id, KEY)
    assert first != pseudonym(customer_id, b"another key, just as long")
    assert first.startswith("p-") and len(first) == 18
    assert customer_id not in first.removeprefix("p-") or len(customer_id) < 3


def test_missing_ids_stay_missing():
    out = pseudonymized_ids(pd.Series(["C1", None, "C1"]), KEY)
    assert out.iloc[0] == out.iloc[2] == pseudonym("C1", KEY) and pd.isna(out.iloc[1])


def test_text_keeps_everything_but_the_ids():
    text = "| 1 | C1 | 0,93 | Critical |\n- C10 entered the top tiers; C1 too"
    out = pseudonymized_text(text, ["C1", "C10"], KEY)
    assert "C1 " not in out and "C10" not in out and "| 1 |" in out and "0,93" in out
    assert out.count(pseudonym("C1", KEY)) == 2


def test_the_artifact_rows_carry_no_personal_columns():
    risk = pd.DataFrame({"rank": [1], "customer_id": ["C1"], "customer_name": ["Ann"],
                         "owner": ["Olga"], "email": ["a@example.org"], "risk_tier": ["Critical"],
                         "churn_probability": [0.9], "value_at_risk": [10.0],
                         "reason_1": ["…"], "suggested_action": ["call"]})
    plain = outbound_top_customers(risk, None)
    assert set(plain.columns).isdisjoint({"customer_name", "owner", "email", "phone"})
    assert plain["customer_id"].tolist() == ["C1"]
    assert outbound_top_customers(risk, KEY)["customer_id"].tolist() == [pseudonym("C1", KEY)]


@pytest.mark.parametrize("value, shown", [("info@example.org", "in…@example.org"),
                                          ("+31612345678", "+3…78"), ("123", "…")])
def test_contact_keys_are_masked(value, shown):
    assert masked_contact(value) == shown
