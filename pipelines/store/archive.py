"""The scoring archive: `scored/<as-of>/<run-id>/`, never overwritten; `scored/latest`.

A run is built in `scored/.partial/<as-of>/.<run-id>.<owner>/` (three levels down, so no
`scored/*/*/` glob of a reader reaches it), its files are made read-only, and the folder is
renamed to its final name as a whole (`publish_run`): a folder under a final name is always
a complete run, even when the process was killed mid-way. The next run removes the partial
folders of dead processes (`recover_archive`). Folders that a version before this scheme
left half-written (no metadata, list or report) are moved to `scored/.incomplete/`, and
readers skip them in any case (`archived_runs`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import stat
import uuid
from pathlib import Path

import pandas as pd

from pipelines.store.atomic import write_text_atomic
from pipelines.store.leftovers import owner_token, remove_dead_temporaries

LATEST = "latest"
PARTIAL = ".partial"
INCOMPLETE = ".incomplete"
# What every reader of a run needs; a folder without one of them is no archived run.
REQUIRED_FILES = ("metadata.json", "risk_list.parquet", "report.html")

logger = logging.getLogger("churn")


def new_run_id(now: dt.datetime | None = None) -> str:
    """Sortable and unique: UTC time plus a short random suffix."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def final_run_dir(scored_dir: Path, as_of: dt.date, run_id: str) -> Path:
    return scored_dir / str(as_of) / run_id


def create_partial_run_dir(scored_dir: Path, as_of: dt.date, run_id: str) -> Path:
    """An empty folder to build the run in, invisible to readers until `publish_run`."""
    if final_run_dir(scored_dir, as_of, run_id).exists():
        raise FileExistsError(f"{final_run_dir(scored_dir, as_of, run_id)} exists; archived "
                              "runs are never overwritten")
    partial = scored_dir / PARTIAL / str(as_of) / f".{run_id}.{owner_token()}"
    partial.mkdir(parents=True)
    return partial


def publish_run(scored_dir: Path, partial: Path, as_of: dt.date, run_id: str) -> Path:
    """Seal the built run and rename it into the archive in one step; its final folder."""
    seal(partial)
    final = final_run_dir(scored_dir, as_of, run_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():  # rename would merge into nothing, but say why
        raise FileExistsError(f"{final} exists; archived runs are never overwritten")
    os.rename(partial, final)
    return final


def discard_partial_run(partial: Path) -> None:
    """Remove a run that failed while being built (a killed one is left to `recover_archive`)."""
    shutil.rmtree(partial, ignore_errors=True)


def create_run_dir(scored_dir: Path, as_of: dt.date, run_id: str) -> Path:
    """A run folder under its final name, created exclusively (tests build archives with it;
    a scoring run builds under `create_partial_run_dir` instead)."""
    run_dir = final_run_dir(scored_dir, as_of, run_id)
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    run_dir.mkdir(exist_ok=False)  # archives are never overwritten
    return run_dir


def is_complete_run(run_dir: Path) -> bool:
    return not run_dir.name.startswith(".") and all(
        (run_dir / name).is_file() for name in REQUIRED_FILES)


def archived_runs(scored_dir: Path, as_of: dt.date | None = None) -> list[Path]:
    """Every complete archived run (of `as_of`, or of every date), oldest run id first."""
    pattern = f"{as_of}/*" if as_of is not None else "*/*"
    runs = [p for p in scored_dir.glob(pattern)
            if not p.parent.name.startswith(".") and p.parent.name != LATEST
            and p.is_dir() and not p.is_symlink() and is_complete_run(p)]
    return sorted(runs, key=lambda p: (p.name, p.parent.name))


def recover_archive(scored_dir: Path) -> list[Path]:
    """After a killed run: remove the partial folders and link temporaries of dead processes,
    move aside folders a version before this scheme left half-written, and repoint
    `scored/latest` at the newest complete run when a kill came between the rename and the
    link. What was removed or moved."""
    touched: list[Path] = []
    if not scored_dir.is_dir():
        return touched
    for day in sorted((scored_dir / PARTIAL).glob("*")):
        touched += remove_dead_temporaries(day)
        if day.is_dir() and not any(day.iterdir()):
            day.rmdir()
    if (scored_dir / PARTIAL).is_dir() and not any((scored_dir / PARTIAL).iterdir()):
        (scored_dir / PARTIAL).rmdir()
    touched += remove_dead_temporaries(scored_dir)
    for folder in scored_dir.glob("*/*"):
        if (folder.parent.name.startswith(".") or folder.parent.name == LATEST
                or not folder.is_dir() or folder.is_symlink() or is_complete_run(folder)):
            continue
        aside = scored_dir / INCOMPLETE / folder.parent.name / folder.name
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.rename(folder, aside)
        logger.warning("moved the incomplete run folder %s to %s (a run killed before "
                       "it was finished)", folder, aside)
        touched.append(aside)
    runs = archived_runs(scored_dir)
    if runs and _pointed_run(scored_dir) != runs[-1].resolve():
        point_latest(scored_dir, runs[-1])
    return touched


def _pointed_run(scored_dir: Path) -> Path | None:
    """The complete run `scored/latest` (or `latest.txt`) names, if any."""
    link = scored_dir / LATEST
    if link.is_symlink() or link.is_dir():
        target = link.resolve()
        if is_complete_run(target):
            return target
    pointer = scored_dir / "latest.txt"
    if pointer.exists():
        target = scored_dir / pointer.read_text().strip()
        if is_complete_run(target):
            return target.resolve()
    return None


def latest_run_dir(scored_dir: Path) -> Path | None:
    """The complete run `scored/latest` names, else the newest complete run on disk."""
    pointed = _pointed_run(scored_dir)
    if pointed is not None:
        return pointed
    runs = archived_runs(scored_dir)
    return runs[-1].resolve() if runs else None


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
        temp = scored_dir / f".latest.{owner_token()}.{uuid.uuid4().hex[:6]}"
        temp.symlink_to(relative, target_is_directory=True)
        temp.replace(link)
    except OSError:
        write_text_atomic(str(relative) + "\n", scored_dir / "latest.txt")


def seal(run_dir: Path) -> None:
    """Make every file of a finished run read-only (so last month's list stays what the team
    worked from)."""
    for path in run_dir.iterdir():
        if path.is_file():
            mode = path.stat().st_mode
            os.chmod(path, mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
