"""Keyed pseudonyms for customer ids, and masked contact keys."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.privacy.pseudonymize import (
    PseudonymKeyError,
    masked_contact,
    outbound_top_customers,
    pseudonym,
    pseudonym_key,
    pseudonymized_ids,
    pseudonymized_text,
)

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


def test_the_key_comes_from_the_environment_and_must_be_long(monkeypatch):
    monkeypatch.delenv("CHURN_PSEUDONYM_KEY", raising=False)
    with pytest.raises(PseudonymKeyError, match="CHURN_PSEUDONYM_KEY"):
        pseudonym_key()
    monkeypatch.setenv("CHURN_PSEUDONYM_KEY", "short")
    with pytest.raises(PseudonymKeyError, match="at least 16"):
        pseudonym_key()
    monkeypatch.setenv("CHURN_PSEUDONYM_KEY", "x" * 16)
    assert pseudonym_key() == b"x" * 16


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


def test_settings_read_the_key_once_and_never_show_it(tmp_path, monkeypatch):
    from pipelines.store.settings import Settings

    monkeypatch.setenv("CHURN_PSEUDONYMIZE", "1")
    monkeypatch.delenv("CHURN_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValueError, match="CHURN_PSEUDONYM_KEY"):
        Settings.from_env(tmp_path)
    monkeypatch.setenv("CHURN_PSEUDONYM_KEY", "a secret that is long enough")
    settings = Settings.from_env(tmp_path)
    assert settings.pseudonymize and settings.pseudonym_key == b"a secret that is long enough"
    assert "secret" not in repr(settings)
