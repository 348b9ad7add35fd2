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

from features.codes import any_duplicated, duplicated_codes, key_codes
from features.contracts import (
    REQUIRED_COLUMNS,
    REQUIRED_TIMESTAMPS,
    SOURCE_KEYS,
    STAGED_SCHEMAS,
    TIMESTAMP_COLUMNS,
    distinct_columns,
)
from models.privacy import masked_contact
from pipelines.ingest.action_rows import NO_ACTION, stage_action_columns, unworked_rows
from pipelines.ingest.bounds import earliest_date, max_value
from pipelines.ingest.cells import (
    ColumnFormatError,
    cell_text,
    map_unique,
    parse_numbers,
    parse_timestamps,
)
from pipelines.ingest.headers import fold_header
from pipelines.ingest.keys import (
    EXTRA_ID_PREFIX,
    KEY_COLUMNS,
    missing_required,
    normalised_emails,
    normalised_phones,
    phone_country,
)
from pipelines.ingest.subscription_rows import stage_subscription_columns

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
    erased: int = 0  # rows of customers erased with `churn erase` (pipelines.privacy)
    reasons: dict[str, int] = field(default_factory=dict)
    skipped_lines: dict[str, int] = field(default_factory=dict)  # titles, footers, blanks

    @property
    def balanced(self) -> bool:
        return self.rows_read == (self.staged + self.duplicates + self.quarantined + self.merged
                                  + self.erased)


@dataclass
class StagedKind:
    """Result of staging every file of one kind."""

    kind: str
    staged: pd.DataFrame
    quarantined: pd.DataFrame
    accounts: list[FileAccount]


def satisfaction_numbers(values: pd.Series) -> pd.Series:
    """The cells of a satisfaction column read as numbers (not its words)."""
    cleaned = cell_text(values)
    return cleaned.where(~cleaned.str.contains(r"[A-Za-z]", na=False))


def _satisfaction_scale(values: pd.Series, style: str | None = None
                        ) -> tuple[pd.Series, pd.Series]:
    """Common 0-1 scale from CSAT 1-5, 0-1 fractions or Good/Bad words; and a bad-value mask."""
    cleaned = cell_text(values)
    numbers, _ = parse_numbers(satisfaction_numbers(values), "en", style)
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
    country: str | None = None  # for phone numbers written without a country code
    serials: bool = False  # numbers in date columns are Excel serial days (xlsx only)
    date_formats: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    #: column -> 'comma'/'point', decided over the whole file before it is read in chunks
    number_styles: dict[str, str] = field(default_factory=dict)


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
    missing = missing_required(REQUIRED_COLUMNS[kind], raw.columns)
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

    def flag(mask: pd.Series, why: str | pd.Series) -> None:
        """Set the reason of the rows in `mask` that have none yet (`why` may be per row)."""
        chosen = mask.fillna(False).astype(bool) & reason.isna()
        reason[chosen] = why[chosen] if isinstance(why, pd.Series) else why

    key_problem = pd.Series(pd.NA, index=frame.index, dtype="object")
    for column in _text_columns(kind, frame):
        frame[column] = cell_text(frame[column])
        if column.endswith("_id") or column.startswith(EXTRA_ID_PREFIX):
            frame[column] = frame[column].str.removeprefix("'").astype(object)  # `'00123`
            bad = _bad_id_reasons(frame[column], column)
            if column == "customer_id" or column.startswith(EXTRA_ID_PREFIX):
                # a bad id is no key; the row is lost only if no other key names its customer
                key_problem = key_problem.where(key_problem.notna(), bad)
                frame[column] = frame[column].where(bad.isna(), None)
            else:
                flag(bad.notna(), bad)
    _normalise_keys(frame, rules, key_problem)
    keys = [c for c in frame.columns if c in KEY_COLUMNS or c.startswith(EXTRA_ID_PREFIX)]
    no_key = frame[keys].isna().all(axis=1)
    flag(no_key, key_problem.where(key_problem.notna(), _missing_key_reason(keys)))
    key = SOURCE_KEYS[kind]
    if key in frame and kind not in ("interactions", "actions"):  # content ids instead
        flag(frame[key].isna(), f"missing {key}")
    if kind == "actions":  # an unworked list row is no action, whatever else it lacks
        flag(unworked_rows(frame), NO_ACTION)
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
            "amount", lambda: (*parse_numbers(frame["amount"], rules.locale,
                                          rules.number_styles.get("amount")), None), flag,
            detected, why="amount is not a number")
        flag(frame["amount"].isna(), "missing amount")
        _flag_out_of_bounds(frame, kind, "amount", flag)
        frame["status"] = _order_statuses(frame, rules.statuses, flag)
        flag((frame["status"] == "completed") & (frame["amount"] < 0),
             "negative amount on a completed order (a refund or credit? give it a returned "
             "status or leave it out)")
        if "quantity" in frame:
            frame["quantity"] = _converted(
                "quantity", lambda: (*parse_numbers(frame["quantity"], rules.locale,
                                            rules.number_styles.get("quantity")), None),
                flag, detected, why="quantity is not a number")
            flag(frame["quantity"] < 0, "negative quantity")
            _flag_out_of_bounds(frame, kind, "quantity", flag)
    if kind == "complaints":
        if "satisfaction" in frame:
            scaled, bad = _satisfaction_scale(frame["satisfaction"],
                                              rules.number_styles.get("satisfaction"))
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
    if kind == "actions":
        stage_action_columns(frame, rules.locale, flag,
                             lambda c, convert, why: _converted(c, convert, flag, detected,
                                                                why=why))
    if kind == "subscriptions":
        stage_subscription_columns(frame, rules.locale, rules.number_styles, flag,
                                   lambda c, convert, why: _converted(c, convert, flag,
                                                                      detected, why=why))
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


