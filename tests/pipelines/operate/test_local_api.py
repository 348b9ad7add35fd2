"""Which Prefect API a command uses: the user's wins; a dead recorded server is not reused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pipelines.operate import local_api


def test_the_users_url_wins_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    assert local_api.configured_api_url(tmp_path) == "http://prefect.example:4200/api"


def test_the_users_url_wins_from_the_active_profile(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    (tmp_path / "profiles.toml").write_text(
        'active = "team"\n[profiles.team]\nPREFECT_API_URL = "http://team:4200/api"\n')
    assert local_api.configured_api_url(tmp_path, cwd=tmp_path) == "http://team:4200/api"


def test_the_users_url_wins_from_prefect_toml(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(tmp_path / "none.toml"))
    (tmp_path / "prefect.toml").write_text('[api]\nurl = "http://toml:4200/api"\n')
    assert local_api.configured_api_url(tmp_path, cwd=tmp_path) == "http://toml:4200/api"
    (tmp_path / "prefect.toml").write_text("[server]\nanalytics_enabled = false\n")
    assert local_api.configured_api_url(tmp_path, cwd=tmp_path) is None


def test_a_record_of_a_dead_server_is_not_reused_and_stop_forgets_it(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / local_api.RECORD).write_text(json.dumps(
        {"url": "http://127.0.0.1:9/api", "pid": dead.pid}))
    assert local_api.recorded_api_url(tmp_path) is None
    assert local_api.stop_local_api(tmp_path) is None
    assert not (tmp_path / local_api.RECORD).exists()


def test_with_prefect_already_imported_the_settings_are_left_alone(tmp_path, monkeypatch):
    """In-process callers (the test harness) keep the API Prefect already chose."""
    import prefect  # noqa: F401

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    choice = local_api.use_local_api(tmp_path)
    assert choice.source == "in-process" and "PREFECT_API_URL" not in os.environ
