"""The warm worker: which commands it takes, whom it trusts, and a real round trip."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from pipelines.operate import warm_worker as ww

ROOT = Path(__file__).resolve().parents[3]


def test_the_data_dir_is_read_as_the_cli_reads_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ww.data_dir_of(["score", "--data-dir", "d"], {}) == tmp_path / "d"
    assert ww.data_dir_of(["score", "--data-dir=e"], {}) == tmp_path / "e"
    assert ww.data_dir_of(["score"], {"CHURN_DATA_DIR": str(tmp_path / "f")}) == tmp_path / "f"
    assert ww.data_dir_of(["score"], {}) == tmp_path / "data"


def test_one_worker_per_data_dir_and_settings(tmp_path):
    """Another data dir, or any CHURN_/PREFECT_/MLFLOW_ setting, is another worker: a worker
    never runs a command with settings its imports did not see."""
    base = ww.worker_key(tmp_path / "a", {"CHURN_LANG": "en"})
    assert ww.worker_key(tmp_path / "a", {"CHURN_LANG": "en"}) == base
    assert ww.worker_key(tmp_path / "b", {"CHURN_LANG": "en"}) != base
    assert ww.worker_key(tmp_path / "a", {"CHURN_LANG": "nl"}) != base
    assert ww.worker_key(tmp_path / "a", {"CHURN_LANG": "en", "PREFECT_API_URL": "x"}) != base
    assert ww.worker_key(tmp_path / "a", {"CHURN_LANG": "en", "TZ": "Europe/Istanbul"}) != base
    # what does not change a command's behaviour does not split workers
    assert ww.worker_key(tmp_path / "a", {"CHURN_LANG": "en", "TERM": "xterm"}) == base


def test_commands_that_run_cold(tmp_path, monkeypatch):
    """Only data-dir commands that never prompt, without --verbose, on a dir that exists."""
    monkeypatch.setenv(ww.SWITCH, "1")
    monkeypatch.setattr(ww, "start_worker", lambda *a: pytest.fail("no worker for this"))
    (tmp_path / "data").mkdir()
    data = ["--data-dir", str(tmp_path / "data")]
    assert ww.run_warm(["generate", *data]) is None
    assert ww.run_warm(["demo", *data]) is None
    assert ww.run_warm(["score", "--verbose", *data]) is None
    assert ww.run_warm(["score", "--help"]) is None
    assert ww.run_warm(["score", "--data-dir", str(tmp_path / "missing")]) is None
    assert ww.run_warm([]) is None
    monkeypatch.setenv(ww.SWITCH, "0")
    assert ww.run_warm(["score", *data]) is None


def test_a_socket_folder_others_can_enter_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr(ww.tempfile, "gettempdir", lambda: str(tmp_path))
    folder = ww.runtime_folder()
    assert folder is not None and (folder.stat().st_mode & 0o777) == 0o700
    folder.chmod(0o755)
    assert ww.runtime_folder() is None


def test_no_worker_yet_starts_one_and_runs_cold(tmp_path, monkeypatch):
    monkeypatch.setenv(ww.SWITCH, "1")
    monkeypatch.setattr(ww.tempfile, "gettempdir", lambda: str(tmp_path))
    started = []
    monkeypatch.setattr(ww, "start_worker", lambda *args: started.append(args))
    (tmp_path / "data").mkdir()
    assert ww.run_warm(["score", "--data-dir", str(tmp_path / "data")]) is None
    assert [args[0] for args in started] == [(tmp_path / "data").resolve()]


def _launch(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.launcher", *args],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


@pytest.mark.flow
def test_a_warm_command_behaves_as_a_cold_one(tmp_path, monkeypatch):
    """The same sentence and exit code warm as cold, and `churn server stop` ends the
    worker."""
    data = tmp_path / "data"
    bad = data / "raw" / "purchases"
    bad.mkdir(parents=True)
    (bad / "export.csv").write_text("klant;datum\n1;2024-01-01\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))}
    sockets = tempfile.mkdtemp(prefix="ww-", dir="/tmp")  # short: a socket path has 107 bytes
    env.update({ww.SWITCH: "1", ww.IDLE_VARIABLE: "2", "PYTHONPATH": str(ROOT),
                "TMPDIR": sockets})  # the worker's socket folder: this test's own
    monkeypatch.setattr(ww.tempfile, "gettempdir", lambda: sockets)
    args = ["ingest", "--data-dir", str(data)]
    folder = Path(sockets) / f"churn-{os.getuid()}"
    try:
        cold = _launch(args, env)  # no worker yet: runs here and starts one
        deadline = time.monotonic() + 120
        while not list(folder.glob("*.sock")):
            assert time.monotonic() < deadline, (data / ".prefect" / "warm-worker.log"
                                                 ).read_text()
            time.sleep(0.5)
        warm = _launch(args, env)
        assert list(folder.glob("*.json")), "the worker records its pid"
        for done in (cold, warm):
            assert done.returncode == 1
            output = " ".join((done.stdout + done.stderr).split())
            assert "purchases/export.csv: missing required column(s) customer_id" in output
            assert "Traceback" not in output
        assert ww.stop_workers(data) == 1
        assert not list(folder.glob("*.json")) and not list(folder.glob("*.sock"))
    finally:
        from pipelines.operate.local_api import stop_local_api

        ww.stop_workers(data)
        stop_local_api(data / ".prefect")
        shutil.rmtree(sockets, ignore_errors=True)


@pytest.fixture
def start_worker(tmp_path):
    """Start a worker for a fresh data dir with a given idle time; its socket folder is this
    test's own (short: a socket path has 107 bytes). Killed and removed afterwards."""
    sockets = Path(tempfile.mkdtemp(prefix="ww-", dir="/tmp"))
    data = (tmp_path / "data").resolve()
    data.mkdir()
    started: list[subprocess.Popen] = []

    def start(idle_minutes: str) -> tuple[subprocess.Popen, Path, Path]:
        env = {**os.environ, ww.IDLE_VARIABLE: idle_minutes, "PYTHONPATH": str(ROOT),
               "TMPDIR": str(sockets)}
        worker = subprocess.Popen([sys.executable, "-m", "pipelines.operate.warm_worker",
                                   str(data), ww.worker_key(data, env)], env=env, cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True)
        started.append(worker)
        return worker, data, sockets

    yield start
    for worker in started:
        if worker.poll() is None:
            worker.kill()
        worker.communicate()
    shutil.rmtree(sockets, ignore_errors=True)


