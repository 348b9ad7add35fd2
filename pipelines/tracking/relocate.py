"""A data dir that was moved or copied keeps working on its own MLflow files.

MLflow's SQLite store records every artifact location as an absolute URI (experiments, runs,
logged models, model versions, dataset sources). After `mv data /elsewhere` those point at a
folder that is gone; after `cp -r data copy` they point at the original, so the copy would
silently read, and write, the original's model files. When the embedded store is opened, the
locations that still name another data dir's `mlflow/artifacts` are rewritten to this one's,
in one transaction, before MLflow reads any of them.

MLflow has no API for changing a recorded artifact location, hence plain SQL on the columns
below; a table or column an MLflow version lacks is skipped.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pipelines.store.settings import Settings

ARTIFACTS_TAIL = "/mlflow/artifacts"
# (table, column) pairs where MLflow keeps locations under the artifact root.
LOCATION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("experiments", "artifact_location"),
    ("runs", "artifact_uri"),
    ("logged_models", "artifact_location"),
    ("model_versions", "storage_location"),
    ("model_versions", "source"),
)
# Where MLflow keeps paths to files of the data dir itself (the training input's dataset).
DATA_DIR_COLUMNS: tuple[tuple[str, str], ...] = (("datasets", "dataset_source"),)
_CHECKED: set[tuple[str, str]] = set()


def store_path(settings: Settings) -> Path | None:
    """The SQLite file of the data dir's own store (None for another tracking URI)."""
    if not settings.uses_embedded_mlflow:
        return None
    return Path(settings.mlflow_tracking_uri.removeprefix("sqlite:///"))


def recorded_data_dir(connection: sqlite3.Connection, experiment: str) -> str | None:
    """The data dir the experiment's artifact location names (None: not one of ours)."""
    try:
        row = connection.execute("SELECT artifact_location FROM experiments WHERE name = ?",
                                 (experiment,)).fetchone()
    except sqlite3.OperationalError:  # a store MLflow has not created its tables in yet
        return None
    if row is None or not str(row[0]).startswith("file://"):
        return None
    location = str(row[0]).removeprefix("file://").rstrip("/")
    return location.removesuffix(ARTIFACTS_TAIL) if location.endswith(ARTIFACTS_TAIL) else None


def relocate_store(settings: Settings) -> str | None:
    """Rewrite the store's locations that name another data dir to this one; that other
    data dir (None when nothing pointed elsewhere). Checked once per store per process."""
    path = store_path(settings)
    key = (str(path), str(settings.data_dir))
    if path is None or key in _CHECKED or not path.exists():
        return None
    connection = sqlite3.connect(path, timeout=30)
    try:
        old = recorded_data_dir(connection, settings.experiment_name)
        new = str(settings.data_dir)
        if old is None or old == new:
            _CHECKED.add(key)
            return None
        with connection:  # one transaction: all locations move, or none
            for table, column in LOCATION_COLUMNS:
                _replace_prefix(connection, table, column, f"file://{old}{ARTIFACTS_TAIL}",
                                f"file://{new}{ARTIFACTS_TAIL}")
                _replace_prefix(connection, table, column, f"{old}{ARTIFACTS_TAIL}",
                                f"{new}{ARTIFACTS_TAIL}")
            for table, column in DATA_DIR_COLUMNS:
                _replace_inside(connection, table, column, f'"{old}/', f'"{new}/')
    finally:
        connection.close()
    _CHECKED.add(key)
    return old


def _columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def _replace_prefix(connection: sqlite3.Connection, table: str, column: str, old: str,
                    new: str) -> None:
    if column not in _columns(connection, table):
        return
    connection.execute(
        f"UPDATE {table} SET {column} = ? || substr({column}, ?) "
        f"WHERE substr({column}, 1, ?) = ? AND (length({column}) = ? "
        f"OR substr({column}, ?, 1) = '/')",
        (new, len(old) + 1, len(old), old, len(old), len(old) + 1))


def _replace_inside(connection: sqlite3.Connection, table: str, column: str, old: str,
                    new: str) -> None:
    if column not in _columns(connection, table):
        return
    connection.execute(f"UPDATE {table} SET {column} = replace({column}, ?, ?) "
                       f"WHERE instr({column}, ?) > 0", (old, new, old))
