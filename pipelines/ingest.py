"""Reading raw exports from `<data-dir>/raw/<kind>/` and staging them as parquet.

Raw files are never modified. Each run restages every kind from all of its raw files, so
re-running is idempotent; re-exports of the same record collapse to its latest copy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from features.contracts import empty_staged
from pipelines.settings import Settings
from pipelines.staging import (
    SOURCE_FILE,
    SOURCE_LINE,
    FileAccount,
    StagedKind,
    StagingError,
    canonical_columns,
    deduplicate,
    stage_rows,
    validate_staged,
)
from pipelines.storage import STAGED_KINDS, staged_path, write_json_atomic, write_parquet_atomic

READABLE_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv")
FUTURE_TOLERANCE = pd.Timedelta(days=2)


class IngestError(RuntimeError):
    """One or more raw files cannot be staged; `problems` holds one line per file."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class IngestReport:
    accounts: list[FileAccount] = field(default_factory=list)
    staged_rows: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "files": [asdict(a) | {"balanced": a.balanced} for a in self.accounts],
            "staged_rows": self.staged_rows,
            "outputs": self.outputs,
        }


def raw_files(raw_dir: Path, kind: str) -> list[Path]:
    folder = raw_dir / kind
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(READABLE_SUFFIXES))


def read_raw_text(path: Path, kind: str) -> pd.DataFrame:
    """All cells as text with canonical headers, plus file and line bookkeeping columns."""
    try:
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, sep=None, engine="python",
            encoding="utf-8-sig",
        )
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise StagingError(f"cannot read as UTF-8 CSV ({type(error).__name__}: {error})") from None
    frame = frame.rename(columns=canonical_columns(kind, list(frame.columns)))
    frame[SOURCE_FILE] = path.name
    frame[SOURCE_LINE] = range(2, len(frame) + 2)  # line 1 is the header
    return frame


def stage_kind(kind: str, files: list[Path], timezone: str, now: pd.Timestamp) -> StagedKind:
    """Stage all files of one kind; raises IngestError listing every unreadable file."""
    staged_parts, quarantine_parts, accounts, problems = [], [], [], []
    for path in files:
        try:
            raw = read_raw_text(path, kind)
            staged, quarantined = stage_rows(kind, raw, timezone)
        except StagingError as error:
            problems.append(f"{kind}/{path.name}: {error}")
            continue
        staged, future = _split_future(kind, staged, now)
        quarantined = pd.concat([quarantined, future], ignore_index=True)
        account = FileAccount(file=f"{kind}/{path.name}", kind=kind, rows_read=len(raw))
        account.quarantined = len(quarantined)
        account.reasons = quarantined["reason"].value_counts().to_dict() if len(quarantined) else {}
        accounts.append(account)
        staged_parts.append(staged)
        quarantine_parts.append(quarantined)
    if problems:
        raise IngestError(problems)
    if not staged_parts:
        return StagedKind(kind, empty_staged(kind), pd.DataFrame(), [])
    combined = pd.concat(staged_parts, ignore_index=True)
    kept, dropped = deduplicate(kind, combined)
    by_file = {a.file: a for a in accounts}
    for name, count in dropped[SOURCE_FILE].value_counts().items():
        by_file[f"{kind}/{name}"].duplicates = int(count)
    for name, count in kept[SOURCE_FILE].value_counts().items():
        by_file[f"{kind}/{name}"].staged = int(count)
    quarantined = pd.concat(quarantine_parts, ignore_index=True)
    return StagedKind(kind, validate_staged(kind, kept), quarantined, accounts)


def _split_future(kind: str, staged: pd.DataFrame, now: pd.Timestamp):
    """Rows dated after `now` (+ tolerance) are quarantined: a future event is a data error."""
    column = {"purchases": "order_date", "complaints": "opened_at",
              "interactions": "occurred_at"}.get(kind)
    if column is None or staged.empty:
        return staged, staged.iloc[0:0].assign(reason=pd.Series(dtype=str))
    future = staged[column] > now + FUTURE_TOLERANCE
    moved = staged.loc[future].copy()
    moved["reason"] = f"{column} in the future"
    for column_name in moved.columns:
        if column_name not in (SOURCE_FILE, SOURCE_LINE, "reason"):
            moved[column_name] = moved[column_name].astype(str)
    return staged.loc[~future], moved


def ingest_raw_exports(settings: Settings, now: dt.datetime | None = None) -> IngestReport:
    """Stage every raw kind that has files; write staged, quarantine and the report."""
    now_ts = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    report = IngestReport()
    results: list[StagedKind] = []
    problems: list[str] = []
    for kind in STAGED_KINDS:
        files = raw_files(settings.raw_dir, kind)
        if not files:
            continue
        try:
            results.append(stage_kind(kind, files, settings.timezone, now_ts))
        except IngestError as error:
            problems.extend(error.problems)
    if not any(r.kind == "purchases" for r in results) and not problems:
        problems.append(
            f"purchases: no files in {settings.raw_dir / 'purchases'} "
            "(CSV exports with customer_id, order_id, order_date, amount)"
        )
    if problems:
        raise IngestError(problems)
    for result in results:  # write only when every kind staged cleanly
        path = write_parquet_atomic(result.staged, staged_path(settings, result.kind))
        report.outputs[result.kind] = str(path)
        report.staged_rows[result.kind] = len(result.staged)
        report.accounts.extend(result.accounts)
        quarantine = settings.quarantine_dir / f"{result.kind}.csv"
        if len(result.quarantined):
            quarantine.parent.mkdir(parents=True, exist_ok=True)
            result.quarantined.to_csv(quarantine, index=False)
        else:
            quarantine.unlink(missing_ok=True)
    write_json_atomic(report.to_dict(), settings.reports_dir / "ingest_report.json")
    return report
