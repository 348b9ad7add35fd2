"""The process that owns a reused local Prefect server and stops it when nobody needs it.

`local_api` starts this module, not the server itself, in a session of its own:

    python -m pipelines.operate.api_supervisor PREFECT_HOME PORT

It starts `prefect server start` as its child and watches `<prefect-home>/churn-api.clients/`,
where every command that uses the server leaves a file named by its PID. While one of those
processes lives, the server is in use (a two-hour training included); once the last one has
ended and `CHURN_PREFECT_IDLE_MINUTES` (default 15; 0: never) have passed, the supervisor
stops the server and itself, so a `churn` command never leaves a server behind for good.
That holds for a command killed with SIGKILL too: its PID file outlives it, but its process
does not, so the server stops at most `CHURN_PREFECT_IDLE_MINUTES` (plus one poll) after the
last command ended, however it ended. SIGTERM (from `churn server stop`) stops both at once;
on Linux the server is also told to stop when the supervisor itself is killed (a parent-death
signal), so no server is left without its supervisor.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CLIENTS = "churn-api.clients"
IDLE_VARIABLE = "CHURN_PREFECT_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 15.0
POLL_SECONDS = 5.0


def idle_seconds() -> float:
    """How long the server waits after its last client ended (0: for ever)."""
    try:
        return max(0.0, float(os.environ.get(IDLE_VARIABLE, DEFAULT_IDLE_MINUTES))) * 60
    except ValueError:
        return DEFAULT_IDLE_MINUTES * 60


def register_client(prefect_home: Path, pid: int | None = None) -> None:
    """Mark this process (or `pid`) as using the server until it ends."""
    folder = prefect_home / CLIENTS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(pid or os.getpid())).touch()


def live_clients(prefect_home: Path) -> int:
    """Registered processes still running; the files of ended ones are removed."""
    folder = prefect_home / CLIENTS
    alive = 0
    for entry in folder.glob("*") if folder.is_dir() else []:
        try:
            os.kill(int(entry.name), 0)
        except ProcessLookupError:
            entry.unlink(missing_ok=True)
            continue
        except (ValueError, PermissionError):  # not a PID file, or another user's process
            continue
        alive += 1
    return alive


def _stop_with_parent() -> None:
    """In the server's process, before it runs: SIGTERM it when the supervisor dies."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # no prctl: the server then outlives a killed supervisor, as elsewhere


def supervise(prefect_home: Path, port: int, command: list[str] | None = None,
              poll: float = POLL_SECONDS, limit: float | None = None) -> int:
    """Run the server (or `command`) until it has had no live client for `limit` seconds
    (default `idle_seconds()`) or this process is told to stop."""
    server = subprocess.Popen(
        command or [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                    "--port", str(port)], stdin=subprocess.DEVNULL,
        preexec_fn=_stop_with_parent if sys.platform == "linux" else None)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    limit = idle_seconds() if limit is None else limit
    idle_since = time.monotonic()
    while server.poll() is None and not stopping:
        time.sleep(poll)
        if live_clients(prefect_home):
            idle_since = time.monotonic()
        elif limit and time.monotonic() - idle_since > limit:
            break
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(supervise(Path(sys.argv[1]), int(sys.argv[2])))