def _bad_id_reasons(ids: pd.Series, column: str) -> pd.Series:
    """Why an id is not an id (placeholders, Excel's scientific notation, control characters),
    per row; missing where it is fine."""
    text = ids.astype("string")
    name = "customer id" if column.startswith(EXTRA_ID_PREFIX) else column
    checks = [
        (text.str.lower().isin(PLACEHOLDER_IDS), f"placeholder {name} (NULL, N/A, -, ...), "
                                                 "not an id"),
        (text.str.contains(_EXCEL_NUMBER_ID, regex=True),
         f"{name} was turned into a number by Excel (like 1.70E+1); format the column as "
         "text before exporting"),
        (text.str.contains(_CONTROL_CHARACTERS, regex=True),
         f"control character (NUL, tab or line break) in {name}"),
    ]
    reasons = pd.Series(pd.NA, index=ids.index, dtype="object")
    for mask, why in checks:
        reasons[mask.fillna(False).astype(bool) & reasons.isna()] = why
    return reasons


def _missing_key_reason(keys: list[str]) -> str:
    """`missing customer_id`, `missing e-mail (this file's customer key)`, or for several keys
    `no customer key (customer_id and e-mail all empty)`."""
    names = list(dict.fromkeys("customer id" if k.startswith(EXTRA_ID_PREFIX) else
                               {"email": "e-mail"}.get(k, k) for k in keys))
    if names == ["customer_id"]:
        return "missing customer_id"
    if len(names) == 1:
        return f"missing {names[0]} (this file's customer key)"
    return f"no customer key ({' and '.join(names)} all empty)"


def _normalise_keys(frame: pd.DataFrame, rules: ReadingRules, problem: pd.Series) -> None:
    """E-mails case-folded, phones as E.164, e-mail-shaped customer ids case-folded (they are
    e-mail keys, `pipelines.ingest.identity`); a key that cannot be read is dropped and the
    reason kept in `problem` for rows left with no key at all."""
    if "email" in frame:
        emails = normalised_emails(frame["email"])
        bad = frame["email"].notna() & emails.isna()
        # masked: the reason reaches the report, the run log and Prefect's cached result
        problem[bad & problem.isna()] = "e-mail " + frame.loc[bad, "email"].astype(str).map(
            lambda v: repr(masked_contact(v))).str.slice(0, 80) + " is not an address"
        frame["email"] = emails
    if "phone" in frame:
        country = phone_country(rules.country, rules.locale, rules.timezone)
        phones = normalised_phones(frame["phone"], country)
        bad = frame["phone"].notna() & phones.isna()
        hint = "" if country else " (numbers without +<country code> need `country` in " \
                                  "sources.yaml)"
        problem[bad & problem.isna()] = "phone " + frame.loc[bad, "phone"].astype(str).map(
            lambda v: repr(masked_contact(v))).str.slice(0, 40) + " is not a phone number" + hint
        frame["phone"] = phones
    if "customer_id" in frame:
        as_email = normalised_emails(frame["customer_id"])
        frame["customer_id"] = as_email.where(as_email.notna(), frame["customer_id"])


