"""The one sentence a known failure is reported with, by the CLI and by a Prefect run alike.

A scheduled run has no terminal: what the operator reads is the Failed state's message in the
Prefect UI. Both come from `failure_message`, so the UI shows exactly the line `churn run`
prints. Unexpected errors get no sentence: their traceback is the useful report.
"""

from __future__ import annotations

import errno
import functools
import os

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
NOT_WRITABLE = (errno.EROFS, errno.EACCES, errno.EPERM)
# What SQLite says (through SQLAlchemy or MLflow) when its file cannot take a write.
SQLITE_NOT_WRITABLE = ("readonly database", "read-only file system")
SQLITE_NO_SPACE = ("database or disk is full", "no space left on device")


@functools.cache
def known_failures() -> tuple[type[BaseException], ...]:
    """Refused inputs and missing data: the message says what to do, a traceback would not.
    Imported on the first failure, not before: the classes live beside code (LightGBM,
    MLflow) that a command like `churn ingest` never loads."""
    from features.labels import CensoredCutoffError
    from models.train import TemporalSplitError
    from pipelines.ingest.run import IngestError
    from pipelines.operate.lock import RunInProgressError
    from pipelines.store.remote import RemoteStoreError
    from pipelines.tracking.problems import ModelStoreError, ServiceUnavailableError
    from pipelines.tracking.registry import NoChampionError

    return (IngestError, FileNotFoundError, NoChampionError, TemporalSplitError,
            CensoredCutoffError, RunInProgressError, ModelStoreError, ServiceUnavailableError,
            RemoteStoreError, ValueError)


def failure_message(step: str, error: BaseException) -> str | None:
    """`<step> failed: <why>` on one line for a known failure, else None.

    Ingest problems are named by ingest itself (one per file), whatever command ran it."""
    from pipelines.ingest.run import IngestError

    if isinstance(error, IngestError):
        problems = error.problems
        if len(problems) == 1:
            return f"ingest failed: {problems[0]}"
        return f"ingest failed: {len(problems)} problems: " + "; ".join(problems)
    storage = storage_problem(step, error)
    if storage is not None:
        return f"{step} failed: {storage}"
    if isinstance(error, known_failures()):
        return f"{step} failed: {error}"
    return None


def storage_problem(step: str, error: BaseException) -> str | None:
    """A disk that is full or a folder that cannot be written, said with what to do; None
    for anything else. The OS error's own text (`[Errno 28] ...`) names neither."""
    if isinstance(error, OSError) and error.errno is not None:
        where = error.filename or "the data dir"
        if error.errno in NO_SPACE:
            return _no_space(step, str(where))
        if error.errno in NOT_WRITABLE:
            return _not_writable(str(where))
        if error.errno == errno.ENOENT and error.filename:
            return (f"{error.filename} does not exist (moved or deleted?); restore it, or "
                    f"rerun the command that writes it, then `churn {step}` again")
        return None
    if type(error).__name__ in ("OperationalError", "MlflowException"):
        text = str(error).lower()
        if any(marker in text for marker in SQLITE_NO_SPACE):
            return _no_space(step, "the MLflow store")
        if any(marker in text for marker in SQLITE_NOT_WRITABLE):
            return _not_writable("the MLflow store (mlflow/mlflow.db)")
        if "api request to" in text and "max retries exceeded" in text:
            return (f"the MLflow server at {os.environ.get('MLFLOW_TRACKING_URI', '?')} "
                    "stopped answering; start it again, or unset MLFLOW_TRACKING_URI to use "
                    "the data dir's own store")
    return None


def _no_space(step: str, where: str) -> str:
    return (f"no space left on the disk holding {where}; free some space (old runs under "
            f"scored/ can be archived elsewhere) and run `churn {step}` again")


def _not_writable(where: str) -> str:
    return (f"cannot write {where}: the data dir is read-only or not yours; make it writable "
            "(chmod -R u+w on the data dir) or give another --data-dir")
