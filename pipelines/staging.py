"""Turning raw export rows (all text) into typed staged rows, or quarantined rows with a reason.

Every input row ends in exactly one place: staged, dropped as a duplicate of a later copy of
the same source key, or quarantined with its file, line and reason. Nothing here touches disk;
`pipelines.ingest` does the reading and writing.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
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

SOURCE_FILE, SOURCE_LINE = "_source_file", "_source_line"

# Header spellings seen in real exports, folded (see `fold_header`). The real-world-exports work
# extends these tables per language and per system.
HEADER_SYNONYMS: dict[str, str] = {
    "customerid": "customer_id", "customer": "customer_id", "clientid": "customer_id",
    "orderid": "order_id", "ordernumber": "order_id", "orderdate": "order_date",
    "date": "order_date", "total": "amount", "ordertotal": "amount",
    "complaintid": "complaint_id", "ticketid": "complaint_id", "openedat": "opened_at",
    "createdat": "opened_at", "resolvedat": "resolved_at", "solvedat": "resolved_at",
    "csat": "satisfaction", "interactionid": "interaction_id", "occurredat": "occurred_at",
    "timestamp": "occurred_at", "signupdate": "signup_date", "cancelledat": "cancelled_at",
}

PURCHASE_STATUS_VOCABULARY: dict[str, str] = {
    "": "completed", "completed": "completed", "complete": "completed", "paid": "completed",
    "fulfilled": "completed", "delivered": "completed", "shipped": "completed",
    "cancelled": "cancelled", "canceled": "cancelled", "void": "cancelled",
    "returned": "returned", "refunded": "returned", "return": "returned",
}

SATISFACTION_WORDS = {"good": 1.0, "bad": 0.0}


class StagingError(ValueError):
    """A whole file cannot be staged (e.g. a required column is missing)."""


def fold_header(name: str) -> str:
    """Lower-case, Turkish-dotless-safe, accent- and punctuation-free form of a header."""
    text = name.replace("İ", "i").replace("I", "i").replace("ı", "i").lower()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]", "", text)


def canonical_columns(kind: str, columns: list[str]) -> dict[str, str]:
    """Mapping from the file's headers to canonical names (unknown headers are kept as-is)."""
    known = set(STAGED_SCHEMAS[kind].to_schema().columns)
    folded_known = {fold_header(c): c for c in known}
    mapping: dict[str, str] = {}
    for original in columns:
        folded = fold_header(original)
        target = folded_known.get(folded) or HEADER_SYNONYMS.get(folded)
        if target in known and target not in mapping.values():
            mapping[original] = target
    return mapping


@dataclass
class FileAccount:
    """How every row of one source file was handled."""

    file: str
    kind: str
    rows_read: int = 0
    staged: int = 0
    duplicates: int = 0
    quarantined: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.staged + self.duplicates + self.quarantined


@dataclass
class StagedKind:
    """Result of staging every file of one kind."""

    kind: str
    staged: pd.DataFrame
    quarantined: pd.DataFrame
    accounts: list[FileAccount]


OFFSET_SUFFIX = r"(?:Z|[+-]\d{2}(?::?\d{2})?)$"


def _parse_timestamps(text: pd.Series, timezone: str) -> pd.Series:
    """ISO-8601 text to UTC. Values with an offset keep it; naive values are read in `timezone`.

    Unparseable values (and local times that do not exist or are ambiguous at a DST switch)
    become NaT, which the caller quarantines.
    """
    cleaned = text.str.strip().replace("", None)
    has_offset = cleaned.str.contains(OFFSET_SUFFIX, regex=True, na=False)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    if has_offset.any():
        aware = pd.to_datetime(cleaned[has_offset], format="ISO8601", errors="coerce", utc=True)
        result[has_offset] = aware.dt.as_unit("us")
    naive_mask = ~has_offset & cleaned.notna()
    if naive_mask.any():
        naive = pd.to_datetime(cleaned[naive_mask], format="ISO8601", errors="coerce")
        local = naive.dt.tz_localize(timezone, ambiguous="NaT", nonexistent="NaT")
        result[naive_mask] = local.dt.tz_convert("UTC").dt.as_unit("us")
    return result


