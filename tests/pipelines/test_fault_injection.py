"""Crash safety, proven by killing: `churn ingest`, `train` and `score` SIGKILLed at seeded
random moments, with the data dir checked after every kill.

After each kill: every output under a final name is complete and readable (staged tables,
model inputs, reports, every archived run folder), the runs archived before are unchanged,
`scored/latest` names a complete run, the registry still has a champion, and the killed
command left no process of its own behind. At the end, uninterrupted reruns clean what the
killed runs left (temporaries, MLflow runs stuck in RUNNING) and give the results an
uninterrupted run gave.

Slow (about 11 minutes on 2 shared cores: 50 kills, about 65 commands): marked `faults`,
excluded from a plain `pytest`, run by `make test` (so CI) as its own pytest command.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipelines.deliver.risk_list import same_scored_list
from pipelines.store import archive

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261201
CUSTOMERS = 300
KILLS = {"ingest": 16, "train": 17, "score": 17}  # 50 in all
# Of those, killed at a random moment within this many seconds after the command began
# writing its output (a uniform spread rarely lands in the short write of a small run).
WHILE_WRITING = {"ingest": (5, 0.3), "train": (5, 3.0), "score": (5, 1.5)}
# Kills land between these fractions of a command's last uninterrupted duration; past 1 the
# command usually finishes first: an uninterrupted rerun after kills, which also tracks how
# long the command takes now (a loaded machine slows every step).
EARLIEST, LATEST = 0.02, 1.2
RUN_FILES = (*archive.REQUIRED_FILES, "risk_list.csv", "risk_list.xlsx", "report.md",
             "shap_contributions.parquet")


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "MLFLOW_", "CHURN_"))}
    # Every killed command does real work instead of reusing cached task results.
    return env | {"CHURN_DATA_DIR": str(data_dir), "PREFECT_TASKS_REFRESH_CACHE": "true",
                  "CHURN_PREFECT_IDLE_MINUTES": "2", "COLUMNS": "120",
                  "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}


@dataclass
class Tally:
    kills: int = 0
    survived: int = 0
    finished_before_kill: int = 0
    left_temporaries: int = 0  # kills that hit a write: a temp file or partial run folder
    left_running: int = 0  # kills that left an MLflow run RUNNING
    left_flow_running: int = 0  # kills that left a Prefect flow run PENDING or RUNNING
    partial_outputs: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    stray_processes: list[str] = field(default_factory=list)


class Pipeline:
    """The CLI on one data dir, run to completion or killed."""

    def __init__(self, data_dir: Path, tally: Tally):
        self.data_dir, self.tally, self.env = data_dir, tally, _env(data_dir)
        self.log = data_dir.parent / "commands.log"

    def _start(self, command: str) -> subprocess.Popen:
        if command == "ingest":  # an ingest over unchanged exports is a no-op: make it work
            (self.data_dir / "reports" / "ingest_report.json").unlink(missing_ok=True)
        self._out = (self.data_dir.parent / "out.txt").open("w+b")
        return subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", command, "--data-dir", str(self.data_dir)],
            cwd=ROOT, env=self.env, stdout=self._out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True)

    def _collect(self, command: str, label: str) -> str:
        self._out.seek(0)
        text = self._out.read().decode("utf-8", "replace")
        self._out.close()
        with self.log.open("a", encoding="utf-8") as log:
            log.write(f"===== {command} ({label})\n{text}\n")
        if "Traceback" in text:
            self.tally.tracebacks.append(f"{command} ({label})")
        return text

    def run(self, command: str) -> float:
        """Run `command` to the end; its duration in seconds."""
        started = time.monotonic()
        process = self._start(command)
        code = process.wait(timeout=600)
        text = self._collect(command, "complete")
        assert code == 0, f"`churn {command}` failed:\n{text[-3000:]}"
        return time.monotonic() - started

    def kill(self, command: str, delay: float, writing: bool = False) -> float | None:
        """Start `command` and SIGKILL it after `delay` s (`writing`: after it has begun
        writing its output, see `_begun_writing`); None if it was killed, else the seconds it
        took to finish first."""
        started = time.monotonic()
        before = self._writes(command)
        process = self._start(command)
        while writing and process.poll() is None and self._writes(command) <= before:
            time.sleep(0.02)
        try:
            process.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            self._collect(command, f"killed after {delay:.2f} s"
                          f"{' of writing' if writing else ''}")
            self._check_no_stray_process(process.pid, command)
            return None
        text = self._collect(command, f"finished before {delay:.2f} s")
        assert process.returncode == 0, f"`churn {command}` failed:\n{text[-3000:]}"
        return time.monotonic() - started

    def _writes(self, command: str) -> set[str]:
        """What shows that `command` has begun writing its output: a staged version folder
        (ingest), an MLflow run's artifact folder (train), a run folder being built (score)."""
        folder = {"ingest": self.data_dir / "staged.versions",
                  "train": self.data_dir / "mlflow" / "artifacts",
                  "score": self.data_dir / "scored" / archive.PARTIAL}[command]
        return {str(p) for p in folder.glob("*" if command != "score" else "*/*")}

    def _check_no_stray_process(self, group: int, command: str) -> None:
        """The killed command's own children (its session) must end with it; the shared
        local Prefect API lives in a session of its own."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        self.tally.stray_processes.append(command)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _frame_digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()
                          ).hexdigest()


def champion(data_dir: Path) -> str | None:
    with sqlite3.connect(data_dir / "mlflow" / "mlflow.db", timeout=30) as db:
        row = db.execute("select version from registered_model_aliases "
                         "where alias = 'champion'").fetchone()
    return None if row is None else str(row[0])


def mlflow_runs(data_dir: Path, status: str) -> list[str]:
    with sqlite3.connect(data_dir / "mlflow" / "mlflow.db", timeout=30) as db:
        return [r[0] for r in db.execute("select run_uuid from runs where status = ?",
                                         (status,))]


def flow_runs(data_dir: Path, *states: str) -> set[str]:
    """Ids of the Prefect flow runs in `states` on the data dir's local API."""
    import httpx

    url = json.loads((data_dir / ".prefect" / "churn-api.json").read_text())["url"]
    response = httpx.post(f"{url}/flow_runs/filter", timeout=60, json={
        "flow_runs": {"state": {"type": {"any_": list(states)}}}, "limit": 200})
    response.raise_for_status()
    return {run["id"] for run in response.json()}


