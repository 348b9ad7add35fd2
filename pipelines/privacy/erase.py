"""`churn erase CUSTOMER_ID…`: a customer out of every store derived from raw/, on record.

Raw exports are the business's own records and are never changed; everything ingest and the
flows derived from them is: the staged tables (every kept version, identity keys included),
feature tables, model-input snapshots, the quarantine, archived risk lists, reports and
analytics (`erase_archive`). The erasure is then recorded (`erasure_log`: a keyed hash, the
time, what was touched) so that ingest drops the customer's rows from any raw file staged
again, and the registered model versions trained on data that held the customer are listed
for retraining. A given value may be a customer id or one of its keys (e-mail, phone, a
system's id) as `staged/customer_keys.parquet` links them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from models.privacy import keyed_hash
from pipelines.ingest.keys import normalised_phones
from pipelines.privacy import erase_archive
from pipelines.privacy.erasure_log import erasure_key, record_erasures
from pipelines.store.atomic import write_parquet_atomic, write_text_atomic
from pipelines.store.settings import Settings
from pipelines.store.staged import staged_versions_dir

CUSTOMER_KEYS_FILE = "customer_keys.parquet"
LOCK_WAIT_SECONDS = 600.0


@dataclass
class Erasure:
    """What one `churn erase` did."""

    customers: list[str]  # the canonical ids erased (shown to the user, never stored)
    not_found: list[str] = field(default_factory=list)  # given, found in no store (recorded)
    touched: dict[str, int] = field(default_factory=dict)  # store -> rows removed
    rebuilt: list[str] = field(default_factory=list)  # files rebuilt without them
    removed: list[str] = field(default_factory=list)  # files removed (could not be edited)
    models_to_retrain: list[str] = field(default_factory=list)  # registry versions
    # Prefect artifacts deleted (they mentioned a customer), and why the Prefect history
    # could not be cleaned ("" when it was)
    prefect_artifacts: list[str] = field(default_factory=list)
    prefect_not_cleaned: str = ""
    log: str = ""


class EraseError(RuntimeError):
    """The erasure cannot start (another ingest holds the data dir)."""


def erase_customers(settings: Settings, given: list[str], now: dt.datetime | None = None,
                    wait_seconds: float = LOCK_WAIT_SECONDS) -> Erasure:
    """Erase the customers `given` names from every derived store and record it; holds the
    ingest lock meanwhile, so no ingest publishes a staged version that still has them."""
    from pipelines.ingest.run import INGEST_LOCK  # one lock for everything that edits staged/

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(settings.data_dir / INGEST_LOCK)
    try:
        lock.acquire(timeout=wait_seconds)
    except Timeout:
        raise EraseError(f"an ingest still holds {settings.data_dir / INGEST_LOCK} after "
                         f"{wait_seconds:.0f} s; run `churn erase` again when it is done") from None
    try:
        return _erase(settings, given, now or dt.datetime.now(dt.UTC))
    finally:
        lock.release()


def _erase(settings: Settings, given: list[str], now: dt.datetime) -> Erasure:
    ids, keys, not_found = _targets(settings, [g.strip() for g in given if g.strip()])
    erasure = Erasure(customers=sorted(ids), not_found=not_found)
    touched = erasure.touched
    for kind, rows in _erase_staged(settings, ids).items():
        touched[f"staged/{kind}"] = rows
    for folder in (settings.features_dir, settings.model_input_dir):
        for path, rows in _erase_tables(folder, ids).items():
            touched[f"{folder.name}/{path.name}"] = rows
    trained_on = [p.name for p in settings.model_input_dir.glob("*.parquet")
                  if touched.get(f"{settings.model_input_dir.name}/{p.name}")]
    for path, rows in _erase_quarantine(settings.quarantine_dir, ids, keys).items():
        touched[f"quarantine/{path.name}"] = rows
    archived = erase_archive.erase_from_archive(settings, ids, keys)
    touched.update(archived.touched)
    erasure.removed, erasure.rebuilt = archived.removed, archived.rebuilt
    erasure.models_to_retrain = _versions_trained_on(settings, trained_on)
    erasure.prefect_artifacts, erasure.prefect_not_cleaned = _erase_prefect_artifacts(
        settings, ids | keys | set(not_found))
    touched = {k: v for k, v in touched.items() if v}
    erasure.touched = touched
    key = erasure_key(settings, create=True)
    assert key is not None  # created above when missing
    stamp = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    records = [{"id_hash": keyed_hash(customer, key), "erased_at": stamp,
                "touched": touched, "rebuilt": erasure.rebuilt, "removed": erasure.removed,
                "models_to_retrain": erasure.models_to_retrain,
                "prefect_artifacts": erasure.prefect_artifacts,
                "prefect_history_cleaned": not erasure.prefect_not_cleaned}
               for customer in sorted(ids | set(not_found))]
    erasure.log = str(record_erasures(settings, records))
    return erasure


def _targets(settings: Settings, given: list[str]) -> tuple[set[str], set[str], list[str]]:
    """(canonical ids, every key of theirs, values found nowhere): a value is a canonical id
    or a key the identity map links to one; one found nowhere is still erased by that name
    (a later ingest may bring it)."""
    path = settings.staged_dir / CUSTOMER_KEYS_FILE
    key_map = pd.read_parquet(path) if path.exists() else pd.DataFrame(
        columns=["key", "customer_id"])
    known_ids = set(key_map["customer_id"].dropna().astype(str))
    by_key = dict(zip(key_map["key"].astype(str).str.lower(),
                      key_map["customer_id"].astype(object), strict=True))
    ids, not_found = set(), []
    phones = normalised_phones(pd.Series(given, dtype=object), None)  # +31 6 … as staged
    for value, phone in zip(given, phones, strict=True):
        linked = by_key.get(value.lower())
        if not isinstance(linked, str) and isinstance(phone, str):
            linked = by_key.get(phone)
        if value in known_ids:
            ids.add(value)
        elif isinstance(linked, str):
            ids.add(linked)
        elif value in _staged_customer_ids(settings):
            ids.add(value)
        else:
            not_found.append(value)
    keys = set(key_map.loc[key_map["customer_id"].isin(ids), "key"].astype(str)) | ids
    return ids, keys, not_found


def _staged_customer_ids(settings: Settings) -> set[str]:
    path = settings.staged_dir / "purchases.parquet"
    if not path.exists():
        return set()
    return set(pd.read_parquet(path, columns=["customer_id"])["customer_id"].astype(str))


def _erase_staged(settings: Settings, ids: set[str]) -> dict[str, int]:
    """Every kept staged version without the customers; rows removed per table of the
    current one (the previous version is kept for a moment by each ingest, so it too)."""
    current = settings.staged_dir.resolve()
    counts: dict[str, int] = {}
    versions = staged_versions_dir(settings)
    folders = sorted(p for p in versions.iterdir() if p.is_dir()) if versions.is_dir() else []
    if settings.staged_dir.is_dir() and not settings.staged_dir.is_symlink():
        folders.append(settings.staged_dir)  # a data dir from before versioning
    for folder in folders:
        for path, rows in _erase_tables(folder, ids).items():
            if folder.resolve() == current:
                counts[path.stem] = rows
    return counts


def _erase_tables(folder: Path, ids: set[str]) -> dict[Path, int]:
    """Each parquet table in `folder` with a `customer_id` column, rewritten without `ids`
    (only where it had them); rows removed per file."""
    removed: dict[Path, int] = {}
    if not folder.is_dir() or not ids:
        return removed
    for path in sorted(folder.glob("*.parquet")):
        frame = pd.read_parquet(path)
        if "customer_id" not in frame:
            continue
        hit = frame["customer_id"].astype(str).isin(ids)
        if hit.any():
            kept = frame.loc[~hit]
            kept.attrs = frame.attrs
            write_parquet_atomic(kept, path, by_shard=True)  # still readable by shard
            removed[path] = int(hit.sum())
    return removed


def _erase_quarantine(folder: Path, ids: set[str], keys: set[str]) -> dict[Path, int]:
    """Quarantined rows (raw cells as text) whose customer id or any cell is one of the
    customers' keys; e-mails compared case-folded."""
    removed: dict[Path, int] = {}
    if not folder.is_dir():
        return removed
    folded = {k.lower() for k in keys | ids}
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        cells = frame.drop(columns=["reason"], errors="ignore").apply(
            lambda column: column.str.strip().str.lstrip("'").str.lower().isin(folded))
        hit = cells.any(axis=1)
        if hit.any():
            write_text_atomic(frame.loc[~hit].to_csv(index=False), path)
            removed[path] = int(hit.sum())
    return removed


