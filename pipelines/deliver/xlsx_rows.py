"""The body rows of a long worksheet, made a column at a time by Arrow and spliced into the
workbook that xlsxwriter wrote.

xlsxwriter spends about 5 µs of Python on a cell; a risk list of 800,000 customers has 23
million (two minutes). So xlsxwriter still writes the whole workbook (styles, the header row,
widths, panes, the filter, the metadata sheet and the last row of each sheet, which makes the
sheet's dimension its own) and the rows between the header and the last row are built here
with Arrow's string kernels, then put into the sheet's part of the package. The cells are
those xlsxwriter writes in its constant-memory mode: inline strings with its escapes
(`& < >`, control characters as `_xHHHH_`, `xml:space="preserve"` around outer whitespace),
numbers, dates as Excel serial days, and blank cells only where they carry a format.
"""

from __future__ import annotations

import os
import re
import shutil
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from xlsxwriter.utility import xl_col_to_name

from pipelines.store.text_classes import python_spaces

ROWS_PER_BLOCK = 50_000  # rows of XML made at once: about 60 MB for a risk list
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0, with Excel's 1900 leap-year day counted
LEAP_DAY = pd.Timestamp("1900-03-01")
# what xlsxwriter escapes as _xHHHH_ (and the literal escapes it protects), in Python's syntax
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_")
_CONTROL_RE2 = r"[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]|_x[0-9a-fA-F]{4}_"


@dataclass(frozen=True)
class ColumnCells:
    """How one column's cells are written: `kind` text, number or date; the xlsxwriter style
    index (`None`: no style) of its plain cells, of its text cells that start like a formula
    (`quoted`: kept as text), of blank cells (`None`: left out), and per value of the text
    columns whose cells are coloured (`fills`: value -> (style, quoted style))."""

    kind: str
    plain: int | None
    quoted: int | None = None
    blank: int | None = None
    fills: dict[str, tuple[int, int]] = field(default_factory=dict)
    triggers: tuple[str, ...] = ()


def sheet_rows_xml(frame: pd.DataFrame, cells: Sequence[ColumnCells], first_row: int
                   ) -> Iterator[memoryview]:
    """The `<row>` elements of `frame`'s rows, the first numbered `first_row` (Excel's row
    numbers start at 1), in blocks of ROWS_PER_BLOCK rows."""
    letters = [xl_col_to_name(index) for index in range(frame.shape[1])]
    for start in range(0, len(frame), ROWS_PER_BLOCK):
        block = frame.iloc[start:start + ROWS_PER_BLOCK]
        numbers = pa.array(np.arange(first_row + start, first_row + start + len(block)))
        numbers = numbers.cast(pa.string())
        parts: list[pa.Array | str] = ["<row r=\"", numbers, "\">"]
        for letter, spec, column in zip(letters, cells, block.columns, strict=True):
            parts.append(_column_xml(block[column], spec, letter, numbers))
        parts.append("</row>")
        rows = pc.binary_join_element_wise(*parts, "")
        yield _text_bytes(rows)


def splice_rows(path: Path, sheet_part: str, rows: Iterator[memoryview]) -> None:
    """Put `rows` after the header row of `sheet_part` (e.g. `xl/worksheets/sheet1.xml`) of
    the workbook at `path`, rewriting the package in place (through a temporary file)."""
    # beside the workbook under names no reader takes for it, removed whatever happens
    xml = path.parent / f".{path.name}.{os.getpid()}.rows.xml"
    rebuilt = path.parent / f".{path.name}.{os.getpid()}.splicing"
    try:
        with zipfile.ZipFile(path) as source:
            sheet = source.read(sheet_part)
            cut = sheet.index(b"</row>") + len(b"</row>")  # after the header row
            with open(xml, "wb") as out:
                out.write(sheet[:cut])
                for block in rows:
                    out.write(block)
                out.write(sheet[cut:])
            with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
                for info in source.infolist():
                    if info.filename == sheet_part:
                        _write_file(target, info, xml)
                    else:
                        target.writestr(info, source.read(info.filename))
        os.replace(rebuilt, path)
    finally:
        xml.unlink(missing_ok=True)
        rebuilt.unlink(missing_ok=True)


def _write_file(target: zipfile.ZipFile, like: zipfile.ZipInfo, file: Path) -> None:
    info = zipfile.ZipInfo(like.filename, date_time=like.date_time)
    info.compress_type = zipfile.ZIP_DEFLATED
    # deflate level 1, not zlib's default 6: a million customers' rows took 10.5 s at 6
    # (ZipInfo's own level; the `compresslevel` of ZipFile reaches only names, not ZipInfos)
    # the attribute is private up to 3.12 (`_compresslevel`) and public from 3.13
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", 1)
    size = file.stat().st_size
    # ZIP64 only where the part needs it, as xlsxwriter does: older Excel reads no ZIP64
    with open(file, "rb") as read, target.open(info, "w",
                                               force_zip64=size >= zipfile.ZIP64_LIMIT) as out:
        shutil.copyfileobj(read, out, 16 << 20)


