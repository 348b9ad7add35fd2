"""Reading and writing the data directory's tables, atomically.

Staged data is published as a whole: one ingest writes every staged table and its manifest
into a fresh folder `<data-dir>/staged.versions/<run-id>/`, then repoints the symlink
`<data-dir>/staged` at it with one rename. Readers (`staged_path`, `load_source_tables`,
`Settings.staged_dir`) follow the link, so they see either the whole previous set or the whole
new one, never new purchases beside old complaints. The previous version is kept until the
swap succeeds; older versions (and folders left by killed runs) are pruned after it. A
`staged/` that is still a real directory (from before versioning) is adopted as a version.
One ingest writes at a time (the nightly flow); concurrent ingests are not coordinated.

Each table is stored in customer-shard order (`pipelines.store.partitioned`): read whole it is
an ordinary parquet table, and `load_shard_tables` reads one shard of any count from the row
groups that hold it, so a stage (or a Dask worker) can work on a shard without the rest.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from features.shards import sample_key_limit
from features.sources import EVENT_TIMESTAMPS, SourceTables
from pipelines.store.leftovers import owner_token
from pipelines.store.partitioned import read_key_range, read_shard, write_partitioned
from pipelines.store.settings import Settings

# `actions` (the team's retention log) is staged like the rest but is no source of features:
# `load_source_tables` leaves it out, `load_staged_actions` reads it for the track record.
STAGED_KINDS = ("purchases", "complaints", "interactions", "customers", "subscriptions",
                "actions")
SOURCE_KINDS = STAGED_KINDS[:-1]  # the kinds a SourceTables bundle holds
STAGED_VERSIONS = "staged.versions"


def staged_path(settings: Settings, kind: str) -> Path:
    return settings.staged_dir / f"{kind}.parquet"


def _read_staged(folder: Path, columns: dict[str, tuple[str, ...]] | None = None
                 ) -> dict[str, pd.DataFrame | None]:
    """Each staged table in `folder` that exists (only `columns[kind]` where given);
    purchases required."""
    tables: dict[str, pd.DataFrame | None] = {}
    for kind in SOURCE_KINDS:
        path = folder / f"{kind}.parquet"
        wanted = None if columns is None else list(columns.get(kind, ()))
        tables[kind] = pd.read_parquet(path, columns=wanted) if path.exists() else None
    if tables["purchases"] is None:
        raise FileNotFoundError(
            f"no staged purchases at {folder / 'purchases.parquet'}; "
            "run `churn ingest` first (or `churn demo` for sample data)"
        )
    return tables


def load_source_tables(settings: Settings, folder: Path | None = None) -> SourceTables:
    """The staged tables that exist, checked against their contracts once, here; those of
    the version in `folder` (a `staged_version_dir`) where given."""
    return _bundle(_read_staged(settings.staged_dir if folder is None else folder)
                   ).validated()


def staged_version_dir(settings: Settings) -> Path:
    """The folder of the staged version `staged/` points at now: a reader that opens several
    shards at different moments (Dask workers) reads this, not the link, so an ingest that
    publishes meanwhile cannot mix two versions."""
    return settings.staged_dir.resolve()


def load_shard_tables(folder: Path, shard: int, shards: int) -> SourceTables:
    """Shard `shard` of `shards` of every staged table in `folder` (a `staged_version_dir`),
    checked against the contracts: the same rows as cutting `load_source_tables`' tables by
    `features.shards.customer_shards`, read from the row groups that hold them."""
    frames: dict[str, pd.DataFrame | None] = {}
    for kind in SOURCE_KINDS:
        path = folder / f"{kind}.parquet"
        frames[kind] = read_shard(path, shard, shards) if path.exists() else None
    if frames["purchases"] is None:
        raise FileNotFoundError(f"no staged purchases at {folder / 'purchases.parquet'}")
    return _bundle(frames).validated()


#: What training plans its sample with (`staged_overview`).
OVERVIEW_COLUMNS: dict[str, list[str] | None] = {
    "purchases": ["customer_id", "order_date"],
    "interactions": ["customer_id", "occurred_at", "type"]}


def staged_columns(folder: Path, wanted: dict[str, list[str] | None]) -> SourceTables:
    """Every staged table of `folder` with only the `wanted[kind]` columns it has (None: all
    of them; a kind not named: its customer ids), unchecked: for a pass that reads a few
    columns of every row (the ingest checked them), not the rest of the rows' bytes."""
    import pyarrow.parquet as pq

    frames: dict[str, pd.DataFrame | None] = {}
    for kind in SOURCE_KINDS:
        path = folder / f"{kind}.parquet"
        if not path.exists():
            frames[kind] = None
            continue
        columns = wanted.get(kind, ["customer_id"])
        if columns is not None:
            names = pq.ParquetFile(path).schema_arrow.names
            columns = [column for column in columns if column in names]
        frames[kind] = pd.read_parquet(path, columns=columns)
    if frames["purchases"] is None:
        raise FileNotFoundError(f"no staged purchases at {folder / 'purchases.parquet'}")
    return _bundle(frames)


