"""An MLflow or Prefect server that does not answer: refused at once, in one sentence."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading

import pytest

from pipelines.operate.failures import failure_message
from pipelines.store.settings import Settings
from pipelines.tracking.connect import configure_mlflow
from pipelines.tracking.problems import (
    ServiceUnavailableError,
    answers,
    require_mlflow_server,
    require_prefect_api,
)


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def any_http_server():
    """A server that answers every request with 404: it is there, whatever it says."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_that_answers_at_all_counts_and_a_closed_port_does_not(any_http_server,
                                                                         closed_port):
    assert answers(any_http_server + "/health")
    assert not answers(f"http://127.0.0.1:{closed_port}/health")
    require_mlflow_server(any_http_server)  # no error
    require_mlflow_server("sqlite:////tmp/x/mlflow.db")  # not a server: nothing to probe


def test_an_unreachable_mlflow_server_is_refused_by_the_store_connection(
        tmp_path, monkeypatch, closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    with pytest.raises(ServiceUnavailableError) as raised:
        configure_mlflow(Settings.from_env(tmp_path))
    assert failure_message("score", raised.value) == (
        f"score failed: the MLflow server at {url} (MLFLOW_TRACKING_URI) does not answer; "
        "start it, or unset MLFLOW_TRACKING_URI to use the data dir's own store")


def test_an_unreachable_prefect_api_names_the_variable(closed_port):
    url = f"http://127.0.0.1:{closed_port}/api"
    with pytest.raises(ServiceUnavailableError, match="PREFECT_API_URL"):
        require_prefect_api(url)


MLFLOW = ("MLFLOW_TRACKING_URI", "http://127.0.0.1:{port}", "the MLflow server at")
PREFECT = ("PREFECT_API_URL", "http://127.0.0.1:{port}/api", "the Prefect API at")


@pytest.mark.parametrize("server, command", [
    (MLFLOW, ["score"]), (MLFLOW, ["train"]), (MLFLOW, ["promote", "1"]),
    (PREFECT, ["score"]), (PREFECT, ["train"]),  # promote and rollback need no Prefect API
], ids=["mlflow-score", "mlflow-train", "mlflow-promote", "prefect-score", "prefect-train"])
def test_churn_with_a_server_that_does_not_answer_ends_in_one_line(
        tmp_path, closed_port, server, command):
    """As a user runs it: a real process, which must not wait on retries first."""
    variable, value, words = server
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))}
    env[variable] = value.format(port=closed_port)
    (tmp_path / "data").mkdir()
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", *command, "--data-dir",
                           str(tmp_path / "data")], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert lines[0].startswith(f"{command[0]} failed: {words}")
    assert "does not answer" in lines[0]
