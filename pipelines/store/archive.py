"""The scoring archive: `scored/<as-of>/<run-id>/`, never overwritten; `scored/latest`.

A run directory is created exclusively (an existing one is an error, not a merge) and its files
are made read-only once written, so last month's list stays what the team worked from.
"""

from __future__ import annotations

import datetime as dt
import os
import stat
import uuid
from pathlib import Path

import pandas as pd

from pipelines.store.atomic import write_text_atomic

LATEST = "latest"


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable and unique: UTC time plus a short random suffix."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def create_run_dir(scored_dir: Path, as_of: dt.date, run_id: str) -> Path:
    run_dir = scored_dir / str(as_of) / run_id
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    run_dir.mkdir(exist_ok=False)  # archives are never overwritten
    return run_dir


def latest_run_dir(scored_dir: Path) -> Path | None:
    """The run `scored/latest` names, else the newest run id found on disk."""
    link = scored_dir / LATEST
    if link.is_symlink() or link.is_dir():
        target = link.resolve()
        if (target / "risk_list.parquet").exists():
            return target
    pointer = scored_dir / "latest.txt"
    if pointer.exists():
        target = scored_dir / pointer.read_text().strip()
        if (target / "risk_list.parquet").exists():
            return target
    runs = [p.parent for p in scored_dir.glob("*/*/risk_list.parquet")]
    return max(runs, key=lambda p: p.name) if runs else None


def previous_risk_list(scored_dir: Path) -> tuple[pd.DataFrame | None, str | None]:
    """The risk list of the newest archived run and its `<as-of>/<run-id>`, if any."""
    run_dir = latest_run_dir(scored_dir)
    if run_dir is None:
        return None, None
    frame = pd.read_parquet(run_dir / "risk_list.parquet", columns=["customer_id", "risk_tier"])
    return frame, str(run_dir.relative_to(scored_dir.resolve()))


def point_latest(scored_dir: Path, run_dir: Path) -> None:
    """`scored/latest` names the newest run (a symlink where possible, else a text file)."""
    link = scored_dir / LATEST
    relative = run_dir.relative_to(scored_dir)
    try:
        temp = scored_dir / f".latest-{uuid.uuid4().hex[:6]}"
        temp.symlink_to(relative, target_is_directory=True)
        temp.replace(link)
    except OSError:
        write_text_atomic(str(relative) + "\n", scored_dir / "latest.txt")


def seal(run_dir: Path) -> None:
    """Make every file of a finished run read-only."""
    for path in run_dir.iterdir():
        if path.is_file():
            mode = path.stat().st_mode
            os.chmod(path, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
