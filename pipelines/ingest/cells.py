"""Locale-aware conversion of export cells (text, or native values from xlsx/parquet).

One rule per column, decided from all of its values: a number column is either decimal-comma
(`1.234,56`) or decimal-point (`1,234.50`); a date column has one shape (ISO, `dd.MM.yyyy`,
`dd-MM-yyyy`, `dd/MM/yyyy` or US `M/d/yyyy`). Columns that fit both readings follow the file's
locale; columns that mix readings raise `ColumnFormatError` naming examples. Single values
that fit no reading are reported per row so the caller can quarantine them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

LOCALES = ("en", "tr", "nl")  # en: US conventions; tr/nl: day-first dates, decimal comma
DECIMAL_COMMA_LOCALES = ("tr", "nl")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")

_CURRENCY = re.compile(r"(?i)[₺€$£]|\b(?:tl|try|eur|usd|gbp)\b")
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_COMMA_DECIMAL = re.compile(r"^\d{1,3}(?:\.\d{3})+,\d+$|^\d+,\d+$|^\d{1,3}(?:\.\d{3}){2,}$")
_POINT_DECIMAL = re.compile(r"^\d{1,3}(?:,\d{3})+\.\d+$|^\d+\.\d+$|^\d{1,3}(?:,\d{3}){2,}$")
_AMBIGUOUS_GROUP = re.compile(r"^\d{1,3}[.,]\d{3}$")  # 1.234 / 1,234: thousands or decimals

_TIME = (r"(?:[T ]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<frac>\d+))?)?"
         r"\s*(?P<ampm>[AaPp][Mm])?)?\s*(?P<offset>Z|[+-]\d{2}:?\d{2}|[+-]\d{2})?$")
DATE_SHAPES: dict[str, re.Pattern] = {
    "ISO": re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})" + _TIME),
    "dd.MM.yyyy": re.compile(r"^(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})" + _TIME),
    "dd-MM-yyyy": re.compile(r"^(?P<day>\d{1,2})-(?P<month>\d{1,2})-(?P<year>\d{4})" + _TIME),
    "a/b/yyyy": re.compile(r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<year>\d{4})" + _TIME),
}
DATE_FORMAT_NAMES = ("ISO", "dd.MM.yyyy", "dd-MM-yyyy", "dd/MM/yyyy", "MM/dd/yyyy")


class ColumnFormatError(ValueError):
    """A whole column cannot be read with one rule (mixed formats, or nothing parses)."""


def _blank(value: object) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value)) or (
        isinstance(value, str) and not value.strip())


def _is_native(value: object) -> bool:
    return not isinstance(value, str) and not _blank(value)


def _all_text(values: pd.Series) -> bool:
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def cell_text(values: pd.Series) -> pd.Series:
    """Cells as stripped text; native integers (xlsx/parquet ids) lose the `.0`; blanks -> None."""
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    if 0 < len(uniques) <= len(values) // 2:  # repeated cells (ids, statuses): strip each once
        distinct = _cell_text(pd.Series(uniques, dtype=object)).to_numpy(dtype=object)
        text = np.where(codes >= 0, distinct[codes], None)
        return pd.Series(text, index=values.index, name=values.name, dtype=object)
    return _cell_text(values)


def _cell_text(values: pd.Series) -> pd.Series:
    if _all_text(values):  # the CSV case, vectorised
        stripped = values.astype(object).str.strip()
        return stripped.where(stripped.notna() & (stripped != ""), None).astype(object)

    def one(value: object) -> str | None:
        if _blank(value):
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return text or None
    return values.map(one).astype(object)


#: What `infer_dtype` calls a column whose every present cell is a native value (no text).
_ALL_NATIVE = frozenset({"datetime", "datetime64", "date", "integer", "floating",
                         "mixed-integer-float", "boolean", "decimal", "timedelta"})


def native_cells(values: pd.Series) -> pd.Series:
    """Mask of native (non-text, non-blank) cells: xlsx numbers and dates, parquet values."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("string", "empty"):
        return pd.Series(False, index=values.index)
    if inferred in _ALL_NATIVE:  # a typed parquet column: no per-cell look needed
        return values.notna()
    return values.map(_is_native).astype(bool)


