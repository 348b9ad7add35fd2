"""Turning raw export rows (all text) into typed staged rows, or quarantined rows with a reason.

Every input row ends in exactly one place: staged, dropped as a duplicate of a later copy of
the same source key, or quarantined with its file, line and reason. Nothing here touches disk;
`pipelines.ingest.run` does the reading and writing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.contracts import (
    REQUIRED_COLUMNS,
    REQUIRED_TIMESTAMPS,
    SOURCE_KEYS,
    STAGED_SCHEMAS,
    TIMESTAMP_COLUMNS,
)
from pipelines.ingest.bounds import earliest_date, max_value
from pipelines.ingest.cells import (
    ColumnFormatError,
    cell_text,
    map_unique,
    parse_numbers,
    parse_timestamps,
)
from pipelines.ingest.headers import fold_header

SOURCE_FILE, SOURCE_LINE = "_source_file", "_source_line"

PRESET_REASON = "_reason"  # set by a preset for rows it sets aside (test orders, proformas)
UPDATED_AT = "_updated_at"  # a source's last-modified time: the latest copy of a key wins
BOOKKEEPING = (SOURCE_FILE, SOURCE_LINE, PRESET_REASON, UPDATED_AT)

# Order status words (folded, see `fold_header`) in English, Turkish and Dutch.
PURCHASE_STATUS_VOCABULARY: dict[str, str] = {
    "": "completed", "completed": "completed", "complete": "completed", "paid": "completed",
    "fulfilled": "completed", "delivered": "completed", "shipped": "completed",
    "processing": "completed", "tamamlandi": "completed", "teslimedildi": "completed",
    "odendi": "completed", "voltooid": "completed", "geleverd": "completed",
    "betaald": "completed", "verzonden": "completed",
    "cancelled": "cancelled", "canceled": "cancelled", "void": "cancelled",
    "voided": "cancelled", "iptal": "cancelled", "iptaledildi": "cancelled",
    "geannuleerd": "cancelled",
    "returned": "returned", "refunded": "returned", "return": "returned", "iade": "returned",
    "iadeedildi": "returned", "terugbetaald": "returned", "geretourneerd": "returned",
}

SATISFACTION_WORDS = {"good": 1.0, "bad": 0.0, "iyi": 1.0, "kotu": 0.0, "goed": 1.0,
                      "slecht": 0.0}


class StagingError(ValueError):
    """A whole file cannot be staged (e.g. a required column is missing)."""


@dataclass
class FileAccount:
    """How every row of one source file was handled."""

    file: str
    kind: str
    rows_read: int = 0
    staged: int = 0
    duplicates: int = 0
    quarantined: int = 0
    merged: int = 0  # further line items of an order staged once (Shopify)
    reasons: dict[str, int] = field(default_factory=dict)
    skipped_lines: dict[str, int] = field(default_factory=dict)  # titles, footers, blanks

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.staged + self.duplicates + self.quarantined + self.merged


@dataclass
class StagedKind:
    """Result of staging every file of one kind."""

    kind: str
    staged: pd.DataFrame
    quarantined: pd.DataFrame
    accounts: list[FileAccount]


def _satisfaction_scale(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Common 0-1 scale from CSAT 1-5, 0-1 fractions or Good/Bad words; and a bad-value mask."""
    cleaned = cell_text(values)
    numbers, _ = parse_numbers(cleaned.where(~cleaned.str.contains(r"[A-Za-z]", na=False)), "en")
    scaled = pd.Series(np.nan, index=values.index)
    csat = numbers.between(1, 5) & (numbers % 1 == 0)
    scaled[csat] = (numbers[csat] - 1) / 4
    fraction = numbers.between(0, 1) & ~csat
    scaled[fraction] = numbers[fraction]
    words = map_unique(
        cleaned, lambda v: SATISFACTION_WORDS.get(fold_header(v)) if isinstance(v, str) else None)
    scaled = scaled.fillna(words.astype(float))
    bad = cleaned.notna() & scaled.isna()
    return scaled, bad


@dataclass(frozen=True)
class ReadingRules:
    """How one file's text is converted: its locale, zone and pinned formats."""

    locale: str = "en"
    timezone: str = "UTC"
    serials: bool = False  # numbers in date columns are Excel serial days (xlsx only)
    date_formats: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)


