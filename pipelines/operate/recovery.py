"""What a run does first after one was killed: remove what dead processes left half-made, and
close their MLflow runs (and their Prefect flow runs: `pipelines.operate.prefect_runs`).

A SIGKILLed command runs no cleanup. Every output it was writing is under a temporary name
(`store.atomic`, `store.archive`, `store.staged`, the analytics folder), so readers never see
it; this removes those temporaries once their owner has ended (`store.leftovers`), and marks
FAILED the MLflow runs a dead process of this host left in RUNNING (they carry its host and
PID as tags from their start). Runs of live processes, of other hosts and runs started before
the tags existed are left alone.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipelines.store.archive import recover_archive
from pipelines.store.leftovers import remove_dead_temporaries, run_owner_is_dead
from pipelines.store.settings import Settings

logger = logging.getLogger("churn")
FAILED_NOTE_TAG = "churn.marked_failed"


def remove_dead_leftovers(settings: Settings) -> list[Path]:
    """Every temporary a dead process left in the data dir's output folders; what went."""
    folders = (settings.data_dir, settings.features_dir, settings.model_input_dir,
               settings.reports_dir, settings.quarantine_dir, settings.analytics_dir)
    removed = [path for folder in folders for path in remove_dead_temporaries(folder)]
    removed += recover_archive(settings.scored_dir)
    for path in removed:
        logger.info("removed %s, left by a run that was killed", path)
    return removed


def fail_dead_mlflow_runs(settings: Settings) -> list[str]:
    """Mark FAILED every RUNNING MLflow run whose process (on this host) has ended; their ids."""
    from mlflow.entities import ViewType
    from mlflow.tracking import MlflowClient

    from pipelines.tracking.connect import use_tracking_store

    use_tracking_store(settings)
    client = MlflowClient()
    experiments = [e.experiment_id for e in client.search_experiments(view_type=ViewType.ALL)]
    if not experiments:
        return []
    failed = []
    for run in client.search_runs(experiments, "attributes.status = 'RUNNING'",
                                  run_view_type=ViewType.ALL, max_results=1000):
        if run_owner_is_dead(run.data.tags):
            client.set_tag(run.info.run_id, FAILED_NOTE_TAG,
                           f"its process (pid {run.data.tags.get('churn.pid')}) ended "
                           "before the run did")
            client.set_terminated(run.info.run_id, status="FAILED")
            failed.append(run.info.run_id)
    for run_id in failed:
        logger.warning("marked MLflow run %s FAILED: the process running it was killed", run_id)
    return failed


def recover_after_killed_runs(settings: Settings, mlflow: bool = True) -> None:
    """Both of the above; the MLflow part only for commands that open the store anyway, and
    not before an embedded store exists (opening one would create it). In a flow run, also
    the Prefect flow runs killed processes left RUNNING (`operate.prefect_runs`)."""
    from pipelines.operate.prefect_runs import recover_prefect_runs

    remove_dead_leftovers(settings)
    recover_prefect_runs()
    store = settings.mlflow_tracking_uri.removeprefix("sqlite:///")
    if mlflow and (store == settings.mlflow_tracking_uri or Path(store).exists()):
        fail_dead_mlflow_runs(settings)
