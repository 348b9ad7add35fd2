"""The task that applies the retention period (`pipelines.privacy.retention`) and bounds the
Prefect run history (`pipelines.operate.prefect_history`) after ingest and after scoring."""

from __future__ import annotations

import datetime as dt

from prefect import task

from pipelines.privacy.retention import prune_expired
from pipelines.store.settings import Settings
from pipelines.tasks.common import task_logger


@task(name="prune-expired", task_run_name="retention")
def prune_expired_data(settings: Settings, now: dt.datetime | None = None) -> list[str]:
    """Archived runs, analytics and quarantine past `CHURN_RETENTION_DAYS`, removed; then
    Prefect flow runs and artifacts past the history bound (a Prefect API that cannot be
    reached is logged as a warning: the run's own work is done)."""
    from pipelines.operate.prefect_history import prune_prefect_history

    now = now or dt.datetime.now(dt.UTC)
    removed = prune_expired(settings, now)
    if removed:
        task_logger().info("retention of %d days: removed %d item(s): %s",
                           settings.retention_days, len(removed), ", ".join(removed))
    try:
        history = prune_prefect_history(settings, now)
    except Exception as error:  # noqa: BLE001 — any client/transport error: try next run
        task_logger().warning("the Prefect run history was not pruned: %s", error)
        return removed
    if history is not None and history.flow_runs:
        task_logger().info("Prefect history before %s: removed %d flow run(s), %d artifact(s)",
                           history.cutoff.date(), len(history.flow_runs), history.artifacts)
        removed += [f"prefect flow run {name}" for name in history.flow_runs]
    return removed
