"""Every raw file read into its staged rows, one task a file: in this process, or on a Dask
cluster on this machine (`CHURN_DASK_SCHEDULER=local[:N]`), where files are read in
parallel. The results come back in the files' order and each file is read by the same pure
`read_export` either way, so what is staged does not depend on where it was read.

A scheduler elsewhere (`tcp://…`) reads here instead: its workers do not see this machine's
files (a data dir in object storage is pulled to a local working copy before the ingest).
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from pipelines.ingest.export_file import StagedFile, read_export
from pipelines.ingest.sources_file import SourceRule
from pipelines.ingest.staging import StagingError
from pipelines.scale.memory import release_freed_memory
from pipelines.scale.settings import LOCAL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileTask:
    """What one file's read needs (picklable: it travels to a worker)."""

    path: Path
    kind: str | None
    rule: SourceRule
    timezone: str
    now: pd.Timestamp
    label: str


@dataclass(frozen=True)
class FileFailure:
    """A file that could not be read: the problem line, and the traceback of a bug."""

    problem: str
    trace: str | None = None


def read_one(task: FileTask) -> StagedFile | FileFailure:
    """`read_export` of one file; its refusal as the problem line (never raised, so one
    worker's bad file does not cancel the others)."""
    try:
        return read_export(task.path, task.kind, task.rule, task.timezone, task.now)
    except StagingError as error:
        return FileFailure(f"{task.label}: {error}")
    except Exception:  # a bug, not the file's fault: one line for the user, the trace logged
        return FileFailure(f"{task.label}: could not be read because of an unexpected problem "
                           "in the ingest (logged); please report it together with this file",
                           traceback.format_exc())


def read_files(tasks: list[FileTask]) -> list[StagedFile | FileFailure]:
    """Each task's result in order, read where the scale settings say (see the module)."""
    from pipelines.scale.runner import shard_runner

    with shard_runner() as runner:
        if len(tasks) > 1 and runner.settings.scheduler == LOCAL:
            results = runner.map(read_one, tasks, label="reading exports")
        else:
            results = []
            for task in tasks:  # a large file's freed pages go back before the next file
                results.append(read_one(task))
                release_freed_memory()
    for task, result in zip(tasks, results, strict=True):
        if isinstance(result, FileFailure) and result.trace:
            log.error("reading %s failed\n%s", task.label, result.trace)
    return results