def _column_xml(values: pd.Series, spec: ColumnCells, letter: str, numbers: pa.Array
                ) -> pa.Array:
    """Each row's `<c>` element of one column ("" where the cell is left out)."""
    ref = pc.binary_join_element_wise(f"<c r=\"{letter}", numbers, "")
    if spec.kind == "text":
        text = _texts(values)
        style = _text_styles(text, spec)
        inert = _controls_escaped(text)  # as xlsxwriter: the whitespace test comes after
        outer = f"^[{python_spaces()}]|[{python_spaces()}]$"  # Python's whitespace
        space = pc.if_else(pc.match_substring_regex(inert, outer),
                           " xml:space=\"preserve\"", "")
        escaped = pc.replace_substring(inert, "&", "&amp;")
        escaped = pc.replace_substring(escaped, "<", "&lt;")
        escaped = pc.replace_substring(escaped, ">", "&gt;")
        cell = pc.binary_join_element_wise(ref, "\"", style, " t=\"inlineStr\"><is><t", space,
                                           ">", escaped, "</t></is></c>", "")
    else:
        number = _numbers(values, as_date=spec.kind == "date")
        shown = pc.cast(number, pa.string())
        style = "" if spec.plain is None else f" s=\"{spec.plain}\""
        cell = pc.binary_join_element_wise(ref, "\"", style, "><v>", shown, "</v></c>", "")
    blank = "" if spec.blank is None else f"\" s=\"{spec.blank}\"/>"
    empty = pc.binary_join_element_wise(ref, blank, "") if blank else pa.scalar("")
    return pc.if_else(pc.is_valid(cell), cell, empty)


def _texts(values: pd.Series) -> pa.Array:
    """The column as Arrow text, null where empty; a non-text cell as Python's `str()`."""
    present = values.notna().to_numpy()
    text = [str(v) if ok else None for v, ok in zip(values.tolist(), present, strict=True)] \
        if not pd.api.types.is_string_dtype(values) else values.where(values.notna(), None)
    return pa.array(text, type=pa.string(), from_pandas=True)


def _controls_escaped(text: pa.Array) -> pa.Array:
    """Text with xlsxwriter's `_xHHHH_` escapes of control characters (and of literal
    escapes); the cells that need them are rare, so they are done one by one."""
    odd = pc.fill_null(pc.match_substring_regex(text, _CONTROL_RE2), False)
    if not pc.any(odd).as_py():
        return text
    at = np.flatnonzero(odd.to_numpy(zero_copy_only=False))
    fixed = [_escape_controls(text[int(i)].as_py()) for i in at]
    return pc.replace_with_mask(text, odd, pa.array(fixed, type=pa.string()))


def _escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: "_x005F" + m.group(0) if len(m.group(0)) > 1
                        else f"_x{ord(m.group(0)):04X}_", text)


def _text_styles(text: pa.Array, spec: ColumnCells) -> pa.Array | str:
    """` s="N"` per cell (or ""): the quoted style for text that starts like a formula, the
    value's fill for coloured columns, else the plain style."""
    plain = "" if spec.plain is None else f" s=\"{spec.plain}\""
    quoted = f" s=\"{spec.quoted}\""
    styles: pa.Array | str = plain
    if spec.fills:
        values = list(spec.fills)
        position = pc.index_in(text, value_set=pa.array(values, type=pa.string()))
        looks = pa.array([f" s=\"{spec.fills[v][0]}\"" for v in values] + [plain])
        quotes = pa.array([f" s=\"{spec.fills[v][1]}\"" for v in values] + [quoted])
        index = pc.fill_null(position, len(values))
        styles = looks.take(index)
        quoted_cells = quotes.take(index)
    else:
        quoted_cells = quoted
    if spec.triggers:
        starts = pc.fill_null(_starts_with_any(text, spec.triggers), False)
        styles = pc.if_else(starts, quoted_cells, styles)
    return styles


def _starts_with_any(text: pa.Array, prefixes: tuple[str, ...]) -> pa.Array:
    hit = pc.starts_with(text, prefixes[0])
    for prefix in prefixes[1:]:
        hit = pc.or_(hit, pc.starts_with(text, prefix))
    return hit


def _numbers(values: pd.Series, *, as_date: bool) -> pa.Array:
    """Floats (dates as Excel serial days), null where empty or not finite."""
    if as_date:
        stamps = pd.to_datetime(values)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_localize(None)
        days = ((stamps - EXCEL_EPOCH) / pd.Timedelta(days=1)).to_numpy(float)
        # before March 1900 Excel counts from 1899-12-31 (its day 60 is a 29 February)
        days = np.where((stamps < LEAP_DAY).to_numpy(), days - 1, days)
    else:
        days = pd.to_numeric(values).astype(float).to_numpy()
    return pa.array(days, mask=~np.isfinite(days))


def _text_bytes(rows: pa.Array) -> memoryview:
    """The concatenated text of a string array, without copying it through Python."""
    rows = rows.cast(pa.large_string()) if rows.type == pa.string() else rows
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64)[rows.offset:]
    start, stop = int(offsets[0]), int(offsets[len(rows)])
    return memoryview(rows.buffers()[2])[start:stop]
