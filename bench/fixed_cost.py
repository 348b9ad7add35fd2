"""`make bench` part: the fixed cost of a `churn` command on tiny data, phase by phase.

Each probe is a fresh process doing what `churn score` does, with a clock between phases:
imports (the CLI, then the flows and tasks), the Prefect API (a temporary server started by
the first flow call, or a reused local one), opening MLflow, loading the champion, the
scoring flow itself, and the exit (wall time of the process minus its last mark). Two
configurations on the same data dir: `before` (what every command paid until now: a
temporary server per process and the interpreter's full teardown) and `after` (the reused
local API of `pipelines.operate.local_api` and the CLI's exit without teardown). A third,
`warm`, times the `churn` script itself (`pipelines.launcher`) once the data dir's warm worker
is up (`pipelines.operate.warm_worker`): the command runs in a fork of a process that has
done the imports, so its whole wall time, work included, is what a user waits; it has no
phases to split. The best of `BENCH_FIXED_REPEATS` (default 3) is kept: other load on the
machine only adds time.

python -m bench.fixed_cost     # or as part of `make bench`; writes bench/results/
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run import machine, write_results

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 50  # 47 eligible at the data end: the "tiny data"
PHASES = ("import_cli", "import_flows", "prefect_api", "mlflow_open", "champion_load",
          "score_flow", "exit")


def probe(data_dir: str, reuse_api: bool, fast_exit: bool) -> None:
    """One `churn score`-like process; prints its phase marks as one JSON line."""
    start = time.perf_counter()
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks[name] = time.perf_counter() - start

    os.environ["CHURN_PREFECT_SERVER"] = "reuse" if reuse_api else "ephemeral"
    from pipelines.cli_common import prepare_environment

    root = prepare_environment(Path(data_dir))
    mark("import_cli")  # includes choosing (and reusing) the local API: no server start here
    from pipelines.flows import score_flow

    mark("import_flows")
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.hello()
    mark("prefect_api")
    from pipelines.store.settings import Settings
    from pipelines.tracking.connect import configure_mlflow
    from pipelines.tracking.registry import load_champion

    settings = Settings.from_env(root)
    configure_mlflow(settings)
    mark("mlflow_open")
    load_champion(settings)
    mark("champion_load")
    score_flow(root, None)
    mark("score_flow")
    print(json.dumps(marks), flush=True)
    if fast_exit:
        from pipelines.cli import _exit_without_teardown

        _exit_without_teardown(0)


def measure(data_dir: Path, reuse_api: bool, fast_exit: bool) -> dict[str, float]:
    """Phase durations (s) of one probe process, `exit` measured from outside."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench.fixed_cost", "probe", str(data_dir), str(int(reuse_api)),
         str(int(fast_exit))],
        capture_output=True, text=True, cwd=ROOT, env=_env(), check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"probe failed:\n{done.stderr[-4000:]}")
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    phases, previous = {}, 0.0
    for name in PHASES[:-1]:
        phases[name] = round(marks[name] - previous, 3)
        previous = marks[name]
    phases["exit"] = round(wall - previous, 3)
    phases["total"] = round(wall, 3)
    # Fixed cost: everything but the scoring work itself (the flow's body on 47 customers).
    phases["fixed"] = round(wall - phases["score_flow"], 3)
    return phases


def measure_warm(data_dir: Path) -> dict[str, float]:
    """Wall time of one `churn score` through the launcher (warm worker up)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pipelines.launcher", "score", "--data-dir",
                           str(data_dir)], capture_output=True, text=True, cwd=ROOT,
                          env=_warm_env(), check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"warm probe failed:\n{done.stderr[-4000:]}")
    return {"total": round(wall, 3), "fixed": round(wall, 3)}


def _warm_env() -> dict[str, str]:
    return {**_env(), "CHURN_WARM_WORKER": "1", "CHURN_PREFECT_SERVER": "reuse"}


def start_warm_worker(data_dir: Path) -> None:
    """The first command starts the worker; wait until it listens (not timed)."""
    from pipelines.operate import warm_worker

    subprocess.run([sys.executable, "-m", "pipelines.launcher", "score", "--data-dir",
                    str(data_dir)], capture_output=True, cwd=ROOT, env=_warm_env(), check=True)
    folder = warm_worker.runtime_folder()
    key = warm_worker.worker_key(data_dir.resolve(), _warm_env())
    deadline = time.monotonic() + 120
    while folder is not None and not (folder / f"{key}.sock").exists():
        if time.monotonic() > deadline:
            raise SystemExit("the warm worker did not start within 120 s")
        time.sleep(0.5)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "MLFLOW_", "CHURN_"))}
    return {**env, "PYTHONPATH": str(ROOT)}


def _churn(data_dir: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "pipelines.cli", *args, "--data-dir", str(data_dir)],
                   cwd=ROOT, env={**_env(), "CHURN_PREFECT_SERVER": "ephemeral"}, check=True,
                   capture_output=True)


def main() -> dict:
    repeats = int(os.environ.get("BENCH_FIXED_REPEATS", "3"))
    report: dict = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "machine": machine(), "load_average_at_start": os.getloadavg(),
                    "customers": CUSTOMERS, "repeats": repeats, "configurations": {}}
    print(f"machine: {report['machine']}, load average {report['load_average_at_start']}")
    with tempfile.TemporaryDirectory(prefix="churn-fixed-") as folder:
        data_dir = Path(folder) / "data"
        _churn(data_dir, "generate", "--customers", str(CUSTOMERS))
        _churn(data_dir, "ingest")
        _churn(data_dir, "train", "--min-positives", "20", "--min-negatives", "20")
        try:
            for name, reuse, fast in (("before", False, False), ("after", True, True)):
                if reuse:
                    measure(data_dir, reuse, fast)  # starts the local API once, not timed
                runs = [measure(data_dir, reuse, fast) for _ in range(repeats)]
                best = min(runs, key=lambda phases: phases["fixed"])
                report["configurations"][name] = {"best": best, "runs": runs}
                print(f"{name:>6}: fixed {best['fixed']:.2f} s, total {best['total']:.2f} s  "
                      + ", ".join(f"{p} {best[p]:.2f}" for p in PHASES))
            start_warm_worker(data_dir)
            runs = [measure_warm(data_dir) for _ in range(repeats)]
            best = min(runs, key=lambda phases: phases["total"])
            report["configurations"]["warm"] = {"best": best, "runs": runs}
            print(f"  warm: total {best['total']:.2f} s, work included (churn script, warm "
                  "worker up)")
        finally:
            from pipelines.operate.local_api import stop_local_api
            from pipelines.operate.warm_worker import stop_workers

            stop_workers(data_dir)
            stop_local_api(data_dir / ".prefect")
    report["load_average_at_end"] = os.getloadavg()
    write_results(f"{report['machine']['host']}-fixed-cost", report)
    return report


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        probe(sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1")
    else:
        main()
