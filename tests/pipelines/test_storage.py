"""Atomic writes: a process killed mid-write leaves the previous staged data readable."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd

from pipelines.ingest import ingest_raw_exports
from pipelines.settings import Settings
from pipelines.storage import load_source_tables

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
HEADER = "customer_id,order_id,order_date,amount\n"

# Runs a real ingest whose parquet writer stops halfway through the bytes of the new file
# and waits to be killed, as a crash or `kill -9` would leave it.
CHILD = textwrap.dedent("""
    import sys, time, datetime as dt
    import pandas as pd
    from pipelines import storage
    from pipelines.ingest import ingest_raw_exports
    from pipelines.settings import Settings

    def half_written(self, path, **kwargs):
        with open(path, "wb") as out:
            out.write(b"PAR1" + b"\\0" * 4096)
            out.flush()
        print("writing", flush=True)
        time.sleep(60)

    pd.DataFrame.to_parquet = half_written
    ingest_raw_exports(Settings.from_env(sys.argv[1]),
                       now=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
""")


def test_kill_mid_write_keeps_previous_staged_data_and_next_run_completes(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    raw = settings.raw_dir / "purchases"
    raw.mkdir(parents=True)
    (raw / "a.csv").write_text(HEADER + "1,A,2024-01-01,1.50\n", encoding="utf-8")
    ingest_raw_exports(settings, now=NOW)
    before = load_source_tables(settings).purchases
    (raw / "b.csv").write_text(HEADER + "2,B,2024-01-02,2.00\n", encoding="utf-8")

    repo = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(settings.data_dir)], cwd=repo,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    pd.testing.assert_frame_equal(load_source_tables(settings).purchases, before)

    report = ingest_raw_exports(settings, now=NOW)
    assert not report.unchanged and report.staged_rows == {"purchases": 2}
    assert load_source_tables(settings).purchases["order_id"].tolist() == ["A", "B"]
