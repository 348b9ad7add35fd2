"""Where planted personal values occur: every file under some folders, read the way a person
(or a tool) could read it.

Parquet is decoded to text (its pages are compressed), xlsx and other zip files are read
member by member, Prefect's persisted task results are base64-decoded pickles, SQLite
databases (and their -wal files) are read as bytes, which is how SQLite stores text.
"""

from __future__ import annotations

import base64
import json
import re
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


def found_values(roots: Iterable[Path], patterns: dict[str, re.Pattern[bytes]]
                 ) -> dict[str, dict[str, set[str]]]:
    """Pattern name -> file (as `<root name>/<relative path>`) -> the values found in it."""
    found: dict[str, dict[str, set[str]]] = {name: {} for name in patterns}
    for root in roots:
        root = Path(root)
        for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
            data = readable_bytes(path)
            for name, pattern in patterns.items():
                values = {m.decode("utf-8", "replace") for m in pattern.findall(data)}
                if values:
                    found[name][f"{root.name}/{path.relative_to(root)}"] = values
    return found
