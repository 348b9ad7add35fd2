"""Reading one export file into cells and line numbers: CSV (any encoding, sniffed
delimiter, gzip), xlsx and parquet, with title rows above the header and total/footer rows
below the data set aside and counted.

Cells stay as delivered: text from CSV, native values (numbers, datetimes) from xlsx and
parquet. Nothing is converted here; `pipelines.ingest.cells` does that per column.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard, cast

import pandas as pd

from pipelines.ingest.bounds import max_cell_chars, max_unpacked_bytes
from pipelines.ingest.headers import fold_header
from pipelines.ingest.staging import StagingError

READABLE_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".txt.gz", ".tsv.gz", ".xlsx", ".parquet")
DELIMITERS = (",", ";", "\t", "|")
ENCODING_CANDIDATES = ("utf-8", "cp1254", "cp1252")

# Letters expected in Turkish, Dutch and English exports, and what mis-decoding produces.
_EXPECTED = set("çğıöşüÇĞİÖŞÜéëïèáàâêîôûÉËÏ€₺")
_MOJIBAKE = re.compile(
    r"[ÝÞÐýþð]|Ã.|Å[\u009f\u0178\u017e\u0161\u00be]|Ä[\u00b1\u009f\u0178]|â‚¬|â€")
_FOOTER_WORDS = ("geneltoplam", "toplam", "totaal", "grandtotal", "grandtotals", "total",
                 "totals", "confidentialinformation", "copyright")


@dataclass
class RawTable:
    """One file's data rows as cells under their original headers."""

    headers: list[str]
    frame: pd.DataFrame  # object cells, original header names
    lines: list[int]  # the source line (CSV) or sheet row (xlsx) of every data row
    file_type: str
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int = 1
    skipped: dict[str, int] = field(default_factory=dict)  # title/footer/blank lines
    row_problems: dict[int, str] = field(default_factory=dict)  # line -> why it is unusable


def decode_bytes(data: bytes, forced: str | None = None) -> tuple[str, str]:
    """The text and the encoding that reads it best (a BOM or `forced` wins); text that an
    earlier tool already garbled is repaired when that clearly scores better."""
    text, encoding = _decoded(data, forced)
    return _repaired(text, encoding) if not forced else (text, encoding)


# Earlier mis-decodings that can be undone: (what the tool read the bytes as, what they were).
_REPAIRS = (("latin-1", "cp1254"), ("cp1252", "utf-8"), ("cp1254", "utf-8"))


def _repaired(text: str, encoding: str) -> tuple[str, str]:
    """`Müþteri Adý` (cp1254 read as Latin-1, as Netsis exports arrive) or `MÃ¼ÅŸteri`
    (UTF-8 read as cp125x) put back, only when the repair removes every signature."""
    if not _MOJIBAKE.search(text):
        return text, encoding
    for wrong, right in _REPAIRS:
        try:
            fixed = text.encode(wrong).decode(right)
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if not _MOJIBAKE.search(fixed) and encoding_score(fixed) > encoding_score(text):
            return fixed, f"{encoding} (repaired: {right} once read as {wrong})"
    return text, encoding