def staged_overview(folder: Path) -> SourceTables:
    """What training plans its sample with, read from the staged version in `folder`
    without the rest of the rows' bytes: every table's customer ids, the purchases' dates and
    the interactions' times and types (the sample's rows are checked when they are read,
    `load_sampled_tables`)."""
    return staged_columns(folder, OVERVIEW_COLUMNS)


def load_sampled_tables(folder: Path, share: float) -> SourceTables:
    """Every staged table of `folder` for the customers of training's stable sample of
    `share` (`features.shards.in_key_sample`), checked: the rows `features.budget.
    sampled_tables` keeps of the whole tables, read from the row groups that hold the lowest
    keys alone (the tables are stored in shard order)."""
    if share >= 1.0:  # everyone: the tables as they are (`sampled_tables` keeps them whole)
        return _bundle(_read_staged(folder)).validated()
    limit = sample_key_limit(share)
    frames: dict[str, pd.DataFrame | None] = {}
    for kind in SOURCE_KINDS:
        path = folder / f"{kind}.parquet"
        frames[kind] = read_key_range(path, 0, limit) if path.exists() else None
    purchases, master = frames["purchases"], frames["customers"]
    if purchases is None:
        raise FileNotFoundError(f"no staged purchases at {folder / 'purchases.parquet'}")
    # as `sampled_tables`: only rows of customers who bought or are in the master
    known = pd.Index(purchases["customer_id"].unique())
    if master is not None:
        known = known.union(pd.Index(master["customer_id"].unique()))
    for kind in ("complaints", "interactions", "subscriptions"):
        frame = frames[kind]
        if frame is not None:
            frames[kind] = frame[frame["customer_id"].isin(known)].reset_index(drop=True)
    return _bundle(frames).validated()


def staged_customers(folder: Path) -> int:
    """How many distinct customers the staged version in `folder` holds (the customer
    master's, else the purchases'), counted by DuckDB over the file, which is not loaded."""
    import duckdb

    kind = "customers" if (folder / "customers.parquet").exists() else "purchases"
    with duckdb.connect() as connection:
        row = connection.execute("SELECT count(DISTINCT customer_id) FROM read_parquet(?)",
                                 [str(folder / f"{kind}.parquet")]).fetchone()
    return int(row[0]) if row else 0


def staged_fingerprint(folder: str) -> str | None:
    """What identifies the staged version in `folder` as seen from here: its tables' names
    and sizes and its manifest's digest; None where the folder is not there. Two processes
    that compute the same fingerprint read the same tables (a Dask worker on a shared
    filesystem, or not)."""
    import hashlib

    path = Path(folder)
    if not (path / "purchases.parquet").is_file():
        return None
    digest = hashlib.sha256()
    for file in sorted(path.iterdir()):
        if file.suffix == ".parquet":
            digest.update(f"{file.name}:{file.stat().st_size};".encode())
        elif file.suffix == ".json":
            digest.update(file.read_bytes())
    return digest.hexdigest()


