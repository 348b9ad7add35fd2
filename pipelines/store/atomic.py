"""Writing files so that readers never see half of one: a temp file beside the target, then
one rename.

The temp file is dot-named and carries its writer's owner token (`leftovers`), so one left by
a killed process is removed by the next run (`leftovers.remove_dead_temporaries`)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from pipelines.store.leftovers import TEMP_SUFFIX, owner_token


def _atomic_target(path: Path) -> tuple[int, Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.{owner_token()}.", suffix=TEMP_SUFFIX,
                                    dir=path.parent)
    return handle, Path(temp)


def write_parquet_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write to a temp file beside `path`, then rename: readers never see half a file."""
    handle, temp = _atomic_target(path)
    os.close(handle)
    try:
        frame.to_parquet(temp, index=False)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def write_text_atomic(text: str, path: Path, encoding: str = "utf-8") -> Path:
    handle, temp = _atomic_target(path)
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as out:
            out.write(text)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def write_json_atomic(payload: Any, path: Path) -> Path:
    return write_text_atomic(json.dumps(payload, indent=2, default=str) + "\n", path)


def write_bytes_atomic(data: bytes, path: Path) -> Path:
    handle, temp = _atomic_target(path)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path