def stage_rows(
    kind: str, raw: pd.DataFrame, timezone: str = "UTC", rules: ReadingRules | None = None,
    detected: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed rows and quarantined rows (`reason` column) from one file's cells.

    `raw` holds canonical column names, text or native cells and the `_source_file`/
    `_source_line` bookkeeping columns. A column that cannot be read with one rule raises
    StagingError naming it; single bad values quarantine their row. `detected` receives the
    date shape and number style chosen per column (for `churn ingest --explain`).
    """
    rules = rules or ReadingRules(timezone=timezone)
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in raw.columns]
    if missing:
        found = [c for c in raw.columns if c not in BOOKKEEPING]
        raise StagingError(
            f"missing required column(s) {', '.join(missing)} (found: {', '.join(found)}); "
            f"rename the headers to {', '.join(REQUIRED_COLUMNS[kind])} or a known synonym, "
            "or map them in sources.yaml"
        )
    detected = detected if detected is not None else {}
    frame = raw.copy()
    reason = pd.Series(pd.NA, index=frame.index, dtype="object")
    if PRESET_REASON in frame:
        reason = frame[PRESET_REASON].where(frame[PRESET_REASON].notna(), pd.NA).astype(object)

    def flag(mask: pd.Series, why: str) -> None:
        reason[mask & reason.isna()] = why

    for column in _text_columns(kind, frame):
        frame[column] = cell_text(frame[column])
        if column.endswith("_id"):  # `'00123`: Excel-protected ids
            frame[column] = frame[column].str.removeprefix("'").astype(object)
            _flag_bad_ids(frame[column], column, flag)
    flag(frame["customer_id"].isna(), "missing customer_id")
    key = SOURCE_KEYS[kind]
    if key in frame and kind != "interactions":  # interactions get content ids instead
        flag(frame[key].isna(), f"missing {key}")
    for column in (*TIMESTAMP_COLUMNS[kind], UPDATED_AT):
        if column not in frame.columns:
            if column != UPDATED_AT:
                frame[column] = None
            continue
        frame[column] = _converted(column, lambda c=column: parse_timestamps(
            frame[c], rules.locale, rules.timezone, serials=rules.serials,
            pinned=rules.date_formats.get(c)), flag, detected)
    for column in REQUIRED_TIMESTAMPS[kind]:
        flag(frame[column].isna(), f"missing {column}")
    earliest = earliest_date()
    for column in TIMESTAMP_COLUMNS[kind]:
        flag(frame[column].notna() & (frame[column] < earliest),
             f"{column} before {earliest.date()} (Excel's empty date 1899-12-30, or a "
             "placeholder); fix or remove the date")
    if kind == "purchases":
        frame["amount"] = _converted(
            "amount", lambda: (*parse_numbers(frame["amount"], rules.locale), None), flag,
            detected, why="amount is not a number")
        flag(frame["amount"].isna(), "missing amount")
        _flag_out_of_bounds(frame, kind, "amount", flag)
        frame["status"] = _order_statuses(frame, rules.statuses, flag)
        flag((frame["status"] == "completed") & (frame["amount"] < 0),
             "negative amount on a completed order (a refund or credit? give it a returned "
             "status or leave it out)")
        if "quantity" in frame:
            frame["quantity"] = _converted(
                "quantity", lambda: (*parse_numbers(frame["quantity"], rules.locale), None),
                flag, detected, why="quantity is not a number")
            flag(frame["quantity"] < 0, "negative quantity")
            _flag_out_of_bounds(frame, kind, "quantity", flag)
    if kind == "complaints":
        if "satisfaction" in frame:
            scaled, bad = _satisfaction_scale(frame["satisfaction"])
            flag(bad, "unrecognised satisfaction value")
            frame["satisfaction"] = scaled
        if "status" in frame:  # export-time state: kept for display, never a feature
            frame["status"] = frame["status"].str.lower()
        if "resolved_at" in frame:
            flag(frame["resolved_at"] < frame["opened_at"], "resolved before opened")
    if kind == "interactions":
        if "interaction_id" not in frame or frame["interaction_id"].isna().any():
            frame["interaction_id"] = _fill_interaction_ids(frame)
        if "direction" in frame:
            direction = frame["direction"].str.lower()
            flag(direction.notna() & ~direction.isin(["inbound", "outbound"]),
                 "direction is neither inbound nor outbound")
            frame["direction"] = direction
    for column in STAGED_SCHEMAS[kind].to_schema().columns:
        if column not in frame.columns:  # optional columns the export lacks
            frame[column] = None
    quarantined = raw.loc[reason.notna()].drop(columns=[PRESET_REASON], errors="ignore")
    quarantined = quarantined.astype(object).astype(str).where(quarantined.notna(), "")
    quarantined[SOURCE_LINE] = raw.loc[reason.notna(), SOURCE_LINE]
    quarantined["reason"] = reason[reason.notna()].astype(str)
    return frame.loc[reason.isna()].drop(columns=[PRESET_REASON], errors="ignore"), quarantined


#: Ids that stand for "no value" in spreadsheets and databases (compared lower-cased).
PLACEHOLDER_IDS = frozenset({"null", "n/a", "#n/a", "na", "-", "—", "–", "nan", "none", "nil",
                             "#ref!", "#value!", "?", "undefined"})
_EXCEL_NUMBER_ID = r"(?i)^\d+(?:[.,]\d+)?E\+?\d+$"  # 1.70E+1: an id Excel read as a number
_CONTROL_CHARACTERS = r"[\x00-\x1f\x7f]"  # also tabs and line breaks: never in an id


def _flag_bad_ids(ids: pd.Series, column: str, flag) -> None:
    """Ids that are not ids: placeholders, Excel's scientific notation, control characters."""
    text = ids.astype("string")
    flag(text.str.lower().isin(PLACEHOLDER_IDS).fillna(False).astype(bool),
         f"placeholder {column} (NULL, N/A, -, ...), not an id")
    flag(text.str.contains(_EXCEL_NUMBER_ID, regex=True).fillna(False).astype(bool),
         f"{column} was turned into a number by Excel (like 1.70E+1); format the column as "
         "text before exporting")
    flag(text.str.contains(_CONTROL_CHARACTERS, regex=True).fillna(False).astype(bool),
         f"control character (NUL, tab or line break) in {column}")


def _flag_out_of_bounds(frame: pd.DataFrame, kind: str, column: str, flag) -> None:
    bound = max_value(kind, column)
    if bound is not None:
        flag(frame[column].abs() > bound,
             f"{column} beyond {bound:,.0f} (the bound for {kind}; pipelines/ingest/bounds.py)")


def _text_columns(kind: str, frame: pd.DataFrame) -> list[str]:
    converted = {*TIMESTAMP_COLUMNS[kind], "amount", "quantity", "satisfaction", *BOOKKEEPING}
    return [c for c in frame.columns if c not in converted]


def _converted(column, convert, flag, detected, why: str | None = None) -> pd.Series:
    """Run one column's converter; a column-level failure becomes a StagingError naming it."""
    try:
        values, bad, shape = convert()
    except ColumnFormatError as error:
        raise StagingError(f"column {column}: {error}") from None
    if shape:
        detected[column] = shape
    if column != UPDATED_AT:
        flag(bad, why or f"unparseable {column}")
    return values


def _order_statuses(frame: pd.DataFrame, extra: dict[str, str], flag) -> pd.Series:
    vocabulary = PURCHASE_STATUS_VOCABULARY | {fold_header(k): v for k, v in extra.items()}
    status = frame.get("status", pd.Series(None, index=frame.index)).fillna("")
    mapped = map_unique(status, lambda v: vocabulary.get(fold_header(v or "")))
    flag(mapped.isna(), "unknown order status")
    return mapped


def _fill_interaction_ids(frame: pd.DataFrame) -> pd.Series:
    """A stable id from the row's content when the export has none."""
    existing = frame.get("interaction_id", pd.Series(None, index=frame.index))
    parts = [frame[c].astype(str) for c in ("customer_id", "occurred_at", "channel", "type")
             if c in frame]
    content = parts[0].str.cat(parts[1:], sep="|")
    hashed = content.map(lambda s: "auto-" + hashlib.sha1(s.encode()).hexdigest()[:16])
    return existing.where(existing.notna(), hashed)


def deduplicate(kind: str, staged: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the latest copy of each source key: the latest `_updated_at` where the source
    has one, else the later file and line (rows arrive in file-name and line order).

    Returns the kept rows (in arrival order) and the dropped copies, so each can be counted.
    """
    key = SOURCE_KEYS[kind]
    order = staged.reset_index(drop=True)
    if UPDATED_AT in order and order[UPDATED_AT].notna().any():
        ranked = order.assign(_arrival=range(len(order))).sort_values(
            [UPDATED_AT, "_arrival"], na_position="first", kind="stable")
        dropped_mask = ranked.duplicated(subset=[key], keep="last").sort_index()
    else:
        dropped_mask = order.duplicated(subset=[key], keep="last")
    return order.loc[~dropped_mask], order.loc[dropped_mask]


def validate_staged(kind: str, staged: pd.DataFrame) -> pd.DataFrame:
    """The staged table checked against its contract, in contract column order, bookkeeping
    columns removed."""
    validated = STAGED_SCHEMAS[kind].validate(staged.reset_index(drop=True))
    return validated[list(STAGED_SCHEMAS[kind].to_schema().columns)]