def _text_cells(values: pd.Series, natives: pd.Series) -> pd.Series:
    """`cell_text` of the cells that are not native (None for the native ones); a typed
    parquet column has none, and is not looked at cell by cell."""
    if not natives.any():
        return cell_text(values)
    if (natives | values.isna()).all():
        return pd.Series(None, index=values.index, dtype=object)
    return cell_text(values.where(~natives, None))


def map_unique(values: pd.Series, function) -> pd.Series:
    """`values.map(function)` computed once per distinct value (exports repeat a lot);
    missing values stay missing."""
    lookup = {value: function(value) for value in pd.unique(values.dropna())}
    return values.map(lookup).where(values.notna(), None)


def number_style(values: pd.Series, locale: str) -> str:
    """'comma' or 'point' decimal separator for one column, decided from all its text values."""
    return NumberStyleStats().add(values).decide(locale)


def _first_examples(kept: list[str], values: pd.Series, limit: int = 3) -> None:
    """`kept` extended to the first `limit` distinct values seen (over chunks, in order)."""
    if len(kept) < limit:
        for value in pd.unique(values.astype(str)):
            if value not in kept:
                kept.append(value)
                if len(kept) == limit:
                    break


def _shown(examples: list[str]) -> str:
    return ", ".join(repr(v) for v in examples)


@dataclass
class NumberStyleStats:
    """What a number column's text says about its decimal separator, gathered chunk by chunk
    (`add`) so a file read in chunks decides exactly as one read whole (`decide`)."""

    comma: list[str] = field(default_factory=list)  # first examples of each style
    point: list[str] = field(default_factory=list)

    def add(self, values: pd.Series) -> NumberStyleStats:
        text = values.dropna().map(lambda v: _SPACES.sub("", _CURRENCY.sub("", v)).strip("()-+"))
        clear = ~text.str.match(_AMBIGUOUS_GROUP)  # `1.234` says nothing about the style
        _first_examples(self.comma, text[clear & text.str.match(_COMMA_DECIMAL)])
        _first_examples(self.point, text[clear & text.str.match(_POINT_DECIMAL)])
        return self

    def decide(self, locale: str) -> str:
        if self.comma and self.point:
            raise ColumnFormatError(
                f"mixes decimal-comma and decimal-point numbers (e.g. {_shown(self.comma)} "
                f"and {_shown(self.point)}); "
                "set its locale in sources.yaml or export it with one number format")
        if self.comma:
            return "comma"
        if self.point:
            return "point"
        return "comma" if locale in DECIMAL_COMMA_LOCALES else "point"


def _on_distinct(convert):
    """Run a column converter once per distinct cell and spread the result back.

    Exports repeat values a lot (dates, amounts), and every converter here is a function of
    the set of distinct cells (detection) and of each cell (conversion); examples in errors
    keep first-appearance order. Missing cells give a missing result that is not "bad"."""
    def wrapped(values: pd.Series, *args, **kwargs):
        codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
        if len(uniques) in (0, len(values)):
            return convert(values, *args, **kwargs)
        distinct = pd.Series(uniques, dtype=object, name=values.name)
        result, bad, *extra = convert(distinct, *args, **kwargs)
        spread = pd.Series(result.array.take(codes, allow_fill=True), index=values.index,
                           name=result.name)
        flagged = pd.Series(np.where(codes >= 0, bad.to_numpy(dtype=bool)[codes], False),
                            index=values.index)
        return (spread, flagged, *extra)
    wrapped.__doc__, wrapped.__name__ = convert.__doc__, convert.__name__
    return wrapped


