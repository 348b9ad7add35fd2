"""Pulling a remote data dir into its working copy, and pushing what a command changed.

The bucket's state is its newest commit, `<prefix>/commits/<generation>.json`: each output
file's sha256 and size, each link, who wrote it and when. Objects are content-addressed
(`<prefix>/objects/<sha256>`), so an object is never rewritten and one that did not change
is never uploaded again. A push uploads the changed inputs (`raw/`, `sources.yaml`: the
start of the pipeline's chain), then the new objects, then the commit of the next
generation, created only if it does not exist yet: until that one small PUT, the previous
commit is the state, whole (a push killed halfway leaves objects nothing lists, removed by a
later push once they are a day old). Two writers: the second to push finds the generation it
started from is no longer the newest and is refused with a sentence (single-writer rule).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.store.leftovers import owner_token
from pipelines.store.remote.copy import (
    SyncState,
    current_version_only,
    file_digest,
    is_input,
    point_link,
    remove,
    same_stat,
    scan,
    snapshot_source,
    travels,
    write_pulled,
)
from pipelines.store.remote.location import RemoteDataDir, RemoteStoreError, remote_errors

COMMITS = "commits"
OBJECTS = "objects"
FORMAT = 1
KEEP_COMMITS = 3  # the newest commits, and every object they name, are kept
# Unlisted objects younger than this are kept: they may belong to a push still under way.
ORPHAN_GRACE = dt.timedelta(days=1)
_COMMIT_NAME = re.compile(r"^(\d{12})\.json$")
# The order of a pipeline's outputs; the commit makes them visible at once in any order,
# so this only decides what a killed push had already uploaded for the next one to reuse.
UPLOAD_ORDER = ("staged.versions/", "features/", "model_input/", "mlflow/artifacts/",
                "mlflow/", "scored/", "analytics/", "reports/")


class ConcurrentPushError(RemoteStoreError):
    """Another writer pushed since this working copy was pulled."""


@dataclass
class SyncReport:
    """What one pull or push moved."""

    generation: int
    transferred: list[str] = field(default_factory=list)
    transferred_bytes: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def commit_name(generation: int) -> str:
    return f"{COMMITS}/{generation:012d}.json"


def commit_generations(fs: Any, remote: RemoteDataDir) -> list[int]:
    """The generations committed in the bucket, oldest first (none: a fresh data dir); a
    missing bucket raises, as it should."""
    try:
        names = fs.ls(remote.key(COMMITS), detail=False)
    except FileNotFoundError as error:  # no commit yet, or no bucket (said by the message)
        if "bucket" in str(error).lower():
            raise
        return []
    found = (_COMMIT_NAME.match(str(name).rsplit("/", 1)[-1]) for name in names)
    return sorted(int(match[1]) for match in found if match)


def read_commit(fs: Any, remote: RemoteDataDir, generation: int) -> dict[str, Any]:
    commit = json.loads(fs.cat_file(remote.key(commit_name(generation))))
    if commit.get("format") != FORMAT:
        raise RemoteStoreError(f"{remote.url} was written by a newer churn (commit format "
                               f"{commit.get('format')}); upgrade churn to use it")
    return commit


def _remote_inputs(fs: Any, remote: RemoteDataDir) -> dict[str, dict[str, Any]]:
    """The input objects under their own names: relative path -> listing (ETag, size)."""
    found: dict[str, dict[str, Any]] = {}
    base = remote.key("")
    for folder in ("raw",):
        for name, info in fs.find(remote.key(folder), detail=True).items():
            relative = str(name)[len(base):].lstrip("/")
            if info.get("type") == "file" and travels(relative):
                found[relative] = info
    for name in ("sources.yaml",):
        try:
            info = fs.info(remote.key(name))
        except FileNotFoundError:
            continue
        if info.get("type") == "file":
            found[name] = info
    return found


def _etag(info: dict[str, Any]) -> str:
    return str(info.get("ETag") or info.get("etag") or "").strip('"')


def pull(fs: Any, remote: RemoteDataDir, root: Path, state: SyncState) -> SyncReport:
    """Make the working copy what the newest commit and the input objects say, downloading
    only what differs from the copy (by sha256 for outputs, size and ETag for inputs) and
    removing what the bucket no longer has; `state` is updated to match."""
    started = time.monotonic()
    with remote_errors(remote, "reading"):
        generations = commit_generations(fs, remote)
        commit = read_commit(fs, remote, generations[-1]) if generations else {}
        inputs = _remote_inputs(fs, remote)
        report = SyncReport(generation=generations[-1] if generations else 0)
        root.mkdir(parents=True, exist_ok=True)
        local = scan(root)
        for leftover in local.pull_leftovers:
            leftover.unlink(missing_ok=True)
        wanted = dict(commit.get("files", {}))
        for relative, entry in sorted(wanted.items()):
            info = local.files.get(relative)
            recorded = state.files.get(relative)
            if info is not None and same_stat(recorded, info) and recorded is not None \
                    and recorded[0] == entry["sha256"]:
                report.unchanged += 1
                continue
            if info is not None and info.st_size == entry["size"] and \
                    not relative.endswith(".db") and \
                    file_digest(root / relative) == entry["sha256"]:
                state.files[relative] = [entry["sha256"], info.st_size, info.st_mtime_ns]
                report.unchanged += 1
                continue
            written = _download(fs, remote.key(f"{OBJECTS}/{entry['sha256']}"),
                                root / relative, bool(entry.get("readonly")))
            state.files[relative] = [entry["sha256"], written.st_size, written.st_mtime_ns]
            report.transferred.append(relative)
            report.transferred_bytes += written.st_size
        for relative, listing in sorted(inputs.items()):
            info = local.files.get(relative)
            recorded = state.inputs.get(relative)
            if info is not None and same_stat(recorded, info) and \
                    recorded is not None and recorded[0] == _etag(listing):
                report.unchanged += 1
                continue
            written = _download(fs, str(listing["name"]), root / relative, readonly=False)
            state.inputs[relative] = [_etag(listing), written.st_size, written.st_mtime_ns]
            report.transferred.append(relative)
            report.transferred_bytes += written.st_size
    links = dict(commit.get("links", {}))
    for relative in sorted(set(local.files) - set(wanted) - set(inputs)):
        remove(root, relative)
        report.removed.append(relative)
    for relative in sorted(set(local.links) - set(links)):
        remove(root, relative)
        report.removed.append(relative)
    for relative, target in links.items():
        point_link(root / relative, target)
    state.files = {k: v for k, v in state.files.items() if k in wanted}
    state.inputs = {k: v for k, v in state.inputs.items() if k in inputs}
    state.links, state.generation = links, report.generation
    report.seconds = time.monotonic() - started
    return report


def _download(fs: Any, key: str, target: Path, readonly: bool) -> os.stat_result:
    def fetch(temp: Path) -> None:
        fs.get_file(key, str(temp))

    return write_pulled(fetch, target, readonly)


def _upload_rank(relative: str) -> tuple[int, str]:
    for rank, prefix in enumerate(UPLOAD_ORDER):
        if relative.startswith(prefix):
            return rank, relative
    return len(UPLOAD_ORDER), relative


def push(fs: Any, remote: RemoteDataDir, root: Path, state: SyncState, scratch: Path,
         upload: Callable[[Any, str, Path], None] | None = None) -> SyncReport | None:
    """Upload what changed in the working copy since `state` and commit it as the next
    generation; None when nothing changed (no commit is written). ConcurrentPushError when
    another writer committed since the pull: nothing of this push becomes visible."""
    put = upload or _upload
    started = time.monotonic()
    with remote_errors(remote, "writing"):
        _refuse_if_moved_on(fs, remote, state)
        local = scan(root)
        outputs = current_version_only(local)
        report = SyncReport(generation=state.generation + 1)
        scratch.mkdir(parents=True, exist_ok=True)
        files: dict[str, dict[str, Any]] = {}
        committed = {relative: str(entry[0]) for relative, entry in state.files.items()}
        known = set(committed.values())
        changed_inputs = []
        for relative, info in local.files.items():
            if is_input(relative) and not same_stat(state.inputs.get(relative), info):
                changed_inputs.append(relative)
        new_objects: list[tuple[str, str, Path]] = []
        for relative, info in sorted(outputs.items(), key=lambda item: _upload_rank(item[0])):
            recorded = state.files.get(relative)
            if same_stat(recorded, info):
                assert recorded is not None
                digest, source = str(recorded[0]), root / relative
            else:
                source = snapshot_source(root / relative, scratch)
                digest = file_digest(source)
                state.files[relative] = [digest, info.st_size, info.st_mtime_ns]
            files[relative] = {"sha256": digest, "size": source.stat().st_size,
                               "readonly": not info.st_mode & stat.S_IWUSR}
            if digest not in known:
                known.add(digest)
                new_objects.append((relative, digest, source))
        links = dict(sorted(local.links.items()))
        if not changed_inputs and links == state.links and \
                {relative: entry["sha256"] for relative, entry in files.items()} == committed:
            return None
        for relative in sorted(changed_inputs):
            put(fs, remote.key(relative), root / relative)
            listing = fs.info(remote.key(relative))
            written = (root / relative).stat()
            state.inputs[relative] = [_etag(listing), written.st_size, written.st_mtime_ns]
            report.transferred.append(relative)
            report.transferred_bytes += written.st_size
        for _, digest, source in new_objects:
            put(fs, remote.key(f"{OBJECTS}/{digest}"), source)
            report.transferred_bytes += source.stat().st_size
        changed = [relative for relative, entry in files.items()
                   if committed.get(relative) != entry["sha256"]]
        report.transferred += changed  # a changed path may reuse an object: not uploaded
        report.removed = sorted(set(committed) - set(files))
        report.unchanged = len(files) - len(changed)
        commit = {"format": FORMAT, "generation": report.generation,
                  "parent": state.generation, "writer": owner_token(),
                  "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                  "files": files, "links": links}
        try:
            fs.pipe_file(remote.key(commit_name(report.generation)),
                         json.dumps(commit, indent=1, sort_keys=True).encode(), mode="create")
        except FileExistsError:
            _refuse_if_moved_on(fs, remote, state)
            raise
        state.files = {k: v for k, v in state.files.items() if k in files}
        state.links, state.generation = links, report.generation
        _collect_garbage(fs, remote, report.generation)
    report.seconds = time.monotonic() - started
    return report


def _upload(fs: Any, key: str, source: Path) -> None:
    fs.put_file(str(source), key)


def _refuse_if_moved_on(fs: Any, remote: RemoteDataDir, state: SyncState) -> None:
    generations = commit_generations(fs, remote)
    newest = generations[-1] if generations else 0
    if newest == state.generation:
        return
    writer = ""
    if generations:
        commit = read_commit(fs, remote, newest)
        writer = f" by {commit.get('writer', '?')} at {commit.get('written_at', '?')}"
    raise ConcurrentPushError(
        f"{remote.url} was pushed to{writer} (generation {newest}) while this command worked "
        f"on generation {state.generation}, so its results were not pushed; one writer at a "
        "time: run the command again, it starts from the newest state")


def _collect_garbage(fs: Any, remote: RemoteDataDir, newest: int) -> None:
    """Drop commits older than the last KEEP_COMMITS, and objects none of those lists that
    are older than ORPHAN_GRACE (a reader of an older commit is done by then)."""
    generations = commit_generations(fs, remote)
    kept = [g for g in generations if g > newest - KEEP_COMMITS]
    listed = set()
    for generation in kept:
        listed |= {entry["sha256"] for entry in read_commit(fs, remote, generation)["files"]
                   .values()}
    for generation in generations:
        if generation not in kept:
            fs.rm_file(remote.key(commit_name(generation)))
    cutoff = dt.datetime.now(dt.UTC) - ORPHAN_GRACE
    try:
        objects = fs.ls(remote.key(OBJECTS), detail=True)
    except FileNotFoundError:
        return
    for info in objects:
        name = str(info["name"]).rsplit("/", 1)[-1]
        modified = info.get("LastModified")
        if name in listed or not isinstance(modified, dt.datetime):
            continue
        if modified.astimezone(dt.UTC) < cutoff:
            fs.rm_file(str(info["name"]))


def scratch_dir(base: Path) -> Path:
    """Where SQLite snapshots wait for their upload (beside, not inside, the working copy)."""
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"push.{owner_token()}.", dir=base))