def train_metrics(data_dir: Path, run_id: str) -> dict[str, float]:
    with sqlite3.connect(data_dir / "mlflow" / "mlflow.db", timeout=30) as db:
        return dict(db.execute("select key, value from latest_metrics where run_uuid = ?",
                               (run_id,)).fetchall())


def last_train_run(data_dir: Path) -> str:
    with sqlite3.connect(data_dir / "mlflow" / "mlflow.db", timeout=30) as db:
        return str(db.execute("select run_uuid from runs where name = 'train' and status = "
                              "'FINISHED' order by start_time desc limit 1").fetchone()[0])


def staged_tables(data_dir: Path) -> dict[str, str]:
    return {p.name: _frame_digest(pd.read_parquet(p))
            for p in sorted((data_dir / "staged").glob("*.parquet"))}


def partial_outputs(data_dir: Path, archived: dict[str, str]) -> list[str]:
    """What a reader could pick up that is not whole, or an earlier run that changed."""
    found = []

    def readable(path: Path) -> bool:
        try:
            if path.suffix == ".parquet":
                pq.read_metadata(path)
                pd.read_parquet(path)
            elif path.suffix == ".json":
                json.loads(path.read_text(encoding="utf-8"))
            elif path.suffix == ".csv":
                pd.read_csv(path, sep=None, engine="python", encoding="utf-8-sig")
            return True
        except Exception:  # noqa: BLE001 - any failure to read is a partial output
            return False

    for folder in ("staged", "features", "model_input", "reports", "quarantine"):
        for path in sorted((data_dir / folder).glob("*")):
            if not path.name.startswith(".") and path.is_file() and not readable(path):
                found.append(str(path.relative_to(data_dir)))
    scored = data_dir / "scored"
    for run in sorted(scored.glob("*/*")):
        if run.parent.name.startswith(".") or run.parent.name == archive.LATEST:
            continue
        missing = [name for name in RUN_FILES if not (run / name).is_file()]
        unsealed = [p.name for p in run.iterdir() if p.stat().st_mode & 0o222]
        broken = [p.name for p in run.iterdir() if not readable(p)]
        if missing or unsealed or broken:
            found.append(f"{run.relative_to(data_dir)}: missing {missing}, unsealed "
                         f"{unsealed}, unreadable {broken}")
    for name, digest in archived.items():
        path = scored / name / "risk_list.parquet"
        if not path.is_file() or _digest(path) != digest:
            found.append(f"archived run {name} changed or vanished")
    latest = archive.latest_run_dir(scored)
    if latest is None or not (scored / archive.LATEST).resolve() == latest:
        found.append("scored/latest names no complete run")
    if not staged_tables(data_dir):
        found.append("no staged tables")
    return found


def archived_runs(data_dir: Path) -> dict[str, str]:
    scored = data_dir / "scored"
    return {f"{run.parent.name}/{run.name}": _digest(run / "risk_list.parquet")
            for run in archive.archived_runs(scored)}


