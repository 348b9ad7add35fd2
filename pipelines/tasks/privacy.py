"""The task that applies the retention period (`pipelines.privacy.retention`) after ingest
and after scoring."""

from __future__ import annotations

import datetime as dt

from prefect import task

from pipelines.privacy.retention import prune_expired
from pipelines.store.settings import Settings
from pipelines.tasks.common import task_logger


@task(name="prune-expired", task_run_name="retention")
def prune_expired_data(settings: Settings, now: dt.datetime | None = None) -> list[str]:
    """Archived runs, analytics and quarantine past `CHURN_RETENTION_DAYS`, removed."""
    removed = prune_expired(settings, now or dt.datetime.now(dt.UTC))
    if removed:
        task_logger().info("retention of %d days: removed %d item(s): %s",
                           settings.retention_days, len(removed), ", ".join(removed))
    return removed
