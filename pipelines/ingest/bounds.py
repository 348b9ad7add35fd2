"""The bounds past which an input is refused or a row quarantined, declared once.

Each bound can be overridden by an environment variable (read when it is used, so a
scheduled run and a test can set their own):

- `CHURN_MAX_UNPACKED_MB` (default 1024): the most a raw file read whole (xlsx, a file
  read through a preset, one whose layout only its whole text tells) may hold, gunzipped
  or not; past it the file is refused, and never unpacked further;
- `CHURN_MAX_STREAMED_MB` (default 65,536): the same for a file read in chunks (CSV-family
  exports without a preset, parquet): its memory does not grow with its size, so the bound
  only stops a gzip bomb or a runaway export from running for hours;
- `CHURN_MAX_CELL_CHARS` (default 100,000): a longer cell quarantines its row;
- `CHURN_MAX_AMOUNT` (default 1,000,000,000): the largest order amount taken as real (a
  larger one, e.g. a pasted card number or a value in cents of cents, quarantines its row;
  the feature build sums amounts as DECIMAL(18, 4), which holds at most 10^14);
- `CHURN_MAX_QUANTITY` (default 1,000,000);
- `CHURN_INGEST_MEMORY_MB` (default 256): the memory reading one CSV export may take on
  top of the process itself and the typed rows it stages: the file is read in chunks of
  rows sized from it (`ingest_chunk_rows`), so the size of its text does not matter.
  `CHURN_INGEST_CHUNK_ROWS` sets the chunk size in rows directly (tests use tiny chunks to
  put chunk ends everywhere);
- `CHURN_EARLIEST_DATE` (default 1990-01-01): earlier dates (Excel's empty date 1899-12-30,
  a 1900 placeholder) quarantine their row. Dates after tomorrow (two days of tolerance for
  time zones) are quarantined too (`pipelines.ingest.run.FUTURE_TOLERANCE`).
"""

from __future__ import annotations

import os

import pandas as pd

EARLIEST_DATE = "1990-01-01"
MAX_UNPACKED_MB = 1024
MAX_STREAMED_MB = 65_536
MAX_CELL_CHARS = 100_000
INGEST_MEMORY_MB = 256
#: Memory one chunk takes while it is converted, per character of its text: the object
#: cells, the text and typed copies stage_rows makes (measured: ~25 for purchases exports).
CHUNK_BYTES_PER_CHAR = 32
#: Share of `CHURN_INGEST_MEMORY_MB` one chunk's conversion may take (the rest: what the
#: allocator keeps back between chunks, the column statistics, the list of staged parts).
CHUNK_SHARE = 0.25
MIN_CHUNK_ROWS = 100
#: kind -> column -> the largest absolute value taken as real.
MAX_VALUES: dict[str, dict[str, float]] = {
    "purchases": {"amount": 1e9, "quantity": 1e6},
}
_VALUE_ENV = {("purchases", "amount"): "CHURN_MAX_AMOUNT",
              ("purchases", "quantity"): "CHURN_MAX_QUANTITY"}


def _number(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    try:
        return float(text) if text else default
    except ValueError:
        return default


def max_unpacked_bytes() -> int:
    return int(_number("CHURN_MAX_UNPACKED_MB", MAX_UNPACKED_MB) * 1024 * 1024)


def max_streamed_bytes() -> int:
    return int(_number("CHURN_MAX_STREAMED_MB", MAX_STREAMED_MB) * 1024 * 1024)


def max_cell_chars() -> int:
    return int(_number("CHURN_MAX_CELL_CHARS", MAX_CELL_CHARS))


def ingest_memory_bytes() -> int:
    return int(_number("CHURN_INGEST_MEMORY_MB", INGEST_MEMORY_MB) * 1024 * 1024)


def ingest_chunk_rows(text_chars: int, rows: int) -> int:
    """Rows per chunk for a file of `rows` data rows and `text_chars` characters of cells:
    `CHURN_INGEST_CHUNK_ROWS` when set, else as many as fit `CHUNK_SHARE` of the memory."""
    pinned = int(_number("CHURN_INGEST_CHUNK_ROWS", 0))
    if pinned > 0:
        return pinned
    per_row = max(text_chars / max(rows, 1), 1.0) * CHUNK_BYTES_PER_CHAR
    return max(MIN_CHUNK_ROWS, int(ingest_memory_bytes() * CHUNK_SHARE / per_row))


def max_value(kind: str, column: str) -> float | None:
    default = MAX_VALUES.get(kind, {}).get(column)
    if default is None:
        return None
    return _number(_VALUE_ENV[(kind, column)], default)


def earliest_date() -> pd.Timestamp:
    text = os.environ.get("CHURN_EARLIEST_DATE", "").strip() or EARLIEST_DATE
    try:
        return pd.Timestamp(text, tz="UTC")
    except ValueError:
        return pd.Timestamp(EARLIEST_DATE, tz="UTC")


def environment_problems() -> list[str]:
    """One sentence per bound set in the environment to something that is not a number or a
    date (checked when an ingest starts: a typo must not silently fall back to the default)."""
    problems = []
    for name in ("CHURN_MAX_UNPACKED_MB", "CHURN_MAX_CELL_CHARS", "CHURN_INGEST_MEMORY_MB",
                 "CHURN_INGEST_CHUNK_ROWS", *_VALUE_ENV.values()):
        text = os.environ.get(name, "").strip()
        if not text:
            continue
        try:
            if float(text) <= 0:
                raise ValueError
        except ValueError:
            problems.append(f"{name}={text!r} is not a positive number; fix or unset it "
                            "(see pipelines/ingest/bounds.py for the defaults)")
    text = os.environ.get("CHURN_EARLIEST_DATE", "").strip()
    if text:
        try:
            pd.Timestamp(text)
        except ValueError:
            problems.append(f"CHURN_EARLIEST_DATE={text!r} is not a date; use YYYY-MM-DD "
                            f"(default {EARLIEST_DATE})")
    return problems

