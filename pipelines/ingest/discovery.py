"""Which raw files an ingest reads, and which it refuses by name without opening them.

Under `raw/<kind>/` every entry is considered; straight under `raw/` only entries named like
exports. A link out of the data dir is never followed, a pipe never waited on, a folder, an
`.xls` or a `.zip` is named with what to do. Hidden files and Excel's lock files are left alone.
"""

from __future__ import annotations

import os
from pathlib import Path

from pipelines.ingest.readers import READABLE_SUFFIXES
from pipelines.store.staged import STAGED_KINDS

IGNORED_PREFIXES = (".", "~$")  # hidden files, Excel's lock files beside an open workbook
NOT_READ = {
    ".xls": "is an old Excel (.xls) workbook, which is not read; save it as .xlsx or CSV",
    ".zip": "is a .zip archive, which is not unpacked; unpack it into raw/<kind>/",
}


def display_name(name: str) -> str:
    """A file name as it can be printed: bytes that are not UTF-8 shown as `�`, controls as `?`."""
    shown = os.fsencode(name).decode("utf-8", "replace")
    return "".join("?" if not ch.isprintable() else ch for ch in shown)


def _refusal(path: Path, roots: tuple[Path, ...]) -> str | None:
    """Why a raw entry is refused by name (None: it is read). Nothing here opens the file:
    a link out of the data dir is never followed, a pipe never waited on."""
    try:
        path.name.encode("utf-8")
    except UnicodeEncodeError:
        return "the file name is not valid UTF-8 text; rename the file (ş, ü, é are fine)"
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return "is a broken link (its target does not exist); copy the export itself into raw/"
    if not _inside(target, roots):
        return ("is a link to a file outside the data dir, which is never read; copy the "
                "export itself into raw/")
    if path.is_dir():
        return ("is a folder, not a file (a Spark or Hadoop export?); move the files inside "
                "it into raw/<kind>/ and remove the folder")
    if not path.is_file():
        return "is not a regular file (a pipe or a device); put the export itself into raw/"
    lowered = path.name.lower()
    for suffix, why in NOT_READ.items():
        if lowered.endswith(suffix):
            return why
    if not lowered.endswith(READABLE_SUFFIXES):
        return ("is not a file type ingest reads (CSV, TSV or TXT, gzipped or not, xlsx, "
                "parquet); export it as one of those or move it out of raw/")
    return None


def _scan(folder: Path, prefix: str, roots: tuple[Path, ...], refused: list[str] | None,
          only_named_like_exports: bool = False) -> list[Path]:
    """The readable files of one folder in name order; the refused ones, by name, appended
    to `refused`. Hidden files and Excel lock files are left alone."""
    found = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(IGNORED_PREFIXES):
            continue
        if only_named_like_exports and not path.name.lower().endswith(
                (*READABLE_SUFFIXES, *NOT_READ)):
            continue
        why = _refusal(path, roots)
        if why is None:
            found.append(path)
        elif refused is not None:
            refused.append(f"{prefix}{display_name(path.name)}: {why}")
    return found


def _roots(raw_dir: Path) -> tuple[Path, ...]:
    return (raw_dir.parent.resolve(), raw_dir.resolve())


def _inside(target: Path, roots: tuple[Path, ...]) -> bool:
    """Whether a resolved path lies in the data dir (or the folder `raw/` links to)."""
    return any(target.is_relative_to(root) for root in roots)


def raw_files(raw_dir: Path, kind: str, refused: list[str] | None = None) -> list[Path]:
    folder = raw_dir / kind
    if not folder.is_dir():
        return []
    roots = _roots(raw_dir)
    if not _inside(folder.resolve(), roots):
        if refused is not None:
            refused.append(f"{kind}: the folder raw/{kind} is a link to outside the data dir, "
                           "which is never read; copy the exports themselves into it")
        return []
    return _scan(folder, f"{kind}/", roots, refused)


def all_raw_files(raw_dir: Path, refused: list[str] | None = None
                   ) -> list[tuple[Path, str | None]]:
    """Every readable raw file, with its kind folder; what cannot be read is named in
    `refused` (straight under raw/, only entries named like exports: other folders there
    are left alone)."""
    found: list[tuple[Path, str | None]] = []
    if raw_dir.is_dir():
        found = [(p, None) for p in _scan(raw_dir, "", _roots(raw_dir), refused, True)]
    in_folders: list[tuple[Path, str | None]] = [
        (p, kind) for kind in STAGED_KINDS for p in raw_files(raw_dir, kind, refused)]
    return in_folders + found