@_on_distinct
def parse_numbers(values: pd.Series, locale: str, style: str | None = None
                  ) -> tuple[pd.Series, pd.Series]:
    """Floats from text or native cells, and a mask of non-empty cells that are not numbers.

    Handles currency signs and codes, NBSPs, leading `-`, `-₺1.234,50`, `€ -1.234,50` and
    accounting negatives `(1,234.50)`. `style` ('comma'/'point') is the column's decimal
    separator when already decided (a file read in chunks); else it is decided here.
    """
    natives = native_cells(values)
    text = _text_cells(values, natives)
    style = style or number_style(text, locale)
    thousands, decimal = (".", ",") if style == "comma" else (",", ".")

    def one(raw: str | None) -> float:
        if raw is None or _blank(raw):
            return np.nan
        body = _SPACES.sub("", _CURRENCY.sub("", raw))
        negative = body.startswith("(") and body.endswith(")")
        body = body.strip("()")
        if body.startswith("-") or body.endswith("-"):
            negative, body = not negative, body.strip("-")
        body = body.lstrip("+")
        if not re.fullmatch(r"[\d.,]+", body) or body.count(decimal) > 1:
            return np.nan
        if thousands in body and not re.fullmatch(
                rf"\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+(?:{re.escape(decimal)}\d*)?", body):
            return np.nan
        number = float(body.replace(thousands, "").replace(decimal, "."))
        return -number if negative else number

    parsed = map_unique(text, one).astype(float)
    if natives.any():
        parsed = parsed.where(~natives, pd.to_numeric(values.where(natives), errors="coerce"))
    bad = (natives | text.notna()) & parsed.isna()  # a native cell is never blank
    return parsed, bad


def date_shape(values: pd.Series, locale: str) -> str | None:
    """The one date shape of a column's text values ('ISO', 'dd.MM.yyyy', 'dd-MM-yyyy',
    'dd/MM/yyyy' or 'MM/dd/yyyy'); None when no value is text. Raises on mixed shapes."""
    return DateShapeStats().add(values).decide(locale)


@dataclass
class DateShapeStats:
    """What a date column's text values say about their shape, gathered chunk by chunk
    (`add`) so a file read in chunks decides exactly as one read whole (`decide`)."""

    examples: list[str] = field(default_factory=list)  # first values of the column
    shapes: dict[str, list[str]] = field(default_factory=dict)  # shape -> its first values
    day_first: bool = False  # an a/b/yyyy value with a > 12
    month_first: bool = False  # ... with b > 12

    def add(self, values: pd.Series) -> DateShapeStats:
        text = values.dropna()
        if text.empty:
            return self
        _first_examples(self.examples, text)
        rest = text
        for name, rx in DATE_SHAPES.items():  # shapes never overlap: each value fits one
            matched = rest.str.match(rx)
            if matched.any():
                _first_examples(self.shapes.setdefault(name, []), rest[matched])
                rest = rest[~matched]
            if rest.empty:
                break
        if "a/b/yyyy" in self.shapes:
            parts = text.str.extract(DATE_SHAPES["a/b/yyyy"])[["a", "b"]].dropna().astype(int)
            self.day_first |= bool((parts["a"] > 12).any())
            self.month_first |= bool((parts["b"] > 12).any())
        return self

    def decide(self, locale: str) -> str | None:
        if not self.examples:
            return None
        if not self.shapes:
            raise ColumnFormatError(f"no recognisable dates (e.g. {_shown(self.examples)}); map "
                                    "another column under `columns` in sources.yaml if this is "
                                    "not one")
        if len(self.shapes) > 1:
            shown = "; ".join(f"{name}: {_shown(self.shapes[name])}"
                              for name in DATE_SHAPES if name in self.shapes)
            raise ColumnFormatError(f"mixes date formats ({shown}); export it with one date "
                                    "format or pin one under `date_formats` in sources.yaml")
        shape = next(iter(self.shapes))
        if shape != "a/b/yyyy":
            return shape
        if self.day_first and self.month_first:
            raise ColumnFormatError(
                f"mixes day-first and month-first dates (e.g. {_shown(self.examples)}); "
                "export it with one date format or pin one under `date_formats` in sources.yaml")
        if self.day_first or (not self.month_first and locale != "en"):
            return "dd/MM/yyyy"
        return "MM/dd/yyyy"