def _flag_out_of_bounds(frame: pd.DataFrame, kind: str, column: str, flag) -> None:
    bound = max_value(kind, column)
    if bound is not None:
        flag(frame[column].abs() > bound,
             f"{column} beyond {bound:,.0f} (the bound for {kind}; pipelines/ingest/bounds.py)")


def _text_columns(kind: str, frame: pd.DataFrame) -> list[str]:
    converted = {*TIMESTAMP_COLUMNS[kind], "amount", "quantity", "satisfaction", *BOOKKEEPING,
                 *(("mrr", "seats", "discount") if kind == "subscriptions" else ()),
                 *(("cost",) if kind == "actions" else ())}
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
    # astype(str) keeps missing cells missing (pandas 3), which would void the whole id
    parts = [frame[c].astype(str).fillna("None")
             for c in ("customer_id", "occurred_at", "channel", "type", "email", "phone")
             if c in frame]
    content = parts[0].str.cat(parts[1:], sep="|")
    hashed = content.map(lambda s: "auto-" + hashlib.sha1(s.encode()).hexdigest()[:16])
    return existing.where(existing.notna(), hashed)


def compact_staged(staged: pd.DataFrame) -> pd.DataFrame:
    """The same rows with text held compactly: Arrow-backed strings (`str`, what the staged
    parquet reads back as) instead of one Python object per cell, and the file name, the same
    in every row of a file, as a category. Typed rows of a large export would otherwise take
    about 300 bytes each (an 8-million-row events file: 2.5 GB before linking and
    deduplication); compact, about 60."""
    columns = {}
    for name in staged.columns:
        values = staged[name]
        if name == SOURCE_FILE:
            columns[name] = values.astype("category")
        elif values.dtype == object and _all_text(values):
            columns[name] = values.astype("str")
    return staged.assign(**columns) if columns else staged


def no_rows_like(frame: pd.DataFrame) -> pd.DataFrame:
    """An empty frame with the columns and dtypes of `frame`, sharing none of its memory: an
    empty slice (even copied) of Arrow-backed text keeps every buffer of the frame alive,
    which held each chunk of a streamed export twice."""
    return pd.DataFrame({name: pd.Series([], dtype=frame[name].dtype) for name in frame.columns},
                        index=frame.index[:0].copy())