def load_staged_actions(settings: Settings) -> pd.DataFrame | None:
    """The staged retention actions (`StagedActions`), or None when none were ingested."""
    from features.contracts import STAGED_SCHEMAS

    path = staged_path(settings, "actions")
    return STAGED_SCHEMAS["actions"].validate(pd.read_parquet(path)) if path.exists() else None


def staged_data_end(settings: Settings) -> dt.date:
    """The last calendar day (UTC) the staged data covers, from its event timestamps alone
    (cheap: a flow resolves its dates with this before any task loads the tables)."""
    return _bundle(_read_staged(settings.staged_dir, EVENT_TIMESTAMPS)).last_event_date().date()


def _bundle(frames: dict[str, pd.DataFrame | None]) -> SourceTables:
    purchases = frames["purchases"]
    assert purchases is not None  # _read_staged refuses a data dir without purchases
    return SourceTables(purchases, complaints=frames["complaints"],
                        interactions=frames["interactions"], customers=frames["customers"],
                        subscriptions=frames["subscriptions"])


def staged_versions_dir(settings: Settings) -> Path:
    return settings.data_dir / STAGED_VERSIONS


def current_staged_version(settings: Settings) -> str | None:
    """The version folder name `staged/` points at (None: no link yet)."""
    link = settings.staged_dir
    return Path(os.readlink(link)).name if link.is_symlink() else None


def publish_staged(settings: Settings, tables: dict[str, pd.DataFrame],
                   files: dict[str, Any]) -> dict[str, Path]:
    """Write `tables` (kind -> frame) and JSON `files` (name -> payload) as a new staged
    version and switch `staged/` to it atomically; the readable path of each table."""
    _adopt_unversioned_dir(settings)
    versions = staged_versions_dir(settings)
    run_id = f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{os.getpid()}"
    folder = versions / run_id
    folder.mkdir(parents=True)
    for kind, frame in tables.items():  # the folder is invisible until the swap
        write_partitioned(frame, folder / f"{kind}.parquet")
    for name, payload in files.items():
        (folder / name).write_text(json.dumps(payload, indent=2, default=str) + "\n",
                                   encoding="utf-8")
    previous = current_staged_version(settings)
    _point_staged_at(settings, run_id)
    for stale in versions.iterdir():  # keep the new and the previous version only
        if stale.name not in (run_id, previous):
            shutil.rmtree(stale, ignore_errors=True)
    return {kind: staged_path(settings, kind) for kind in tables}


def _point_staged_at(settings: Settings, version: str) -> None:
    """Replace the `staged` link in one rename (relative, so the data dir can move)."""
    temp = settings.data_dir / f".staged.{version}.{owner_token()}.tmp"  # see leftovers
    temp.unlink(missing_ok=True)
    os.symlink(Path(STAGED_VERSIONS) / version, temp, target_is_directory=True)
    os.replace(temp, settings.staged_dir)


def _adopt_unversioned_dir(settings: Settings) -> None:
    """Move a real `staged/` directory (written before versioning) into the versions folder.

    A directory cannot be replaced by a link in one rename, so a kill between the move and the
    link leaves no `staged/` for a moment; the next ingest relinks the adopted folder."""
    versions, link = staged_versions_dir(settings), settings.staged_dir
    if link.is_dir() and not link.is_symlink():
        versions.mkdir(parents=True, exist_ok=True)
        adopted = f"00000000-unversioned-{os.getpid()}"
        os.rename(link, versions / adopted)
        _point_staged_at(settings, adopted)
    elif not link.exists() and not link.is_symlink() and versions.is_dir():
        leftovers = sorted(p.name for p in versions.iterdir() if "-unversioned-" in p.name)
        if leftovers:
            _point_staged_at(settings, leftovers[-1])
