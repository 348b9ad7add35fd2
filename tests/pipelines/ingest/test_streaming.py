"""A CSV export read in chunks stages exactly what it stages read whole: the same rows and
values, the same quarantine with the same reasons, the same row accounting and detected
formats, the same refusal sentences. Chunks of a few rows put chunk ends everywhere: inside
quarantined runs, next to repeated headers, blank and footer lines, across date and number
columns whose rule is decided from all their values."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features import codes
from pipelines.ingest import chunked, export_file
from pipelines.ingest.run import IngestError, ingest_raw_exports, read_export
from pipelines.ingest.sources_file import SourceRule
from pipelines.store.settings import Settings
from tests.fixtures.make_bad_inputs import NOW as BAD_NOW
from tests.fixtures.make_bad_inputs import BadInput, bad_inputs, write_case
from tests.fixtures.make_corpus import write_corpus

NOW = pd.Timestamp("2026-01-01", tz="UTC")
#: The size bounds differ by design between the two readers (a streamed file's memory does
#: not grow with it: CHURN_MAX_STREAMED_MB; one read whole: CHURN_MAX_UNPACKED_MB), so the
#: cases about them end differently and are tested in test_bad_inputs.
_SIZE_BOUNDS = {"CHURN_MAX_STREAMED_MB", "CHURN_MAX_UNPACKED_MB"}
CASES = [c for c in bad_inputs() if any(p.endswith((".csv", ".txt", ".tsv", ".gz"))
                                        for p in c.files) and not _SIZE_BOUNDS & set(c.env)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root)
    return root


@pytest.fixture
def streamed(monkeypatch) -> list[str]:
    """Counts the files read in chunks (so no test passes by reading everything whole)."""
    files: list[str] = []
    original = export_file.scan_csv

    def counted(path, *args, **kwargs):
        layout = original(path, *args, **kwargs)
        if layout is not None:
            files.append(path.name)
        return layout
    monkeypatch.setattr(export_file, "scan_csv", counted)
    return files


def _outcome(path: Path, rule: SourceRule, *, whole: bool):
    try:
        result = read_export(path, path.parent.name, rule, "UTC", NOW, whole=whole)
    except Exception as error:  # the refusal must be the same sentence
        return type(error).__name__, str(error)
    return result


def _same_file(chunked_result, whole_result) -> None:
    if isinstance(whole_result, tuple):
        assert chunked_result == whole_result
        return
    assert not isinstance(chunked_result, tuple), chunked_result
    pd.testing.assert_frame_equal(chunked_result.staged.reset_index(drop=True),
                                  whole_result.staged.reset_index(drop=True))
    pd.testing.assert_frame_equal(chunked_result.quarantined, whole_result.quarantined)
    assert asdict(chunked_result.account) == asdict(whole_result.account)
    assert asdict(chunked_result.reading) == asdict(whole_result.reading)


@pytest.mark.parametrize("rows, rule", [
    ("1", SourceRule(timezone="Europe/Istanbul")), ("7", SourceRule(locale="nl"))])
def test_every_corpus_file_reads_the_same_in_chunks(corpus, rows, rule, monkeypatch, streamed):
    monkeypatch.setenv("CHURN_INGEST_CHUNK_ROWS", rows)
    monkeypatch.setattr(export_file, "COMPACT_ROWS", 3)  # parts joined every few rows
    for path in sorted(p for p in corpus.rglob("*") if p.is_file()):
        whole = _outcome(path, rule, whole=True)
        _same_file(_outcome(path, rule, whole=False), whole)
    assert len(set(streamed)) >= 12, sorted(set(streamed))  # the rest: presets, xlsx, parquet


def _ingest_outputs(settings: Settings, now) -> dict:
    """Everything one ingest leaves: the refusal, or the staged tables, quarantine files and
    the report."""
    try:
        ingest_raw_exports(settings, now=now, wait_seconds=1)
    except IngestError as error:
        return {"refused": [p.replace(str(settings.data_dir), "<data>") for p in error.problems]}
    tables = {p.name: pd.read_parquet(p) for p in sorted(settings.staged_dir.glob("*.parquet"))}
    quarantine = {p.name: p.read_bytes() for p in sorted(settings.quarantine_dir.glob("*"))}
    report = json.loads((settings.reports_dir / "ingest_report.json").read_text().replace(
        str(settings.data_dir), "<data>"))
    return {"tables": tables, "quarantine": quarantine, "report": report}


def _same_outputs(chunked_outputs: dict, whole_outputs: dict) -> None:
    assert chunked_outputs.keys() == whole_outputs.keys()
    if "refused" in whole_outputs:
        assert chunked_outputs == whole_outputs
        return
    assert chunked_outputs["tables"].keys() == whole_outputs["tables"].keys()
    for name, frame in whole_outputs["tables"].items():
        pd.testing.assert_frame_equal(chunked_outputs["tables"][name], frame, obj=name)
    assert chunked_outputs["quarantine"] == whole_outputs["quarantine"]
    assert chunked_outputs["report"] == whole_outputs["report"]


def _both_ways(data: Path, now, monkeypatch, rows: str = "7") -> tuple[dict, dict]:
    """(outputs read in chunks of `rows`, outputs read whole) of one data dir's raw files."""
    whole_dir, chunked_dir = data.parent / "whole", data.parent / "chunked"
    shutil.copytree(data, whole_dir, symlinks=True)
    shutil.copytree(data, chunked_dir, symlinks=True)
    monkeypatch.setenv("CHURN_INGEST_CHUNK_ROWS", rows)
    with monkeypatch.context() as compacting:  # staged parts joined every few rows
        compacting.setattr(export_file, "COMPACT_ROWS", 5)
        # keys coded as for millions of rows (DuckDB's estimate, hashes, dictionaries)
        compacting.setattr(codes, "SMALL_ROWS", 0)
        chunked_outputs = _ingest_outputs(Settings.from_env(chunked_dir), now)
    with monkeypatch.context() as whole:
        whole.setattr(export_file, "scan_csv", lambda *args, **kwargs: None)
        whole_outputs = _ingest_outputs(Settings.from_env(whole_dir), now)
    return chunked_outputs, whole_outputs


