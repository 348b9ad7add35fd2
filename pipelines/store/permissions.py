"""Owner-only stores, also for data dirs and Prefect homes made before files were created so.

`protect_new_files` (the umask) covers what a process creates from then on. A data dir or
Prefect home created earlier, or by a tool with another umask (`prefect server start` from a
shell, `mlflow ui`), may still be readable by every local user; taking the group's and
others' access off the folders themselves closes everything inside them, whatever the files'
own modes. `CHURN_SHARED_FILES=1` leaves modes alone, as it leaves the umask.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def shares_files() -> bool:
    """`CHURN_SHARED_FILES=1`: the team shares the data dir through a group; modes are left
    as the user's umask makes them."""
    return os.environ.get("CHURN_SHARED_FILES", "") in ("1", "true", "yes")

#: the database files each store keeps (SQLite's journal files hold the same rows)
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def new_folder_mode() -> int:
    """The mode `mkdir` would give a new folder under this process's umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def owner_only(paths: list[Path]) -> list[Path]:
    """Take group and other access off each existing path in `paths` (not recursively: a
    closed folder closes its contents); the paths changed."""
    if shares_files():
        return []
    changed = []
    for path in paths:
        try:
            mode = stat.S_IMODE(path.lstat().st_mode)
        except OSError:
            continue
        if path.is_symlink() or not mode & 0o077:
            continue
        try:
            os.chmod(path, mode & 0o700)
            changed.append(path)
        except OSError:  # not ours to change: SECURITY.md says what to check
            continue
    return changed


def store_paths(data_dir: Path, prefect_home: Path | None, mlflow_db: Path | None) -> list[Path]:
    """The folders and database files that hold personal data."""
    paths = [data_dir]
    if prefect_home is not None:
        paths += [prefect_home] + [prefect_home / f"prefect.db{s}" for s in SQLITE_SUFFIXES]
    if mlflow_db is not None:
        if mlflow_db.parent.is_relative_to(data_dir):  # a folder elsewhere may be shared
            paths.append(mlflow_db.parent)
        paths += [Path(f"{mlflow_db}{s}") for s in SQLITE_SUFFIXES]
    return paths
