"""Pruning archived runs, analytics and quarantine past the retention period."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from pipelines.privacy.retention import prune_expired, run_time
from pipelines.store import archive
from pipelines.store.settings import Settings

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)


def _run(settings: Settings, as_of: str, made: dt.datetime) -> str:
    run_dir = archive.create_run_dir(settings.scored_dir, dt.date.fromisoformat(as_of),
                                     archive.new_run_id(made))
    for name in archive.REQUIRED_FILES:  # a complete run (archive.is_complete_run)
        (run_dir / name).write_bytes(b"")
    return str(run_dir.relative_to(settings.data_dir))


def _aged(path, days: int) -> None:
    when = (NOW - dt.timedelta(days=days)).timestamp()
    os.utime(path, (when, when))


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_RETENTION_DAYS", "90")
    return Settings.from_env(tmp_path / "data")


def test_runs_older_than_the_period_go_except_the_latest(settings):
    old = _run(settings, "2025-12-31", NOW - dt.timedelta(days=200))
    recent = _run(settings, "2026-05-31", NOW - dt.timedelta(days=30))
    latest = _run(settings, "2025-11-30", NOW - dt.timedelta(days=300))
    archive.point_latest(settings.scored_dir, settings.data_dir / latest)
    assert prune_expired(settings, NOW) == [old]
    assert not (settings.data_dir / old).exists()
    assert not (settings.data_dir / old).parent.exists()  # its as-of folder was left empty
    assert (settings.data_dir / recent).exists() and (settings.data_dir / latest).exists()


def test_old_quarantine_files_and_analytics_go_those_of_the_latest_date_stay(settings):
    latest = _run(settings, "2026-06-29", NOW - dt.timedelta(days=1))
    archive.point_latest(settings.scored_dir, settings.data_dir / latest)
    settings.quarantine_dir.mkdir(parents=True)
    stale, fresh = settings.quarantine_dir / "purchases.csv", settings.quarantine_dir / "x.csv"
    stale.write_text("a\n"), fresh.write_text("b\n")
    _aged(stale, 100)
    folders = {}
    for as_of in ("2026-01-31", "2026-06-29"):
        target = settings.analytics_dir / f".{as_of}.abc"
        target.mkdir(parents=True)
        (settings.analytics_dir / as_of).symlink_to(target.name, target_is_directory=True)
        _aged(target, 150)
        folders[as_of] = target
    removed = prune_expired(settings, NOW)
    assert sorted(removed) == ["analytics/2026-01-31", "quarantine/purchases.csv"]
    assert not folders["2026-01-31"].exists() and folders["2026-06-29"].exists()
    assert fresh.exists()


def test_nothing_is_pruned_without_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("CHURN_RETENTION_DAYS", raising=False)
    settings = Settings.from_env(tmp_path / "data")
    old = _run(settings, "2020-01-31", NOW - dt.timedelta(days=2000))
    assert prune_expired(settings, NOW) == []
    assert (settings.data_dir / old).exists()


def test_a_run_id_says_when_the_run_was_made(tmp_path):
    made = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    assert run_time(tmp_path / archive.new_run_id(made)) == made
