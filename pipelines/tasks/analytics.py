"""The task that writes the retention analytics of an as-of date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import task

from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables
from pipelines.tasks.common import task_logger


@task(name="write-analytics")
def write_analytics_folder(settings: Settings, as_of: dt.date, policy: Any,
                           lang: str = "en") -> dict[str, Any]:
    """Retention analytics at `as_of` -> `analytics/<as-of>/` (page, workbook, headline)."""
    from pipelines.deliver.analytics_run import write_analytics

    result = write_analytics(settings, load_source_tables(settings), as_of, policy, lang)
    task_logger().info("analytics at %s -> %s", as_of, result["folder"])
    return result
