"""One local Prefect API per Prefect home, started once and reused by later commands.

Without an API URL, every Prefect process starts its own temporary server (migrations
included) and stops it at exit: about 5 s of every command on 2 cores, for a server that is
gone before anyone can open its UI. Instead, the first command starts `prefect server start`
in the background on a free local port (under `api_supervisor`, which stops it once no
command has used it for `CHURN_PREFECT_IDLE_MINUTES`, default 15) and records its URL and
PID in `<prefect-home>/churn-api.json`; later commands find it alive and just connect
(~0.02 s).

Who wins, in order: an API URL the user configured (environment, the active profile, or a
`prefect.toml`) is used as it is; `CHURN_PREFECT_SERVER=ephemeral` keeps Prefect's temporary
per-process server; otherwise the recorded server, or a new one. When the server cannot start,
the command falls back to the temporary server, with a warning.

This module must run before Prefect is imported: Prefect reads its settings once, at import.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from pipelines.operate.api_supervisor import register_client

RECORD = "churn-api.json"
START_LOCK = "churn-api.lock"
SERVER_LOG = "churn-api.log"
MODE_VARIABLE = "CHURN_PREFECT_SERVER"  # "reuse" (default) or "ephemeral"
STARTUP_TIMEOUT_VARIABLE = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
DEFAULT_STARTUP_TIMEOUT = 90.0  # a cold server on 2 cores needs more than Prefect's 20 s
HEALTH_TIMEOUT_SECONDS = 1.0
STOP_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class ApiChoice:
    """Which Prefect API this process talks to, and why (shown by `churn server status`)."""

    url: str | None  # None: Prefect's temporary per-process server
    source: str  # "configured", "reused", "started", "ephemeral", "in-process"


def configured_api_url(prefect_home: Path, cwd: Path | None = None) -> str | None:
    """An API URL the user set: environment, the active profile, or ./prefect.toml."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    profiles = Path(os.environ.get("PREFECT_PROFILES_PATH") or prefect_home / "profiles.toml")
    if profiles.is_file():
        data = _toml(profiles)
        active = os.environ.get("PREFECT_PROFILE") or data.get("active", "ephemeral")
        url = data.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")
        if url:
            return str(url)
    toml = (cwd or Path.cwd()) / "prefect.toml"
    if toml.is_file():
        url = _toml(toml).get("api", {}).get("url")
        if url:
            return str(url)
    return None


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def recorded_api_url(prefect_home: Path) -> str | None:
    """The URL of this home's recorded server when it is alive and answering, else None."""
    record = _read_record(prefect_home)
    if record is None or not _pid_alive(record["pid"]) or not _healthy(record["url"]):
        return None
    return str(record["url"])


#: set in a warm worker's child (`operate.warm_worker`): Prefect is imported, but its settings
#: are read again (`refresh_prefect_settings`) once this command's environment is in place
PRELOADED = {"prefect": False}


def use_local_api(prefect_home: Path) -> ApiChoice:
    """Point this process's Prefect at the best API for `prefect_home` (see module docs)."""
    if "prefect" in sys.modules and not PRELOADED["prefect"]:
        return ApiChoice(None, "in-process")  # settings already read (a test harness)
    configured = configured_api_url(prefect_home)
    if configured:
        return ApiChoice(configured, "configured")
    if os.environ.get(MODE_VARIABLE, "reuse") == "ephemeral":
        return ApiChoice(None, "ephemeral")
    prefect_home.mkdir(parents=True, exist_ok=True)
    source = "reused"
    url = recorded_api_url(prefect_home)
    if url is None:
        # Two commands starting at once must not both start a server for one home.
        with FileLock(prefect_home / START_LOCK, timeout=_startup_timeout() + 10):
            url = recorded_api_url(prefect_home)
            if url is None:
                url, source = _start_server(prefect_home), "started"
    if url is None:
        return ApiChoice(None, "ephemeral")
    register_client(prefect_home)  # the server stays while this process lives
    os.environ["PREFECT_API_URL"] = url
    return ApiChoice(url, source)


def refresh_prefect_settings() -> None:
    """In a warm worker's child, make Prefect read the settings this command set up."""
    if PRELOADED["prefect"]:
        from prefect.context import refresh_global_settings_context

        refresh_global_settings_context()


def stop_local_api(prefect_home: Path) -> int | None:
    """Stop this home's recorded server; its PID, or None when none was running."""
    record = _read_record(prefect_home)
    (prefect_home / RECORD).unlink(missing_ok=True)
    if record is None or not _pid_alive(record["pid"]):
        return None
    pid = int(record["pid"])
    _terminate(pid)
    return pid


def _start_server(prefect_home: Path) -> str | None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PREFECT_HOME": str(prefect_home),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    # logs of flow runs `operate.prefect_history` deleted that a stopped server had not
    # deleted yet (a background task) go with the orphan vacuum, which runs at start
    env.setdefault("PREFECT_SERVER_SERVICES_DB_VACUUM_ENABLED", "events,orphans")
    env.pop("PREFECT_API_URL", None)
    with (prefect_home / SERVER_LOG).open("ab") as log:
        process = subprocess.Popen(  # the supervisor stops the server once it is idle
            [sys.executable, "-m", "pipelines.operate.api_supervisor", str(prefect_home),
             str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True,  # Ctrl-C on this command must not stop the shared server
        )
    deadline = time.monotonic() + _startup_timeout()
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _healthy(url):
            _write_record(prefect_home, {"url": url, "pid": process.pid,
                                         "home": str(prefect_home.expanduser().resolve()),
                                         "started_at": time.time()})
            return url
        time.sleep(0.2)
    if process.poll() is None:
        _terminate(process.pid)
    print(f"warning: a local Prefect server did not start (see {prefect_home / SERVER_LOG}); "
          "using a temporary one for this command", file=sys.stderr)
    return None


def _startup_timeout() -> float:
    try:
        return float(os.environ.get(STARTUP_TIMEOUT_VARIABLE, DEFAULT_STARTUP_TIMEOUT))
    except ValueError:
        return DEFAULT_STARTUP_TIMEOUT


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=HEALTH_TIMEOUT_SECONDS) as answer:
            return bool(answer.status == 200)
    except (OSError, ValueError):
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return False
    return True


def _terminate(pid: int) -> None:
    """SIGTERM the server's process group (it has uvicorn children), SIGKILL if it lingers."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        return
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return
        except ChildProcessError:  # not our child (started by an earlier command)
            if not _pid_alive(pid):
                return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _read_record(prefect_home: Path) -> dict | None:
    try:
        record = json.loads((prefect_home / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not {"url", "pid"} <= record.keys():
        return None
    # A data dir copied (or moved) with its .prefect/ carries the record of the original's
    # server: that server writes to the original's database, so this home has none running.
    if "home" in record and record["home"] != str(prefect_home.expanduser().resolve()):
        return None
    return record


def _write_record(prefect_home: Path, record: dict) -> None:
    temporary = prefect_home / f".{RECORD}.tmp"
    temporary.write_text(json.dumps(record), encoding="utf-8")
    temporary.replace(prefect_home / RECORD)
