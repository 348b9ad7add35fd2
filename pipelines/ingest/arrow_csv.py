"""The fast path of a streamed CSV: pyarrow's CSV reader in place of `csv.reader`, for files
where both give the same rows, lines and set-aside lines.

`csv.reader` costs a few microseconds of Python per row, more than the conversion of the
rows themselves; pyarrow reads the same text in C++. It is used only where the answer is
provably the one the row-by-row reader gives, and the caller falls back to that reader
(from the start, nothing kept) as soon as a file leaves that ground:

- UTF-8 or ASCII text (a leading BOM is skipped by both), the header on the first line of its
  row, every title row above it one line;
- every data row one line with exactly as many cells as the header row, so a row's line is
  its position; no cell holding a line break, NUL or BOM; no cell longer than the cell bound;
  no filled cell past the named headers (the row-by-row reader flags those rows).

Repeated header lines, blank rows and footer rows are set aside as the row-by-row reader sets
them aside (blank by Python's own set of whitespace; the footer test runs on the same
Python rows). Every fallback is a whole-file
property checked before any row is handed on, so a file is read one way or the other,
never partly each.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from pipelines.ingest.bounds import ingest_memory_bytes, max_cell_chars
from pipelines.ingest.readers import RawTable, _is_footer
from pipelines.store.text_classes import char_class, python_spaces

if TYPE_CHECKING:
    from pipelines.ingest.chunked import CsvLayout

ARROW_CODECS = frozenset({"ascii", "utf-8", "utf-8-sig"})
#: Bytes of text per batch, as a share of `CHURN_INGEST_MEMORY_MB`: the reader's memory grows
#: with it (parse buffers and string arrays: ~35 MB more at 1 MB blocks, ~90 MB at 4 MB,
#: measured on a 24-column export), its speed hardly does.
BLOCK_SHARE = 1 / 512
BLOCK_BYTES = (1 << 16, 1 << 20)
LINE = "__line__"


def _blank_pattern() -> str:
    """A cell of nothing but what Python's `str.strip` removes (a blank row's cells)."""
    return "^[" + python_spaces() + "]*$"


#: Cells with these are read row by row: line breaks (a row over several lines, its lines no
#: longer its position), NUL (an error there), BOMs (removed from the text there).
_ROW_BY_ROW = "[" + char_class(["\x00", "\n", "\r", "\ufeff"]) + "]"


class _NotHere(Exception):
    """The file leaves the fast path's ground: read it row by row."""


def arrow_readable(layout: CsvLayout) -> bool:
    """Whether the file may be tried on the fast path at all (before reading it)."""
    return (layout.plan.codec in ARROW_CODECS and len(layout.delimiter) == 1
            and layout.header_line == layout.header_row + 1)


def _block_bytes() -> int:
    low, high = BLOCK_BYTES
    return int(min(max(ingest_memory_bytes() * BLOCK_SHARE, low), high))


def _batches(layout: CsvLayout, width: int) -> Iterator[pa.RecordBatch]:
    """The data rows after the header, every cell text, each batch with its rows' lines."""
    invalid: list[int] = []

    def refuse(row) -> str:
        invalid.append(1)
        return "skip"

    names = [f"c{i}" for i in range(width)]
    with layout.path.open("rb") as probe:
        packed = probe.read(2) == b"\x1f\x8b"
    source = gzip.open(layout.path, "rb") if packed else layout.path.open("rb")
    try:
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(skip_rows=layout.header_row + 1, column_names=names,
                                           block_size=_block_bytes(), use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, quote_char='"',
                                              double_quote=True, escape_char=False,
                                              newlines_in_values=True, ignore_empty_lines=False,
                                              invalid_row_handler=refuse),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), null_values=[],
                strings_can_be_null=False, quoted_strings_can_be_null=False))
        line = layout.header_line + 1
        for batch in reader:
            if invalid:
                raise _NotHere
            lines = pa.array(np.arange(line, line + batch.num_rows, dtype=np.int64))
            line += batch.num_rows
            yield pa.RecordBatch.from_arrays([*batch.columns, lines], [*names, LINE])
        if invalid:
            raise _NotHere
    except pa.ArrowInvalid:
        raise _NotHere from None
    finally:
        source.close()


def _kept_rows(layout: CsvLayout, batch: pa.RecordBatch, counts: dict[str, int]
               ) -> pa.Table:
    """The batch's data rows (repeated headers and blank rows counted and left out);
    _NotHere when a cell needs the row-by-row reader."""
    named = len(layout.headers)
    limit, blank_cell = max_cell_chars(), _blank_pattern()
    cells = batch.columns[:-1]
    for index, column in enumerate(cells):
        if pc.any(pc.match_substring_regex(column, _ROW_BY_ROW)).as_py():
            raise _NotHere
        if (pc.max(pc.utf8_length(column)).as_py() or 0) > limit:
            raise _NotHere
        if index >= named and not pc.all(pc.match_substring_regex(column, blank_cell)).as_py():
            raise _NotHere  # a filled cell past the headers: flagged row by row
    repeated = pc.equal(cells[0], layout.header_cells[0])
    for column, header in zip(cells[1:named], layout.header_cells[1:], strict=False):
        repeated = pc.and_(repeated, pc.equal(column, header))
    blank = pc.match_substring_regex(cells[0], blank_cell)
    for column in cells[1:]:
        blank = pc.and_(blank, pc.match_substring_regex(column, blank_cell))
    blank = pc.and_(blank, pc.invert(repeated))
    counts["repeated"] += pc.sum(repeated).as_py() or 0
    counts["blank"] += pc.sum(blank).as_py() or 0
    keep = pc.invert(pc.or_(repeated, blank))
    table = pa.Table.from_batches([batch])
    return table.filter(keep).select([*range(named), table.num_columns - 1])


