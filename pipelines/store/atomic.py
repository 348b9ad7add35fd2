"""Writing files so that readers never see half of one: a temp file beside the target, then
one rename.

The temp file is dot-named and carries its writer's owner token (`leftovers`), so one left by
a killed process is removed by the next run (`leftovers.remove_dead_temporaries`)."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from pipelines.store.leftovers import TEMP_SUFFIX, owner_token


def _atomic_target(path: Path) -> tuple[int, Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.{owner_token()}.", suffix=TEMP_SUFFIX,
                                    dir=path.parent)
    return handle, Path(temp)


def write_parquet_atomic(frame: pd.DataFrame, path: Path, slice_rows: int | None = None,
                         *, by_shard: bool = False) -> Path:
    """Write to a temp file beside `path`, then rename: readers never see half a file.

    `slice_rows`: convert and write that many rows at a time (one row group each), so a large
    frame is never held a second time as one Arrow table; `frame.attrs` are kept as pandas
    keeps them. `by_shard`: in customer-shard order (`pipelines.store.partitioned`)."""
    handle, temp = _atomic_target(path)
    os.close(handle)
    try:
        if by_shard:
            from pipelines.store.partitioned import write_partitioned

            write_partitioned(frame, temp)
        elif slice_rows:
            _write_in_slices(frame, temp, slice_rows)
        else:
            frame.to_parquet(temp, index=False)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def _write_in_slices(frame: pd.DataFrame, target: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.Schema.from_pandas(frame, preserve_index=False)
    if frame.attrs:  # where pandas' own writer puts them, so `read_parquet` restores them
        schema = schema.with_metadata({**(schema.metadata or {}),
                                       b"PANDAS_ATTRS": json.dumps(frame.attrs).encode()})
    with pq.ParquetWriter(target, schema) as writer:
        for start in range(0, len(frame), rows):
            writer.write_table(pa.Table.from_pandas(frame.iloc[start:start + rows],
                                                    schema=schema, preserve_index=False))


def write_text_atomic(text: str, path: Path, encoding: str = "utf-8") -> Path:
    return stream_text_atomic(lambda out: out.write(text), path, encoding)


def stream_text_atomic(write: Callable[[TextIO], object], path: Path,
                       encoding: str = "utf-8") -> Path:
    """`write(handle)` into a temp file beside `path` (text, `encoding`, newlines as given),
    then rename: for text written piece by piece, never held whole."""
    handle, temp = _atomic_target(path)
    try:
        with os.fdopen(handle, "w", encoding=encoding, newline="") as out:
            write(out)
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
