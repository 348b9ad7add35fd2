"""Reading the privacy settings from the environment: the pseudonym key, never shown."""

from __future__ import annotations

import pytest

from pipelines.store.settings import PseudonymKeyError, Settings, pseudonym_key


def test_the_key_comes_from_the_environment_and_must_be_long(monkeypatch):
    monkeypatch.delenv("CHURN_PSEUDONYM_KEY", raising=False)
    with pytest.raises(PseudonymKeyError, match="CHURN_PSEUDONYM_KEY"):
        pseudonym_key()
    monkeypatch.setenv("CHURN_PSEUDONYM_KEY", "short")
    with pytest.raises(PseudonymKeyError, match="at least 16"):
        pseudonym_key()
    monkeypatch.setenv("CHURN_PSEUDONYM_KEY", "x" * 16)
    assert pseudonym_key() == b"x" * 16


def test_settings_read_the_key_once_and_never_show_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_PSEUDONYMIZE", "1")
    monkeypatch.delenv("CHURN_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ValueError, match="CHURN_PSEUDONYM_KEY"):
        Settings.from_env(tmp_path)
    monkeypatch.setenv("CHURN_PSEUDONYM_KEY", "a secret that is long enough")
    settings = Settings.from_env(tmp_path)
    assert settings.pseudonymize and settings.pseudonym_key == b"a secret that is long enough"
    assert "secret" not in repr(settings)
