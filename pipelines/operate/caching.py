"""Cache keys from the content of the files a task reads, and which failures are worth a retry.

Prefect's default cache key includes the flow-run id, so nothing is reused across runs. The
expensive tasks here use `INPUTS + TASK_SOURCE + FilesContent(...)`: same arguments, same
code and the same bytes in the folders the task reads give the same key, whatever run asks.
A key says nothing about whether what the task wrote is still there; `refreshed_if_missing`
reruns a task whose outputs were deleted since.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect.cache_policies import INPUTS, TASK_SOURCE, CachePolicy
from prefect.tasks import Task

CHUNK = 1 << 20
# Tasks that read or write the data dir or MLflow retry transient IO failures (a network share
# hiccup, SQLite's "database is locked") after 2, 4, then 8 s; a missing file or a refused
# input fails at once, with its own message.
IO_RETRIES = 3
IO_BACKOFF_SECONDS = [2.0, 4.0, 8.0]
NOT_TRANSIENT: tuple[type[BaseException], ...] = (
    FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError,
)


def content_digest(paths: list[Path]) -> str:
    """sha256 over every file under `paths` (relative name and bytes, in name order); a path
    that does not exist counts as such, so deleting an input changes the digest too."""
    digest = hashlib.sha256()
    for root in paths:
        digest.update(f"\0root {root.name}\0".encode())
        if not root.exists():
            digest.update(b"absent")
            continue
        base = root.resolve()  # staged/ is a symlink to its current version
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            digest.update(f"\0{path.relative_to(base.parent)}\0".encode())
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
    return digest.hexdigest()


@dataclass
class FilesContent(CachePolicy):
    """Key part: the content of `folders` (names under the task's `settings.data_dir`)."""

    folders: tuple[str, ...] = ()

    def compute_key(self, task_ctx: Any, inputs: dict[str, Any],
                    flow_parameters: dict[str, Any], **kwargs: Any) -> str | None:
        settings = (inputs or {}).get("settings")
        if settings is None:
            return None
        return content_digest([settings.data_dir / folder for folder in self.folders])


@dataclass
class UtcDay(CachePolicy):
    """Key part: today's date (UTC), for a task whose result depends on the day it runs
    (ingest quarantines rows dated after "now" + 2 days)."""

    def compute_key(self, task_ctx: Any, inputs: dict[str, Any],
                    flow_parameters: dict[str, Any], **kwargs: Any) -> str | None:
        return str(dt.datetime.now(dt.UTC).date())


@dataclass
class IngestCode(CachePolicy):
    """Key part: the ingest code's hash (a new release may stage the same files differently;
    TASK_SOURCE covers only the task's own body)."""

    def compute_key(self, task_ctx: Any, inputs: dict[str, Any],
                    flow_parameters: dict[str, Any], **kwargs: Any) -> str | None:
        from pipelines.ingest.run import ingest_code_digest

        return ingest_code_digest()


@dataclass
class EnvironmentSetting(CachePolicy):
    """Key part: an environment variable's value, for a task whose result it changes
    (`CHURN_TRAIN_MEMORY_MB` decides whether the model input is a customer sample)."""

    name: str = ""

    def compute_key(self, task_ctx: Any, inputs: dict[str, Any],
                    flow_parameters: dict[str, Any], **kwargs: Any) -> str | None:
        return f"{self.name}={os.environ.get(self.name, '').strip()}"


# Staging reads raw/ and sources.yaml; features and model input read the staged tables.
# The erasure log too: a new erasure restages without the customer (pipelines.privacy).
RAW_CONTENT = (INPUTS + TASK_SOURCE
               + FilesContent(folders=("raw", "sources.yaml", "privacy/erasures.json"))
               + UtcDay() + IngestCode())
STAGED_CONTENT = INPUTS + TASK_SOURCE + FilesContent(folders=("staged",))
MODEL_INPUT_CONTENT = STAGED_CONTENT + EnvironmentSetting(name="CHURN_TRAIN_MEMORY_MB")


P = ParamSpec("P")
R = TypeVar("R")


def refreshed_if_missing(task: Task[P, R], *outputs: Path) -> Task[P, R]:
    """`task`, made to ignore its cache when any of the files it writes has gone."""
    if all(path.exists() for path in outputs):
        return task
    return task.with_options(refresh_cache=True)


def is_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry condition: an OS-level or database error that may pass (never a refused input)."""
    try:
        state.result(raise_on_failure=True)
    except NOT_TRANSIENT:
        return False
    except OSError as error:  # a full disk or a read-only folder does not pass in seconds
        return error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS)
    except Exception as error:  # SQLAlchemy's OperationalError: "database is locked"
        return type(error).__name__ == "OperationalError"
    return False