def leftover_temporaries(data_dir: Path) -> list[str]:
    """Temporary names of killed runs still there after uninterrupted reruns."""
    names = [p for p in (data_dir / "scored" / archive.PARTIAL).glob("*/*")]
    for folder in ("", "staged", "features", "model_input", "reports", "quarantine", "scored",
                   "analytics"):
        names += [p for p in (data_dir / folder).glob(".*")
                  if p.name.endswith(".tmp") or p.name.startswith(".latest.")]
    return sorted(str(p.relative_to(data_dir)) for p in names)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    data_dir = base / "data"
    tally = Tally()
    churn = Pipeline(data_dir, tally)
    subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--customers",
                    str(CUSTOMERS), "--data-dir", str(data_dir)], cwd=ROOT, env=churn.env,
                   check=True, capture_output=True)  # also starts the shared local API
    try:
        yield churn
    finally:
        from pipelines.operate.local_api import stop_local_api

        stop_local_api(data_dir / ".prefect")


def test_sigkill_at_random_moments_leaves_no_partial_output(pipeline, capsys):
    data_dir, tally = pipeline.data_dir, pipeline.tally
    durations = {command: pipeline.run(command) for command in ("ingest", "train", "score")}
    reference_staged = staged_tables(data_dir)
    reference_metrics = train_metrics(data_dir, last_train_run(data_dir))
    reference_list = pd.read_parquet(archive.latest_run_dir(data_dir / "scored")
                                     / "risk_list.parquet")
    reference_champion = champion(data_dir)
    assert reference_champion is not None

    stuck: set[str] = set()  # MLflow runs a kill left RUNNING
    stuck_flows: set[str] = set()  # Prefect flow runs a kill left PENDING or RUNNING
    seen_temporaries: set[str] = set()
    rng = random.Random(SEED)
    plan = [(command, i < WHILE_WRITING[command][0])
            for command, n in KILLS.items() for i in range(n)]
    rng.shuffle(plan)
    for command, writing in plan:
        for _ in range(10):  # a command that beat its kill ran whole; draw another moment
            before = archived_runs(data_dir)
            delay = (rng.uniform(0, WHILE_WRITING[command][1]) if writing
                     else durations[command] * rng.uniform(EARLIEST, LATEST))
            took = pipeline.kill(command, delay, writing)
            if took is None:
                break
            tally.finished_before_kill += 1
            durations[command] = took
        else:
            pytest.fail(f"`churn {command}` finished before each of 10 kills")
        tally.kills += 1
        temporaries = set(leftover_temporaries(data_dir))
        tally.left_temporaries += bool(temporaries - seen_temporaries)
        seen_temporaries |= temporaries
        running = set(mlflow_runs(data_dir, "RUNNING"))
        tally.left_running += bool(running - stuck)
        stuck |= running
        unfinished = flow_runs(data_dir, "PENDING", "RUNNING")
        tally.left_flow_running += bool(unfinished - stuck_flows)
        stuck_flows |= unfinished
        found = partial_outputs(data_dir, before)
        if champion(data_dir) is None:
            found.append("the registry has no champion")
        tally.partial_outputs += [f"after killing {command} at {delay:.2f} s"
                                  f"{' into its writes' if writing else ''}: {f}"
                                  for f in found]
        tally.survived += not found

    for command in ("ingest", "train", "score"):
        pipeline.run(command)
    assert staged_tables(data_dir) == reference_staged
    assert train_metrics(data_dir, last_train_run(data_dir)) == reference_metrics
    assert champion(data_dir) == reference_champion
    rerun = pd.read_parquet(archive.latest_run_dir(data_dir / "scored") / "risk_list.parquet")
    assert same_scored_list(rerun, reference_list)  # run ids and holdout arms aside
    assert leftover_temporaries(data_dir) == []
    assert len(list((data_dir / "staged.versions").iterdir())) <= 2  # the current, the previous
    assert mlflow_runs(data_dir, "RUNNING") == []
    assert stuck <= set(mlflow_runs(data_dir, "FAILED"))  # marked by the next train/score
    assert flow_runs(data_dir, "PENDING", "RUNNING") == set()
    assert stuck_flows <= flow_runs(data_dir, "CRASHED")  # marked by the next command
    assert not partial_outputs(data_dir, archived_runs(data_dir))

    with capsys.disabled():
        print(f"\nfault injection (seed {SEED}): {tally.kills} kills "
              f"({', '.join(f'{c} {n}' for c, n in KILLS.items())}), {tally.survived} "
              f"survived, {len(tally.partial_outputs)} partial outputs seen, "
              f"{len(tally.tracebacks)} tracebacks; {tally.left_temporaries} kills left "
              f"temporaries, {tally.left_running} left an MLflow run RUNNING "
              f"({len(stuck)} runs, all marked FAILED by a later run), "
              f"{tally.left_flow_running} a Prefect flow run unfinished ({len(stuck_flows)} "
              "flow runs, all marked CRASHED by a later command); "
              f"{tally.finished_before_kill} commands finished before their kill; last "
              "uninterrupted durations " + ", ".join(f"{c} {d:.1f} s"
                                                     for c, d in durations.items()))
    assert tally.kills >= 50
    assert tally.partial_outputs == []
    assert tally.tracebacks == []
    assert tally.stray_processes == []
    assert tally.survived == tally.kills
