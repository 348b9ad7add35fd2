"""The scoring archive: exclusive run directories, read-only files, `latest`, previous run."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pandas as pd
import pytest

from models.playbook import PlaybookError
from models.tiers import TierPolicy
from pipelines.deliver.scoring_run import load_playbook
from pipelines.store import archive
from pipelines.store.leftovers import owner_token
from pipelines.store.settings import Settings


def _run_files(run_dir, tiers: list[str]) -> None:
    pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(tiers))], "risk_tier": tiers}
                 ).to_parquet(run_dir / "risk_list.parquet")
    (run_dir / "metadata.json").write_text(json.dumps({"run_id": run_dir.name}))
    (run_dir / "report.html").write_text("<html></html>")


def _archived_run(scored, as_of: str, run_id: str, tiers: list[str]):
    run_dir = archive.create_run_dir(scored, dt.date.fromisoformat(as_of), run_id)
    _run_files(run_dir, tiers)
    return run_dir


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_a_run_directory_is_never_reused_and_is_sealed(tmp_path):
    scored = tmp_path / "scored"
    run_dir = _archived_run(scored, "2024-06-30", "20240701T000000Z-aaaaaa", ["Critical"])
    with pytest.raises(FileExistsError):
        archive.create_run_dir(scored, dt.date(2024, 6, 30), "20240701T000000Z-aaaaaa")
    archive.seal(run_dir)
    assert (run_dir / "risk_list.parquet").stat().st_mode & 0o222 == 0


def test_previous_run_follows_latest_else_the_newest_run_id(tmp_path):
    scored = tmp_path / "scored"
    assert archive.previous_risk_list(scored) == (None, None)
    old = _archived_run(scored, "2024-05-31", "20240601T000000Z-aaaaaa", ["Critical", "Safe"])
    new = _archived_run(scored, "2024-06-30", "20240701T000000Z-bbbbbb", ["Safe", "Safe"])
    frame, name = archive.previous_risk_list(scored)
    assert name == "2024-06-30/20240701T000000Z-bbbbbb" and frame["risk_tier"].tolist() == [
        "Safe", "Safe"]
    archive.point_latest(scored, old)
    assert archive.latest_run_dir(scored) == old.resolve()
    archive.point_latest(scored, new)
    assert (scored / "latest").resolve() == new.resolve()


def test_a_run_being_built_is_invisible_until_it_is_renamed_whole(tmp_path):
    scored = tmp_path / "scored"
    old = _archived_run(scored, "2024-05-31", "20240601T000000Z-aaaaaa", ["Safe"])
    as_of, run_id = dt.date(2024, 6, 30), "20240701T000000Z-bbbbbb"
    building = archive.create_partial_run_dir(scored, as_of, run_id)
    _run_files(building, ["Critical"])
    # every reader still sees only the finished run, whatever a `*/*/` glob finds
    assert archive.archived_runs(scored) == [old]
    assert archive.latest_run_dir(scored) == old.resolve()
    assert archive.previous_risk_list(scored)[1] == "2024-05-31/20240601T000000Z-aaaaaa"
    assert list(scored.glob("*/*/risk_list.parquet")) == [old / "risk_list.parquet"]
    final = archive.publish_run(scored, building, as_of, run_id)
    assert not building.exists() and archive.archived_runs(scored) == [old, final]
    assert all(p.stat().st_mode & 0o222 == 0 for p in final.iterdir())  # sealed
    with pytest.raises(FileExistsError):
        archive.create_partial_run_dir(scored, as_of, run_id)


def test_the_next_run_cleans_what_a_killed_one_left_and_nothing_else(tmp_path):
    scored = tmp_path / "scored"
    done = _archived_run(scored, "2024-05-31", "20240601T000000Z-aaaaaa", ["Safe"])
    dead = archive.create_partial_run_dir(scored, dt.date(2024, 6, 30), "20240701T000000Z-b")
    dead = dead.rename(dead.with_name(f".20240701T000000Z-b.{owner_token(_dead_pid())}"))
    live = archive.create_partial_run_dir(scored, dt.date(2024, 6, 30), "20240701T000000Z-c")
    # a folder an older release left half-written under its final name: no report
    legacy = archive.create_run_dir(scored, dt.date(2024, 6, 30), "20240701T000000Z-dddddd")
    (legacy / "risk_list.csv").write_text("customer_id\n")
    link = scored / f".latest.{owner_token(_dead_pid())}.abcdef"
    link.symlink_to(done.relative_to(scored))
    assert archive.latest_run_dir(scored) == done.resolve()  # the half folder is skipped
    archive.recover_archive(scored)
    assert not dead.exists() and live.is_dir() and not link.is_symlink()
    assert not legacy.exists()
    assert (scored / archive.INCOMPLETE / "2024-06-30" / legacy.name / "risk_list.csv").exists()
    # killed between the rename and the link: `latest` is repointed at the newest run
    assert (scored / archive.LATEST).resolve() == done.resolve()
    newer = _archived_run(scored, "2024-06-30", "20240702T000000Z-eeeeee", ["Safe"])
    archive.recover_archive(scored)
    assert archive.latest_run_dir(scored) == newer.resolve()


def test_a_team_playbook_in_the_data_dir_overrides_the_shipped_one(tmp_path):
    settings = Settings.from_env(tmp_path)
    book, source = load_playbook(settings, TierPolicy())
    assert "shipped" in source and len(book) > 5
    (tmp_path / "playbook.csv").write_text("reason_group;tier;action\n*;*;Bel de klant\n",
                                           encoding="utf-8")
    book, source = load_playbook(settings, TierPolicy())
    assert source.endswith("playbook.csv") and book["action"].tolist() == ["Bel de klant"]
    (tmp_path / "playbook.csv").write_text("reason_group,tier,action\n*,Gold,x\n*,*,y\n")
    with pytest.raises(PlaybookError, match="playbook.csv line 2: unknown tier 'Gold'"):
        load_playbook(settings, TierPolicy())