def _listening(worker: subprocess.Popen, sockets: Path) -> None:
    deadline = time.monotonic() + 240
    while not list(sockets.glob("*/*.json")):  # written once the socket listens
        assert worker.poll() is None and time.monotonic() < deadline
        time.sleep(0.5)


def _cleaned_up(sockets: Path) -> bool:
    return not list(sockets.glob("*/*.sock")) and not list(sockets.glob("*/*.json"))


@pytest.mark.flow
def test_an_idle_worker_ends_by_itself_and_cleans_up(start_worker):
    worker, _, sockets = start_worker("0.05")
    said, _ = worker.communicate(timeout=240)  # preload, 3 s without a command, exit
    assert worker.returncode == 0
    assert "not started" not in said  # it listened: it says why whenever it cannot
    assert _cleaned_up(sockets)


@pytest.mark.flow
def test_a_worker_whose_data_dir_is_removed_ends(start_worker):
    worker, data, sockets = start_worker("30")
    _listening(worker, sockets)
    shutil.rmtree(data)
    assert worker.wait(timeout=60) == 0  # long before its 30 idle minutes
    assert _cleaned_up(sockets)


@pytest.mark.flow
def test_a_terminated_worker_removes_its_socket_and_record(start_worker):
    worker, _, sockets = start_worker("30")
    _listening(worker, sockets)
    worker.terminate()
    assert worker.wait(timeout=60) == 0
    assert _cleaned_up(sockets)


def test_both_replies_in_one_read_are_both_read():
    """A command that ends at once: "pid" and "exit" reach the caller in one packet."""
    caller, worker = socket.socketpair()
    with caller, worker:
        worker.sendall(b"pid 42\nexit 3\n")
        worker.close()
        replies = caller.makefile("rb")
        assert [ww._read_line(replies), ww._read_line(replies), ww._read_line(replies)] == [
            "pid 42", "exit 3", None]
