"""One raw export file read, mapped to canonical columns, converted and accounted for.

A CSV-family file read without a preset is streamed (`pipelines.ingest.chunked`): one pass
learns its layout and gathers what the column rules are decided from (date shapes, decimal
separators: `pipelines.ingest.column_rules`), one converts chunk by chunk with those rules
fixed, so memory follows the chunk size (`CHURN_INGEST_MEMORY_MB`) and the typed rows, not
the file's text. The result equals a whole-file read's. xlsx, parquet, files read through a
preset (their conversions look across rows: line items of one order, returns linked to
invoices) and files whose layout or encoding only the whole text tells are read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from features.contracts import REQUIRED_COLUMNS, TIMESTAMP_COLUMNS
from pipelines.ingest.bounds import ingest_chunk_rows, max_streamed_bytes
from pipelines.ingest.chunked import STREAMED_SUFFIXES, cell_chunks, scan_csv
from pipelines.ingest.column_rules import ColumnRules
from pipelines.ingest.headers import (
    header_language,
    header_notes,
    is_known_header,
    match_headers,
)
from pipelines.ingest.keys import SHARED_SPACE, mappable_columns, missing_required
from pipelines.ingest.presets.base import Preset
from pipelines.ingest.presets.registry import PRESET_NAMES, detect_preset, is_preset_header
from pipelines.ingest.readers import RawTable, parquet_chunks, parquet_layout, read_cells
from pipelines.ingest.sources_file import SourceRule
from pipelines.ingest.staging import (
    PRESET_REASON,
    SOURCE_FILE,
    SOURCE_LINE,
    FileAccount,
    ReadingRules,
    StagingError,
    compact_staged,
    contiguous_staged,
    no_rows_like,
    stage_rows,
)
from pipelines.ingest.suggest import MissingColumnsError, missing_columns_help
from pipelines.scale.memory import release_freed_memory
from pipelines.store.staged import STAGED_KINDS

FUTURE_TOLERANCE = pd.Timedelta(days=2)
#: Staged rows of a streamed file joined into one contiguous part at a time
#: (`contiguous_staged`): the allocator's gaps stay those of the last million rows.
COMPACT_ROWS = 1_000_000
MAPPING_FILE = "sources.yaml"


@dataclass
class FileReading:
    """What was detected for one file (printed by `churn ingest --explain`)."""

    file: str
    kind: str
    preset: str | None
    file_type: str
    encoding: str | None
    delimiter: str | None
    locale: str
    timezone: str
    header_line: int
    columns: dict[str, str]
    formats: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    skipped_lines: dict[str, int] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)  # header -> units taken off it
    runners_up: dict[str, list[str]] = field(default_factory=dict)  # column -> other headers
    id_space: str = SHARED_SPACE  # whose numbers its customer ids are ("": the business's)
    keys: list[str] = field(default_factory=list)  # customer keys it carries (after identity)
    customers: int = 0
    with_purchases: int = 0  # its customers who also have purchases




@dataclass
class StagedFile:
    staged: pd.DataFrame
    quarantined: pd.DataFrame
    account: FileAccount
    reading: FileReading

    def set_aside(self, mask: pd.Series, reasons: pd.Series) -> None:
        """Move staged rows to the quarantine with a reason each (after staging proper)."""
        kept, moved = _moved_rows(self.staged, mask, reasons)
        self.staged = kept
        self.quarantined = pd.concat([self.quarantined, moved], ignore_index=True)
        self.account.quarantined = len(self.quarantined)
        self.account.reasons = self.quarantined["reason"].value_counts().to_dict()


def _known(text: str) -> bool:
    return is_known_header(text) or is_preset_header(text)


@dataclass
class _FilePlan:
    """What a file is, decided from its headers and encoding before any row is converted."""

    kind: str
    relative: str
    locale: str
    preset: Preset | None
    id_space: str


def _file_plan(path: Path, kind: str | None, rule: SourceRule, headers: list[str],
               encoding: str | None) -> _FilePlan:
    preset = None
    if rule.preset != "none":
        preset = detect_preset(headers, rule.preset, rule.kind or kind)
        if rule.preset and preset is None:
            raise StagingError(f"unknown preset {rule.preset!r} in {MAPPING_FILE} "
                               f"(known: {', '.join(PRESET_NAMES)}, none)")
    kind = rule.kind or kind or (preset.kind if preset else None)
    if kind not in STAGED_KINDS:
        raise StagingError("cannot tell which kind of export this is; put it under raw/<kind>/ "
                           f"({', '.join(STAGED_KINDS)}) or set `kind` in {MAPPING_FILE}")
    locale = (rule.locale or (preset.locale if preset else None) or header_language(headers)
              or ("tr" if encoding == "cp1254" else "en"))
    relative = f"{kind}/{path.name}" if path.parent.name == kind else path.name
    if preset is not None and preset.kind != kind and not rule.columns:
        raise StagingError(
            f"looks like a {preset.name} export of {preset.kind}, but is read as {kind}; move "
            f"it to raw/{preset.kind}/ or set `preset: none` and `columns` in {MAPPING_FILE}")
    if preset is not None and preset.kind != kind:
        preset = None  # read through the mapping in sources.yaml instead
    return _FilePlan(kind, relative, locale, preset, rule.id_space or SHARED_SPACE)


def read_export(path: Path, kind: str | None, rule: SourceRule, timezone: str,
                now: pd.Timestamp, *, whole: bool = False) -> StagedFile:
    """One file read, mapped, converted and accounted; StagingError when it cannot be.
    Streamed in chunks where it can be (see the module's docstring); `whole` reads it whole."""
    gathered: list[ColumnRules] = []

    def sink_for(headers: list[str], encoding: str) -> Callable[[RawTable], None] | None:
        """Where the column statistics of a file read without a preset are gathered; None
        for a file read whole (through a preset, or one that cannot be planned or lacks a
        required column: the whole-file reader's sentence comes in its order)."""
        try:
            plan = _file_plan(path, kind, rule, headers, encoding)
            if plan.preset is None:
                _raw_cells(plan, _no_rows(headers), rule)
        except StagingError:
            return None
        if plan.preset is not None:
            return None
        gathered.append(ColumnRules(plan.kind, _reading_rules(plan, rule, timezone, "csv")))
        return lambda chunk: gathered[0].add(_raw_cells(plan, chunk, rule)[0])

    layout = None
    name = path.name.lower()
    if not whole and name.endswith(STREAMED_SUFFIXES):
        layout = scan_csv(path, _known, rule.encoding, rule.delimiter, sink_for)
    if layout is not None:
        plan = _file_plan(path, kind, rule, layout.headers, layout.plan.label)
        chunk_rows = ingest_chunk_rows(layout.text_chars, layout.data_rows)
        return _staged_file(plan, rule, gathered[0].decided(), now,
                            cell_chunks(layout, chunk_rows))
    if not whole and name.endswith(".parquet"):
        staged = _streamed_parquet(path, kind, rule, timezone, now)
        if staged is not None:
            return staged
    table: RawTable = read_cells(path, _known, rule.encoding, rule.delimiter)
    plan = _file_plan(path, kind, rule, table.headers, table.encoding)
    return _staged_file(plan, rule, _reading_rules(plan, rule, timezone, table.file_type), now,
                        [table])


def _streamed_parquet(path: Path, kind: str | None, rule: SourceRule, timezone: str,
                      now: pd.Timestamp) -> StagedFile | None:
    """A parquet file read without a preset, in chunks of rows: one pass gathers what the
    column rules are decided from, one converts (as a streamed CSV); None when it is to be
    read whole (through a preset, or lacking a required column: the whole-file read's
    sentence), or is past the streamed bound."""
    limit = max_streamed_bytes()
    if path.stat().st_size > limit:
        raise StagingError(f"is larger than {limit // 2**20:,} MB (CHURN_MAX_STREAMED_MB); "
                           "split the export or raise the bound")
    head, rows, size = parquet_layout(path)
    try:
        plan = _file_plan(path, kind, rule, head.headers, None)
        if plan.preset is not None:
            return None
        _raw_cells(plan, head, rule)
    except StagingError:
        return None
    chunk_rows = ingest_chunk_rows(size, rows)
    gathered = ColumnRules(plan.kind, _reading_rules(plan, rule, timezone, "parquet"))
    for chunk in parquet_chunks(path, chunk_rows):
        gathered.add(_raw_cells(plan, chunk, rule)[0])
    return _staged_file(plan, rule, gathered.decided(), now, parquet_chunks(path, chunk_rows))


def _no_rows(headers: list[str]) -> RawTable:
    return RawTable(headers, pd.DataFrame(columns=headers, dtype=object), [], "csv")


def _reading_rules(plan: _FilePlan, rule: SourceRule, timezone: str, file_type: str
                   ) -> ReadingRules:
    return ReadingRules(locale=plan.locale, timezone=rule.timezone or timezone,
                        country=rule.country, serials=file_type == "xlsx",
                        date_formats=rule.date_formats, statuses=rule.statuses)


@dataclass
class _Mapped:
    """How a file's headers became canonical columns (the same for every chunk)."""

    columns: dict[str, str]
    notes: dict[str, list[str]]
    runners_up: dict[str, list[str]]
    id_space: str
    merged: int = 0


def _raw_cells(plan: _FilePlan, table: RawTable, rule: SourceRule
               ) -> tuple[pd.DataFrame, _Mapped]:
    """The table's cells under canonical names with the bookkeeping columns, and the mapping."""
    if plan.preset is not None:
        converted = plan.preset.convert(table.frame, table.lines, plan.locale)
        raw, columns = converted.frame, converted.mapping or {}
        mapped = _Mapped(columns, {h: header_notes(h) for h in columns if header_notes(h)}, {},
                         rule.id_space or converted.id_space, converted.merged)
    else:
        matched = match_headers(table.headers, mappable_columns(plan.kind), rule.columns)
        raw = table.frame[list(matched.mapping)].rename(columns=matched.mapping)
        raw[SOURCE_LINE] = table.lines
        mapped = _Mapped(matched.mapping, matched.notes, matched.runners_up, plan.id_space)
    raw[SOURCE_FILE] = plan.relative
    missing = missing_required(REQUIRED_COLUMNS[plan.kind], raw.columns)
    if missing:
        kind = plan.kind
        raise MissingColumnsError(
            f"missing required column(s) {', '.join(missing)} (found: "
            f"{', '.join(table.headers)}); rename the headers to "
            f"{', '.join(REQUIRED_COLUMNS[kind])} or a known synonym, or map them under "
            f"`columns` in {MAPPING_FILE}; "
            + missing_columns_help(plan.relative, kind, table.headers, mapped.columns, missing),
            kind, table.headers, mapped.columns, missing)
    if table.row_problems:
        flagged = raw[SOURCE_LINE].map(table.row_problems)
        earlier = raw[PRESET_REASON] if PRESET_REASON in raw else pd.Series(None, index=raw.index)
        raw[PRESET_REASON] = earlier.where(earlier.notna(), flagged)
    return raw, mapped


def _staged_file(plan: _FilePlan, rule: SourceRule, rules: ReadingRules, now: pd.Timestamp,
                 tables: Iterable[RawTable]) -> StagedFile:
    """Stage the tables (one, or a file's chunks in order) and account for their rows."""
    staged_parts, quarantined_parts, future_parts = [], [], []
    formats: dict[str, str] = {}
    rows = merged = compacted = 0  # compacted: staged parts already joined contiguously
    for table in tables:
        raw, mapped = _raw_cells(plan, table, rule)
        staged, quarantined = stage_rows(plan.kind, raw, rules=rules, detected=formats)
        staged, future = _split_future(plan.kind, staged, now)
        staged_parts.append(compact_staged(staged))
        quarantined_parts.append(quarantined)
        future_parts.append(future)
        rows, merged = rows + len(table.frame), merged + mapped.merged
        del raw, staged, quarantined, future
        if sum(len(p) for p in staged_parts[compacted:]) >= COMPACT_ROWS:
            staged_parts[compacted:] = [_contiguous(staged_parts[compacted:])]
            compacted = len(staged_parts)
            release_freed_memory()
    if len(staged_parts) > compacted + 1:
        staged_parts[compacted:] = [_contiguous(staged_parts[compacted:])]
    staged, quarantined = _joined(staged_parts), pd.concat(
        [_joined(quarantined_parts), _joined(future_parts)], ignore_index=True)
    account = FileAccount(file=plan.relative, kind=plan.kind, rows_read=rows,
                          staged=len(staged),  # until deduplication across files
                          quarantined=len(quarantined), merged=merged,
                          skipped_lines=table.skipped)
    account.reasons = quarantined["reason"].value_counts().to_dict() if len(quarantined) else {}
    reading = FileReading(plan.relative, plan.kind, plan.preset.name if plan.preset else None,
                          table.file_type, table.encoding, table.delimiter, plan.locale,
                          rules.timezone, table.header_line, mapped.columns, formats, rows,
                          table.skipped, mapped.notes, mapped.runners_up, mapped.id_space)
    return StagedFile(staged, quarantined, account, reading)


def _contiguous(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """`contiguous_staged` of the parts, empty ones left out as `_joined` leaves them."""
    return contiguous_staged([p for p in parts if len(p)] or parts[-1:])


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The parts of one file in order, as one frame (empty parts left out: their all-missing
    columns would change the dtypes a whole-file read gives)."""
    filled = [p for p in parts if len(p)]
    if len(parts) == 1 or not filled:
        return parts[0]
    return filled[0] if len(filled) == 1 else pd.concat(filled)


#: Dates that may lie ahead: a cancellation's notice date, a subscription that ends at the
#: end of its paid period, the end of a coupon.
FUTURE_DATES_ALLOWED = frozenset({"cancelled_at", "ended_at", "discount_ends_at"})


def _split_future(kind: str, staged: pd.DataFrame, now: pd.Timestamp):
    """Rows dated after `now` (+ tolerance) are quarantined: a future event is a data error
    (except `FUTURE_DATES_ALLOWED`, which are not checked)."""
    columns = [c for c in TIMESTAMP_COLUMNS[kind] if c not in FUTURE_DATES_ALLOWED and c in staged]
    reason = pd.Series(None, index=staged.index, dtype=object)
    for column in columns:
        late = staged[column].notna() & (staged[column] > now + FUTURE_TOLERANCE)
        reason = reason.where(reason.notna() | ~late, f"{column} in the future")
    return _moved_rows(staged, reason.notna(), reason)


def _moved_rows(staged: pd.DataFrame, mask: pd.Series, reasons: pd.Series
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows kept, rows moved as quarantine text with their `reason`)."""
    if not mask.any():  # a copy: an empty slice is a view that would keep every row alive
        return staged, no_rows_like(staged).assign(reason=pd.Series(dtype=str))
    moved = staged.loc[mask].copy()
    for column_name in moved.columns:
        if column_name not in (SOURCE_FILE, SOURCE_LINE):
            moved[column_name] = moved[column_name].astype(object).where(
                moved[column_name].notna(), "").astype(str)
    moved["reason"] = reasons[mask].astype(str)
    return staged.loc[~mask], moved
