"""Ingest throughput and peak memory, CSV exports read in chunks vs read whole (issue 15).

For each size the simulator writes a retail business's exports once; then the ingest runs
in its own process twice: as it runs by default (CSV exports without a preset streamed in
chunks, `CHURN_INGEST_MEMORY_MB`) and with every file read whole (the earlier path). Each
child reports its own peak memory (VmHWM: ru_maxrss would start at the parent's size) and
rows read per second of ingest. Printed and written to
bench/results/<date>-<host>-ingest-memory.json with the machine and its load average.

BENCH_INGEST_CUSTOMERS=20000,100000 python -m bench.ingest_memory   # the default sizes
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.run import machine, write_results

ROOT = Path(__file__).resolve().parents[1]
MODES = ("chunked", "whole")

CHILD = """
import json, sys, time
from pathlib import Path
from pipelines.ingest import export_file
from pipelines.ingest.run import ingest_raw_exports
from pipelines.store.settings import Settings

if sys.argv[2] == "whole":  # every file read whole, as before streaming
    export_file.scan_csv = lambda *args, **kwargs: None
settings = Settings.from_env(Path(sys.argv[1]))
start = time.perf_counter()
report = ingest_raw_exports(settings)
seconds = time.perf_counter() - start
status = Path("/proc/self/status").read_text()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
rows = sum(a.rows_read for a in report.accounts)
print(json.dumps({"rows_read": rows, "staged_rows": report.staged_rows,
                  "ingest_seconds": round(seconds, 2), "rows_per_second": round(rows / seconds),
                  "peak_rss_mib": round(peak, 1)}))
"""


def _generate(data_dir: Path, customers: int) -> int:
    """The exports' size in bytes."""
    subprocess.run([sys.executable, "-m", "bench.step", "generate", str(data_dir),
                    str(customers)], check=True, cwd=ROOT, capture_output=True)
    return sum(p.stat().st_size for p in (data_dir / "raw").rglob("*") if p.is_file())


def _ingest(data_dir: Path, mode: str) -> dict:
    for output in ("staged", "staged.versions", "quarantine", "reports"):
        target = data_dir / output
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            subprocess.run(["rm", "-rf", str(target)], check=True)
    done = subprocess.run([sys.executable, "-c", CHILD, str(data_dir), mode], check=True,
                          cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_INGEST_CUSTOMERS", "20000,100000").split(",")
             if s]
    report = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": machine(), "load_average_at_start": os.getloadavg(),
              "memory_setting_mb": os.environ.get("CHURN_INGEST_MEMORY_MB", "default"),
              "runs": []}
    print(f"machine: {report['machine']}, load average {report['load_average_at_start']}")
    for customers in sizes:
        with tempfile.TemporaryDirectory(prefix="churn-ingest-bench-") as folder:
            data_dir = Path(folder) / "data"
            size = _generate(data_dir, customers)
            for mode in MODES:
                row = {"customers": customers, "mode": mode,
                       "export_mib": round(size / 2**20, 1), **_ingest(data_dir, mode)}
                report["runs"].append(row)
                print(f"{customers:>9} {mode:<8} {row['export_mib']:>7.1f} MiB of exports "
                      f"{row['rows_read']:>9,} rows {row['rows_per_second']:>8,} rows/s "
                      f"peak {row['peak_rss_mib']:>8.1f} MiB")
    report["load_average_at_end"] = os.getloadavg()
    write_results(f"{report['machine']['host']}-ingest-memory", report)


if __name__ == "__main__":
    main()
