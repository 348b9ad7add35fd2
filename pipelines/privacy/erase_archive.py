"""Erasing customers from what scoring and analytics archived: `scored/<as-of>/<run-id>/`,
`analytics/<as-of>/` and `reports/`.

An archived run stays what the team worked from, minus the erased customers: its tables and
the CSV lose their rows, the workbook and the markdown summary are rebuilt from what is left,
the tier changes in its metadata lose their ids. A file that cannot be rebuilt here and
names a customer (the HTML report, an analytics workbook) is removed and listed: `churn
analyze --as-of <date>` rebuilds analytics without them. Runs are sealed again afterwards.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.store import archive
from pipelines.store.atomic import write_json_atomic, write_parquet_atomic, write_text_atomic
from pipelines.store.settings import Settings

RUN_TABLES = ("risk_list.parquet", "shap_contributions.parquet")
CHANGE_LISTS = ("entered_top", "left_top", "new_critical", "new_lapsed")
# A value counts as named where it stands as a whole cell: between tags, quotes or separators
# (a bare number inside prose or JSON numbers is not a customer id).
_BEFORE = r"""(?<=[>"'\t,;|\n])"""
_AFTER = r"""(?=[<"'\t,;|\r\n])"""


@dataclass
class ArchiveErasure:
    touched: dict[str, int] = field(default_factory=dict)  # file -> rows removed
    rebuilt: list[str] = field(default_factory=list)  # files rebuilt from what is left
    removed: list[str] = field(default_factory=list)  # files removed


ERASED_REPORT = ("<!doctype html><html><head><meta charset='utf-8'><title>Report removed</title>"
                 "</head><body><p>This run's report named a customer who was erased with "
                 "<code>churn erase</code>, so it was removed; the run's risk list and workbook "
                 "were rebuilt without them (see <code>privacy/erasures.json</code>).</p>"
                 "</body></html>\n")


def mentions(path: Path, values: set[str]) -> bool:
    """Whether the file's text (a zip's members: xlsx) holds one of `values` as a whole cell."""
    if not values:
        return False
    data = path.read_bytes()
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(path) as packed:
            data = b"\n".join(packed.read(name) for name in packed.namelist())
    text = data.decode("utf-8", errors="replace").lower()
    pattern = "|".join(re.escape(v.lower()) for v in sorted(values, key=len, reverse=True))
    return re.search(f"{_BEFORE}(?:{pattern}){_AFTER}", text) is not None


def erase_from_archive(settings: Settings, ids: set[str], keys: set[str]) -> ArchiveErasure:
    result = ArchiveErasure()
    if not ids:
        return result
    for run_dir in archive.archived_runs(settings.scored_dir):
        _erase_run(settings, run_dir, ids, keys, result)
    # what kills left half-written (archive.recover_archive moved it aside): nothing to
    # rebuild there, so a file naming an erased customer goes
    for folder in sorted(p for p in (settings.scored_dir / archive.INCOMPLETE).glob("*/*")
                         if p.is_dir()):
        _remove_mentions(settings, folder, ids | keys, result, tables=True)
    for folder in sorted(p for p in settings.analytics_dir.glob("[!.]*") if p.is_dir()):
        _remove_mentions(settings, folder, ids | keys, result)
    if settings.reports_dir.is_dir():
        _remove_mentions(settings, settings.reports_dir, ids | keys, result, tables=True)
    return result


def _name(settings: Settings, path: Path) -> str:
    return str(path.relative_to(settings.data_dir))


def _erase_run(settings: Settings, run_dir: Path, ids: set[str], keys: set[str],
               result: ArchiveErasure) -> None:
    risk = pd.read_parquet(run_dir / "risk_list.parquet")
    hit = risk["customer_id"].astype(str).isin(ids)
    metadata_path = run_dir / "metadata.json"
    metadata = json.loads(metadata_path.read_text()) if metadata_path.exists() else {}
    changes = metadata.get("changes", {})
    in_changes = any(str(c) in ids for name in CHANGE_LISTS for c in changes.get(name, []))
    holdout = metadata.get("holdout") or {}
    in_holdout = any(str(c) in ids for c in holdout.get("held_out_ids", []))
    if not hit.any() and not in_changes and not in_holdout:
        return
    handled = {"metadata.json", "risk_list.csv", "risk_list.xlsx", "report.md", *RUN_TABLES}
    for name in RUN_TABLES:
        path = run_dir / name
        if path.exists():
            frame = pd.read_parquet(path)
            rows = frame["customer_id"].astype(str).isin(ids) if "customer_id" in frame \
                else pd.Series(False, index=frame.index)
            if rows.any():
                kept = frame.loc[~rows]
                kept.attrs = frame.attrs
                write_parquet_atomic(kept, path)
                result.touched[_name(settings, path)] = int(rows.sum())
    risk = risk.loc[~hit]
    if metadata:
        for name in CHANGE_LISTS:
            if name in changes:
                changes[name] = [c for c in changes[name] if str(c) not in ids]
        if "held_out_ids" in holdout:  # the loop's record of whom this list held out
            holdout["held_out_ids"] = [c for c in holdout["held_out_ids"] if str(c) not in ids]
        metadata["customers_scored"] = len(risk)
        write_json_atomic(metadata, metadata_path)
    csv_path = run_dir / "risk_list.csv"
    if csv_path.exists():
        result.touched[_name(settings, csv_path)] = _erase_csv_rows(csv_path, ids)
    _rebuild(settings, run_dir, risk, metadata, result)
    for path in sorted(run_dir.iterdir()):
        if path.is_file() and path.name not in handled and mentions(path, ids | keys):
            path.unlink()
            result.removed.append(_name(settings, path))
    if not (run_dir / "report.html").exists():
        # a run folder without its report reads as one a kill left half-written
        # (archive.is_complete_run): a page in its place says what happened to it
        write_text_atomic(ERASED_REPORT, run_dir / "report.html")
    archive.seal(run_dir)


def _erase_csv_rows(path: Path, ids: set[str]) -> int:
    """The risk list CSV without the rows of `ids`, in its own delimiter and quoting (its
    second column is the customer id, a leading apostrophe neutralising a formula)."""
    text = path.read_text(encoding="utf-8-sig")
    header = text.splitlines()[0] if text else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    kept = [rows[0]] + [r for r in rows[1:] if len(r) < 2 or r[1].removeprefix("'") not in ids]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(kept)
    write_text_atomic(out.getvalue(), path, encoding="utf-8-sig")
    return len(rows) - len(kept)


def _rebuild(settings: Settings, run_dir: Path, risk: pd.DataFrame, metadata: dict,
             result: ArchiveErasure) -> None:
    """The workbook and the markdown summary from the list that is left; a file that cannot
    be rebuilt (an archive from an older release) is removed instead."""
    from models.tiers import TierPolicy
    from pipelines.deliver.risk_list import risk_list_workbook
    from pipelines.deliver.scoring_run import workbook_metadata
    from pipelines.deliver.summary import summary_markdown

    for name in ("risk_list.xlsx", "report.md"):
        path = run_dir / name
        if not path.exists():
            continue
        try:
            if name == "report.md":
                write_text_atomic(summary_markdown(risk, metadata), path)
            else:
                policy = TierPolicy.model_validate(metadata["tier_policy"])
                temp = path.with_name(f".{name}.rebuilt")
                risk_list_workbook(risk, workbook_metadata(metadata, len(risk)), policy.names,
                                   metadata["lang"], temp, lapsed=policy.lapsed_tier)
                temp.replace(path)
            result.rebuilt.append(_name(settings, path))
        except (KeyError, ValueError, TypeError, AttributeError):
            path.unlink()
            result.removed.append(_name(settings, path))


def _remove_mentions(settings: Settings, folder: Path, values: set[str],
                     result: ArchiveErasure, tables: bool = False) -> None:
    """Files in `folder` that name a customer: parquet tables (with `tables`) lose the rows,
    anything else is removed."""
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        if tables and path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            if "customer_id" in frame:
                rows = frame["customer_id"].astype(str).isin(values)
                if rows.any():
                    write_parquet_atomic(frame.loc[~rows], path)
                    result.touched[_name(settings, path)] = int(rows.sum())
                continue
        if mentions(path, values):
            path.unlink()
            result.removed.append(_name(settings, path))