def _raw_table(layout: CsvLayout, rows: pa.Table, offset: int) -> RawTable:
    frame = rows.drop_columns([LINE]).to_pandas().astype(object)
    frame.columns = layout.headers
    frame.index = pd.RangeIndex(offset, offset + len(frame))
    return RawTable(layout.headers, frame, rows.column(LINE).to_pylist(), "csv",
                    encoding=layout.plan.label, delimiter=layout.delimiter,
                    header_line=layout.header_line, skipped=layout.skipped, row_problems={})


def _data_tables(layout: CsvLayout, chunk_rows: int) -> Iterator[pa.Table]:
    """The first `layout.data_rows` kept rows (the footer left out) in tables of at most
    `chunk_rows` rows."""
    assert layout.arrow_width is not None
    pending: list[pa.Table] = []
    left, held = layout.data_rows, 0
    counts = {"repeated": 0, "blank": 0}
    for batch in _batches(layout, layout.arrow_width):
        rows = _kept_rows(layout, batch, counts)
        rows = rows.slice(0, left)
        left -= rows.num_rows
        pending.append(rows)
        held += rows.num_rows
        while held >= chunk_rows:
            joined = pa.concat_tables(pending)
            yield joined.slice(0, chunk_rows)
            pending, held = [joined.slice(chunk_rows)], held - chunk_rows
        if not left:
            break
    if held:
        yield pa.concat_tables(pending)


def arrow_count_rows(layout: CsvLayout, width: int, chunk_rows: int,
                     sink: Callable[[RawTable], None], view: int) -> bool | None:
    """`chunked._count_rows` on the fast path: None when the file is to be read row by row
    (found in a first pass that hands nothing on), else as `_count_rows`, the sink given the
    data rows in a second pass."""
    counts = {"repeated": 0, "blank": 0}
    tail: list[pa.Table] = []  # the last `view` kept rows, where footers are looked for
    kept = chars = 0
    named = len(layout.headers)
    try:
        for batch in _batches(layout, width):
            rows = _kept_rows(layout, batch, counts)
            kept += rows.num_rows
            chars += sum(pc.sum(pc.utf8_length(c)).as_py() or 0 for c in rows.columns[:-1])
            tail.append(rows)
            while len(tail) > 1 and sum(t.num_rows for t in tail[1:]) >= view:
                tail.pop(0)
    except _NotHere:
        return None
    skipped = {"title rows above the header": layout.header_row} if layout.header_row else {}
    if counts["repeated"]:
        skipped["repeated header lines"] = counts["repeated"]
    if counts["blank"]:
        skipped["blank lines"] = counts["blank"]
    in_view = min(kept, view)
    footer = _footer_rows(pa.concat_tables(tail) if tail else None, in_view, named)
    if footer == in_view and footer < kept:
        return False
    if footer:
        skipped["total/footer rows"] = footer
    layout.skipped, layout.data_rows = skipped, kept - footer
    layout.text_chars, layout.arrow_width = chars + kept * named, width
    offset = 0
    for table in _data_tables(layout, chunk_rows):
        sink(_raw_table(layout, table, offset))
        offset += table.num_rows
    return True


def _footer_rows(tail: pa.Table | None, in_view: int, named: int) -> int:
    """How many of the last `in_view` rows are footer rows, looked at from the end as the
    row-by-row reader does (a few rows at a time as Python rows)."""
    footer, end = 0, tail.num_rows if tail is not None else 0
    while tail is not None and footer < in_view:
        start = max(end - in_view, end - footer - 64)
        rows = tail.slice(start, end - footer - start).to_pylist()
        for row in reversed(rows):
            if not _is_footer([row[f"c{i}"] for i in range(named)], named):
                return footer
            footer += 1
    return footer


def arrow_cell_chunks(layout: CsvLayout, chunk_rows: int) -> Iterator[RawTable]:
    """`chunked.cell_chunks` for a file counted on the fast path."""
    offset = 0
    for table in _data_tables(layout, chunk_rows):
        yield _raw_table(layout, table, offset)
        offset += table.num_rows
    if not offset:
        empty = pa.table({**{f"c{i}": pa.array([], pa.string())
                             for i in range(len(layout.headers))},
                          LINE: pa.array([], pa.int64())})
        yield _raw_table(layout, empty, 0)
