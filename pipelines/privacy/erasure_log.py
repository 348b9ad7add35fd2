"""The record of erased customers: `<data-dir>/privacy/erasures.json`.

Each erasure is kept as a keyed hash of the customer id (never the id), its time, what was
touched and which models were trained on data that held the customer. Ingest drops the rows
of every customer in the log, so re-staging old raw files does not bring them back.

The hashes are keyed with `CHURN_ERASURE_KEY` when set, else with a random key that the first
erasure writes to `<data-dir>/privacy/erasure.key` (owner-only). Keep the key the same for a
data dir: with another key, the log no longer recognises anyone. With the key beside the log,
someone who can read the data dir could test guessed ids against it; set CHURN_ERASURE_KEY
outside the data dir where that matters.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from pathlib import Path
from typing import Any

import pandas as pd

from models.privacy import keyed_hash
from pipelines.store.atomic import write_json_atomic, write_text_atomic
from pipelines.store.settings import Settings

PRIVACY_DIR = "privacy"
ERASURE_LOG = "erasures.json"
ERASURE_KEY_FILE = "erasure.key"
KEY_VARIABLE = "CHURN_ERASURE_KEY"


def erasure_log_path(settings: Settings) -> Path:
    return settings.data_dir / PRIVACY_DIR / ERASURE_LOG


def erasure_key(settings: Settings, create: bool = False) -> bytes | None:
    """The key the log's hashes use: `CHURN_ERASURE_KEY`, else the data dir's key file
    (written, owner-only, when `create`); None when there is none yet."""
    if os.environ.get(KEY_VARIABLE):
        return os.environ[KEY_VARIABLE].encode("utf-8")
    path = settings.data_dir / PRIVACY_DIR / ERASURE_KEY_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip().encode("utf-8")
    if not create:
        return None
    write_text_atomic(secrets.token_hex(32) + "\n", path)
    os.chmod(path, 0o600)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def erasure_records(settings: Settings) -> list[dict[str, Any]]:
    """Every erasure recorded so far (oldest first); [] when none."""
    path = erasure_log_path(settings)
    if not path.exists():
        return []
    records = json.loads(path.read_text(encoding="utf-8"))
    return list(records.get("erasures", []))


def record_erasures(settings: Settings, records: list[dict[str, Any]]) -> Path:
    """Append `records` to the log (written whole, atomically)."""
    return write_json_atomic({"erasures": erasure_records(settings) + records},
                             erasure_log_path(settings))


def erased_hashes(settings: Settings) -> frozenset[str]:
    return frozenset(r["id_hash"] for r in erasure_records(settings))


def erased_mask(customer_ids: pd.Series, hashes: frozenset[str], key: bytes | None) -> pd.Series:
    """True for each row whose customer id is in the log (each distinct id hashed once)."""
    if not hashes or key is None:
        return pd.Series(False, index=customer_ids.index)
    distinct = pd.unique(customer_ids.dropna().astype(str))
    erased = {v for v in distinct if keyed_hash(v, key) in hashes}
    return customer_ids.astype(object).map(lambda v: pd.notna(v) and str(v) in erased) \
        .astype(bool)


def log_digest(settings: Settings) -> str:
    """A fingerprint of the log for ingest's manifest: a new erasure restages the data."""
    hashes = sorted(erased_hashes(settings))
    return f"{len(hashes)}:" + hashlib.sha256(",".join(hashes).encode()).hexdigest()
