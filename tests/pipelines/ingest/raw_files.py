"""Dropping an export into a test data dir's raw/ folder."""

from __future__ import annotations

from pipelines.store.settings import Settings


def write(settings: Settings, kind: str, name: str, text: str, encoding: str = "utf-8") -> None:
    """`text` as `raw/<kind>/<name>` in `encoding` (cp1254 and cp1252 exports included)."""
    folder = settings.raw_dir / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))


def cells(values) -> list:
    """A staged column's (or frame's rows') values with every missing cell as None: staged text
    is held as Arrow strings, whose missing value is NaN, as the staged parquet reads back."""
    import pandas as pd

    if isinstance(values, pd.DataFrame):
        return [cells(row) for _, row in values.iterrows()]
    return [None if pd.isna(v) else v for v in values]