def _satisfaction_scale(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Common 0-1 scale from CSAT 1-5, 0-1 fractions or Good/Bad words; and a bad-value mask."""
    cleaned = text.str.strip().str.lower().replace("", None)
    numbers = pd.to_numeric(cleaned.str.replace(",", ".", regex=False), errors="coerce")
    scaled = pd.Series(np.nan, index=text.index)
    csat = numbers.between(1, 5) & (numbers % 1 == 0)
    scaled[csat] = (numbers[csat] - 1) / 4
    fraction = numbers.between(0, 1) & ~csat
    scaled[fraction] = numbers[fraction]
    words = cleaned.map(SATISFACTION_WORDS)
    scaled = scaled.fillna(words)
    bad = cleaned.notna() & scaled.isna()
    return scaled, bad


def stage_rows(
    kind: str, raw: pd.DataFrame, timezone: str = "UTC"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Typed rows and quarantined rows (`reason` column) from one file's text rows.

    `raw` holds canonical column names, text values and the `_source_file`/`_source_line`
    bookkeeping columns.
    """
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in raw.columns]
    if missing:
        found = [c for c in raw.columns if c not in (SOURCE_FILE, SOURCE_LINE)]
        raise StagingError(
            f"missing required column(s) {', '.join(missing)} (found: {', '.join(found)}); "
            f"rename the headers to {', '.join(REQUIRED_COLUMNS[kind])} or a known synonym"
        )
    frame = raw.copy()
    reason = pd.Series(pd.NA, index=frame.index, dtype="object")

    def flag(mask: pd.Series, why: str) -> None:
        reason[mask & reason.isna()] = why

    for column in frame.columns:
        if column not in (SOURCE_FILE, SOURCE_LINE):
            frame[column] = frame[column].astype("str").str.strip().replace("", None)
    flag(frame["customer_id"].isna(), "missing customer_id")
    for column in TIMESTAMP_COLUMNS[kind]:
        if column not in frame.columns:
            frame[column] = None
            continue
        parsed = _parse_timestamps(frame[column].fillna(""), timezone)
        flag(frame[column].notna() & parsed.isna(), f"unparseable {column}")
        frame[column] = parsed
    for column in REQUIRED_TIMESTAMPS[kind]:
        flag(frame[column].isna(), f"missing {column}")
    if kind == "purchases":
        text = frame["amount"].fillna("")
        amount = pd.to_numeric(text.str.replace(r"[^\d.\-eE+]", "", regex=True), errors="coerce")
        flag(amount.isna(), "amount is not a number")
        frame["amount"] = amount
        status = frame.get("status", pd.Series("", index=frame.index)).fillna("").str.lower()
        mapped = status.map(PURCHASE_STATUS_VOCABULARY)
        flag(mapped.isna(), "unknown order status")
        frame["status"] = mapped
        if "quantity" in frame:
            quantity = pd.to_numeric(frame["quantity"], errors="coerce")
            flag(frame["quantity"].notna() & quantity.isna(), "quantity is not a number")
            frame["quantity"] = quantity
    if kind == "complaints":
        if "satisfaction" in frame:
            scaled, bad = _satisfaction_scale(frame["satisfaction"].fillna(""))
            flag(bad, "unrecognised satisfaction value")
            frame["satisfaction"] = scaled
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
    quarantined = raw.loc[reason.notna()].copy()
    quarantined["reason"] = reason[reason.notna()].astype(str)
    return frame.loc[reason.isna()], quarantined


def _fill_interaction_ids(frame: pd.DataFrame) -> pd.Series:
    """A stable id from the row's content when the export has none."""
    existing = frame.get("interaction_id", pd.Series(None, index=frame.index))
    parts = [frame[c].astype(str) for c in ("customer_id", "occurred_at", "channel", "type")
             if c in frame]
    content = parts[0].str.cat(parts[1:], sep="|")
    hashed = content.map(lambda s: "auto-" + hashlib.sha1(s.encode()).hexdigest()[:16])
    return existing.where(existing.notna(), hashed)


def deduplicate(kind: str, staged: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the last copy of each source key (later files and later lines win).

    Returns the kept rows and the dropped copies, so each dropped row can be counted.
    """
    key = SOURCE_KEYS[kind]
    dropped_mask = staged.duplicated(subset=[key], keep="last")
    return staged.loc[~dropped_mask], staged.loc[dropped_mask]


def validate_staged(kind: str, staged: pd.DataFrame) -> pd.DataFrame:
    """The staged table checked against its contract, bookkeeping columns removed."""
    return STAGED_SCHEMAS[kind].validate(staged.reset_index(drop=True))
