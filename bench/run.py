"""`make bench`: time and peak memory of each pipeline step on simulated data.

Each step runs in its own process (wall time and peak RSS measured from outside, Prefect's
server start excluded: steps call the pure code and the task functions directly). Figures are
printed and written to bench/results/<date>-<host>.json with the machine they ran on.

BENCH_CUSTOMERS=20000,100000 make bench   # sizes to run (default: 20000)
BENCH_SCALE=1 make bench                  # also the feature build for one cutoff over 1M
                                          # customers, 20M purchases, 5M interactions, 1M
                                          # complaints vs a bare DuckDB RFM GROUP BY
                                          # (BENCH_SCALE_CUSTOMERS resizes; BENCH_CUSTOMERS=
                                          # with no value skips the simulated-data steps)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STEPS = ("generate", "ingest", "duckdb_rfm", "features", "train", "score")
SCALE_STEPS = ("scale_generate", "scale_duckdb_rfm", "scale_features")
GIB = 1024.0
RESULTS = Path(__file__).resolve().parent / "results"


def run_step(step: str, data_dir: Path, customers: int) -> dict:
    start = time.perf_counter()
    env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.step", step, str(data_dir), str(customers)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        cwd=Path(__file__).resolve().parents[1],
    )
    _, status, usage = os.wait4(process.pid, 0)
    out, err = process.stdout.read(), process.stderr.read()
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"step {step} failed:\n{err[-4000:]}")
    facts = json.loads(out.strip().splitlines()[-1])
    return {"step": step, "wall_seconds": round(wall, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1), **facts}


def run_scale(customers: int) -> dict:
    """Feature build vs a bare DuckDB RFM GROUP BY over the same synthetic purchases file."""
    rows = {}
    with tempfile.TemporaryDirectory(prefix="churn-scale-") as folder:
        for step in SCALE_STEPS:
            rows[step] = run_step(step, Path(folder), customers)
            print(f"{'scale':>9} {step:<17} {rows[step]['wall_seconds']:>8.2f} s "
                  f"{rows[step]['peak_rss_mib']:>9.1f} MiB  {rows[step]}")
    bare, full = rows["scale_duckdb_rfm"], rows["scale_features"]
    summary = {
        "rows": rows["scale_generate"],
        "bare_rfm_seconds": bare["compute_seconds"], "features_seconds": full["compute_seconds"],
        "ratio": round(full["compute_seconds"] / bare["compute_seconds"], 2),
        "features_peak_gib": round(full["peak_rss_mib"] / GIB, 2),
        "target": "ratio <= 2, peak < 6 GiB",
    }
    print(f"feature build {summary['features_seconds']} s vs bare RFM "
          f"{summary['bare_rfm_seconds']} s: ratio {summary['ratio']}, "
          f"peak {summary['features_peak_gib']} GiB ({summary['target']})")
    return {"steps": list(rows.values()), "summary": summary}


def write_results(name: str, report: dict) -> Path:
    """`report` as `bench/results/<today>-<name>.json` (the one place results are written);
    the path is printed and returned."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{dt.date.today()}-{name}.json"
    out.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"written: {out}")
    return out


def machine() -> dict:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"host": socket.gethostname(), "cpus": os.cpu_count(),
            "memory_gib": round(memory, 1), "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(), "platform": platform.platform()}


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_CUSTOMERS", "20000").split(",") if s]
    report = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": machine(), "runs": []}
    print(f"machine: {report['machine']}")
    for customers in sizes:
        with tempfile.TemporaryDirectory(prefix="churn-bench-") as folder:
            data_dir = Path(folder) / "data"
            for step in STEPS:
                row = {"customers": customers, **run_step(step, data_dir, customers)}
                report["runs"].append(row)
                extra = {k: v for k, v in row.items()
                         if k not in ("customers", "step", "wall_seconds", "peak_rss_mib")
                         and not str(v).startswith("/")}
                print(f"{customers:>9} {step:<11} {row['wall_seconds']:>8.2f} s "
                      f"{row['peak_rss_mib']:>9.1f} MiB  {extra}")
    if os.environ.get("BENCH_SCALE"):
        report["scale"] = run_scale(int(os.environ.get("BENCH_SCALE_CUSTOMERS", "1000000")))
    only_scale = "-scale" if not sizes else ""
    write_results(f"{report['machine']['host']}{only_scale}", report)


if __name__ == "__main__":
    main()
