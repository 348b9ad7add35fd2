"""Bounding and cleaning the Prefect run history: flow runs, their task runs and logs, and
artifacts, which hold customer ids (the scoring task's table artifacts; names too in those
written by older releases) and which Prefect keeps for ever.

How long history is kept (`history_days`):
- on the data dir's own API (the local server `operate.local_api` starts, or Prefect's
  temporary one: both keep their database under the Prefect home in the data dir), the
  shorter of `CHURN_RETENTION_DAYS` and `CHURN_PREFECT_HISTORY_DAYS`, which defaults to
  `DEFAULT_HISTORY_DAYS` so that a year of weekly runs stays browsable;
- on an API the user configured (a shared server), only when `CHURN_PREFECT_HISTORY_DAYS`
  is set: other people's history is not ours to bound by default.
Either way only flow runs of this pipeline's flows (`pipeline_flow_names`) in a final state
are deleted, never a running one nor the current one. Prefect deletes a flow run's task
runs with it, and its logs in a background task of the server (logs a server stopped before
that ran are caught by its orphan vacuum, which the local server runs at start); its
artifacts are deleted here first, since the API deletes them by id only.

`erase_artifacts` is `churn erase`'s part: artifacts whose data mention an erased customer.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from pipelines.store.settings import PREFECT_HISTORY_OFF, Settings

DEFAULT_HISTORY_DAYS = 400
PAGE = 200
#: keys of the artifacts this pipeline publishes (`tasks.scoring`, `operate.monitoring_tasks`)
ARTIFACT_KEYS = ("churn-top-customers", "churn-scoring-summary", "churn-retrain-decision")


@dataclass
class HistoryPruned:
    """What one pruning of the Prefect history removed."""

    cutoff: dt.datetime
    flow_runs: list[str] = field(default_factory=list)  # "<flow run name> (<id>)"
    artifacts: int = 0


def pipeline_flow_names() -> list[str]:
    """The names of this pipeline's flows (`pipelines.flows`), so a shared server's other
    flows are never touched."""
    from prefect import Flow

    from pipelines import flows

    return sorted({f.name for f in vars(flows).values() if isinstance(f, Flow)})


def current_api_url() -> str | None:
    """The API URL this process's Prefect uses (None: its temporary per-process server)."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def uses_data_dir_api(settings: Settings, url: str | None) -> bool:
    """Whether `url` is the data dir's own API: Prefect's temporary server (its database is
    in the Prefect home) or the local server recorded in the Prefect home."""
    if url is None:
        return True
    from pipelines.operate.local_api import RECORD

    try:
        record = (_prefect_home(settings) / RECORD).read_text(encoding="utf-8")
        recorded = json.loads(record).get("url")
    except (OSError, ValueError, AttributeError):
        return False
    return bool(recorded) and str(recorded).rstrip("/") == url.rstrip("/")


def _prefect_home(settings: Settings) -> Path:
    return Path(os.environ.get("PREFECT_HOME") or settings.data_dir / ".prefect").expanduser()


def has_no_history(settings: Settings, url: str | None) -> bool:
    """True when no API is in use and the Prefect home holds no database: nothing to clean,
    and no reason to start a temporary server that would make an empty one."""
    return url is None and not (_prefect_home(settings) / "prefect.db").exists()


def history_days(settings: Settings, data_dir_api: bool) -> int | None:
    """Days of Prefect history kept (None: all of it); see the module docs."""
    own = settings.prefect_history_days
    if not data_dir_api and own is None:
        return None
    bounds = [settings.retention_days, DEFAULT_HISTORY_DAYS if own is None
              else None if own == PREFECT_HISTORY_OFF else own]
    days = [d for d in bounds if d]
    return min(days) if days else None


def prune_prefect_history(settings: Settings, now: dt.datetime) -> HistoryPruned | None:
    """Flow runs and artifacts older than `history_days` removed from the API this process
    uses; None when history is kept whole there."""
    url = current_api_url()
    days = history_days(settings, uses_data_dir_api(settings, url))
    if days is None or has_no_history(settings, url):
        return None
    return prune_history(now.astimezone(dt.UTC) - dt.timedelta(days=days),
                         pipeline_flow_names(), keep=_current_flow_run())


def _current_flow_run() -> set[UUID]:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    return {context.flow_run.id} if context and context.flow_run else set()


