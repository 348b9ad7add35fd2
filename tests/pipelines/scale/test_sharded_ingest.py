"""An ingest on a local Dask cluster of two workers (files read in parallel, one task a file)
stages exactly what a single process stages: the same tables, quarantine files and report,
with the same refusal sentences for a file that cannot be read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from pipelines.ingest import reading
from pipelines.ingest.run import IngestError, ingest_raw_exports
from pipelines.scale.runner import command_runner
from pipelines.scale.settings import ScaleSettings
from pipelines.store.settings import Settings
from tests.fixtures.make_corpus import write_corpus

NOW = pd.Timestamp("2026-01-01", tz="UTC")


def _outputs(data: Path, scale: ScaleSettings, mapped: list[int]) -> dict:
    settings = Settings.from_env(data)
    with command_runner(scale) as runner:
        try:
            ingest_raw_exports(settings, now=NOW, wait_seconds=1)
        except IngestError as error:
            return {"refused": [p.replace(str(data), "<data>") for p in error.problems]}
        mapped.append(runner.started)
    tables = {p.name: pd.read_parquet(p) for p in sorted(settings.staged_dir.glob("*.parquet"))}
    quarantine = {p.name: p.read_bytes() for p in sorted(settings.quarantine_dir.glob("*"))}
    report = json.loads((settings.reports_dir / "ingest_report.json").read_text().replace(
        str(data), "<data>"))
    return {"tables": tables, "quarantine": quarantine, "report": report}


def _both(tmp_path: Path, raw: Path) -> tuple[dict, dict, list[int]]:
    started: list[int] = []
    results = []
    for name, scale in (("alone", ScaleSettings()),
                        ("cluster", ScaleSettings(scheduler="local", local_workers=2))):
        shutil.copytree(raw, tmp_path / name / "raw")
        results.append(_outputs(tmp_path / name, scale, started))
    return results[0], results[1], started


def test_a_two_worker_cluster_stages_what_one_process_stages(tmp_path):
    write_corpus(tmp_path / "corpus")
    alone, cluster, started = _both(tmp_path, tmp_path / "corpus" / "raw")
    assert started == [False, True]  # the files did go to the cluster
    assert alone["tables"].keys() == cluster["tables"].keys()
    assert len(alone["tables"]) >= 4 and alone["quarantine"]
    for name, frame in alone["tables"].items():
        pd.testing.assert_frame_equal(cluster["tables"][name], frame, obj=name)
    assert cluster["quarantine"] == alone["quarantine"]
    assert cluster["report"] == alone["report"]


def test_a_bad_file_is_refused_with_the_same_sentence_on_the_cluster(tmp_path):
    raw = tmp_path / "raw"
    (raw / "purchases").mkdir(parents=True)
    (raw / "purchases" / "a.csv").write_text(
        "customer_id,order_id,order_date,amount\nC1,O1,2025-01-02,3\n")
    (raw / "purchases" / "b.csv").write_text("customer_id,order_id\nC1,O1\n")  # no date
    (raw / "complaints").mkdir()
    (raw / "complaints" / "c.parquet").write_bytes(b"PAR1 not really")
    alone, cluster, _ = _both(tmp_path, raw)
    assert "refused" in alone and len(alone["refused"]) == 2
    assert cluster == alone


def test_a_bug_is_one_line_for_the_user_and_a_logged_trace(tmp_path, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise KeyError("boom")
    monkeypatch.setattr(reading, "read_export", broken)
    task = reading.FileTask(tmp_path / "x.csv", "purchases", reading.SourceRule(), "UTC", NOW,
                            "purchases/x.csv")
    [failure] = reading.read_files([task])
    assert isinstance(failure, reading.FileFailure)
    assert "unexpected problem" in failure.problem and "\n" not in failure.problem
    assert "KeyError: 'boom'" in caplog.text
