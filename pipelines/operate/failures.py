"""The one sentence a known failure is reported with, by the CLI and by a Prefect run alike.

A scheduled run has no terminal: what the operator reads is the Failed state's message in the
Prefect UI. Both come from `failure_message`, so the UI shows exactly the line `churn run`
prints. Unexpected errors get no sentence: their traceback is the useful report.
"""

from __future__ import annotations

import functools


@functools.cache
def known_failures() -> tuple[type[BaseException], ...]:
    """Refused inputs and missing data: the message says what to do, a traceback would not.
    Imported on the first failure, not before: the classes live beside code (LightGBM,
    MLflow) that a command like `churn ingest` never loads."""
    from features.labels import CensoredCutoffError
    from models.train import TemporalSplitError
    from pipelines.ingest.run import IngestError
    from pipelines.operate.lock import RunInProgressError
    from pipelines.tracking.registry import NoChampionError

    return (IngestError, FileNotFoundError, NoChampionError, TemporalSplitError,
            CensoredCutoffError, RunInProgressError, ValueError)


def failure_message(step: str, error: BaseException) -> str | None:
    """`<step> failed: <why>` on one line for a known failure, else None.

    Ingest problems are named by ingest itself (one per file), whatever command ran it."""
    from pipelines.ingest.run import IngestError

    if isinstance(error, IngestError):
        problems = error.problems
        if len(problems) == 1:
            return f"ingest failed: {problems[0]}"
        return f"ingest failed: {len(problems)} problems: " + "; ".join(problems)
    if isinstance(error, known_failures()):
        return f"{step} failed: {error}"
    return None
