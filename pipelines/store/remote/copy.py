"""The local side of a remote data dir: which files of the working copy travel, what they
were at the last sync, and writing what was pulled without a half-written file.

What travels: every file and link of the data dir except what is this machine's own: dot
names (Prefect's home `.prefect/`, lock files, the temporaries and `scored/.partial/` that a
killed run leaves to the recovery), SQLite's journal files, and every staged version but the
one `staged` points at (the bucket holds the current version and the link; the previous one
only matters on the machine that is switching).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.store.staged import STAGED_VERSIONS

#: written by the user (any S3 tool), kept in the bucket under their own names
INPUT_DIRS = ("raw",)
INPUT_FILES = ("sources.yaml",)
SQLITE_SIDECARS = ("-journal", "-wal", "-shm")
CHUNK = 1 << 20
STATE_FILE = "sync.json"
PULL_SUFFIX = ".pull.tmp"


def is_input(relative: str) -> bool:
    return relative in INPUT_FILES or relative.split("/", 1)[0] in INPUT_DIRS


def travels(relative: str) -> bool:
    """Whether a path of the working copy is part of the data dir's shared state."""
    parts = relative.split("/")
    return not (any(part.startswith(".") for part in parts)
                or parts[-1].endswith(".lock")
                or parts[-1].endswith(SQLITE_SIDECARS))


@dataclass
class LocalTree:
    """The travelling files (relative path -> stat) and links (path -> target) on disk."""

    files: dict[str, os.stat_result] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    # a killed pull's temporaries (the working copy's lock says no pull is running)
    pull_leftovers: list[Path] = field(default_factory=list)


def scan(root: Path) -> LocalTree:
    tree = LocalTree()
    if not root.is_dir():
        return tree
    for folder, dirs, names in os.walk(root):
        base = Path(folder)
        keep = []
        for name in dirs:
            relative = (base / name).relative_to(root).as_posix()
            if not travels(relative):
                continue
            if (base / name).is_symlink():
                tree.links[relative] = os.readlink(base / name)
            else:
                keep.append(name)
        dirs[:] = keep
        for name in names:
            path = base / name
            relative = path.relative_to(root).as_posix()
            if not travels(relative):
                if name.endswith(PULL_SUFFIX):
                    tree.pull_leftovers.append(path)
                continue
            if path.is_symlink():
                tree.links[relative] = os.readlink(path)
            else:
                tree.files[relative] = path.stat()
    return tree


def current_version_only(tree: LocalTree) -> dict[str, os.stat_result]:
    """The output files to push: staged versions other than the linked one left out."""
    linked = Path(tree.links.get("staged", "")).name
    return {relative: info for relative, info in tree.files.items()
            if not is_input(relative)
            and not (relative.startswith(f"{STAGED_VERSIONS}/")
                     and relative.split("/")[1] != linked)}


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def snapshot_source(path: Path, scratch: Path) -> Path:
    """The file to upload for `path`: a consistent copy of a SQLite database (the MLflow
    store; SQLite's backup reads it as one transaction), the file itself otherwise."""
    if path.suffix != ".db":
        return path
    handle, name = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".snapshot", dir=scratch)
    os.close(handle)
    _copy_database(path, Path(name))
    return Path(name)


def same_stat(recorded: list[Any] | None, info: os.stat_result) -> bool:
    """Unchanged since recorded: same size and modification time (`[digest, size, mtime]`)."""
    return recorded is not None and recorded[1] == info.st_size and recorded[2] == info.st_mtime_ns


def write_pulled(fetch: Callable[[Path], None], target: Path, readonly: bool
                 ) -> os.stat_result:
    """Download (`fetch` writes the given temp file) and rename into `target`: a reader sees
    the old file or the new one; sealed files (archived runs) are read-only again. A SQLite
    database that exists is overwritten through SQLite instead (one transaction, same file),
    so a connection this process still holds to it (MLflow keeps its engine) reads the
    pulled rows rather than a deleted file's."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=PULL_SUFFIX,
                                    dir=target.parent)
    os.close(handle)
    try:
        fetch(Path(name))
        if target.suffix == ".db" and target.is_file():
            _copy_database(Path(name), target)
            return target.stat()
        if readonly:
            os.chmod(name, 0o444 & ~_umask())
        os.replace(name, target)
    finally:
        Path(name).unlink(missing_ok=True)
    return target.stat()


def _copy_database(source: Path, target: Path) -> None:
    """`source` copied into the SQLite database `target` in one transaction (SQLite's backup:
    a consistent snapshot of a store in use, and the same file for connections to `target`)."""
    reading = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writing = sqlite3.connect(target)
    try:
        reading.backup(writing)
    finally:
        writing.close()
        reading.close()


def point_link(path: Path, target: str) -> None:
    """Make `path` a symlink to `target` in one rename (as `store.staged` switches `staged`)."""
    if path.is_symlink() and os.readlink(path) == target:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.parent / f".{path.name}{PULL_SUFFIX}"
    temp.unlink(missing_ok=True)
    os.symlink(target, temp)
    os.replace(temp, path)


def remove(root: Path, relative: str) -> None:
    """Delete a file or link the bucket no longer has, and the folders it leaves empty."""
    path = root / relative
    path.unlink(missing_ok=True)
    folder = path.parent
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@dataclass
class SyncState:
    """What the working copy held at its last sync: the commit's generation, each output's
    `[sha256, size, mtime_ns]`, each input's `[etag, size, mtime_ns]`, the links."""

    url: str
    generation: int = 0
    files: dict[str, list[Any]] = field(default_factory=dict)
    inputs: dict[str, list[Any]] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, url: str) -> SyncState:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(url=url)
        if not isinstance(record, dict) or record.get("url") != url:
            return cls(url=url)
        return cls(url=url, generation=int(record.get("generation", 0)),
                   files=dict(record.get("files", {})), inputs=dict(record.get("inputs", {})),
                   links=dict(record.get("links", {})))

    def save(self, path: Path) -> None:
        from pipelines.store.atomic import write_json_atomic

        write_json_atomic({"url": self.url, "generation": self.generation,
                           "files": self.files, "inputs": self.inputs,
                           "links": self.links}, path)
