"""Where planted personal values occur: every file under some folders, read the way a person
(or a tool) could read it.

Parquet is decoded to text (its pages are compressed), xlsx and other zip files are read
member by member, Prefect's persisted task results are base64-decoded pickles, SQLite
databases (and their -wal files) are read as bytes, which is how their text is stored.
"""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd


def readable_bytes(path: Path) -> bytes:
    """What `path` holds, as bytes in which its text appears plainly."""
    data = path.read_bytes()
    if path.suffix == ".parquet":
        frame = pd.read_parquet(path)
        return data + frame.to_csv(index=False).encode("utf-8") + json.dumps(
            {str(k): str(v) for k, v in frame.attrs.items()}).encode("utf-8")
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(path) as archive:
            return data + b"".join(archive.read(name) for name in archive.namelist())
    if data[:1] == b"{" and b'"result"' in data[:4096]:  # a Prefect result record
        try:
            record = json.loads(data)
            return data + base64.b64decode(record.get("result") or "")
        except (ValueError, TypeError):
            return data
    return data


def planted_hits(roots: Iterable[Path], needles: Iterable[str],
                 skip: Iterable[Path] = ()) -> dict[str, set[str]]:
    """Needle -> the files (relative to their root) that hold it, outside `skip`."""
    skipped = [s.resolve() for s in skip]
    wanted = {n: n.encode("utf-8") for n in needles}
    hits: dict[str, set[str]] = {n: set() for n in wanted}
    for root in roots:
        for path in sorted(p for p in Path(root).rglob("*") if p.is_file()):
            if path.is_symlink() or any(path.resolve().is_relative_to(s) for s in skipped):
                continue
            data = readable_bytes(path)
            folded = data.lower()
            for needle, raw in wanted.items():
                if raw in data or raw.lower() in folded:
                    hits[needle].add(str(path.relative_to(root)))
    return hits