@_on_distinct
def parse_timestamps(
    values: pd.Series, locale: str, timezone: str, *, serials: bool = False,
    pinned: str | None = None,
) -> tuple[pd.Series, pd.Series, str | None]:
    """UTC timestamps, a mask of non-empty cells that do not parse, and the detected shape.

    Values with an offset keep it; naive values are local times in `timezone` (local times
    that do not exist or are ambiguous at a DST switch count as unparseable). Native datetime
    cells (xlsx, parquet) are naive local times unless tz-aware; native numbers are Excel
    serial days when `serials` is true (xlsx), never otherwise. A `pinned` shape (from
    sources.yaml) skips detection; values of another shape are then unparseable.
    """
    natives = native_cells(values)
    text = _text_cells(values, natives)
    shape = pinned if pinned or text.dropna().empty else date_shape(text, locale)
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    fast = _iso_timestamps(text, timezone) if shape == "ISO" else None
    if fast is not None:
        result = fast
    elif shape is not None and (fixed := _fixed_width_timestamps(text, shape, timezone)) \
            is not None:
        result = fixed
    elif shape is not None:
        pattern = DATE_SHAPES["a/b/yyyy" if "/" in shape else shape]
        parts = text.str.extract(pattern)
        if "/" in shape:
            day, month = ("a", "b") if shape == "dd/MM/yyyy" else ("b", "a")
            parts = parts.rename(columns={day: "day", month: "month"})
        result = _assemble(parts, timezone)
    if natives.any():
        result[natives] = _native_timestamps(values[natives], timezone, serials)
    bad = (natives | text.notna()) & result.isna()  # a native cell is never blank
    return result, bad, shape


def _native_timestamps(values: pd.Series, timezone: str, serials: bool) -> pd.Series:
    """`_native_timestamp` of each cell, at once where every cell is a date or a datetime of
    one kind (all naive or all with a zone: a typed parquet column); cell by cell otherwise
    (xlsx serial numbers, mixed cells)."""
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("datetime", "datetime64", "date"):
        try:
            stamps = pd.DatetimeIndex(pd.to_datetime(values.to_numpy(dtype=object)))
            if stamps.tz is None:
                stamps = stamps.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
            return pd.Series(stamps.tz_convert("UTC").as_unit("us"), index=values.index)
        except (ValueError, TypeError, OverflowError):
            pass  # mixed zones, out-of-range years: cell by cell decides each
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us, UTC]")
    for index, value in values.items():
        result[index] = _native_timestamp(value, timezone, serials)
    return result


# An offset only counts after a time: the `-05` of a bare `2024-01-05` is the day.
_OFFSET_END = r"[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _iso_timestamps(text: pd.Series, timezone: str) -> pd.Series | None:
    """pandas' C ISO-8601 parser for the common case; None when any value needs the regex
    path (one-digit months, DST gaps), so both paths give the same answer."""
    cleaned = text.str.replace(r"\s+(?=[+-]\d{2}:?\d{2}$)", "", regex=True)
    has_offset = cleaned.str.contains(_OFFSET_END, regex=True, na=False)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    try:
        if has_offset.any():
            aware = pd.to_datetime(cleaned[has_offset], format="ISO8601", utc=True)
            result[has_offset] = aware.dt.as_unit("us")
        naive = ~has_offset & cleaned.notna()
        if naive.any():
            local = pd.to_datetime(cleaned[naive], format="ISO8601").dt.tz_localize(
                timezone, ambiguous="NaT", nonexistent="NaT")
            result[naive] = local.dt.tz_convert("UTC").dt.as_unit("us")
    except (ValueError, TypeError):
        return None
    return None if (result.isna() & cleaned.notna()).any() else result