def prune_history(cutoff: dt.datetime, flow_names: Iterable[str],
                  keep: set[UUID] | None = None) -> HistoryPruned:
    """Delete flow runs of `flow_names` in a final state that started (or, never started,
    were due) before `cutoff`, with their artifacts, then this pipeline's artifacts from
    before `cutoff` whose flow run is gone; never the flow runs in `keep`."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        ArtifactFilterKey,
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    from prefect.exceptions import ObjectNotFound

    keep = keep or set()
    cutoff = _utc(cutoff)
    pruned = HistoryPruned(cutoff=cutoff)
    final = [StateType.COMPLETED, StateType.FAILED, StateType.CANCELLED, StateType.CRASHED]
    with get_client(sync_client=True) as client:
        offset = 0  # runs passed over stay in the result set; deleted ones leave it
        while True:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=list(flow_names))),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(type=FlowRunFilterStateType(any_=final)),
                    expected_start_time=FlowRunFilterExpectedStartTime(before_=cutoff)),
                sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=PAGE, offset=offset)
            if not runs:
                break
            for run in runs:
                started = _utc(run.start_time or run.expected_start_time)
                if run.id in keep or started is None or started >= cutoff:
                    offset += 1
                    continue
                for artifact in _all(lambda page, o, run_id=run.id: client.read_artifacts(
                        artifact_filter=ArtifactFilter(
                            flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])),
                        limit=page, offset=o)):
                    _delete_artifact(client, artifact.id)
                    pruned.artifacts += 1
                try:
                    client.delete_flow_run(run.id)
                except ObjectNotFound:
                    pass  # deleted meanwhile by another pruning
                pruned.flow_runs.append(f"{run.name} ({run.id})")
        # artifacts of ours from before the cutoff whose run is gone (or that had none)
        orphans = []
        for artifact in _all(lambda page, o: client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=list(ARTIFACT_KEYS))),
                limit=page, offset=o)):
            created = _utc(artifact.created)
            if created is None or created >= cutoff or \
                    artifact.flow_run_id in keep:
                continue
            if artifact.flow_run_id is not None:
                try:
                    client.read_flow_run(artifact.flow_run_id)
                    continue  # its run is kept (not final yet): so is it
                except ObjectNotFound:
                    pass
            orphans.append(artifact.id)
        for artifact_id in orphans:
            _delete_artifact(client, artifact_id)
        pruned.artifacts += len(orphans)
    return pruned


def _utc(when: Any) -> Any:
    """`when` as an aware UTC time (the API answers naive times in UTC for some fields)."""
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=dt.UTC)


def _all(read: Any) -> Iterator[Any]:
    """Every item of a paged read: `read(limit, offset)` until a short page (read whole
    before the caller deletes, so deleting does not shift the pages)."""
    items: list[Any] = []
    while True:
        page = read(PAGE, len(items))
        items.extend(page)
        if len(page) < PAGE:
            return iter(items)


def _delete_artifact(client: Any, artifact_id: UUID) -> None:
    from prefect.exceptions import ObjectNotFound

    try:
        client.delete_artifact(artifact_id)
    except ObjectNotFound:
        pass


def erase_artifacts(names: Iterable[str], settings: Settings) -> list[str]:
    """Delete the artifacts whose data mention one of `names` (customer ids, their keys,
    their pseudonyms) from the API this process uses: on the data dir's own API any
    artifact, on a configured one only this pipeline's (`ARTIFACT_KEYS`); what was deleted,
    as "<key or id> of flow run <id>". Raises what the client raises when the API cannot be
    reached."""
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    wanted = sorted({n for n in names if n}, key=len, reverse=True)
    url = current_api_url()
    if not wanted or has_no_history(settings, url):
        return []
    pattern = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, wanted)) + r")(?![\w-])",
                         re.IGNORECASE)
    only_ours = None if uses_data_dir_api(settings, url) else ArtifactFilter(
        key=ArtifactFilterKey(any_=list(ARTIFACT_KEYS)))
    deleted = []
    with get_client(sync_client=True) as client:
        artifacts = list(_all(lambda page, o: client.read_artifacts(
            artifact_filter=only_ours, limit=page, offset=o)))
        for artifact in artifacts:
            if pattern.search(_as_text(artifact.data)) or pattern.search(
                    artifact.description or ""):
                _delete_artifact(client, artifact.id)
                deleted.append(f"{artifact.key or artifact.id} of flow run "
                               f"{artifact.flow_run_id or 'none'}")
    return deleted


def _as_text(data: Any) -> str:
    if isinstance(data, str):
        return data
    return json.dumps(data, default=str, ensure_ascii=False)
