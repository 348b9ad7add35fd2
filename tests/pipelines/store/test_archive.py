"""The scoring archive: exclusive run directories, read-only files, `latest`, previous run."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from models.playbook import PlaybookError
from models.tiers import TierPolicy
from pipelines.deliver.scoring_run import load_playbook
from pipelines.store import archive
from pipelines.store.settings import Settings


def _archived_run(scored, as_of: str, run_id: str, tiers: list[str]):
    run_dir = archive.create_run_dir(scored, dt.date.fromisoformat(as_of), run_id)
    pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(tiers))], "risk_tier": tiers}
                 ).to_parquet(run_dir / "risk_list.parquet")
    return run_dir


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