def contiguous_staged(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Compacted staged parts of one file as one frame whose text columns each lie in one
    Arrow buffer. Each chunk's strings are built in buffers that grow as they fill, and the
    allocator cannot hand back the pages between them: an 8.5-million-row events export
    held 1,260 MB resident for 750 MB of rows; copied into one buffer per column, 970 MB."""
    import pyarrow as pa

    frame = parts[0] if len(parts) == 1 else pd.concat(parts)
    for name in frame.columns:
        values = frame[name]
        if values.dtype == "str" and isinstance(values.array, pd.arrays.ArrowStringArray):
            chunks = values.array._pa_array  # pandas keeps Arrow strings as a chunked array
            if chunks.num_chunks > 1:
                frame[name] = pd.Series(
                    pd.array(pa.chunked_array([chunks.combine_chunks()]), dtype="str"),
                    index=frame.index, name=name)
    return frame


def _all_text(values: pd.Series) -> bool:
    """Whether every present cell is a string (an id column of native numbers stays as it is)."""
    return pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty")


def keep_systems_apart(kind: str, frames: list[pd.DataFrame], systems: list[str]
                       ) -> tuple[list[pd.DataFrame], str | None]:
    """Record ids (order numbers, ticket ids) that two systems both use, made distinct.

    Re-exports of one system share ids and must collapse to the latest copy; two systems
    (Trendyol and Hepsiburada order numbers, Zendesk and Freshdesk ticket ids) count from 1
    on their own, so an id both use is two records. Such ids get the system's name as a
    prefix (`freshdesk:101`) wherever a preset names the system; files read without a preset
    keep the bare id. Returns the frames and a warning naming an example, or None.
    """
    key = SOURCE_KEYS[kind]
    if kind == "customers" or len(set(systems)) < 2:  # customers: ids are canonical already
        return frames, None
    pairs = pd.concat([pd.DataFrame({"key": f[key].to_numpy(), "system": system})
                       for f, system in zip(frames, systems, strict=True)]).drop_duplicates()
    per_key = pairs.groupby("key")["system"].nunique()
    shared = per_key.index[per_key > 1]
    if shared.empty:
        return frames, None
    out = []
    for frame, system in zip(frames, systems, strict=True):
        hit = frame[key].isin(shared)
        if system and hit.any():
            frame = frame.assign(**{key: frame[key].where(~hit, system + ":" + frame[key])})
        out.append(frame)
    example = shared[0]
    named = sorted(pairs.loc[pairs["key"] == example, "system"].replace("", "a file without "
                                                                             "a preset"))
    return out, (f"{kind}: {len(shared)} {key}s are used by more than one system (e.g. "
                 f"{example!r} in {' and '.join(named)}); kept apart as <system>:<id>")


def deduplicate(kind: str, staged: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the latest copy of each source key: the latest `_updated_at` where the source
    has one, else the later file and line (rows arrive in file-name and line order).

    Returns the kept rows (in arrival order) and the dropped copies, so each can be counted.
    The decision is made on integer codes of the key (a missing key is one value, as in
    `DataFrame.duplicated`), never on the text itself: hashing millions of Arrow strings as
    Python objects would hold each of them once more; and with nothing to drop, the rows
    are returned as they are instead of copied.
    """
    order = staged.reset_index(drop=True)
    if not any_duplicated(order[SOURCE_KEYS[kind]]):  # the common case, at 8 bytes a row
        return order, no_rows_like(order)
    codes = key_codes(order[SOURCE_KEYS[kind]])
    if UPDATED_AT in order and order[UPDATED_AT].notna().any():
        ranked = pd.DataFrame({"code": codes, "updated": order[UPDATED_AT].to_numpy(),
                               "arrival": np.arange(len(order))}).sort_values(
            ["updated", "arrival"], na_position="first", kind="stable")
        dropped = np.zeros(len(order), dtype=bool)
        dropped[ranked["arrival"].to_numpy()] = duplicated_codes(ranked["code"].to_numpy())
    else:
        dropped = duplicated_codes(codes)
    if not dropped.any():
        return order, no_rows_like(order)
    return order.loc[~dropped], order.loc[dropped]


#: Rows pandera checks at a time: its checks hold row by row, and checking millions of rows
#: at once holds a Python copy of every text cell (1.1 GB for an 8-million-row events file).
VALIDATE_ROWS = 500_000


def _text_as_contract(schema, frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns in the contract's string dtype, a column at a time, before the slices are
    checked: pandera would coerce each slice into a copy of its own (Arrow `str` to
    `string[pyarrow]` is free; Python objects, as identity linking leaves customer ids, are
    converted once), and every slice's copy would be held to be joined again (+460 MB for an
    8.5-million-row events export)."""
    for name, column in schema.to_schema().columns.items():
        target = getattr(column.dtype, "type", None)
        if (name in frame and isinstance(target, pd.StringDtype)
                and frame[name].dtype != target):
            frame[name] = frame[name].astype(target)
    return frame


def validate_staged(kind: str, staged: pd.DataFrame, slice_rows: int = VALIDATE_ROWS
                    ) -> pd.DataFrame:
    """The staged table checked against its contract, in contract column order, bookkeeping
    columns removed. Checked in slices of `slice_rows`; the columns the contract declares
    distinct are checked over the whole table (`any_duplicated`)."""
    schema = STAGED_SCHEMAS[kind]
    frame = _text_as_contract(schema, staged.reset_index(drop=True))
    validated = schema.validate(frame.iloc[:slice_rows])
    if len(frame) > slice_rows:
        # coercion depends on a column's dtype, the same in every slice: when it changed
        # nothing in the first, the table is its own checked copy, and each slice's checked
        # copy (pandera returns one) is let go at once instead of held until the end
        unchanged = all(validated[c].dtype == frame[c].dtype for c in validated.columns)
        parts = [validated]
        for start in range(slice_rows, len(frame), slice_rows):
            checked = schema.validate(frame.iloc[start:start + slice_rows])
            if not unchanged:
                parts.append(checked)
            del checked
        validated = frame if unchanged else pd.concat(parts, ignore_index=True)
        del parts
        for name in distinct_columns(schema):  # each slice saw only its own repeats
            if any_duplicated(frame[name]):
                raise ValueError(f"column '{name}' not unique")  # as pandera says it
    return validated[list(schema.to_schema().columns)]
