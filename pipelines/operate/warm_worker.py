"""A warm worker per data dir: `churn` commands after the first skip the imports.

Why: on tiny data a `churn score` spends ~4 s importing Prefect, MLflow, LightGBM,
scikit-learn, DuckDB and pandas, and well under one second on the work. The worker is a
process that has done those imports once; for every command it forks a child, and the child
takes over the caller's terminal (its stdin/stdout/stderr descriptors, passed over a Unix
socket), working directory, environment, umask and arguments, then runs the command exactly
as a cold process would (`pipelines.cli.main`). The caller (`pipelines.launcher`, the
`churn` script) waits for the child's exit status, forwards Ctrl-C and other signals to it,
and exits with its status. A caller that dies takes its child with it.

When it is used: the commands in `WARM_COMMANDS`, on a data dir that exists, without
`--verbose` (Prefect's console logging is set up at import). Anything else, or no worker yet,
runs cold in the caller's own process, and a command that finds no worker starts one in the
background for the next command. A worker serves one data dir, one copy of the code and one
set of settings: its socket is named by a digest of the data dir, the interpreter, the code
(file sizes and times of `pipelines/`, `features/`, `models/` and the installed packages) and
every `CHURN_*`, `PREFECT_*`, `MLFLOW_*`, locale and time-zone variable, so a change to any
of them is served by a new worker, never a stale one. It stops after
`CHURN_PREFECT_IDLE_MINUTES` (default 15, the local Prefect API's lifetime) without a
command; `CHURN_WARM_WORKER=0` switches it off.

Fork safety: the worker forks from one thread (it serves with `select`, not threads) and
checks that importing started no other thread; imports run no OpenMP region, so LightGBM's
and BLAS's thread pools start fresh in each child.

This module is imported by the `churn` script before anything heavy: standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import socket
import stat
import struct
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

SWITCH = "CHURN_WARM_WORKER"
IDLE_VARIABLE = "CHURN_PREFECT_IDLE_MINUTES"  # one lifetime for the worker and the local API
DEFAULT_IDLE_MINUTES = 15.0
#: commands that run flows on an existing data dir and never prompt
WARM_COMMANDS = frozenset({"ingest", "features", "train", "score", "run", "analyze",
                           "track-record", "promote", "rollback"})
SETTING_PREFIXES = ("CHURN_", "PREFECT_", "MLFLOW_", "LC_")
SETTING_NAMES = ("LANG", "TZ", "HOME", "PYTHONPATH", "PYTHONHASHSEED")
CODE_PACKAGES = ("pipelines", "features", "models")
#: what a child needs imported; the rest of a command's imports follow from these
PRELOAD = ("pipelines.cli", "pipelines.flows", "pipelines.tasks.common",
           "pipelines.tasks.ingest", "pipelines.tasks.training", "pipelines.tasks.scoring",
           "pipelines.tasks.analytics", "pipelines.operate.monitoring_tasks",
           "pipelines.tracking.registry", "mlflow.lightgbm",
           "mlflow.store.tracking.sqlalchemy_store",
           "mlflow.store.model_registry.sqlalchemy_store", "skops.io", "matplotlib.pyplot")
#: what those import only when a command runs (MLflow's tracing and git lookups, pandera's
#: strategies, PNG output); preloaded where installed, measured with `python -X importtime`
LATE_IMPORTS = ("IPython", "git", "hypothesis.strategies", "pandera.strategies",
                "opentelemetry.sdk.trace", "graphviz", "mlflow.tracing.processor.otel",
                "mlflow.store.tracking.sqlalchemy_workspace_store",
                "mlflow.store.model_registry.sqlalchemy_workspace_store",
                "sqlalchemy.dialects.sqlite", "alembic.runtime.migration", "alembic.script",
                "PIL.PngImagePlugin", "scipy.optimize")
_HEADER = struct.Struct("!I")


def enabled() -> bool:
    return os.environ.get(SWITCH, "1").strip().lower() not in {"0", "false", "no", "off"}


def idle_seconds() -> float:
    """How long a worker waits for the next command (0: for ever)."""
    try:
        return max(0.0, float(os.environ.get(IDLE_VARIABLE, DEFAULT_IDLE_MINUTES))) * 60
    except ValueError:
        return DEFAULT_IDLE_MINUTES * 60


def data_dir_of(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> Path:
    """The data dir a command names: as `pipelines.store.settings.data_directory` reads it."""
    for index, token in enumerate(argv):
        if token == "--data-dir" and index + 1 < len(argv):
            return _absolute(argv[index + 1])
        if token.startswith("--data-dir="):
            return _absolute(token.partition("=")[2])
    return _absolute(environ.get("CHURN_DATA_DIR") or "data")


def _absolute(path: str) -> Path:
    return Path(path).expanduser().resolve()


def _code_stamp() -> list[object]:
    """Sizes and times of the code a worker has imported: a change means a new worker."""
    root = Path(__file__).resolve().parents[2]
    stamp: list[object] = []
    for package in CODE_PACKAGES:
        for folder, _, files in os.walk(root / package):
            for name in files:
                if name.endswith(".py"):
                    info = os.stat(os.path.join(folder, name))
                    stamp.append((name, info.st_size, info.st_mtime_ns))
    site = Path(sysconfig.get_paths()["purelib"])
    stamp.append(os.stat(site).st_mtime_ns if site.exists() else 0)  # pip install/uninstall
    return stamp


def worker_key(data_dir: Path, environ: dict[str, str] | os._Environ[str]) -> str:
    settings = sorted((name, value) for name, value in environ.items()
                      if name.startswith(SETTING_PREFIXES) or name in SETTING_NAMES)
    material = json.dumps([str(data_dir), sys.executable, _code_stamp(), settings],
                          default=str, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def runtime_folder() -> Path | None:
    """A folder only this user can enter, for the sockets (their paths must stay short)."""
    folder = Path(tempfile.gettempdir()) / f"churn-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # somebody else's, or open to others: never trust it
    return folder


# ---- the caller's side -------------------------------------------------------------------

def run_warm(argv: list[str]) -> int | None:
    """Run the command in a warm worker and return its exit status; None: run it cold."""
    if not enabled() or not argv or argv[0] not in WARM_COMMANDS:
        return None
    if any(token in {"--verbose", "-v", "--help"} for token in argv):
        return None
    data_dir = data_dir_of(argv, os.environ)
    folder = runtime_folder()
    if folder is None or not data_dir.is_dir():
        return None  # the cold path explains a missing data dir
    key = worker_key(data_dir, os.environ)
    connection = _connect(folder / f"{key}.sock")
    if connection is None:
        start_worker(data_dir, folder, key)
        return None
    with connection:
        return _delegate(connection, argv)


def _connect(address: Path) -> socket.socket | None:
    if not address.exists():
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(str(address))
    except OSError:
        connection.close()
        return None
    return connection


def _delegate(connection: socket.socket, argv: list[str]) -> int | None:
    umask = os.umask(0)
    os.umask(umask)
    request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                          "umask": umask}).encode()
    replies = connection.makefile("rb")
    try:
        socket.send_fds(connection, [_HEADER.pack(len(request)) + request], [0, 1, 2])
        reply = _read_line(replies)
    except OSError:
        reply = None
    if reply is None or not reply.startswith("pid "):
        return None  # the worker went away before starting the command: run it cold
    child = int(reply.split()[1])

    def forward(signum: int, _frame: object) -> None:
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, forward)
    status = _read_line(replies)
    if status is None or not status.startswith("exit "):
        sys.stderr.write("churn: the command's worker process ended without an exit status; "
                         "run the command again (CHURN_WARM_WORKER=0 runs it in this "
                         "process)\n")
        return 1
    return int(status.split()[1])


def _read_line(replies) -> str | None:
    """The worker's next line ("pid N", then "exit N"), or None once it hung up. Buffered:
    both lines can arrive in one read when a command ends at once."""
    try:
        line = replies.readline()
    except OSError:
        return None
    return line.decode().strip() if line.endswith(b"\n") else None

def start_worker(data_dir: Path, folder: Path, key: str) -> None:
    """A worker for the next command, in the background and a session of its own."""
    import subprocess

    log = data_dir / ".prefect" / "warm-worker.log"
    try:
        log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # owner-only, as every file of the data dir (pipelines.store.permissions)
        handle = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(handle, "ab") as out:
            subprocess.Popen([sys.executable, "-m", "pipelines.operate.warm_worker",
                              str(data_dir), key], stdin=subprocess.DEVNULL, stdout=out,
                             stderr=out, start_new_session=True, close_fds=True)
    except OSError:
        pass  # no worker: every command runs cold, as it always could


# ---- the worker's side -------------------------------------------------------------------

def serve(data_dir: Path, key: str) -> None:
    """Preload, then fork a child per command until idle; one worker per key."""
    import fcntl
    import threading

    folder = runtime_folder()
    if folder is None or worker_key(data_dir, os.environ) != key:
        return  # settings or code changed between the caller's check and this start
    lock = open(folder / f"{key}.lock", "w")  # held for the worker's whole life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another worker holds this key
    from pipelines.cli_common import prepare_environment

    # The environment a cold command has when it imports Prefect (which reads it once).
    prepare_environment(data_dir, prefect=False)
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    for module in LATE_IMPORTS:
        try:
            importlib.import_module(module)
        except ImportError:
            pass  # an optional package this install lacks: its commands import what they use
    if threading.active_count() > 1:
        print(f"warm worker not started: importing started {threading.active_count() - 1} "
              "thread(s), and forking would copy them half-done", flush=True)
        return
    address = folder / f"{key}.sock"
    address.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(address))
    except OSError as error:  # e.g. a $TMPDIR so long that the socket's path does not fit
        print(f"warm worker not started: {address}: {error}", flush=True)
        return
    os.chmod(address, 0o600)
    listener.listen(16)
    bound = address.stat().st_ino
    record = folder / f"{key}.json"
    record.write_text(json.dumps({"pid": os.getpid(), "data_dir": str(data_dir)}))
    # SIGTERM (`churn server stop`, a shutdown) ends the worker through its cleanup below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        _serve_forever(listener, address, bound, data_dir)
    finally:
        listener.close()
        if address.exists() and address.stat().st_ino == bound:
            address.unlink(missing_ok=True)
            record.unlink(missing_ok=True)


def stop_workers(data_dir: Path) -> int:
    """Stop every warm worker of `data_dir` (any code or settings); how many were running.

    A command a worker is running ends too: the worker's SIGTERM handler is the default."""
    folder = runtime_folder()
    stopped = 0
    for record in folder.glob("*.json") if folder is not None else []:
        try:
            facts = json.loads(record.read_text())
        except (OSError, ValueError):
            continue
        if Path(facts.get("data_dir", "")) != data_dir.expanduser().resolve():
            continue
        try:
            os.kill(int(facts["pid"]), signal.SIGTERM)
            stopped += 1
        except (ProcessLookupError, PermissionError, KeyError, ValueError):
            pass
        record.unlink(missing_ok=True)
        record.with_suffix(".sock").unlink(missing_ok=True)
    return stopped


