"""Pruning what is kept past `CHURN_RETENTION_DAYS`: archived scoring runs, analytics folders
and quarantine files older than that many days.

A run's age is read from its id (`<UTC time>-<suffix>`, `pipelines.store.archive`), a
folder's or file's from its modification time. The run `scored/latest` points to is never
pruned, nor the analytics of its date (its report links them), however old: the team's
current list must stay. Without the setting nothing is pruned.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from pipelines.store import archive
from pipelines.store.settings import Settings

RUN_TIME_FORMAT = "%Y%m%dT%H%M%SZ"


def run_time(run_dir: Path) -> dt.datetime:
    """When an archived run was made: from its id, else its folder's modification time."""
    try:
        return dt.datetime.strptime(run_dir.name.split("-", 1)[0], RUN_TIME_FORMAT).replace(
            tzinfo=dt.UTC)
    except ValueError:
        return _modified(run_dir)


def _modified(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def prune_expired(settings: Settings, now: dt.datetime) -> list[str]:
    """Remove archived runs, analytics folders and quarantine files older than the retention
    period; what was removed (relative to the data dir)."""
    if settings.retention_days is None:
        return []
    cutoff = now.astimezone(dt.UTC) - dt.timedelta(days=settings.retention_days)
    latest = archive.latest_run_dir(settings.scored_dir)
    keep = latest.resolve() if latest is not None else None
    removed: list[str] = []
    # complete runs, and what a kill left half-written (moved aside by archive.recover_archive);
    # never the folders of runs being built now (scored/.partial/)
    aside = settings.scored_dir / archive.INCOMPLETE
    runs = [*archive.archived_runs(settings.scored_dir),
            *(p for p in aside.glob("*/*") if p.is_dir())]
    for run_dir in sorted(runs):
        if run_dir.is_symlink() or run_dir.resolve() == keep or run_time(run_dir) >= cutoff:
            continue
        shutil.rmtree(run_dir)
        removed.append(str(run_dir.relative_to(settings.data_dir)))
        if not any(run_dir.parent.iterdir()):
            run_dir.parent.rmdir()
    latest_as_of = keep.parent.name if keep is not None else None
    # analytics/<as-of> is a link to the folder that was written last (deliver.analytics_run)
    for folder in sorted(p for p in settings.analytics_dir.glob("[!.]*") if p.is_dir()):
        if folder.name != latest_as_of and _modified(folder) < cutoff:
            target = folder.resolve()
            if folder.is_symlink():
                folder.unlink()
            shutil.rmtree(target)
            removed.append(str(folder.relative_to(settings.data_dir)))
    for path in sorted(settings.quarantine_dir.glob("*.csv")):
        if _modified(path) < cutoff:
            path.unlink()
            removed.append(str(path.relative_to(settings.data_dir)))
    return removed
