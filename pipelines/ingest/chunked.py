"""A CSV-family export read in chunks of rows, with the layout the whole-file reader
(`pipelines.ingest.readers.read_csv_cells`) would find: the same header, the same title,
repeated-header, blank and footer lines set aside, the same row problems.

`scan_csv` streams the file once to learn its layout (`CsvLayout`), handing its data rows to
a sink on the way (the column statistics); `cell_chunks` streams it again and yields them
as `RawTable`s of at most `chunk_rows` rows, indexed by their position in the whole file.
A file whose layout needs the whole text (a header not found among the first rows, more
trailing footer rows than are kept in view, an encoding only the whole-file reader decides)
gives None: the caller reads it whole.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import pandas as pd

from pipelines.ingest.arrow_csv import arrow_cell_chunks, arrow_count_rows, arrow_readable
from pipelines.ingest.bounds import ingest_chunk_rows, max_cell_chars, max_streamed_bytes
from pipelines.ingest.readers import (
    BINARY,
    EMPTY,
    RawTable,
    _filled,
    _is_footer,
    _unique_headers,
    sniff_delimiter,
)
from pipelines.ingest.staging import StagingError
from pipelines.ingest.text_stream import (
    StreamState,
    TextPlan,
    csv_rows,
    plan_decoding,
    text_start,
)

STREAMED_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".txt.gz", ".tsv.gz")
TOP_ROWS = 30  # where the header row is looked for (as `readers._header_index`)
FOOTER_VIEW = 10_000  # trailing rows kept in view to find footer rows ...
FOOTER_VIEW_CELLS = 1_000_000  # ... fewer for wide files


@dataclass
class CsvLayout:
    """Where one file's data rows are, learnt in one streaming pass."""

    path: Path
    plan: TextPlan
    delimiter: str
    headers: list[str]
    header_row: int  # index of the header among the CSV rows
    header_line: int
    header_cells: list[str]  # the header row's cells as read (repeated headers match these)
    data_rows: int  # rows kept as data (after footers)
    text_chars: int  # decoded characters, for the chunk size
    truncated_line: int | None  # the last line, when it is cut short
    skipped: dict[str, int] = field(default_factory=dict)
    arrow_width: int | None = None  # cells per row, when read by pyarrow (`arrow_csv`)


def _cut(row: list[str], limit: int) -> str | None:
    """`readers._cut_long_cells` for one row: long cells cut, the reason returned."""
    if max(map(len, row), default=0) <= limit:
        return None
    why = None
    for index, cell in enumerate(row):
        if len(cell) > limit:
            why = (f"a cell of {len(cell):,} characters (more than {limit:,}, "
                   "CHURN_MAX_CELL_CHARS)")
            row[index] = cell[:100] + "…"
    return why


def _rows(path: Path, plan: TextPlan, delimiter: str, state: StreamState | None = None,
          width: int | None = None, skip: int = 0
          ) -> Iterator[tuple[list[str], int, str | None, StagingError | None]]:
    """Every CSV row after the first `skip` with its first line and the reason its long
    cells were cut; with `width`, also a runaway quote found in it (before the cut, as the
    whole-file reader). One generator per row on top of `csv.reader`: this runs per row."""
    limit, state = max_cell_chars(), state or StreamState()
    rows = csv_rows(path, plan, delimiter, max_streamed_bytes(), state)
    try:
        for row, first, end in islice(rows, skip, None):
            if end == first and state.longest <= limit:  # the common case: nothing to check
                yield row, first, None, None
                continue
            runaway = _runaway_quote(row, first, delimiter, width) \
                if width is not None and end > first else None
            # a cell is only longer than the bound on a longer line or across lines
            yield row, first, _cut(row, limit), runaway
    except csv.Error as error:
        raise StagingError(f"cannot be read as CSV ({str(error).rstrip('.')}); "
                           "export it again as CSV") from None


#: Given a file's headers and encoding: where its data rows go while they are counted (a
#: chunk at a time, footers left out), or None when the file is to be read whole anyway.
SinkFor = Callable[[list[str], str], Callable[[RawTable], None] | None]


