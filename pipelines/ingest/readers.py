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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard, cast

import pandas as pd

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
        except (UnicodeDecodeError, LookupError) as error:
            raise StagingError(f"cannot decode as {forced} ({error}); "
                               "fix `encoding` in sources.yaml") from None
    if data.startswith(b"\xef\xbb\xbf"):
        return data.decode("utf-8-sig"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    if data[:200].count(b"\x00") > 20:  # UTF-16 without a BOM: every other byte is zero
        encoding = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        return data.decode(encoding, errors="replace"), encoding
    if data.isascii():  # every candidate reads it the same
        return data.decode("ascii"), "utf-8"
    scored = []
    for rank, encoding in enumerate(ENCODING_CANDIDATES):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        scored.append((encoding_score(text), -rank, text, encoding))
    best = max(scored)  # cp1252 decodes every byte but 5, so something always wins
    if best[3] == "cp1254" and any(t == best[2] and e == "cp1252" for _, _, t, e in scored):
        return best[2], "cp1252"  # no Turkish-only byte: name the Western code page
    return best[2], best[3]


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


def table_from_rows(
    rows: Sequence[Sequence[object]], lines: list[int], known: Callable[[str], bool],
    file_type: str
) -> RawTable:
    """Header detection, blank/footer removal and the cell frame, for any row source."""
    skipped: dict[str, int] = {}
    if not rows:
        raise StagingError("the file is empty")
    start = _header_index(rows, known)
    if start:
        skipped["title rows above the header"] = start
    headers = [str(c).strip() if c is not None else "" for c in rows[start]]
    while headers and headers[-1] == "":
        headers.pop()
    if len(headers) < 2:
        raise StagingError("no header row with at least two columns found")
    headers = [h or f"column_{i + 1}" for i, h in enumerate(headers)]
    body = list(zip(rows[start + 1:], lines[start + 1:], strict=True))
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
    physical = text.splitlines()
    delimiter = delimiter or sniff_delimiter(physical)
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
    table = table_from_rows(rows, lines, known, "csv")
    table.encoding, table.delimiter = used, delimiter
    return table


def read_xlsx_cells(path: Path, known: Callable[[str], bool]) -> RawTable:
    """The first worksheet's cells: numbers and dates stay native (dates as datetimes)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken or non-xlsx file
        raise StagingError(f"cannot open as xlsx ({type(error).__name__}: {error}); re-save it "
                           "from Excel as .xlsx or export it as CSV") from None
    try:
        sheet = book.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    return table_from_rows(rows, list(range(1, len(rows) + 1)), known, "xlsx")


def read_parquet_cells(path: Path) -> RawTable:
    frame = pd.read_parquet(path).astype(object)
    frame = frame.where(frame.notna(), None)
    headers = [str(c) for c in frame.columns]
    frame.columns = headers
    return RawTable(headers, frame.reset_index(drop=True), list(range(2, len(frame) + 2)),
                    "parquet")


def read_cells(path: Path, known: Callable[[str], bool], encoding: str | None = None,
               delimiter: str | None = None) -> RawTable:
    """Any supported export file as a `RawTable`; StagingError with the reason otherwise."""
    name = path.name.lower()
    if name.endswith(".xlsx"):
        return read_xlsx_cells(path, known)
    if name.endswith(".parquet"):
        try:
            return read_parquet_cells(path)
        except (OSError, ValueError) as error:
            raise StagingError(f"cannot read as parquet ({error})") from None
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise StagingError(f"broken gzip file ({error})") from None
    try:
        return read_csv_cells(data, known, encoding, delimiter)
    except csv.Error as error:
        raise StagingError(f"cannot parse as CSV ({error})") from None