def _decoded(data: bytes, forced: str | None) -> tuple[str, str]:
    if forced:
        try:
            return data.decode(forced), forced
        except UnicodeDecodeError as error:
            line = data[:error.start].count(b"\n") + 1
            raise StagingError(f"cannot decode as {forced}: line {line} is not {forced} text; "
                               "fix `encoding` in sources.yaml or remove it to let the encoding "
                               "be detected") from None
        except LookupError:
            raise StagingError(f"unknown encoding {forced!r}; fix `encoding` in sources.yaml"
                               ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if data[:200].count(b"\x00") > 20:  # UTF-16 without a BOM: every other byte is zero
        encoding = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        return data.decode(encoding, errors="replace"), encoding
    data = data.replace(b"\xef\xbb\xbf", b"")  # the BOM of a UTF-8 file pasted in mid-way
    if data.isascii():  # every candidate reads it the same
        return data.decode("ascii"), "utf-8"
    mixed = _mixed_lines(data)
    if mixed is not None:
        return mixed
    scored = []
    for rank, encoding in enumerate(ENCODING_CANDIDATES):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        scored.append((encoding_score(text), -rank, text, encoding))
    if not scored:  # cp1252 and cp1254 leave only a few bytes undefined: not text
        raise StagingError(BINARY)
    best = max(scored)
    if best[3] == "cp1254" and any(t == best[2] and e == "cp1252" for _, _, t, e in scored):
        return best[2], "cp1252"  # no Turkish-only byte: name the Western code page
    return best[2], best[3]


BINARY = ("looks like a binary file, not a text export (no line reads as UTF-8, cp1254 or "
          "cp1252 text); export it again as CSV, xlsx or parquet")


def _mixed_lines(data: bytes) -> tuple[str, str] | None:
    """Files pasted together from a UTF-8 and a cp1254/cp1252 export: each line decoded on
    its own (a non-ASCII line that is valid UTF-8 is UTF-8: single-byte text almost never
    is). None when the file is not such a mix."""
    if not re.search(rb"[\xc2-\xf4][\x80-\xbf]", data):  # no UTF-8 sequence at all
        return None
    try:
        data.decode("utf-8")
        return None  # all of it is UTF-8
    except UnicodeDecodeError:
        pass
    lines = data.splitlines(keepends=True)
    utf8, other = [], []
    for number, line in enumerate(lines):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8.append(number)
        except UnicodeDecodeError:
            other.append(number)
    if not utf8 or not other:
        return None
    rest = b"".join(lines[n] for n in other)
    _, fallback = _decoded(rest, None)  # the best single-byte reading of the other lines
    if fallback not in ("cp1254", "cp1252"):
        return None
    other_set = set(other)
    text = "".join(line.decode(fallback if n in other_set else "utf-8")
                   for n, line in enumerate(lines))
    return text, f"utf-8 and {fallback} (mixed lines)"


_EXPECTED_RX = re.compile("[" + "".join(sorted(_EXPECTED)) + "]")
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")


def encoding_score(text: str) -> int:
    """Higher for Turkish/Dutch letters, much lower for mojibake signatures and controls."""
    expected = len(_EXPECTED_RX.findall(text))
    return expected - 5 * len(_MOJIBAKE.findall(text)) - 10 * len(_CONTROLS.findall(text))


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter among `, ; TAB |` that splits most sample lines into the same width > 1."""
    best, best_score = ",", (0.0, 0)
    sample = [line for line in lines[:200] if line.strip()]
    for delimiter in DELIMITERS:
        widths = [len(row) for row in csv.reader(sample, delimiter=delimiter)]
        if not widths:
            continue
        mode = max(set(widths), key=lambda w: (widths.count(w), w))
        if mode < 2:
            continue
        score = (widths.count(mode) / len(widths), mode)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _header_index(rows: Sequence[Sequence[object]], known: Callable[[str], bool]) -> int:
    """Index of the header row: the first of the top rows with the most known header names,
    else the first row filled at least half as wide as the widest row."""
    top = rows[:30]
    matches = [sum(isinstance(c, str) and known(c) for c in row) for row in top]
    if matches and max(matches) >= 2:
        return matches.index(max(matches))
    width = max((_filled(row) for row in rows), default=0)
    for index, row in enumerate(top):
        if _filled(row) >= max(2, width / 2):
            return index
    return 0


def _filled(row: Sequence[object]) -> int:
    return sum(0 if c is None or str(c).strip() == "" else 1 for c in row)


def _all_text(row: Sequence[object]) -> TypeGuard[Sequence[str]]:
    return all(isinstance(c, str) for c in row)


def _nonblank(row: Sequence[object]) -> bool:
    if _all_text(row):  # CSV rows: one C-level join
        return bool("".join(row).strip())
    return any(c is not None and str(c).strip() for c in row)


def _is_footer(row: Sequence[object], width: int) -> bool:
    filled = [c for c in row if c is not None and str(c).strip()]
    if len(filled) <= 1 and width > 2:
        return True
    first = fold_header(str(filled[0])) if filled else ""
    return len(filled) < width / 2 + 1 and any(first.startswith(w) for w in _FOOTER_WORDS)


def _unique_headers(headers: list[str], known: Callable[[str], bool]) -> list[str]:
    """Headers made unique: a repeated unknown header gets ` (2)`; a repeated header that
    names a column the ingest reads is refused (which copy holds the data is a guess)."""
    seen: dict[str, int] = {}
    unique = []
    for index, header in enumerate(headers):
        if header in seen:
            if known(header):
                raise StagingError(
                    f"columns {seen[header] + 1} and {index + 1} are both named {header!r}; "
                    "rename or remove one and export again")
            copy = 2
            while f"{header} ({copy})" in headers or f"{header} ({copy})" in unique:
                copy += 1
            unique.append(f"{header} ({copy})")
        else:
            seen[header] = index
            unique.append(header)
    return unique


def table_from_rows(
    rows: Sequence[Sequence[object]], lines: list[int], known: Callable[[str], bool],
    file_type: str
) -> RawTable:
    """Header detection, blank/footer removal and the cell frame, for any row source."""
    skipped: dict[str, int] = {}
    if not rows:
        raise StagingError(EMPTY)
    start = _header_index(rows, known)
    if start:
        skipped["title rows above the header"] = start
    headers = [str(c).strip() if c is not None else "" for c in rows[start]]
    while headers and headers[-1] == "":
        headers.pop()
    if len(headers) < 2:
        raise StagingError("no header row with at least two columns found")
    headers = _unique_headers([h or f"column_{i + 1}" for i, h in enumerate(headers)], known)
    body = list(zip(rows[start + 1:], lines[start + 1:], strict=True))
    header_cells = list(rows[start][:len(headers)])
    repeated = {i for i, (row, _) in enumerate(body) if list(row[:len(headers)]) == header_cells}
    if repeated:  # exports pasted together: their header lines again
        skipped["repeated header lines"] = len(repeated)
        body = [pair for i, pair in enumerate(body) if i not in repeated]
    if file_type == "csv":  # every cell is a string: one C-level join per row
        kept = [pair for pair in body if "".join(cast("Sequence[str]", pair[0])).strip()]
    else:
        kept = [pair for pair in body if _nonblank(pair[0])]
    if len(kept) < len(body):
        skipped["blank lines"] = len(body) - len(kept)
    body = kept
    footer = 0
    while body and _is_footer(body[-1][0], len(headers)):
        body.pop()
        footer += 1
    if footer:
        skipped["total/footer rows"] = footer
    width = len(headers)
    problems = {line: f"{_filled(row[width:])} more cell(s) than headers (unquoted delimiter?)"
                for row, line in body if len(row) > width and _filled(row[width:])}
    cells = [row if len(row) == width else (list(row) + [None] * width)[:width]
             for row, _ in body]
    frame = pd.DataFrame(cells, columns=range(width), dtype=object)
    frame.columns = headers
    return RawTable(headers, frame, [line for _, line in body], file_type,
                    header_line=lines[start], skipped=skipped, row_problems=problems)


def read_csv_cells(data: bytes, known: Callable[[str], bool], encoding: str | None = None,
                   delimiter: str | None = None) -> RawTable:
    text, used = decode_bytes(data, encoding)
    text = text.replace("\ufeff", "")  # BOMs of files pasted together, mid-file
    if not text.strip():
        raise StagingError(EMPTY)
    if len(_CONTROLS.findall(text[:100_000])) > len(text[:100_000]) / 20:
        raise StagingError(BINARY)
    physical = text.splitlines()
    delimiter = delimiter or sniff_delimiter(_sample_lines(physical))
    csv.field_size_limit(min(max(max_unpacked_bytes(), 1), 2**31 - 1))  # bounded per cell below
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = list(reader)
    if reader.line_num == len(rows):  # one line per row: row i sits on line i + 1
        lines = list(range(1, len(rows) + 1))
    else:  # a quoted multi-line cell spans several lines: read again, tracking them
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        rows, lines, previous_end = [], [], 0
        for row in reader:
            rows.append(row)
            lines.append(previous_end + 1)
            previous_end = reader.line_num
        _refuse_runaway_quote(rows, lines, delimiter)
    long_cells = _cut_long_cells(rows, lines) if max(map(len, physical), default=0) > \
        max_cell_chars() or len(rows) != len(physical) else {}
    table = table_from_rows(rows, lines, known, "csv")
    table.encoding, table.delimiter = used, delimiter
    for line, why in long_cells.items():
        table.row_problems.setdefault(line, why)
    if rows and lines and not text.endswith(("\n", "\r")) and table.lines \
            and table.lines[-1] == lines[-1] and len(rows[-1]) < len(table.headers):
        table.row_problems.setdefault(lines[-1], "the last line is cut short (fewer cells "
                                      "than headers): the file looks truncated; export it again")
    return table


EMPTY = "the file is empty; export it again or remove it from raw/"


def _sample_lines(lines: list[str], width: int = 10_000) -> list[str]:
    """The first lines, each cut to `width` characters: enough to tell the delimiter."""
    return [line[:width] for line in lines[:200]]


def _cut_long_cells(rows: list[list[str]], lines: list[int]) -> dict[int, str]:
    """Cells longer than the bound (`CHURN_MAX_CELL_CHARS`) are cut (kept short in the
    quarantine file) and their row flagged."""
    limit = max_cell_chars()
    flagged: dict[int, str] = {}
    for row, line in zip(rows, lines, strict=True):
        if max(map(len, row), default=0) <= limit:
            continue
        for index, cell in enumerate(row):
            if len(cell) > limit:
                flagged[line] = (f"a cell of {len(cell):,} characters (more than {limit:,}, "
                                 "CHURN_MAX_CELL_CHARS)")
                row[index] = cell[:100] + "…"
    return flagged


def _refuse_runaway_quote(rows: list[list[str]], lines: list[int], delimiter: str) -> None:
    """A stray quote at the start of a cell makes the CSV reader take every following line
    as part of that cell, up to the next quote: rows vanish without an error. A quoted cell
    holding three or more lines that split like rows is refused with where it starts."""
    width = max((len(r) for r in rows[:30]), default=0)
    for row, line in zip(rows, lines, strict=True):
        for cell in row:
            if cell.count("\n") < 3:
                continue
            inner = cell.split("\n")[1:-1]
            rowlike = sum(1 for part in inner if part.count(delimiter) >= max(width - 1, 1))
            if rowlike >= 3:
                raise StagingError(
                    f"line {line}: a quote (\") opens a cell that runs on over "
                    f"{cell.count(chr(10))} lines that look like rows, so they would be lost; "
                    "remove or double the stray quote (\"\") and export again")


def read_xlsx_cells(path: Path, known: Callable[[str], bool]) -> RawTable:
    """The first worksheet's cells: numbers and dates stay native (dates as datetimes)."""
    from openpyxl import load_workbook

    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic == OLE_MAGIC:  # an encrypted workbook is an OLE container, as old .xls files are
        raise StagingError("is password-protected (or an old .xls saved as .xlsx); remove the "
                           "password in Excel and save it as .xlsx, or export it as CSV")
    _refuse_xlsx_bomb(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a broken or non-xlsx file
        raise StagingError("cannot open as xlsx: damaged, or another format named .xlsx; "
                           "re-save it from Excel as .xlsx or export it as CSV") from None
    try:
        sheet = book.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    except Exception:
        raise StagingError("cannot open as xlsx: its first sheet is damaged; re-save it from "
                           "Excel as .xlsx or export it as CSV") from None
    finally:
        book.close()
    table = table_from_rows(rows, list(range(1, len(rows) + 1)), known, "xlsx")
    for line in _formulas_without_values(path, set(table.lines)) if _has_formulas(path) else []:
        table.row_problems.setdefault(line, "a formula without a stored value (the file was "
                                      "not saved by Excel); open and save it in Excel")
    return table


def _refuse_xlsx_bomb(path: Path) -> None:
    """An xlsx is a zip: refused before it is opened when its parts unpack past the bound."""
    import zipfile

    limit = max_unpacked_bytes()
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (OSError, zipfile.BadZipFile):
        return  # not a zip: openpyxl's refusal says so
    if unpacked > limit:
        raise StagingError(f"unpacks to more than {limit // 2**20:,} MB "
                           "(CHURN_MAX_UNPACKED_MB); split the workbook or raise the bound")


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet holds a formula (`<f>` elements), without parsing the sheet."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            return any(re.search(rb"<(?:\w+:)?f[ >]", archive.read(name))
                       for name in archive.namelist()
                       if name.startswith("xl/worksheets/") and name.endswith(".xml"))
    except (OSError, zipfile.BadZipFile, KeyError):
        return False


def _formulas_without_values(path: Path, lines: set[int]) -> list[int]:
    """Data rows with a formula cell whose value the file does not store (written by a
    library, never recalculated): read with `data_only` those cells are empty."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=False)
    values = load_workbook(path, read_only=True, data_only=True)
    try:
        found = []
        formulas = book.worksheets[0].iter_rows(values_only=True)
        stored = values.worksheets[0].iter_rows(values_only=True)
        for number, (row, kept) in enumerate(zip(formulas, stored, strict=False), start=1):
            if number in lines and any(isinstance(c, str) and c.startswith("=") and v is None
                                       for c, v in zip(row, kept, strict=False)):
                found.append(number)
        return found
    finally:
        book.close()
        values.close()


def read_parquet_cells(path: Path) -> RawTable:
    import pyarrow.parquet as pq

    return _parquet_table(pq.read_table(path), 0)


def parquet_layout(path: Path) -> tuple[RawTable, int, int]:
    """A parquet file's headers (as a table of no rows), its rows and the bytes of its
    uncompressed columns, from its footer."""
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
        metadata = source.metadata
        empty = _parquet_table(source.schema_arrow.empty_table(), 0)
    except Exception:  # pyarrow raises many types for a damaged file
        raise StagingError(_BAD_PARQUET) from None
    size = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    return empty, metadata.num_rows, size


def parquet_chunks(path: Path, chunk_rows: int) -> Iterator[RawTable]:
    """A parquet file's rows in `RawTable`s of at most `chunk_rows` rows (at least one),
    each cell as `read_parquet_cells` gives it (the pandas metadata kept, so an index
    written by pandas stays out of the columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        source = pq.ParquetFile(path)
        offset = 0
        for batch in source.iter_batches(batch_size=chunk_rows):
            table = pa.Table.from_batches([batch]).replace_schema_metadata(
                source.schema_arrow.metadata)
            yield _parquet_table(table, offset)
            offset += batch.num_rows
        if not offset:
            yield _parquet_table(source.schema_arrow.empty_table(), 0)
    except StagingError:
        raise
    except Exception:  # pyarrow raises many types for a damaged file
        raise StagingError(_BAD_PARQUET) from None


_BAD_PARQUET = ("is not a readable parquet file (damaged or cut short); write it again or "
                "export it as CSV")


def _parquet_table(table, offset: int) -> RawTable:
    """Cells as Python values (text, numbers, timestamps), missing ones None, indexed by
    their position in the whole file; a row's line is its position + 2 (as in a CSV)."""
    frame = table.to_pandas().astype(object)
    frame = frame.where(frame.notna(), None)
    headers = [str(c) for c in frame.columns]
    frame.columns = headers
    frame.index = pd.RangeIndex(offset, offset + len(frame))
    return RawTable(headers, frame, list(range(offset + 2, offset + len(frame) + 2)),
                    "parquet")


def read_cells(path: Path, known: Callable[[str], bool], encoding: str | None = None,
               delimiter: str | None = None) -> RawTable:
    """Any supported export file as a `RawTable`; StagingError with the reason otherwise."""
    name = path.name.lower()
    limit = max_unpacked_bytes()
    if path.stat().st_size > limit:
        raise StagingError(f"is larger than {limit // 2**20:,} MB (CHURN_MAX_UNPACKED_MB); "
                           "split the export or raise the bound")
    if name.endswith(".xlsx"):
        return read_xlsx_cells(path, known)
    if name.endswith(".parquet"):
        try:
            return read_parquet_cells(path)
        except Exception:  # pyarrow raises many types for a damaged file
            raise StagingError(_BAD_PARQUET) from None
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gunzip_bounded(data, limit)
    try:
        return read_csv_cells(data, known, encoding, delimiter)
    except csv.Error as error:
        raise StagingError(f"cannot be read as CSV ({str(error).rstrip('.')}); "
                           "export it again as CSV") from None


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """The unpacked bytes of a (multi-member) gzip file, never more than `limit`: a small
    file that unpacks to gigabytes is refused once the bound is passed."""
    out = io.BytesIO()
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            while chunk := stream.read(1 << 20):
                out.write(chunk)
                if out.tell() > limit:
                    raise StagingError(
                        f"unpacks to more than {limit // 2**20:,} MB (CHURN_MAX_UNPACKED_MB); "
                        "split the export or raise the bound")
    except (OSError, EOFError, zlib.error):
        raise StagingError("is a damaged or cut-short gzip file; copy or export it again"
                           ) from None
    return out.getvalue()