def scan_csv(path: Path, known: Callable[[str], bool], encoding: str | None = None,
             delimiter: str | None = None,
             sink_for: SinkFor = lambda headers, encoding: lambda chunk: None,
             ) -> CsvLayout | None:
    """The layout of a CSV-family file, or None when only the whole-file reader can tell it
    or `sink_for` says it will be read whole anyway (before the rows are counted). The data
    rows are handed to the sink in chunks as they are counted. Raises the whole-file
    reader's StagingError for an empty, binary or unreadable file."""
    limit = max_streamed_bytes()
    if path.stat().st_size > limit:
        raise StagingError(f"is larger than {limit // 2**20:,} MB (CHURN_MAX_STREAMED_MB); "
                           "split the export or raise the bound")
    plan = plan_decoding(path, encoding, limit)
    if plan is None:
        return None
    start = text_start(path, plan, limit)
    if start.blank:
        raise StagingError(EMPTY)
    if start.binary:
        raise StagingError(BINARY)
    delimiter = delimiter or sniff_delimiter(start.sample)
    csv.field_size_limit(min(max(limit, 1), 2**31 - 1))
    top = []
    for row, first, _, _ in _rows(path, plan, delimiter):
        top.append((row, first))
        if len(top) == TOP_ROWS:
            break
    header_row = _known_header_row([row for row, _ in top], known)
    if header_row is None:
        return None
    headers = [str(c).strip() for c in top[header_row][0]]
    while headers and headers[-1] == "":
        headers.pop()
    if len(headers) < 2:
        return None
    try:
        headers = _unique_headers([h or f"column_{i + 1}" for i, h in enumerate(headers)], known)
    except StagingError:
        return None
    sink = sink_for(headers, plan.label)
    if sink is None:
        return None
    layout = CsvLayout(path, plan, delimiter, headers, header_row, top[header_row][1],
                       list(top[header_row][0][:len(headers)]), 0, 0, None)
    width = max((len(r) for r, _ in top), default=0)
    chunk_rows = ingest_chunk_rows(sum(sum(map(len, r)) for r, _ in top), len(top))
    if arrow_readable(layout):
        counted = arrow_count_rows(layout, len(top[header_row][0]), chunk_rows, sink,
                                   _footer_view(layout))
        if counted is not None:
            return layout if counted else None
    return layout if _count_rows(layout, width, _Batches(layout, chunk_rows, sink)) else None


