"""Hostile text in every free-text field of every source reaches no output as a formula or as
markup: the risk list (CSV, xlsx), the quarantine CSVs, the analytics workbook and page, the
ingest report and the HTML/Markdown report, as real `churn` processes write them."""

from __future__ import annotations

import csv
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pipelines.store.safe_text import FORMULA_TRIGGERS

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = (
    '=HYPERLINK("http://evil.example/x","click me")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    '<script>alert("planted")</script>',
    "<img src=x onerror=alert(1)>",
    "\t=1+1",
)
MARKERS = ("evil.example", "cmd|", "@SUM(", "alert(", "=1+1")
RAW_MARKUP = ("<script>", "<img src=x")
#: the free-text columns of each simulated export (ids and dates stay valid: they key rows)
FREE_TEXT = {
    "customers/customer_master.csv": ("name", "segment", "region", "owner"),
    "complaints/tickets_export.csv": ("category", "status"),
    "purchases/orders_export.csv": ("channel",),
    "interactions/interactions_log.csv": ("channel", "type"),
}
HOSTILE_FILE = "orders_<img src=x onerror=alert(1)>=1+1.csv"


def _churn(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MLFLOW_"))}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, "-m", "pipelines.cli", *args, "--data-dir", str(data)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=900)


def _plant(raw: Path) -> None:
    payloads = itertools.cycle(PAYLOADS)
    for name, columns in FREE_TEXT.items():
        path = raw / name
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in columns:
            rows = frame.index[::5]  # every fifth row of every free-text column
            frame.loc[rows, column] = [next(payloads) for _ in rows]
        frame.to_csv(path, index=False)
    orders = pd.read_csv(raw / "purchases/orders_export.csv", dtype=str, keep_default_na=False)
    extra = orders.head(6).copy()
    extra["order_id"] = [f"HOSTILE-{i}" for i in range(len(extra))]
    extra.loc[extra.index[:3], "amount"] = ["=1+1", "+cmd|' /C calc'!A0", "@SUM(9)"]  # bad
    extra.to_csv(raw / "purchases" / HOSTILE_FILE, index=False)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("hostile") / "data"
    assert _churn(data, "generate", "--customers", "400").returncode == 0
    _plant(data / "raw")
    steps = [("ingest",), ("train", "--min-positives", "20", "--min-negatives", "20"),
             ("score",), ("score", "--lang", "nl"), ("analyze",)]
    try:
        for step in steps:
            done = _churn(data, *step)
            assert done.returncode == 0, done.stdout + done.stderr
            assert "Traceback" not in done.stdout + done.stderr
    finally:
        from pipelines.operate.local_api import stop_local_api

        stop_local_api(data / ".prefect")
    return data


def _outputs(data: Path, suffix: str) -> list[Path]:
    return [path for path in data.rglob(f"*{suffix}")
            if path.relative_to(data).parts[0] not in {"raw", "mlflow", ".prefect"}]


def _planted(cell: str) -> bool:
    return any(marker in cell for marker in MARKERS)


@pytest.mark.flow
def test_the_planted_text_reached_the_outputs(hostile_run):
    """Otherwise the checks below would pass on outputs that never saw it."""
    text = "".join(path.read_text(encoding="utf-8-sig") for path in _outputs(hostile_run, ".csv"))
    assert "evil.example" in text and "cmd|" in text
    assert any("quarantine" in str(path) for path in _outputs(hostile_run, ".csv"))
    html = "".join(path.read_text() for path in _outputs(hostile_run, ".html"))
    assert "&lt;script&gt;" in html or "&lt;img src=x" in html


@pytest.mark.flow
def test_no_csv_cell_starts_a_formula(hostile_run):
    checked = 0
    for path in _outputs(hostile_run, ".csv"):
        sample = path.read_text(encoding="utf-8-sig")
        dialect = csv.Sniffer().sniff(sample.splitlines()[0], delimiters=",;\t")
        for row in csv.reader(sample.splitlines(), dialect):
            for cell in row:
                if _planted(cell):
                    checked += 1
                    assert not cell.startswith(FORMULA_TRIGGERS), f"{path.name}: {cell!r}"
    assert checked > 0


@pytest.mark.flow
def test_no_workbook_cell_is_a_formula(hostile_run):
    from openpyxl import load_workbook

    workbooks = _outputs(hostile_run, ".xlsx")
    assert {path.name for path in workbooks} >= {"risk_list.xlsx", "analytics.xlsx"}
    planted = 0
    for path in workbooks:
        for sheet in load_workbook(path).worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", f"{path.name}!{cell.coordinate}: {cell.value}"
                    planted += isinstance(cell.value, str) and _planted(cell.value)
    assert planted > 0


@pytest.mark.flow
def test_no_page_carries_planted_markup(hostile_run):
    pages = _outputs(hostile_run, ".html") + _outputs(hostile_run, ".md")
    assert {path.name for path in pages} >= {"report.html", "report.md", "analytics.html"}
    for path in pages:
        text = path.read_text()
        for markup in RAW_MARKUP:
            assert markup not in text, f"{path.relative_to(hostile_run)} carries {markup}"


@pytest.mark.flow
def test_the_ingest_report_names_the_hostile_file_inertly(hostile_run):
    report = hostile_run / "reports" / "ingest_report.json"
    text = report.read_text()
    assert "onerror" in text  # the file is named (JSON escapes nothing a browser would run)
    for path in _outputs(hostile_run, ".html") + _outputs(hostile_run, ".md"):
        assert "<img src=x onerror" not in path.read_text()
