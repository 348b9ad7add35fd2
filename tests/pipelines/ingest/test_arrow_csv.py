"""The pyarrow fast path of a streamed CSV gives what the row-by-row reader gives: the same
chunks of cells, lines, set-aside lines and row count, on any text it takes; and it leaves
to that reader every file it cannot read the same way (the file is then read row by row
from the start, so nothing is read twice or half)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest import arrow_csv, chunked
from pipelines.ingest.export_file import _known
from pipelines.ingest.staging import StagingError

HEADER = "customer_id,order_id,order_date,amount"


def _read(path: Path, *, fast: bool, chunk_rows: int = 3):
    """(layout, [(frame, lines, problems)] of the sink, the same of `cell_chunks`)."""
    sunk: list = []
    original = chunked.arrow_readable
    chunked.arrow_readable = original if fast else (lambda layout: False)
    try:
        layout = chunked.scan_csv(path, _known, sink_for=lambda h, e: sunk.append)
        if layout is None:
            return None
        chunks = list(chunked.cell_chunks(layout, chunk_rows))
    except StagingError as error:
        return str(error)
    finally:
        chunked.arrow_readable = original
    return layout, sunk, chunks


def _same(path: Path, chunk_rows: int = 3) -> bool:
    """Both readers agree on the file; True when the fast path read it."""
    fast, slow = _read(path, fast=True, chunk_rows=chunk_rows), _read(path, fast=False,
                                                                      chunk_rows=chunk_rows)
    if slow is None or isinstance(slow, str):
        assert fast == slow  # read whole, or refused with the same sentence
        return False
    assert fast is not None
    (f_layout, f_sunk, f_chunks), (s_layout, s_sunk, s_chunks) = fast, slow
    for name in ("headers", "header_row", "header_line", "data_rows", "skipped",
                 "truncated_line", "delimiter"):
        assert getattr(f_layout, name) == getattr(s_layout, name), name
    for mine, theirs in ((f_sunk, s_sunk), (f_chunks, s_chunks)):
        left = pd.concat([t.frame for t in mine]) if mine else None
        right = pd.concat([t.frame for t in theirs]) if theirs else None
        if left is not None and right is not None:
            pd.testing.assert_frame_equal(left, right)
        assert [line for t in mine for line in t.lines] == \
            [line for t in theirs for line in t.lines]
        assert [t.row_problems for t in mine if t.row_problems] == \
            [t.row_problems for t in theirs if t.row_problems]
    return f_layout.arrow_width is not None


def _file(tmp_path: Path, text: str | bytes, name: str = "orders.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


ROWS = "".join(f"C{i % 4},O{i},2024-01-{1 + i % 28:02d},{i}.5\n" for i in range(20))


@pytest.mark.parametrize("text", [
    HEADER + "\n" + ROWS,
    HEADER + "\r\n" + ROWS.replace("\n", "\r\n"),
    "\ufeff" + HEADER + "\n" + ROWS,
    "Orders export 2024\nprinted by: admin\n" + HEADER + "\n" + ROWS,  # title rows
    HEADER + ",,\n" + ROWS.replace("\n", ",,\n"),  # empty trailing headers and cells
    HEADER + "\n" + ROWS + HEADER + "\n" + ROWS,  # exports pasted together
    HEADER + "\n" + ROWS + ",,,\n ,\t, ,\u00a0\n" + ROWS,  # blank rows (NBSP is blank)
    HEADER + "\n" + ROWS + "\n\n" + ROWS + "\n",  # empty lines
    HEADER + "\n" + ROWS + "Total,,,1234.5\n",  # a footer
    HEADER + "\n" + ROWS + ",,,\nTotal,,,1\nRows: 20,,,\n",
    HEADER + "\n" + '"C1","O1","2024-01-01","1,5"\n"C2","O""2","2024-01-02"," 3 "\n',
    HEADER + "\n",  # headers only
    HEADER + "\n" + "Total,,,0\n",  # nothing but a footer
    "customer_id;order_id;order_date;amount\nC1;O1;01.02.2024;1,5\n",
])
def test_the_fast_path_reads_files_as_the_row_reader_does(tmp_path, text):
    assert _same(_file(tmp_path, text))


@pytest.mark.parametrize("text, why", [
    (HEADER + "\n" + 'C1,"O\n1",2024-01-01,1\n' + ROWS, "a line break in a cell"),
    (HEADER + "\n" + "C1,O1,2024-01-01\n" + ROWS, "a short row"),
    (HEADER + "\n" + "C1,O1,2024-01-01,1,extra\n" + ROWS, "a filled cell past the headers"),
    (HEADER + "\n" + ROWS + "C9,O9,2024", "a cut-short last line"),
    (HEADER + "\n" + "C1,O\ufeff1,2024-01-01,1\n", "a BOM mid-file"),
    ('"Orders\nexport"\n' + HEADER + "\n" + ROWS, "a title over two lines"),
    (HEADER + "\n" + 'C1,"O1",2024-01-01,"1\n' + ROWS, "a runaway quote"),
])
def test_files_it_cannot_read_alike_are_read_row_by_row(tmp_path, text, why):
    path = _file(tmp_path, text)
    assert not _same(path), why


def test_turkish_code_page_and_gzip(tmp_path):
    import gzip

    text = HEADER + "\n" + "Ç1,O1,2024-01-01,1\n" + ROWS
    assert not _same(_file(tmp_path, text.encode("cp1254"), "tr.csv"))  # row by row
    assert _same(_file(tmp_path, gzip.compress((HEADER + "\n" + ROWS).encode()), "o.csv.gz"))


def test_a_cell_past_the_cell_bound_is_left_to_the_row_reader(tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_MAX_CELL_CHARS", "5")
    path = _file(tmp_path, HEADER + "\n" + ROWS + "C1,O123456789,2024-01-01,1\n")
    assert not _same(path)


CELL = st.text(alphabet=st.sampled_from(list('ab1 ,;"\t\u00a0\x1cç\n')), max_size=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=5), max_size=12),
       quote_all=st.booleans(), chunk_rows=st.integers(1, 4), raw_tail=st.sampled_from(
           ["", "\n", "Total,,,\n", ",,,,\n", '"x', "a,b\n"]))
def test_any_text_reads_alike(tmp_path, rows, quote_all, chunk_rows, raw_tail):
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                        lineterminator="\n")
    writer.writerow(["customer_id", "order_id", "order_date", "amount"])
    writer.writerows(rows)
    _same(_file(tmp_path, out.getvalue() + raw_tail), chunk_rows)


def test_the_fast_path_is_taken_for_a_plain_export(tmp_path, monkeypatch):
    taken: list[int] = []
    original = arrow_csv.arrow_count_rows

    def counted(*args, **kwargs):
        result = original(*args, **kwargs)
        taken.append(result is not None)
        return result
    monkeypatch.setattr(chunked, "arrow_count_rows", counted)
    assert _same(_file(tmp_path, HEADER + "\n" + ROWS))
    assert taken and taken[0]
