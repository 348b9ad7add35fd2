"""After a killed run: its MLflow runs are marked FAILED, its temporaries go; nothing else."""

from __future__ import annotations

import subprocess
import sys

from pipelines.operate import recovery
from pipelines.store import leftovers
from pipelines.store.settings import Settings


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_runs_of_dead_processes_of_this_host_are_marked_failed(tmp_path):
    from mlflow.tracking import MlflowClient

    from pipelines.tracking.connect import configure_mlflow

    settings = Settings(data_dir=tmp_path,
                        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}")
    experiment = configure_mlflow(settings)
    client = MlflowClient()
    host = leftovers.this_host()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        owners = {"killed": {leftovers.HOST_TAG: host, leftovers.PID_TAG: str(_dead_pid())},
                  "alive": {leftovers.HOST_TAG: host, leftovers.PID_TAG: str(sleeper.pid)},
                  "elsewhere": {leftovers.HOST_TAG: "other-host", leftovers.PID_TAG: "1"},
                  "untagged": {}}
        runs = {name: client.create_run(experiment, tags=tags).info.run_id
                for name, tags in owners.items()}
        finished = client.create_run(experiment, tags=owners["killed"]).info.run_id
        client.set_terminated(finished, "FINISHED")
        assert recovery.fail_dead_mlflow_runs(settings) == [runs["killed"]]
    finally:
        sleeper.kill()
        sleeper.wait()
    status = {name: client.get_run(run_id).info.status for name, run_id in runs.items()}
    assert status == {"killed": "FAILED", "alive": "RUNNING", "elsewhere": "RUNNING",
                      "untagged": "RUNNING"}
    assert client.get_run(finished).info.status == "FINISHED"
    assert recovery.FAILED_NOTE_TAG in client.get_run(runs["killed"]).data.tags


def test_leftovers_of_a_killed_run_go_from_every_output_folder(tmp_path):
    settings = Settings(data_dir=tmp_path, mlflow_tracking_uri="sqlite:///unused.db")
    token = leftovers.owner_token(_dead_pid())
    left = [settings.model_input_dir / f".2026-10-31_h90.parquet.{token}.a1.tmp",
            settings.reports_dir / f".ingest_report.json.{token}.b2.tmp",
            settings.data_dir / f".staged.20261201T000000Z-1.{token}.tmp"]
    for path in left:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("half")
    kept = settings.model_input_dir / "2026-10-31_h90.parquet"
    kept.write_text("whole")
    recovery.recover_after_killed_runs(settings, mlflow=False)
    assert not any(path.exists() for path in left) and kept.exists()