def _serve_forever(listener: socket.socket, address: Path, bound: int, data_dir: Path) -> None:
    children: dict[int, socket.socket] = {}  # child pid -> its caller's connection
    hung_up: set[int] = set()  # children whose caller went away (already sent SIGTERM)
    last_busy = time.monotonic()
    idle = idle_seconds()
    while True:
        waiting = [listener, *(c for p, c in children.items() if p not in hung_up)]
        readable, _, _ = select.select(waiting, [], [], 0.2)
        for ready in readable:
            if ready is listener:
                connection, _ = listener.accept()
                child = _start_child(listener, connection, children)
                if child is not None:
                    children[child] = connection
                else:
                    connection.close()
            else:  # a caller's connection readable: it hung up (or died); end its command
                pid = next(p for p, c in children.items() if c is ready)
                if not ready.recv(1, socket.MSG_PEEK):
                    _signal(pid, signal.SIGTERM)
                    hung_up.add(pid)
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                connection = children.pop(pid)
                hung_up.discard(pid)
                try:
                    connection.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
                except OSError:
                    pass
                connection.close()
        if children:
            last_busy = time.monotonic()
        elif idle and time.monotonic() - last_busy > idle:
            return
        if not address.exists() or address.stat().st_ino != bound:
            if not children:
                return  # replaced or removed: a newer worker (or a cleanup) owns the name
        if not children and not data_dir.is_dir():
            return  # its data dir was removed (a temporary one, say): nobody will call again


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


