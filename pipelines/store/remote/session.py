"""One command on a remote data dir: lock the working copy, pull, (the command runs on the
copy), push what it changed, unlock.

A command that fails pushes nothing: the bucket keeps the state the command started from,
and the next pull puts the working copy back to it. One command at a time uses a working
copy (a second one on this machine is refused); one writer at a time per bucket prefix
(a second machine's push is refused, `sync.ConcurrentPushError`).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.store.permissions import owner_only
from pipelines.store.remote.copy import STATE_FILE, SyncState
from pipelines.store.remote.location import (
    RemoteDataDir,
    RemoteStoreError,
    open_filesystem,
    remote_errors,
    sync_root,
)
from pipelines.store.remote.sync import SyncReport, pull, push, scratch_dir

WORKING_COPY = "data"
LOCK_FILE = "sync.lock"
# MLflow stores a command may use beside a remote data dir: a server every machine reaches.
MLFLOW_SERVER_SCHEMES = ("http://", "https://", "databricks")


@dataclass
class RemoteSession:
    remote: RemoteDataDir
    step: str
    base: Path  # sync_root, as it was when the session opened
    fs: Any
    lock: Any
    state: SyncState
    pulled: SyncReport | None = None
    pushed: SyncReport | None = None

    @property
    def working_copy(self) -> Path:
        return self.base / WORKING_COPY


def require_shared_mlflow() -> None:
    """With a remote data dir, MLflow is either the data dir's own SQLite store (it travels
    with the data dir) or a server; a SQLite file elsewhere would stay on this machine."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    if uri and not uri.startswith(MLFLOW_SERVER_SCHEMES):
        raise RemoteStoreError(
            "with an s3:// data dir, MLFLOW_TRACKING_URI must be an MLflow server "
            "(http(s)://...) that every machine reaches, or unset: the data dir's own store "
            "then travels with it; a local store would stay on this machine")


def open_session(url: str, step: str) -> RemoteSession:
    """Lock this machine's working copy of `url` and pull the bucket's newest state into it."""
    from filelock import FileLock, Timeout

    from pipelines.store.settings import protect_new_files

    remote = RemoteDataDir.parse(url)
    require_shared_mlflow()
    protect_new_files()  # the working copy holds the same personal data as the bucket
    base = sync_root(remote)
    (base / WORKING_COPY).mkdir(parents=True, exist_ok=True)
    owner_only([base, base / WORKING_COPY])
    lock = FileLock(base / LOCK_FILE)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RemoteStoreError(
            f"another churn command is using this machine's working copy of {remote.url} "
            f"({base / WORKING_COPY}); wait for it to finish") from None
    try:
        with remote_errors(remote, "opening"):
            fs = open_filesystem()
        state = SyncState.load(base / STATE_FILE, remote.url)
        session = RemoteSession(remote=remote, step=step, base=base, fs=fs, lock=lock,
                                state=state)
        session.pulled = pull(fs, remote, session.working_copy, state)
        state.save(base / STATE_FILE)
    except BaseException:
        lock.release()
        raise
    return session


def push_session(session: RemoteSession, upload: Any = None) -> SyncReport | None:
    """Push what the command changed (None: nothing did); the sync record follows only a
    push that committed."""
    scratch = scratch_dir(session.base / "scratch")
    try:
        report = push(session.fs, session.remote, session.working_copy, session.state, scratch,
                      upload=upload)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if report is not None:
        session.state.save(session.base / STATE_FILE)
    session.pushed = report
    return report


def close_session(session: RemoteSession) -> None:
    session.lock.release()


def describe(report: SyncReport | None, verb: str, url: str) -> str:
    """One line on what a pull or push moved."""
    if report is None:
        return f"{url}: nothing changed, nothing pushed"
    size = report.transferred_bytes / 1e6
    gone = f", {len(report.removed)} removed" if report.removed else ""
    return (f"{url}: {verb} {len(report.transferred)} changed file(s) ({size:.1f} MB), "
            f"{report.unchanged} unchanged{gone}, generation {report.generation}"
            f"{' (nothing pushed yet)' if report.generation == 0 else ''}, "
            f"{report.seconds:.1f} s")
