"""Which Prefect API a command uses: the user's wins; a dead recorded server is not reused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pipelines.operate import local_api


def test_the_users_url_wins_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example:4200/api")
    assert local_api.configured_api_url(tmp_path) == "http://prefect.example:4200/api"


def test_the_users_url_wins_from_the_active_profile(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    (tmp_path / "profiles.toml").write_text(
        'active = "team"\n[profiles.team]\nPREFECT_API_URL = "http://team:4200/api"\n')
    assert local_api.configured_api_url(tmp_path, cwd=tmp_path) == "http://team:4200/api"


def test_the_users_url_wins_from_prefect_toml(tmp_path, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(tmp_path / "none.toml"))
    (tmp_path / "prefect.toml").write_text('[api]\nurl = "http://toml:4200/api"\n')
    assert local_api.configured_api_url(tmp_path, cwd=tmp_path) == "http://toml:4200/api"
    (tmp_path / "prefect.toml").write_text("[server]\nanalytics_enabled = false\n")
    assert local_api.configured_api_url(tmp_path, cwd=tmp_path) is None


def test_a_record_of_a_dead_server_is_not_reused_and_stop_forgets_it(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / local_api.RECORD).write_text(json.dumps(
        {"url": "http://127.0.0.1:9/api", "pid": dead.pid}))
    assert local_api.recorded_api_url(tmp_path) is None
    assert local_api.stop_local_api(tmp_path) is None
    assert not (tmp_path / local_api.RECORD).exists()


def test_a_copied_data_dirs_record_names_the_originals_server_and_is_not_used(tmp_path):
    """A copy of a data dir (its .prefect/ included) must neither send its runs to the
    original's live server nor stop it."""
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    original, copy = tmp_path / "original" / ".prefect", tmp_path / "copy" / ".prefect"
    try:
        for home in (original, copy):
            home.mkdir(parents=True)
            (home / local_api.RECORD).write_text(json.dumps(
                {"url": "http://127.0.0.1:9/api", "pid": live.pid, "home": str(original)}))
        assert local_api._read_record(original) is not None
        assert local_api._read_record(copy) is None
        assert local_api.stop_local_api(copy) is None
        assert live.poll() is None  # the original's server was left alone
    finally:
        live.kill()
        live.wait()


def test_with_prefect_already_imported_the_settings_are_left_alone(tmp_path, monkeypatch):
    """In-process callers (the test harness) keep the API Prefect already chose."""
    import prefect  # noqa: F401

    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    choice = local_api.use_local_api(tmp_path)
    assert choice.source == "in-process" and "PREFECT_API_URL" not in os.environ


def test_the_supervisor_keeps_the_server_while_a_client_lives_then_stops_it(tmp_path):
    """A reused server never outlives its last command by more than the idle limit."""
    import time

    from pipelines.operate.api_supervisor import live_clients, register_client

    client = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    register_client(tmp_path, client.pid)
    (tmp_path / "churn-api.clients" / "not-a-pid").touch()
    stand_in = [sys.executable, "-c", "import time; time.sleep(120)"]  # for the real server
    supervisor = subprocess.Popen([
        sys.executable, "-c",
        "import sys; from pathlib import Path; from pipelines.operate.api_supervisor import "
        f"supervise; sys.exit(supervise(Path({str(tmp_path)!r}), 0, {stand_in!r}, "
        "poll=0.1, limit=0.5))"])
    try:
        time.sleep(1.5)
        assert supervisor.poll() is None and live_clients(tmp_path) == 1
        client.wait()
        assert supervisor.wait(timeout=30) == 0  # stopped once idle past the limit
        assert live_clients(tmp_path) == 0
        assert not (tmp_path / "churn-api.clients" / str(client.pid)).exists()
    finally:
        for process in (client, supervisor):
            if process.poll() is None:
                process.kill()


def _ended(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet (it runs nothing any more)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _supervisor_with_stand_in(home, limit: float) -> tuple[subprocess.Popen, int]:
    """A supervisor running a stand-in server that records its PID; both PIDs."""
    import time

    pid_file = home / "server.pid"
    stand_in = [sys.executable, "-c", "import os, pathlib, time; pathlib.Path("
                f"{str(pid_file)!r}).write_text(str(os.getpid())); time.sleep(600)"]
    supervisor = subprocess.Popen([
        sys.executable, "-c",
        "import sys; from pathlib import Path; from pipelines.operate.api_supervisor import "
        f"supervise; sys.exit(supervise(Path({str(home)!r}), 0, {stand_in!r}, "
        f"poll=0.1, limit={limit}))"], start_new_session=True)
    while not pid_file.exists() or not pid_file.read_text():
        assert supervisor.poll() is None
        time.sleep(0.1)
    return supervisor, int(pid_file.read_text())


def test_a_command_killed_with_sigkill_leaves_no_server_behind(tmp_path):
    """The client's PID file stays after SIGKILL, but the server still stops once idle."""
    import signal

    from pipelines.operate.api_supervisor import register_client

    client = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    register_client(tmp_path, client.pid)
    supervisor, server = _supervisor_with_stand_in(tmp_path, limit=0.5)
    try:
        assert supervisor.poll() is None  # in use while the command lives
        os.kill(client.pid, signal.SIGKILL)
        client.wait()
        assert supervisor.wait(timeout=60) == 0
        assert _ended(server)
    finally:
        for process in (client, supervisor):
            if process.poll() is None:
                process.kill()


def test_a_supervisor_killed_with_sigkill_takes_its_server_with_it(tmp_path):
    import signal
    import time

    from pipelines.operate.api_supervisor import register_client

    register_client(tmp_path)  # this test process: the server is in use throughout
    supervisor, server = _supervisor_with_stand_in(tmp_path, limit=600)
    os.kill(supervisor.pid, signal.SIGKILL)
    supervisor.wait()
    deadline = time.monotonic() + 60
    while not _ended(server) and time.monotonic() < deadline:
        time.sleep(0.1)
    stopped = _ended(server)
    if not stopped:
        os.kill(server, signal.SIGKILL)  # clean up before failing
    assert stopped
