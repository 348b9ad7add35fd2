"""Who owns a temporary file or folder, and removing those whose owner has died.

Every temporary name the pipeline writes before a rename (`atomic` files, a scoring run being
built, the analytics folder, the `scored/latest` link) carries an owner token,
`<host>-<pid>`. A process killed with SIGKILL cannot clean up after itself, so the next run
removes what a dead process of this host left; a live process's temporaries (a concurrent
run) and another host's (a shared data dir) are left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def this_host() -> str:
    """The host name, in the characters an owner token allows (no dots)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname()) or "host"


def owner_token(pid: int | None = None) -> str:
    return f"{this_host()}-{pid or os.getpid()}"


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process (or not a PID): not ours to judge
    return True


def owner_is_dead(name: str) -> bool:
    """True when `name` carries the owner token of a process of this host that has ended."""
    match = re.search(rf"\.{re.escape(this_host())}-(\d+)\.", name + ".")
    if match is None:
        return False
    pid = int(match[1])
    return pid != os.getpid() and not process_alive(pid)


def remove_dead_temporaries(folder: Path) -> list[Path]:
    """Remove the dot-named temporaries directly under `folder` left by dead processes; a
    hidden folder that a link in `folder` points at is published, not temporary, and stays."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    linked = {entry.resolve() for entry in folder.iterdir() if entry.is_symlink()}
    for entry in folder.iterdir():
        if (not entry.name.startswith(".") or not owner_is_dead(entry.name)
                or (not entry.is_symlink() and entry.resolve() in linked)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            _make_writable(entry)
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


def _make_writable(folder: Path) -> None:
    """Sealed (read-only) files inside a folder do not stop its removal on POSIX, but a
    read-only sub-folder would: give the owner write access back first."""
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o700)


HOST_TAG, PID_TAG = "churn.host", "churn.pid"


def owner_tags() -> dict[str, str]:
    """Tags for an MLflow run this process starts, so that the next run can tell a run whose
    process was killed (status RUNNING for ever) from one still in progress."""
    return {HOST_TAG: this_host(), PID_TAG: str(os.getpid())}


def run_owner_is_dead(tags: dict[str, str]) -> bool:
    """True when MLflow run `tags` name a process of this host that has ended."""
    if tags.get(HOST_TAG) != this_host() or not str(tags.get(PID_TAG, "")).isdigit():
        return False
    pid = int(tags[PID_TAG])
    return pid != os.getpid() and not process_alive(pid)
