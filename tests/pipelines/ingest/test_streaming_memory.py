"""Reading an export in chunks keeps memory within `CHURN_INGEST_MEMORY_MB` beyond the typed
rows it stages, however large its text: a child process reads a generated 40 MB export
under a 64 MB bound and its peak memory (VmHWM) is checked. Read whole, a file takes
about 25 times its size (bytes, text, lines, cell lists and an object frame at once: 420 MB
more for this one, measured), so within 64 MB the whole-file reader manages about 2.5 MB:
the file is 16 times that."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BOUND_MB = 64
FILE_MB = 40
NOTE = "x" * 40  # the unmapped columns of a wide ERP export: read, never staged

CHILD = """
import json, sys
from pathlib import Path
import pandas as pd
from pipelines.ingest.run import read_export
from pipelines.ingest.sources_file import SourceRule

def peak():
    # the high-water mark of this process's own memory: ru_maxrss would start at the
    # parent's (pytest's) size, which it inherits across fork and exec
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0]) * 1024

before = peak()
result = read_export(Path(sys.argv[1]), sys.argv[2], SourceRule(), "UTC",
                     pd.Timestamp("2026-01-01", tz="UTC"))
print(json.dumps({"before": before, "peak": peak(), "rows": len(result.staged),
                  "staged": int(result.staged.memory_usage(deep=True).sum())}))
"""


def _wide_export(path: Path) -> int:
    """A purchases export of about FILE_MB with 20 columns the ingest does not read; its
    data rows."""
    header = "customer_id,order_id,order_date,amount," + ",".join(f"note_{i}" for i in range(20))
    notes = ",".join([NOTE] * 20)
    rows, size = 0, 0
    with path.open("w", encoding="utf-8") as out:
        out.write(header + "\n")
        while size < FILE_MB * 2**20:
            line = (f"C{rows % 5000:05d},O{rows},2024-{1 + rows % 12:02d}-{1 + rows % 28:02d},"
                    f"{rows % 997}.50,{notes}\n")
            out.write(line)
            rows, size = rows + 1, size + len(line)
    return rows


def test_a_large_export_is_read_within_the_bound(tmp_path):
    path = tmp_path / "orders.csv"
    rows = _wide_export(path)
    measured = _read_in_a_child(path, "purchases")
    assert measured["rows"] == rows
    grown = measured["peak"] - measured["before"]
    # what the bound governs: the growth beyond the typed rows staged (held twice while the
    # chunks' rows are joined into one frame)
    assert grown - 2 * measured["staged"] <= BOUND_MB * 2**20, measured


def _read_in_a_child(path: Path, kind: str) -> dict:
    env = {"CHURN_INGEST_MEMORY_MB": str(BOUND_MB), "PYTHONPATH": str(Path.cwd()),
           "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", CHILD, str(path), kind], capture_output=True,
                          text=True, env=env, check=True, cwd=Path.cwd())
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_long_narrow_events_export_keeps_only_its_compact_rows(tmp_path):
    # product events: few short columns, many rows. What stays after reading is the staged
    # rows themselves (Arrow strings, ~95 bytes a row), not each chunk's converted cells: an
    # empty slice kept per chunk once held every chunk's Python strings (~300 bytes a row)
    path = tmp_path / "events.csv"
    rows = 300_000
    with path.open("w", encoding="utf-8") as out:
        out.write("customer_id,interaction_id,occurred_at,channel,type,direction\n")
        for i in range(rows):
            out.write(f"{i % 7919:07d},EV-{i:09d}-r0,2024-{1 + i % 12:02d}-{1 + i % 28:02d}"
                      f"T{i % 24:02d}:{i % 60:02d}:00Z,app,{('login', 'post', 'like')[i % 3]},"
                      "inbound\n")
    measured = _read_in_a_child(path, "interactions")
    assert measured["rows"] == rows
    assert measured["staged"] < 110 * rows  # compact: not one Python object per cell
    grown = measured["peak"] - measured["before"]
    # The bound itself is the wide export's test above. Here the chunk's working memory sits
    # at it (six runs: 53.7 to 63.2 MB, mimalloc's reuse varying), so the allowance is a
    # quarter more; the regression this guards (every chunk's Python strings kept, ~300
    # bytes a row) would add about 90 MB beyond it.
    assert grown - 2 * measured["staged"] <= 1.25 * BOUND_MB * 2**20, measured


def test_the_empty_future_part_of_a_chunk_holds_none_of_its_text():
    # each chunk's rows dated in the future are kept apart; when there are none, the empty
    # part once was a slice of the chunk, and an Arrow slice (even copied) keeps every
    # buffer of the chunk alive: every chunk of a streamed file was held twice
    import gc

    import pandas as pd
    import pyarrow as pa

    from pipelines.ingest.export_file import _split_future

    before = pa.total_allocated_bytes()
    staged = pd.DataFrame({
        "customer_id": pd.Series([f"{i:07d}" for i in range(200_000)], dtype="str"),
        "interaction_id": pd.Series([f"EV-{i:09d}" for i in range(200_000)], dtype="str"),
        "occurred_at": pd.Timestamp("2024-01-01", tz="UTC")})
    assert pa.total_allocated_bytes() - before > 3 * 2**20  # the text is in Arrow's pool
    kept, future = _split_future("interactions", staged, pd.Timestamp("2026-01-01", tz="UTC"))
    assert len(future) == 0 and kept is staged
    assert list(future.columns) == list(staged.columns) + ["reason"]
    assert (future.dtypes.drop("reason") == staged.dtypes).all()
    del kept, staged
    gc.collect()
    assert pa.total_allocated_bytes() - before < 2**20  # nothing of the chunk left
