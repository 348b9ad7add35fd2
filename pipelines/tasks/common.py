"""What every task shares: the run logger, where feature tables and model inputs live,
and the cutoff a run treats as "now"."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from prefect import get_run_logger, task
from prefect.exceptions import MissingContextError

from features.labels import LabelSpec
from pipelines.store.settings import Settings
from pipelines.store.staged import staged_data_end


def task_logger() -> logging.Logger | logging.LoggerAdapter:
    """The run logger inside a flow, a plain logger when a task function is called directly."""
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("churn")


def feature_table_path(settings: Settings, as_of: dt.date) -> Path:
    return settings.features_dir / f"{as_of}.parquet"


def model_input_path(settings: Settings, data_end: dt.date, spec: LabelSpec) -> Path:
    # Snapshots of different label settings must not overwrite each other.
    return settings.model_input_dir / f"{data_end}_{spec.file_tag}.parquet"


@task(name="resolve-cutoff")
def resolve_cutoff(settings: Settings, requested: dt.date | None) -> dt.date:
    """The date a run treats as "now": `requested`, else the last day the staged data covers
    (from the event timestamps alone; the tables are loaded by the task that needs them)."""
    cutoff = requested if requested is not None else staged_data_end(settings)
    task_logger().info("cutoff %s%s", cutoff, "" if requested else " (the last event date)")
    return cutoff
