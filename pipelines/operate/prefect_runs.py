"""Prefect flow runs a killed command left RUNNING: marked CRASHED by the next run.

A SIGKILLed `churn ingest`, `train`, `score` or `run` reports nothing to the Prefect API, so
its flow run (and the task run it was in) would show as running for ever in the UI and in
every query of running work. Each flow run of this pipeline therefore carries its host and
process id as tags (`churn.host:<host>`, `churn.pid:<pid>`, the tags its MLflow runs carry):
from its creation when a `churn` command starts it (`cli_common.run_step`), else from the
first lines of the flow (a deployment's run), and the next flow run on the same host moves
every PENDING or RUNNING run of this pipeline's flows whose process has ended to CRASHED,
with its unfinished task runs, saying why.
Runs of live processes, of other hosts and runs without the tags (started before them, or by
another tool) are left alone, as for MLflow (`pipelines.operate.recovery`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from pipelines.store.leftovers import HOST_TAG, PID_TAG, owner_tags, run_owner_is_dead

logger = logging.getLogger("churn")
PAGE = 200


def owner_tag_list() -> list[str]:
    """This process's owner tags in Prefect's form: `churn.host:<host>`, `churn.pid:<pid>`."""
    return [f"{name}:{value}" for name, value in owner_tags().items()]


def owner_of(tags: Iterable[str]) -> dict[str, str]:
    """The owner tags of a run's Prefect `tags`, as the MLflow tags `run_owner_is_dead`
    reads."""
    owner = {}
    for tag in tags:
        name, _, value = str(tag).partition(":")
        if name in (HOST_TAG, PID_TAG) and value:
            owner[name] = value
    return owner


def tag_flow_run(client: Any, run_id: Any) -> None:
    """Add this process's owner tags to flow run `run_id`."""
    current = list(client.read_flow_run(run_id).tags or [])
    wanted = [t for t in owner_tag_list() if t not in current]
    if wanted:
        client.update_flow_run(run_id, tags=current + wanted)


def crash_dead_flow_runs(client: Any, flow_names: list[str]) -> list[str]:
    """Move to CRASHED every PENDING or RUNNING flow run of `flow_names` whose process (on
    this host) has ended, with its unfinished task runs; returned: "<flow run name> (<id>)"
    of each."""
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    host = f"{HOST_TAG}:{owner_tags()[HOST_TAG]}"
    running = [StateType.RUNNING, StateType.PENDING]
    runs = client.read_flow_runs(
        flow_filter=FlowFilter(name=FlowFilterName(any_=flow_names)),
        flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(any_=running)),
            tags=FlowRunFilterTags(all_=[host])),
        limit=PAGE)
    crashed = []
    for run in runs:
        owner = owner_of(run.tags or [])
        if not run_owner_is_dead(owner):
            continue
        why = (f"its process (pid {owner[PID_TAG]} on {owner[HOST_TAG]}) ended before the run "
               "did: killed, or its machine stopped")
        tasks = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
            task_run_filter=TaskRunFilter(
                state=TaskRunFilterState(type=TaskRunFilterStateType(any_=running))))
        for task_run in tasks:
            client.set_task_run_state(task_run.id, Crashed(message=why), force=True)
        client.set_flow_run_state(run.id, Crashed(message=why), force=True)
        crashed.append(f"{run.name} ({run.id})")
    for name in crashed:
        logger.warning("marked Prefect flow run %s CRASHED: the process running it was killed",
                       name)
    return crashed


def recover_prefect_runs() -> list[str]:
    """Inside a flow run of this pipeline: tag it with its owner, then crash the runs dead
    processes left RUNNING. Never fails the run that calls it: an API that cannot answer
    leaves the old runs as they are (the next run tries again)."""
    from prefect import get_client
    from prefect.runtime import flow_run

    from pipelines.operate.prefect_history import pipeline_flow_names

    run_id = flow_run.get_id()
    if run_id is None:  # not in a flow run: no API to ask (and none to start)
        return []
    try:
        with get_client(sync_client=True) as client:
            tag_flow_run(client, run_id)
            return crash_dead_flow_runs(client, pipeline_flow_names())
    except Exception as error:  # noqa: BLE001 - housekeeping must not fail the user's run
        logger.warning("stale Prefect runs not checked: %s", error)
        return []
