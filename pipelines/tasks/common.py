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
def resolve_cutoff(settings: Settings, requested: dt.date | None,
                   allow_after_data_end: bool = False) -> dt.date:
    """The date a run treats as "now": `requested`, else the last day the staged data covers
    (from the event timestamps alone; the tables are loaded by the task that needs them).

    A requested date after that day is refused unless `allow_after_data_end`: nothing after
    it is known, so every customer would look inactive, tiers would fill with the lapsed,
    and the archive's "latest" list would move to a day no data describes."""
    end = staged_data_end(settings)
    if requested is not None and requested > end and not allow_after_data_end:
        raise ValueError(
            f"{requested} is after the last event in the staged data ({end}): nothing later "
            f"is known, so customers would look inactive; use a date on or before {end}, "
            "ingest newer exports, or pass --force to use it anyway")
    cutoff = requested if requested is not None else end
    task_logger().info("cutoff %s%s", cutoff, "" if requested else " (the last event date)")
    return cutoff
