"""Suggesting `sources.yaml` mappings: the closest headers for a missing column, and
`churn ingest --write-mapping`, which writes `<data-dir>/sources.yaml.suggested` (never the
user's `sources.yaml`) with the detected and suggested mapping of every raw file, commented,
for the user to confirm and rename.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from features.contracts import REQUIRED_COLUMNS
from pipelines.ingest.headers import closest_headers, header_notes
from pipelines.ingest.staging import StagingError
from pipelines.store.atomic import write_text_atomic
from pipelines.store.settings import Settings

SUGGESTED_FILE = "sources.yaml.suggested"


class MissingColumnsError(StagingError):
    """Required columns not found; carries what was found, for `--write-mapping`."""

    def __init__(self, message: str, kind: str, headers: list[str], mapping: dict[str, str],
                 missing: list[str]):
        super().__init__(message)
        self.kind, self.headers, self.mapping, self.missing = kind, headers, mapping, missing


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML string


def closest_for_missing(headers: list[str], missing: list[str],
                        mapping: dict[str, str]) -> dict[str, list[str]]:
    """Missing column -> the file's unmapped headers nearest to its spellings, best first."""
    free = [h for h in headers if h not in mapping]
    return {column: closest_headers(free, column) for column in missing}


def suggested_columns(closest: dict[str, list[str]], placeholder: bool = False
                      ) -> dict[str, str]:
    """Header -> missing column, each header used once (the closest not yet taken); with
    `placeholder`, a column without candidates gets `<your header for column>`."""
    columns: dict[str, str] = {}
    for column, found in closest.items():
        pick = next((h for h in found if h not in columns), None)
        if pick or placeholder:
            columns[pick or f"<your header for {column}>"] = column
    return columns


def rule_snippet(pattern: str, columns: dict[str, str], comments: dict[str, str] | None = None,
                 extra: dict[str, str] | None = None, indent: str = "") -> list[str]:
    """One `files:` entry of sources.yaml as lines (header -> column, commented)."""
    lines = [f"{indent}- pattern: {_quoted(pattern)}"]
    for key, value in (extra or {}).items():
        lines.append(f"{indent}  {key}: {value}")
    if columns:
        lines.append(f"{indent}  columns:")
        width = max(len(_quoted(h)) for h in columns)
        for header, column in columns.items():
            note = (comments or {}).get(header)
            lines.append(f"{indent}    {_quoted(header):<{width}}: {column}"
                         + (f"  # {note}" if note else ""))
    return lines


def missing_columns_help(relative: str, kind: str, headers: list[str], mapping: dict[str, str],
                         missing: list[str]) -> str:
    """The closest candidates per missing column and the sources.yaml entry that maps them."""
    closest = closest_for_missing(headers, missing, mapping)
    parts = [f"{column}: {', '.join(found) if found else 'no close header'}"
             for column, found in closest.items()]
    columns = suggested_columns(closest, placeholder=True)
    comments = {h: "or " + ", ".join(f for f in closest[c] if f != h)
                for h, c in columns.items() if len(closest[c]) > 1}
    snippet = "\n".join(["files:"] + rule_snippet(relative, columns, comments, indent="  "))
    return (f"closest headers: {'; '.join(parts)}; if they are, map them in sources.yaml "
            f"(required for {kind}: {', '.join(REQUIRED_COLUMNS[kind])}):\n{snippet}")


def suggested_mapping_text(entries: list[dict]) -> str:
    """The text of sources.yaml.suggested: one commented entry per file.

    Each entry: `file`, `kind`, `preset`, `columns` (header -> column, detected),
    `suggested` (header -> column, closest candidates for missing columns), `notes`
    (header -> units), `problem` (why the file does not stage as it is, or None).
    """
    lines = [f"# Suggested by `churn ingest --write-mapping` on "
             f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
             "# Check every mapping, fix what is wrong, then copy the entries you need into",
             "# sources.yaml (this file is never read). Detected mappings need no entry; the",
             "# ones marked SUGGESTED are guesses for required columns that were not found.",
             "files:"]
    for entry in entries:
        lines.append(f"  # {entry['file']}: {entry['kind'] or 'kind unknown'}"
                     + (f", preset {entry['preset']}" if entry.get("preset") else ""))
        if entry.get("problem"):
            lines.extend(f"  #   {line}" for line in str(entry["problem"]).splitlines()[:1])
        comments = {h: "detected" + (f" ({', '.join(entry['notes'][h])})"
                                     if entry.get("notes", {}).get(h) else "")
                    for h in entry["columns"]}
        comments |= {h: "SUGGESTED: confirm or rename" for h in entry.get("suggested", {})}
        extra = {"kind": entry["kind"]} if entry.get("kind") else {}
        if entry.get("preset"):  # the preset maps its own columns: shown, not pinned
            extra["preset"] = entry["preset"]
            lines.extend(rule_snippet(entry["file"], {}, extra=extra, indent="  "))
            lines.extend(f"  #   {_quoted(h)} -> {c} ({comments[h]})"
                         for h, c in entry["columns"].items())
            continue
        columns = dict(entry["columns"]) | entry.get("suggested", {})
        lines.extend(rule_snippet(entry["file"], columns, comments, extra, indent="  "))
    return "\n".join(lines) + "\n"


def write_suggested_mapping(settings: Settings) -> Path:
    """Read every raw file's headers as `churn ingest` would and write
    `<data-dir>/sources.yaml.suggested`; stages nothing, never touches sources.yaml."""
    import pandas as pd

    from pipelines.ingest import run  # run imports this module: imported late
    from pipelines.ingest.discovery import all_raw_files
    from pipelines.ingest.sources_file import load_rules, rule_for

    rules = load_rules(settings.data_dir / run.MAPPING_FILE)
    now = pd.Timestamp.now(tz="UTC")
    entries: list[dict[str, Any]] = []
    for path, kind in all_raw_files(settings.raw_dir):
        label = f"{kind}/{path.name}" if kind else path.name
        entry: dict[str, Any] = {"file": label, "kind": kind, "preset": None, "columns": {},
                                 "suggested": {}, "notes": {}, "problem": None}
        try:
            result = run.read_export(path, kind, rule_for(rules, label), settings.timezone, now)
        except MissingColumnsError as error:
            closest = closest_for_missing(error.headers, error.missing, error.mapping)
            entry |= {"kind": error.kind, "columns": error.mapping,
                      "problem": f"missing required column(s) {', '.join(error.missing)}",
                      "suggested": suggested_columns(closest),
                      "notes": {h: header_notes(h) for h in error.mapping if header_notes(h)}}
        except StagingError as error:
            entry["problem"] = str(error)
        else:
            reading = result.reading
            entry |= {"kind": reading.kind, "preset": reading.preset,
                      "columns": reading.columns, "notes": reading.notes}
        entries.append(entry)
    target = settings.data_dir / SUGGESTED_FILE
    return write_text_atomic(suggested_mapping_text(entries), target)