# Day-first/month-first shapes as strptime formats, for columns in one fixed-width layout.
_FIXED_DATES = {"dd.MM.yyyy": ("%d.%m.%Y", r"\d{2}\.\d{2}\.\d{4}"),
                "dd-MM-yyyy": ("%d-%m-%Y", r"\d{2}-\d{2}-\d{4}"),
                "dd/MM/yyyy": ("%d/%m/%Y", r"\d{2}/\d{2}/\d{4}"),
                "MM/dd/yyyy": ("%m/%d/%Y", r"\d{2}/\d{2}/\d{4}")}
_FIXED_TIMES = (("", ""), (" %H:%M:%S", r" \d{2}:\d{2}:\d{2}"), (" %H:%M", r" \d{2}:\d{2}"))


def _fixed_width_timestamps(text: pd.Series, shape: str, timezone: str) -> pd.Series | None:
    """pandas' C parser when every value has the same zero-padded layout (ERP exports);
    None when any value needs the regex path (other layouts, invalid dates, DST gaps), so
    both paths give the same answer."""
    if shape not in _FIXED_DATES:
        return None
    present = text.dropna()
    date_format, date_rx = _FIXED_DATES[shape]
    for time_format, time_rx in _FIXED_TIMES:
        if not present.str.fullmatch(date_rx + time_rx).all():
            continue
        naive = pd.to_datetime(present, format=date_format + time_format, errors="coerce")
        local = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        if local.isna().any():
            return None
        result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
        result[present.index] = local.dt.tz_convert("UTC").dt.as_unit("us")
        return result
    return None


def _assemble(parts: pd.DataFrame, timezone: str) -> pd.Series:
    numbers = {c: pd.to_numeric(parts[c], errors="coerce") for c in
               ("year", "month", "day", "hour", "minute", "second")}
    hour = numbers["hour"].fillna(0)
    ampm = parts["ampm"].str.lower()
    hour = hour.where(ampm.isna(), (hour % 12) + np.where(ampm == "pm", 12, 0))
    frac = parts["frac"].fillna("0").str.ljust(6, "0").str[:6]
    naive = pd.to_datetime(pd.DataFrame({
        "year": numbers["year"], "month": numbers["month"], "day": numbers["day"],
        "hour": hour, "minute": numbers["minute"].fillna(0),
        "second": numbers["second"].fillna(0),
        "microsecond": pd.to_numeric(frac, errors="coerce").fillna(0),
    }), errors="coerce").dt.as_unit("us")
    offset = parts["offset"]
    result = pd.Series(pd.NaT, index=parts.index, dtype="datetime64[us, UTC]")
    has_offset = offset.notna()
    if has_offset.any():
        minutes = offset[has_offset].map(_offset_minutes)
        aware = naive[has_offset] - pd.to_timedelta(minutes, unit="min")
        result[has_offset] = aware.dt.tz_localize("UTC")
    local = ~has_offset & naive.notna()
    if local.any():
        localized = naive[local].dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        result[local] = localized.dt.tz_convert("UTC")
    return result


def _offset_minutes(text: str) -> int:
    if text == "Z":
        return 0
    digits = text[1:].replace(":", "").ljust(4, "0")
    minutes = int(digits[:2]) * 60 + int(digits[2:4])
    return -minutes if text[0] == "-" else minutes


def _native_timestamp(value: object, timezone: str, serials: bool) -> pd.Timestamp:
    if isinstance(value, (dt.datetime, dt.date, pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(value)
    elif serials and isinstance(value, (int, float)) and 1 <= value < 2_958_466:
        stamp = (EXCEL_EPOCH + pd.to_timedelta(float(value), unit="D")).round("s")
    else:
        return pd.NaT
    if stamp.tzinfo is None:
        try:
            stamp = stamp.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        except (ValueError, TypeError):
            return pd.NaT
    return stamp.tz_convert("UTC") if not pd.isna(stamp) else pd.NaT
