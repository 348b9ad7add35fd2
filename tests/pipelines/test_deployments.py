"""prefect.yaml's deployments fire: `churn serve` against a real Prefect server on loopback.

One `churn serve` process (its own PREFECT_HOME in tmp, a free port) starts the local server
and serves every deployment of prefect.yaml; the test triggers `churn-weekly/weekly-run` on a
tiny generated data dir and on one without purchases, through the server's REST API, waits
for both to finish, then presses Ctrl-C (SIGINT to the process group) and checks that
serving and the server are gone. Whatever happens, everything started is stopped by PID.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from pipelines.store.settings import Settings

pytestmark = pytest.mark.flow

ROOT = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 150  # a cold server with migrations on 2 cores: ~20-40 s
RUN_SECONDS = 300  # a served weekly run (imports, ingest, training, scoring): ~30-60 s
STOP_SECONDS = 60
TINY_TRAINING = {"n_cutoffs": 4, "max_boost_rounds": 60, "min_positives": 20,
                 "min_negatives": 20}
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _api(url: str, path: str, body: dict | None = None, busy_seconds: float = 60) -> dict:
    """One call to the server's REST API. SQLite-backed Prefect answers 503 while another
    writer holds the database (`churn serve` registering its deployments): retry those, as
    Prefect's own client does."""
    deadline = time.monotonic() + busy_seconds
    while True:
        request = urllib.request.Request(
            f"{url}{path}", method="POST" if body is not None else "GET",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            if error.code != 503 or time.monotonic() > deadline:
                raise
        time.sleep(0.5)


def _until(what: str, probe, seconds: float, serving: subprocess.Popen, log: Path):
    """`probe()`'s first truthy value, polled; fails with the serve log if it never comes."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if serving.poll() is not None:
            pytest.fail(f"churn serve exited ({serving.returncode}) while waiting for {what}:"
                        f"\n{log.read_text(errors='replace')[-4000:]}")
        try:
            value = probe()
        except OSError:  # not up yet, or a 404 before the deployment exists
            value = None
        if value:
            return value
        time.sleep(1)
    pytest.fail(f"no {what} after {seconds:.0f} s:\n{log.read_text(errors='replace')[-4000:]}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def _stop_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except OSError:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Two weekly runs triggered on `churn serve`, and how serving stopped on Ctrl-C."""
    from pipelines.ingest.run import IngestError, ingest_raw_exports
    from pipelines.operate.failures import failure_message
    from pipelines.operate.local_api import RECORD, stop_local_api
    from pipelines.sample.generate import generate_and_write

    base = tmp_path_factory.mktemp("served")
    data_dir, empty_dir, home = base / "data", base / "no-purchases", base / "prefect-home"
    home.mkdir()
    generate_and_write(Settings.from_env(data_dir), customers=400, seed=5)
    generate_and_write(Settings.from_env(empty_dir), customers=60, seed=5)
    for path in (empty_dir / "raw" / "purchases").iterdir():
        path.unlink()
    with pytest.raises(IngestError) as refused:  # what the failed run must say
        ingest_raw_exports(Settings.from_env(empty_dir))
    expected_failure = failure_message("run", refused.value)

    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PREFECT_", "MLFLOW_", "CHURN_"))}
    env.update(PREFECT_HOME=str(home), PREFECT_RUNNER_POLL_FREQUENCY="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", CHURN_PREFECT_IDLE_MINUTES="5",
               MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR="false")
    log = base / "serve.log"
    started = time.monotonic()
    with log.open("wb") as out:
        serving = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "serve", "--data-dir", str(data_dir)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)  # its own group: Ctrl-C is SIGINT to that group
    server_pid = None
    try:
        record = _until("local API record", lambda: json.loads((home / RECORD).read_text()),
                        SERVER_START_SECONDS, serving, log)
        url, server_pid = record["url"], int(record["pid"])
        deployment = _until(
            "weekly-run deployment",
            lambda: _api(url, "/deployments/name/churn-weekly/weekly-run"), 90, serving, log)
        weekly = _api(url, f"/deployments/{deployment['id']}/create_flow_run",
                      {"parameters": {"params": TINY_TRAINING}})
        failing = _api(url, f"/deployments/{deployment['id']}/create_flow_run",
                       {"parameters": {"data_dir": str(empty_dir)}})
        finished = {}
        for name, run in (("weekly", weekly), ("failing", failing)):
            finished[name] = _until(
                f"end of the {name} run",
                lambda run=run: (lambda r: r if r["state"]["type"] in TERMINAL else None)(
                    _api(url, f"/flow_runs/{run['id']}")),
                RUN_SECONDS, serving, log)
        ran = time.monotonic() - started
        _stop_group(serving.pid, signal.SIGINT)  # Ctrl-C
        try:
            code = serving.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            code = None
        deadline = time.monotonic() + STOP_SECONDS
        while _pid_alive(server_pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        yield {"data_dir": data_dir, "runs": finished, "expected_failure": expected_failure,
               "serve_exit": code, "server_left": _pid_alive(server_pid),
               "record_left": (home / RECORD).exists(), "seconds": ran,
               "log": log.read_text(errors="replace"), "schedules": deployment["schedules"]}
    finally:
        if serving.poll() is None:
            _stop_group(serving.pid, signal.SIGTERM)
            try:
                serving.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _stop_group(serving.pid, signal.SIGKILL)
                serving.wait(timeout=10)
        stop_local_api(home)  # the supervisor and its server, if serve did not stop them
        if server_pid is not None and _pid_alive(server_pid):
            _stop_group(server_pid, signal.SIGKILL)


def test_a_triggered_weekly_run_completes_and_archives_a_risk_list(served):
    run = served["runs"]["weekly"]
    assert run["state"]["type"] == "COMPLETED", (run["state"], served["log"][-3000:])
    lists = sorted((served["data_dir"] / "scored").glob("*/*/risk_list.csv"))
    assert len(lists) == 1
    risk = pd.read_csv(lists[0], dtype={"customer_id": str}, encoding="utf-8-sig")
    assert len(risk) > 0 and (risk["model_version"].astype(str) == "1").all()
    assert served["seconds"] < RUN_SECONDS + SERVER_START_SECONDS


def test_a_failed_run_says_what_churn_run_prints(served):
    state = served["runs"]["failing"]["state"]
    assert state["type"] == "FAILED"
    assert state["message"] == served["expected_failure"]
    assert state["message"].startswith("ingest failed: purchases: no files in ")


def test_the_deployment_carries_prefect_yaml_schedule_and_time_zone(served):
    [schedule] = served["schedules"]
    assert schedule["schedule"]["cron"] == "0 6 * * 1"
    assert schedule["schedule"]["timezone"] == "Europe/Istanbul"


def test_ctrl_c_stops_serving_and_the_server_it_started(served):
    assert served["serve_exit"] is not None, served["log"][-2000:]
    assert not served["server_left"] and not served["record_left"]
    assert "stopped the local Prefect API" in served["log"]