def test_the_corpus_ingests_the_same_in_chunks(corpus, tmp_path, monkeypatch, streamed):
    data = tmp_path / "data"
    shutil.copytree(corpus / "raw", data / "raw")
    chunked_outputs, whole_outputs = _both_ways(data, NOW, monkeypatch)
    assert "tables" in whole_outputs, whole_outputs
    _same_outputs(chunked_outputs, whole_outputs)
    assert whole_outputs["quarantine"] and streamed


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_bad_input_ends_the_same_in_chunks(case: BadInput, tmp_path, monkeypatch):
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "case" / "data"
    write_case(case, data, tmp_path / "outside")
    if case.fifos:
        pytest.skip("a pipe is refused before any file is read")
    chunked_outputs, whole_outputs = _both_ways(data, BAD_NOW, monkeypatch, rows="2")
    _same_outputs(chunked_outputs, whole_outputs)


def test_chunk_ends_fall_inside_every_run(tmp_path, monkeypatch, streamed):
    """A file built so that 7-row chunks cut through a quarantined run, a repeated header,
    blank lines, day-first dates (only row 40 tells day from month) and decimal commas (only
    row 33 tells them from thousands), with footers at the end."""
    rows = ["Klantnummer;Bestelnummer;Datum;Bedrag"]
    for number in range(1, 46):
        day = 13 if number == 40 else 1 + number % 12
        amount = "1.234,50" if number == 33 else f"{number}.000"
        rows.append(f"{number:05d};B{number};{day:02d}/{1 + number % 12:02d}/2024;{amount}")
        if number == 10:
            rows.append("Klantnummer;Bestelnummer;Datum;Bedrag")
        if number in (15, 16):
            rows.append(";;;")
        if 20 <= number <= 24:
            rows[-1] = f"NULL;B{number};01/01/2024;5"
    rows += ["Totaal;;;1.234.567,00", ""]
    data = tmp_path / "data"
    (data / "raw" / "purchases").mkdir(parents=True)
    (data / "raw" / "purchases" / "orders.csv").write_text("\n".join(rows), encoding="utf-8")
    chunked_outputs, whole_outputs = _both_ways(data, NOW, monkeypatch)
    _same_outputs(chunked_outputs, whole_outputs)
    assert "report" in whole_outputs, whole_outputs
    account = whole_outputs["report"]["files"][0]
    assert account["rows_read"] == 45 and account["quarantined"] == 5
    assert account["skipped_lines"] == {"repeated header lines": 1, "blank lines": 2,
                                        "total/footer rows": 1}
    reading = whole_outputs["report"]["readings"][0]
    assert reading["formats"] == {"order_date": "dd/MM/yyyy"}
    amounts = whole_outputs["tables"]["purchases.parquet"].set_index("order_id")["amount"]
    assert amounts["B33"] == 1234.5 and amounts["B32"] == 32_000.0
    assert streamed == ["orders.csv"]