def _footer_view(layout: CsvLayout) -> int:
    """How many trailing rows are kept in view to find footer rows."""
    return max(100, min(FOOTER_VIEW, FOOTER_VIEW_CELLS // max(len(layout.headers), 1)))


class _Batches:
    """Data rows collected into chunks of `size` for a sink."""

    def __init__(self, layout: CsvLayout, size: int, sink: Callable[[RawTable], None]):
        self.layout, self.size, self.sink = layout, size, sink
        self.cells: list[list] = []
        self.lines: list[int] = []
        self.offset = 0

    def add(self, row: list[str], line: int) -> None:
        self.cells.append(_padded(row, len(self.layout.headers)))
        self.lines.append(line)
        if len(self.cells) == self.size:
            self.flush()

    def flush(self) -> None:
        if self.cells:
            self.sink(_chunk(self.layout, self.cells, self.lines, {}, self.offset))
            self.offset += len(self.cells)
            self.cells, self.lines = [], []


def _padded(row: list, width: int) -> list:
    """A row as wide as the headers: short rows padded with None, extra cells dropped."""
    return row if len(row) == width else (row + [None] * width)[:width]


def _known_header_row(rows: list[list[str]], known: Callable[[str], bool]) -> int | None:
    """`readers._header_index` where it needs only the top rows (the row with the most known
    headers); None where it would look at the widths of all rows."""
    matches = [sum(known(c) for c in row) for row in rows]
    if matches and max(matches) >= 2:
        return matches.index(max(matches))
    return None


def _count_rows(layout: CsvLayout, width: int, batches: _Batches) -> bool:
    """Count every set-aside line and the data rows, handing the data rows to `batches` (a
    row once it is too far from the end to be a footer); False when the footer rows run
    past the rows kept in view."""
    skipped = {"title rows above the header": layout.header_row} if layout.header_row else {}
    repeated = blank = kept = 0
    view: deque[tuple[list[str], int]] = deque(maxlen=_footer_view(layout))
    runaway: StagingError | None = None
    state = StreamState()
    final: tuple[int, int] = (0, 0)  # the last CSV row: its first line and its width
    header, first_header = layout.header_cells, layout.header_cells[0]
    for index, (row, first, _, quote) in enumerate(_rows(layout.path, layout.plan,
                                                          layout.delimiter, state, width)):
        final = (first, len(row))
        runaway = runaway or quote
        if index <= layout.header_row:
            continue
        if row and row[0] == first_header and row[:len(header)] == header:
            repeated += 1
        elif not "".join(row).strip():
            blank += 1
        else:
            kept += 1
            if len(view) == view.maxlen:
                batches.add(*view[0])
            view.append((row, first))
    if runaway is not None:
        raise runaway
    if repeated:
        skipped["repeated header lines"] = repeated
    if blank:
        skipped["blank lines"] = blank
    footer = 0
    while view and _is_footer(view[-1][0], len(layout.headers)):
        view.pop()
        footer += 1
    if not view and footer < kept:
        return False
    if footer:
        skipped["total/footer rows"] = footer
    for row, first in view:
        batches.add(row, first)
    batches.flush()
    layout.skipped, layout.data_rows, layout.text_chars = skipped, kept - footer, state.chars
    if layout.data_rows and view and view[-1][1] == final[0] and final[1] < len(layout.headers) \
            and state.last not in ("\n", "\r"):
        layout.truncated_line = final[0]
    return True


def _runaway_quote(row: list[str], line: int, delimiter: str, width: int
                   ) -> StagingError | None:
    """`readers._refuse_runaway_quote` for one row that spans several lines."""
    for cell in row:
        if cell.count("\n") < 3:
            continue
        inner = cell.split("\n")[1:-1]
        if sum(1 for part in inner if part.count(delimiter) >= max(width - 1, 1)) >= 3:
            return StagingError(
                f"line {line}: a quote (\") opens a cell that runs on over "
                f"{cell.count(chr(10))} lines that look like rows, so they would be lost; "
                "remove or double the stray quote (\"\") and export again")
    return None


def cell_chunks(layout: CsvLayout, chunk_rows: int) -> Iterator[RawTable]:
    """The data rows in `RawTable`s of at most `chunk_rows` rows (at least one, maybe
    empty), each frame indexed by the rows' positions in the whole file."""
    if layout.arrow_width is not None:
        yield from arrow_cell_chunks(layout, chunk_rows)
        return
    width = len(layout.headers)
    cells: list[list] = []  # rows of text, short rows padded with None
    lines: list[int] = []
    problems: dict[int, str] = {}
    offset = kept = 0
    header, first_header = layout.header_cells, layout.header_cells[0]
    for row, first, long_cell, _ in _rows(layout.path, layout.plan, layout.delimiter,
                                          skip=layout.header_row + 1):
        if (row and row[0] == first_header and row[:width] == header) \
                or not "".join(row).strip():
            continue
        if kept == layout.data_rows:
            break
        kept += 1
        extra = _filled(row[width:]) if len(row) > width else 0
        why = (f"{extra} more cell(s) than headers (unquoted delimiter?)" if extra else
               long_cell or (_TRUNCATED if first == layout.truncated_line else None))
        if why:
            problems[first] = why
        cells.append(_padded(row, width))
        lines.append(first)
        if len(cells) == chunk_rows:
            yield _chunk(layout, cells, lines, problems, offset)
            offset += len(cells)
            cells, lines, problems = [], [], {}
    if cells or not offset:
        yield _chunk(layout, cells, lines, problems, offset)


_TRUNCATED = ("the last line is cut short (fewer cells than headers): the file looks "
              "truncated; export it again")


def _chunk(layout: CsvLayout, cells: list, lines: list[int], problems: dict[int, str],
           offset: int) -> RawTable:
    frame = pd.DataFrame(cells, columns=range(len(layout.headers)), dtype=object,
                         index=pd.RangeIndex(offset, offset + len(cells)))
    frame.columns = layout.headers
    return RawTable(layout.headers, frame, lines, "csv", encoding=layout.plan.label,
                    delimiter=layout.delimiter, header_line=layout.header_line,
                    skipped=layout.skipped, row_problems=problems)
