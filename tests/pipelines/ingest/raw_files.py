"""Dropping an export into a test data dir's raw/ folder."""

from __future__ import annotations

from pipelines.store.settings import Settings


def write(settings: Settings, kind: str, name: str, text: str, encoding: str = "utf-8") -> None:
    """`text` as `raw/<kind>/<name>` in `encoding` (cp1254 and cp1252 exports included)."""
    folder = settings.raw_dir / kind
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(text.encode(encoding))