def _erase_prefect_artifacts(settings: Settings, values: set[str]) -> tuple[list[str], str]:
    """(Prefect artifacts deleted because they mention one of `values` or its pseudonym, why
    none could be: "" when the API answered). Needs the pseudonym key (`CHURN_PSEUDONYM_KEY`)
    to find pseudonymised ids; an API that cannot be reached leaves the rest of the erasure
    done."""
    from models.privacy import pseudonym
    from pipelines.operate.prefect_history import erase_artifacts

    key = settings.pseudonym_key or _pseudonym_key_if_set()
    names = values | ({pseudonym(v, key) for v in values} if key else set())
    try:
        return erase_artifacts(names, settings), ""
    except Exception as error:  # noqa: BLE001 — any client/transport error means "not reached"
        return [], f"{type(error).__name__}: {error}".strip().rstrip(":")


def _pseudonym_key_if_set() -> bytes | None:
    from pipelines.store.settings import PseudonymKeyError, pseudonym_key

    try:
        return pseudonym_key()
    except PseudonymKeyError:
        return None


def _versions_trained_on(settings: Settings, snapshots: list[str]) -> list[str]:
    """Registered versions whose training run used one of the model-input `snapshots` that
    held an erased customer (the run records the snapshot's file name)."""
    no_store = settings.uses_embedded_mlflow and not (settings.data_dir / "mlflow").exists()
    if not snapshots or no_store:
        return []
    from mlflow.tracking import MlflowClient

    from pipelines.tracking.connect import use_tracking_store

    use_tracking_store(settings)
    client = MlflowClient()
    versions = []
    for version in client.search_model_versions(f"name='{settings.registered_model_name}'"):
        if not version.run_id:
            continue
        try:
            used = client.get_run(version.run_id).data.params.get("model_input_file")
        except Exception:  # a version whose run was deleted: nothing to say about it
            continue
        if used in snapshots:
            versions.append(str(version.version))
    return sorted(versions, key=int)