def _start_child(listener: socket.socket, connection: socket.socket,
                 children: dict[int, socket.socket]) -> int | None:
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                        struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", credentials)
    if uid != os.getuid():
        return None  # only its owner may run commands in this worker
    try:
        request, fds = _receive(connection)
    except (OSError, ValueError):
        return None
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return None
    pid = os.fork()
    if pid == 0:  # the child: becomes the command
        try:
            listener.close()
            for other in children.values():
                other.close()
            connection.close()
            _become_command(request, fds)
        finally:
            os._exit(1)  # _become_command ends the process itself; this is the last resort
    for fd in fds:
        os.close(fd)
    try:
        connection.sendall(f"pid {pid}\n".encode())
    except OSError:
        _signal(pid, signal.SIGTERM)
    return pid


def _receive(connection: socket.socket) -> tuple[dict, list[int]]:
    message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
    while len(message) < _HEADER.size:
        message += connection.recv(1 << 16)
    (size,) = _HEADER.unpack(message[:_HEADER.size])
    body = message[_HEADER.size:]
    while len(body) < size:
        chunk = connection.recv(1 << 16)
        if not chunk:
            raise ValueError("request cut short")
        body += chunk
    return json.loads(body), list(fds)


def _become_command(request: dict, fds: list[int]) -> None:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C: KeyboardInterrupt
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(int(request["umask"]))
    time.tzset()
    sys.argv = ["churn", *request["argv"]]
    from pipelines.operate import local_api

    local_api.PRELOADED["prefect"] = True  # imported, settings not yet read: see use_local_api
    from pipelines.console import console, err

    # rich decides colour and width when a console is made: make them again for this
    # terminal, not the worker's /dev/null
    console.__init__()  # type: ignore[misc]
    err.__init__(stderr=True)  # type: ignore[misc]
    from pipelines.cli import main

    main()  # ends the process with the command's status


if __name__ == "__main__":
    serve(Path(sys.argv[1]), sys.argv[2])
    os._exit(0)
