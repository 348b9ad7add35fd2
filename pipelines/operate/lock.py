"""One chain at a time per data dir: a second `churn run` on the same folder stops at once.

The lock is a file lock (released by the OS when its holder dies, so a crashed run never
blocks the next one); ingest keeps its own, finer lock inside.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

RUN_LOCK = ".churn-run.lock"


class RunInProgressError(RuntimeError):
    """Another chain holds this data dir."""


@contextmanager
def one_run_at_a_time(data_dir: Path, wait_seconds: float = 0.0) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(data_dir / RUN_LOCK)
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise RunInProgressError(
            f"another `churn run` is working on {data_dir} (lock {data_dir / RUN_LOCK}); "
            "wait for it to finish") from None
    try:
        yield
    finally:
        lock.release()
