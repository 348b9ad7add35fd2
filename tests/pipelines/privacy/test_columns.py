"""Which personal columns reach the risk list: the setting, and the list it shapes."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.privacy.columns import (
    DEFAULT_PERSONAL_COLUMNS,
    PERSONAL_COLUMNS,
    personal_columns_setting,
    pseudonymize_setting,
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


def test_allowed_contact_details_reach_the_csv_after_the_name():
    from pipelines.deliver.risk_list import risk_list_csv_text
    from tests.pipelines.deliver.test_risk_list import tiny_risk_list

    risk = tiny_risk_list()
    master = pd.DataFrame({"customer_id": risk["customer_id"].astype(str),
                           "email": [f"c{i}@example.org" for i in range(len(risk))]})
    text = risk_list_csv_text(with_personal_columns(risk, master, ("name", "email")), "en")
    header = text.splitlines()[0].lstrip("\ufeff").split(",")
    assert header[header.index("customer_name") + 1] == "email"
    assert "phone" not in header and "c0@example.org" in text


def test_the_default_csv_has_no_contact_columns():
    from pipelines.deliver.risk_list import risk_list_csv_text
    from tests.pipelines.deliver.test_risk_list import tiny_risk_list

    text = risk_list_csv_text(with_personal_columns(tiny_risk_list(), MASTER, ()), "en")
    header = text.splitlines()[0].split(",")
    assert "email" not in header and "phone" not in header