def test_a_file_only_the_whole_text_explains_is_read_whole(tmp_path, monkeypatch):
    """Lines of a UTF-8 and a cp1254 export pasted together are decoded line by line: the
    layout scan leaves such a file to the whole-file reader (and says so with None)."""
    path = tmp_path / "orders.csv"
    path.write_bytes(b"customer_id,order_id,order_date,amount,note\n"
                     + "C1,O1,2024-01-01,1,Müşteri\n".encode()
                     + "C2,O2,2024-01-02,2,Müşteri\n".encode("cp1254"))
    assert chunked.scan_csv(path, export_file._known) is None
    result = read_export(path, "purchases", SourceRule(), "UTC", NOW)
    assert result.reading.encoding.startswith("utf-8 and cp1254")
    assert len(result.staged) == 2


_CELLS = {
    "date": st.sampled_from(["2024-01-05", "05.01.2024", "5/1/2024", "13/01/2024", "01/13/2024",
                             "2024-01-05 10:00:00", "", "not a date"]),
    "amount": st.sampled_from(["1.234,50", "1,234.50", "12,5", "12.50", "1.000", "", "-3",
                               "(4.00)", "€ 7", "x"]),
    "id": st.sampled_from(["C1", "C2", "00123", "NULL", "", "1.7E+1", "c1@example.com"]),
}
_LINE = st.one_of(
    st.tuples(_CELLS["id"], st.text("AB1", min_size=1, max_size=3), _CELLS["date"],
              _CELLS["amount"]).map(lambda r: ",".join(f'"{c}"' if "," in c else c for c in r)),
    st.just(""), st.just(",,,"), st.just("customer_id,order_id,order_date,amount"),
    st.just('C9,"multi\nline",2024-01-05,1'), st.just("C8,O8,2024-01-05"),
    st.just("C7,O7,2024-01-05,1,extra"), st.just("Total,,,99"))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, max_size=14), rows=st.integers(1, 4), end=st.sampled_from(["", "\n"]))
def test_any_small_export_reads_the_same_in_chunks(tmp_path, monkeypatch, lines, rows, end):
    path = tmp_path / "purchases" / "orders.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text("customer_id,order_id,order_date,amount\n" + "\n".join(lines) + end,
                    encoding="utf-8")
    monkeypatch.setenv("CHURN_INGEST_CHUNK_ROWS", str(rows))
    rule = SourceRule(locale="nl")
    _same_file(_outcome(path, rule, whole=False), _outcome(path, rule, whole=True))
