"""Tasks that bring data in: sample exports for the demo, and staging the raw exports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import task

from pipelines.ingest.run import ingest_raw_exports
from pipelines.operate.caching import (
    IO_BACKOFF_SECONDS,
    IO_RETRIES,
    RAW_CONTENT,
    is_transient,
)
from pipelines.sample import generate as sample_data
from pipelines.store.settings import Settings
from pipelines.tasks.common import task_logger


@task(name="generate-sample-exports")
def generate_sample_exports(
    settings: Settings, customers: int, seed: int, end: dt.date | None = None,
    dialect: str = "canonical", business: str = "retail",
) -> dict[str, Any]:
    written = sample_data.generate_and_write(settings, customers=customers, seed=seed, end=end,
                                             dialect=dialect, business=business)
    task_logger().info("wrote %s", {k: str(v) for k, v in written.items()})
    return {kind: str(path) for kind, path in written.items()}


@task(name="stage-raw-exports", task_run_name="stage raw exports", tags=["io"],
      cache_policy=RAW_CONTENT, persist_result=True, retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def stage_raw_exports(
    settings: Settings, skip_bad_files: bool = False, explain: bool = False
) -> dict[str, Any]:
    report = ingest_raw_exports(settings, skip_bad_files=skip_bad_files, explain=explain)
    logger = task_logger()
    if report.unchanged:
        logger.info("raw files unchanged since the last ingest: nothing to do")
    for problem in report.skipped_files:
        logger.warning("skipped %s", problem)
    for warning in report.warnings:
        logger.warning("%s", warning)
    for account in report.accounts:
        logger.info(
            "%s: read %d = staged %d + duplicates %d + quarantined %d%s %s",
            account.file, account.rows_read, account.staged, account.duplicates,
            account.quarantined, f" + erased {account.erased}" if account.erased else "",
            account.reasons or "",
        )
    return report.to_dict()
