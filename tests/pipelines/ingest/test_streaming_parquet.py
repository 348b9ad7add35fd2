"""A parquet export read in chunks of rows stages exactly what it stages read whole: the same
rows and typed values, the same quarantine and reasons, the same accounting and detected
formats. Typed columns (timestamps with and without a zone, dates, numbers), text columns
whose rule is decided from all their values, a pandas index and a dictionary column, with
chunk ends everywhere."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.ingest import export_file
from pipelines.ingest.run import read_export
from pipelines.ingest.sources_file import SourceRule

NOW = pd.Timestamp("2026-01-01", tz="UTC")


def _orders(rows: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    start = pd.Timestamp("2024-03-30 22:00")
    frame = pd.DataFrame({
        "customer_id": [f"C{i % 9:03d}" if i % 13 else None for i in range(rows)],
        "order_id": [f"O{i}" for i in range(rows)],
        # naive local times around the spring DST switch of Europe/Amsterdam
        "order_date": [start + pd.Timedelta(minutes=int(m)) for m in
                       rng.integers(0, 60 * 8, rows)],
        "amount": rng.lognormal(3, 1, rows).round(2),
        "status": pd.Categorical(rng.choice(["completed", "cancelled", "refunded"], rows)),
    })
    frame.loc[5, "amount"] = np.nan
    frame.loc[7, "order_date"] = pd.NaT
    return frame


def _text_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as day-first text (decided from every value: the first rows say nothing), and
    decimal-comma amounts as text."""
    text = frame.copy()
    text["order_date"] = [f"{d.day:02d}/{d.month:02d}/{d.year} {d:%H:%M}" if i > 3 and pd.notna(d)
                          else (f"01/02/{d.year}" if pd.notna(d) else "")
                          for i, d in enumerate(frame["order_date"])]
    text["amount"] = [f"{a:.2f}".replace(".", ",") if pd.notna(a) else None
                      for a in frame["amount"]]
    return text


def _write(path: Path, frame: pd.DataFrame, *, index: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=index), path, row_group_size=17)
    return path


CASES = {
    "typed naive timestamps": lambda: _orders(),
    "timestamps with a zone": lambda: _orders().assign(
        order_date=lambda f: f["order_date"].dt.tz_localize("Europe/Istanbul")),
    "dates": lambda: _orders().assign(
        order_date=lambda f: [d.date() if pd.notna(d) else None for d in f["order_date"]]),
    "day-first text and decimal commas": lambda: _text_dates(_orders()),
    "a pandas index": lambda: _orders().set_index("order_id", drop=False).rename_axis("idx"),
    "a date before 1990 (typed)": lambda: _orders().assign(order_date=lambda f: [
        dt.datetime(1899, 12, 30) if i == 2 else d for i, d in enumerate(f["order_date"])]),
    "ISO text with bad and early dates": lambda: _orders().assign(order_date=lambda f: [
        "not a date" if i == 3 else ("1899-12-30" if i == 2 else
                                     (f"{d:%Y-%m-%d %H:%M:%S}" if pd.notna(d) else None))
        for i, d in enumerate(f["order_date"])]),
}


def _outcome(path: Path, rule: SourceRule, *, whole: bool):
    return read_export(path, "purchases", rule, "Europe/Amsterdam", NOW, whole=whole)


@pytest.mark.parametrize("rows", ["1", "7", "1000"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_parquet_reads_the_same_in_chunks(tmp_path, monkeypatch, case, rows):
    monkeypatch.setenv("CHURN_INGEST_CHUNK_ROWS", rows)
    chunks: list[int] = []
    original = export_file.parquet_chunks

    def counted(path, chunk_rows):
        for chunk in original(path, chunk_rows):
            chunks.append(len(chunk.frame))
            yield chunk
    monkeypatch.setattr(export_file, "parquet_chunks", counted)
    frame = CASES[case]()
    path = _write(tmp_path / "raw" / "purchases" / "orders.parquet", frame,
                  index=case == "a pandas index")
    rule = SourceRule(locale="nl")
    whole = _outcome(path, rule, whole=True)
    assert not chunks
    streamed = _outcome(path, rule, whole=False)
    assert chunks and max(chunks) <= int(rows)  # read in chunks, none larger than asked
    pd.testing.assert_frame_equal(streamed.staged.reset_index(drop=True),
                                  whole.staged.reset_index(drop=True))
    pd.testing.assert_frame_equal(streamed.quarantined, whole.quarantined)
    assert asdict(streamed.account) == asdict(whole.account)
    assert asdict(streamed.reading) == asdict(whole.reading)
    assert streamed.account.rows_read == len(frame)
    assert streamed.account.staged + streamed.account.quarantined == len(frame)
    assert "idx" not in streamed.staged


def test_an_empty_parquet_file_reads_the_same_in_chunks(tmp_path):
    path = _write(tmp_path / "raw" / "purchases" / "empty.parquet", _orders().iloc[0:0])
    whole = _outcome(path, SourceRule(), whole=True)
    streamed = _outcome(path, SourceRule(), whole=False)
    assert streamed.account.rows_read == whole.account.rows_read == 0
    assert asdict(streamed.reading) == asdict(whole.reading)


def test_a_damaged_parquet_file_gets_the_same_sentence(tmp_path):
    path = tmp_path / "raw" / "purchases" / "cut.parquet"
    _write(path, _orders())
    path.write_bytes(path.read_bytes()[:-40])
    sentences = []
    for whole in (True, False):
        with pytest.raises(export_file.StagingError) as error:
            _outcome(path, SourceRule(), whole=whole)
        sentences.append(str(error.value))
    assert sentences[0] == sentences[1] and "damaged" in sentences[0]
