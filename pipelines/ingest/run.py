"""Reading raw exports from `<data-dir>/raw/` and staging them as parquet.

Raw files are never modified. Each run restages every kind from all of its raw files, so the
result depends only on the files; re-exports of the same record collapse to its latest copy.
A manifest of file hashes makes a run over unchanged files a no-op. The staged tables of one
run are published together (`pipelines.store.staged.publish_staged`): a kill mid-ingest leaves the
previous set whole.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from features.contracts import empty_staged
from pipelines.ingest.bounds import environment_problems
from pipelines.ingest.discovery import all_raw_files
from pipelines.ingest.export_file import (  # noqa: F401 (FUTURE_TOLERANCE, _known: re-exported)
    FUTURE_TOLERANCE,
    MAPPING_FILE,
    FileReading,
    StagedFile,
    _known,
    read_export,
)
from pipelines.ingest.identity import SourceKeys, resolve_identities
from pipelines.ingest.presets.registry import (
    preset_system,
)
from pipelines.ingest.reading import FileFailure, FileTask, read_files
from pipelines.ingest.sources_file import (
    MappingFileError,
    load_rules,
    rule_for,
    valid_timezone,
)
from pipelines.ingest.staging import (
    SOURCE_FILE,
    SOURCE_LINE,
    FileAccount,
    StagedKind,
    deduplicate,
    keep_systems_apart,
    validate_staged,
)
from pipelines.privacy.ingest_filter import ingest_fingerprint, leave_out_for_privacy
from pipelines.scale.memory import release_freed_memory
from pipelines.store.atomic import write_json_atomic, write_text_atomic
from pipelines.store.safe_text import escape_formula
from pipelines.store.settings import Settings
from pipelines.store.staged import STAGED_KINDS, publish_staged, staged_path

MANIFEST = "manifest.json"
CUSTOMER_KEYS = "customer_keys"  # staged/customer_keys.parquet: every key -> its customer
INGEST_LOCK = ".ingest.lock"
LOCK_WAIT_SECONDS = 600.0
log = logging.getLogger(__name__)


class IngestError(RuntimeError):
    """One or more raw files cannot be staged; `problems` holds one line per file."""

    def __init__(self, problems: list[str]):
        problems = [one_line(p) for p in problems]
        super().__init__("\n".join(problems))
        self.problems = problems


MAX_PROBLEM_CHARS = 600


def one_line(text: str) -> str:
    """A problem as one printable line of bounded length: line breaks and control characters
    from file names or header cells become spaces, a long echo of a header is cut."""
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return flat if len(flat) <= MAX_PROBLEM_CHARS else flat[:MAX_PROBLEM_CHARS - 1] + "…"


@dataclass
class IngestReport:
    accounts: list[FileAccount] = field(default_factory=list)
    staged_rows: dict[str, int] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    readings: list[FileReading] = field(default_factory=list)
    skipped_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    identity: dict = field(default_factory=dict)  # `IdentitySummary` as a dict
    unchanged: bool = False

    def to_dict(self) -> dict:
        return {
            "identity": self.identity,
            "files": [asdict(a) | {"balanced": a.balanced} for a in self.accounts],
            "staged_rows": self.staged_rows,
            "outputs": self.outputs,
            "readings": [asdict(r) for r in self.readings],
            "skipped_files": self.skipped_files,
            "warnings": self.warnings,
            "unchanged": self.unchanged,
        }


def combine_kind(kind: str, files: list[StagedFile]) -> StagedKind:
    """Deduplicate one kind's staged files (in arrival order) and count per file."""
    accounts = [f.account for f in files]
    quarantine_parts = [f.quarantined for f in files if len(f.quarantined)]
    quarantined = pd.concat(quarantine_parts, ignore_index=True) if quarantine_parts \
        else pd.DataFrame()
    if not files:
        return StagedKind(kind, empty_staged(kind), quarantined, [])
    combined = pd.concat([f.staged for f in files], ignore_index=True)
    kept, dropped = deduplicate(kind, combined)
    del combined  # kept and dropped are copies: the joined frame is not needed
    by_file = {a.file: a for a in accounts}
    for account in accounts:
        account.staged, account.duplicates = 0, 0
    for name, count in dropped[SOURCE_FILE].value_counts().items():
        by_file[name].duplicates = int(count)
    for name, count in kept[SOURCE_FILE].value_counts().items():
        by_file[name].staged = int(count)
    try:
        staged = validate_staged(kind, kept)
    except Exception as error:  # pandera's SchemaError: one line, not a traceback
        raise IngestError([f"{kind}: staged table breaks its contract: "
                           f"{str(error).splitlines()[0]}"]) from None
    return StagedKind(kind, staged, quarantined, accounts)


