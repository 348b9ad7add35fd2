"""What `churn ingest --explain` prints for a file (the printer, without a Prefect run)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from pipelines import cli
from pipelines.ingest.run import ingest_raw_exports
from pipelines.store.settings import Settings


def test_explain_lines_show_detection_and_keep_bracketed_headers(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    folder = settings.raw_dir / "complaints"
    folder.mkdir(parents=True)
    (folder / "tickets.csv").write_text(
        "ID,Requester ID,Created at,Solved at,Ticket Category [list]\n"
        "1,007,2024-01-01 10:00:00,,delivery\n", encoding="utf-8")
    report = ingest_raw_exports(settings, now=dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
                                explain=True)
    with cli.console.capture() as captured:
        cli.print_readings([asdict(r) for r in report.readings])
    text = " ".join(captured.get().split())
    assert "complaints/tickets.csv -> complaints (preset zendesk)" in text
    assert "encoding utf-8, delimiter ',', locale en" in text
    assert "Ticket Category [list] -> category" in text
    assert "formats: opened_at: ISO" in text