def _fingerprint(settings: Settings, files: list[tuple[Path, str | None]],
                 now: pd.Timestamp) -> dict[str, str]:
    """Hashes of every input; the day is included because "in the future" depends on it, and
    the ingest code's own hash because a new release may read the same files differently."""
    paths = [p for p, _ in files] + [settings.data_dir / MAPPING_FILE]
    hashes = {str(p.relative_to(settings.data_dir)): _sha256(p) for p in paths if p.exists()}
    return hashes | {"timezone": settings.timezone, "day": str(now.date()),
                     "code": ingest_code_digest()} | ingest_fingerprint(settings)


@functools.cache
def ingest_code_digest() -> str:
    """sha256 of the code that decides what a raw file stages as: this package and the
    staged contracts (the same for every file, so computed once per process)."""
    import features.contracts

    package = Path(__file__).parent
    sources = sorted(package.rglob("*.py")) + [Path(features.contracts.__file__)]
    digest = hashlib.sha256()
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    """The file's hash, read in chunks: memory stays bounded however large the file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_raw_exports(settings: Settings, now: dt.datetime | None = None, *,
                       skip_bad_files: bool = False, explain: bool = False,
                       wait_seconds: float = LOCK_WAIT_SECONDS) -> IngestReport:
    """Stage every raw kind that has files; write staged, quarantine and the report.

    With `explain` nothing is written and the report carries what was detected per file.
    With `skip_bad_files` unreadable files are listed in the report instead of failing the run.
    One ingest at a time per data dir: a second one waits up to `wait_seconds` for the first
    (two at once would each prune the other's unpublished staged version).
    """
    if explain:
        return _ingest(settings, now, skip_bad_files=skip_bad_files, explain=True)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(settings.data_dir / INGEST_LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("another ingest is running in %s; waiting up to %.0f s for it to finish",
                    settings.data_dir, wait_seconds)
        try:
            lock.acquire(timeout=wait_seconds)
        except Timeout:
            raise IngestError([
                f"another ingest still holds {settings.data_dir / INGEST_LOCK} after "
                f"{wait_seconds:.0f} s; let it finish (the lock is released when its process "
                "ends, so a crashed ingest never blocks)"]) from None
    try:
        return _ingest(settings, now, skip_bad_files=skip_bad_files, explain=False)
    finally:
        lock.release()


def _ingest(settings: Settings, now: dt.datetime | None, *, skip_bad_files: bool,
            explain: bool) -> IngestReport:
    now_ts = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    if not valid_timezone(settings.timezone):
        raise IngestError([f"CHURN_TIMEZONE: unknown time zone {settings.timezone!r}; use an "
                           "IANA name such as Europe/Istanbul, Europe/Amsterdam or UTC"])
    if bad_bounds := environment_problems():
        raise IngestError(bad_bounds)
    try:
        rules = load_rules(settings.data_dir / MAPPING_FILE)
    except MappingFileError as error:
        raise IngestError([str(error)]) from None
    refused: list[str] = []
    files = all_raw_files(settings.raw_dir, refused)
    manifest_path = settings.staged_dir / MANIFEST
    fingerprint = _fingerprint(settings, files, now_ts)
    if refused:  # never read, so not hashed: named, so an unchanged manifest cannot hide them
        fingerprint["refused"] = "\n".join(refused)
    if not explain and _unchanged(manifest_path, fingerprint):
        previous = json.loads((settings.reports_dir / "ingest_report.json").read_text())
        report = IngestReport(unchanged=True, staged_rows=previous["staged_rows"],
                              outputs=previous["outputs"],
                              warnings=previous.get("warnings", []),
                              identity=previous.get("identity", {}))
        report.accounts = [FileAccount(**{k: v for k, v in f.items() if k != "balanced"})
                           for f in previous["files"]]
        return report
    report = IngestReport()
    per_kind: dict[str, list[StagedFile]] = {kind: [] for kind in STAGED_KINDS}
    problems: list[str] = list(refused)
    tasks = [FileTask(path, kind, rule_for(rules, label), settings.timezone, now_ts, label)
             for path, kind in files
             for label in [f"{kind}/{path.name}" if kind else path.name]]
    for result in read_files(tasks):
        if isinstance(result, FileFailure):
            problems.append(result.problem)
            continue
        per_kind[result.account.kind].append(result)
        report.readings.append(result.reading)
    if problems and skip_bad_files:
        report.skipped_files, problems = problems, []
    if not per_kind["purchases"] and not problems and not explain:
        problems.append(
            f"purchases: no files in {settings.raw_dir / 'purchases'} "
            "(CSV, xlsx or parquet exports with customer_id, order_id, order_date, amount)"
        )
    if problems:
        raise IngestError(problems)
    warnings = _unmatched_id_warnings(per_kind)
    for kind, staged_files in per_kind.items():
        systems = [preset_system(f.reading.preset) for f in staged_files]
        frames, warning = keep_systems_apart(kind, [f.staged for f in staged_files], systems)
        for staged_file, frame in zip(staged_files, frames, strict=True):
            staged_file.staged = frame
        warnings += [warning] if warning else []
    key_map = _link_customers(per_kind, report)
    release_freed_memory()
    # erased customers and contact columns no list shows stay out (pipelines.privacy)
    key_map = leave_out_for_privacy(
        settings, [f for kind in STAGED_KINDS for f in per_kind[kind]], key_map)
    # each kind's files leave `per_kind` as they are combined: their frames are freed
    # before the next kind's copies are made (the largest tables would otherwise be held
    # twice until the outputs are written)
    results = []
    for kind in STAGED_KINDS:
        if per_kind[kind]:
            results.append(combine_kind(kind, per_kind.pop(kind)))
            release_freed_memory()
    for staged_kind in results:
        report.accounts.extend(staged_kind.accounts)
        report.staged_rows[staged_kind.kind] = len(staged_kind.staged)
    report.warnings = warnings
    for warning in report.warnings:
        log.warning("%s", warning)
    if explain:
        return report
    _write_outputs(settings, results, report, fingerprint, key_map)
    return report


def _link_customers(per_kind: dict[str, list[StagedFile]], report: IngestReport
                    ) -> pd.DataFrame:
    """Every staged row's canonical customer id (`pipelines.ingest.identity`); rows whose only
    key several customers share are quarantined. The summary goes into the report (and each
    file's reading); returned: the map of every key to its customer."""
    files = [f for kind in STAGED_KINDS for f in per_kind[kind]]
    resolution = resolve_identities([
        SourceKeys(f.account.file, f.account.kind, f.staged, f.reading.id_space) for f in files])
    for staged_file, ids, why in zip(files, resolution.customer_ids, resolution.reasons,
                                     strict=True):
        lost = ids.isna()
        staged_file.staged = staged_file.staged.assign(customer_id=ids)
        if lost.any():
            staged_file.set_aside(lost, why.fillna("no customer key"))
    by_file = {s.file: s for s in resolution.summary.sources}
    for reading in report.readings:
        if reading.file in by_file:
            source = by_file[reading.file]
            reading.keys, reading.customers = source.keys, source.customers
            reading.with_purchases = source.with_purchases
    report.identity = asdict(resolution.summary)
    return resolution.key_map


def _unmatched_id_warnings(per_kind: dict[str, list[StagedFile]]) -> list[str]:
    """Customer ids of tickets, interactions or the customer master that match no purchase
    customer but would with the leading zeros back (`123` for `00123`: a spreadsheet read
    the column as numbers). Staged as they are; the warning says what to fix."""
    frames = [f.staged["customer_id"] for f in per_kind["purchases"]]
    if not frames:
        return []
    # compared as the staged text is held (Arrow strings): a copy as Python objects of an
    # events file's ids would hold millions of them at once
    known = pd.Index(pd.concat(frames).dropna().unique())
    zeros = known[known.str.startswith("0")]
    padded = dict(zip(zeros.str.lstrip("0"), zeros, strict=True))
    warnings = []
    for kind in STAGED_KINDS:
        if kind == "purchases" or not padded:
            continue
        for result in per_kind[kind]:
            ids = result.staged["customer_id"].dropna()
            unmatched = ids[~ids.isin(known)]
            lost = unmatched[unmatched.isin(pd.Index(list(padded)))]
            if len(lost):
                example = lost.iloc[0]
                warnings.append(
                    f"{result.account.file}: {len(lost)} of {len(ids)} customer ids match no "
                    f"purchase customer but would with their leading zeros ({example!r} vs "
                    f"{padded[example]!r}); export customer_id as text (not through Excel)")
    return warnings


def _unchanged(manifest_path: Path, fingerprint: dict[str, str]) -> bool:
    report = manifest_path.parent.parent / "reports" / "ingest_report.json"
    try:
        return report.exists() and json.loads(manifest_path.read_text()) == fingerprint
    except (OSError, ValueError):
        return False


def _write_outputs(settings: Settings, results: list[StagedKind], report: IngestReport,
                   fingerprint: dict[str, str], key_map: pd.DataFrame) -> None:
    """Quarantine CSVs and the report, then every staged table with the manifest as one new
    staged version (see `publish_staged`): the switch is the commit point. A kill before it
    leaves the previous staged set and manifest, so the next run redoes the work."""
    for result in results:  # written only when every kind staged cleanly
        report.outputs[result.kind] = str(staged_path(settings, result.kind))
        quarantine = settings.quarantine_dir / f"{result.kind}.csv"
        if len(result.quarantined):
            first = [SOURCE_FILE, SOURCE_LINE, "reason"]
            rows = result.quarantined[first + [c for c in result.quarantined if c not in first]]
            # cells exactly as the export had them: a spreadsheet must not run them
            rows = rows.astype(object).map(escape_formula)
            write_text_atomic(rows.to_csv(index=False), quarantine)
        else:
            quarantine.unlink(missing_ok=True)
    write_json_atomic(report.to_dict(), settings.reports_dir / "ingest_report.json")
    tables = {r.kind: r.staged for r in results} | {CUSTOMER_KEYS: key_map}
    publish_staged(settings, tables, {MANIFEST: fingerprint})
