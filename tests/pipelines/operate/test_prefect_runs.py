"""Prefect flow runs a killed process left RUNNING are marked CRASHED by the next flow run,
against a real (temporary) Prefect API; runs of live processes, of other hosts and untagged
runs are left alone."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from pipelines.operate import prefect_runs
from pipelines.store.leftovers import HOST_TAG, PID_TAG, this_host


def _flow(name: str):
    from prefect import Flow

    return Flow(fn=lambda: None, name=name)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_owner_tags_read_back_as_the_mlflow_runs_owner_tags():
    tags = prefect_runs.owner_tag_list()
    assert prefect_runs.owner_of(tags + ["weekly", "churn.pid"]) == {
        HOST_TAG: this_host(), PID_TAG: str(os.getpid())}


def test_only_runs_of_dead_processes_on_this_host_are_crashed(prefect_api):
    from prefect import get_client, task
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterId
    from prefect.client.schemas.objects import StateType
    from prefect.states import Completed, Pending, Running

    ours = f"churn-crash-test-{uuid.uuid4().hex[:8]}"
    host, dead = f"{HOST_TAG}:{this_host()}", f"{PID_TAG}:{_dead_pid()}"
    with get_client(sync_client=True) as client:
        killed = client.create_flow_run(_flow(ours), tags=[host, dead], state=Running())
        task = client.create_task_run(
            task(lambda: None, name="stage"), flow_run_id=killed.id,
            dynamic_key="0", state=Running())
        never_started = client.create_flow_run(_flow(ours), tags=[host, dead], state=Pending())
        live = client.create_flow_run(_flow(ours), state=Running(),
                                      tags=prefect_runs.owner_tag_list())
        elsewhere = client.create_flow_run(_flow(ours), state=Running(),
                                           tags=[f"{HOST_TAG}:another-host", dead])
        untagged = client.create_flow_run(_flow(ours), state=Running())
        finished = client.create_flow_run(_flow(ours), tags=[host, dead], state=Completed())
        other_flow = client.create_flow_run(_flow(f"not-ours-{uuid.uuid4().hex[:8]}"),
                                            tags=[host, dead], state=Running())

        crashed = prefect_runs.crash_dead_flow_runs(client, [ours])

        assert sorted(crashed) == sorted(f"{r.name} ({r.id})" for r in (killed, never_started))
        assert client.read_flow_run(never_started.id).state.type == StateType.CRASHED
        state = client.read_flow_run(killed.id).state
        assert state.type == StateType.CRASHED and "ended before the run did" in state.message
        [task_run] = client.read_task_runs(task_run_filter=TaskRunFilter(
            id=TaskRunFilterId(any_=[task.id])))
        assert task_run.state.type == StateType.CRASHED
        for run, kept in ((live, StateType.RUNNING), (elsewhere, StateType.RUNNING),
                          (untagged, StateType.RUNNING), (finished, StateType.COMPLETED),
                          (other_flow, StateType.RUNNING)):
            assert client.read_flow_run(run.id).state.type == kept
        assert prefect_runs.crash_dead_flow_runs(client, [ours]) == []  # once only


def test_a_command_s_flow_runs_carry_its_process_from_their_creation(prefect_api):
    from prefect import flow, get_client
    from prefect.runtime import flow_run

    from pipelines.cli_common import run_step

    @flow(name=f"churn-created-test-{uuid.uuid4().hex[:8]}")
    def plain():
        return flow_run.get_id()

    run_id = run_step("test", plain)
    with get_client(sync_client=True) as client:
        assert set(prefect_runs.owner_tag_list()) <= set(client.read_flow_run(run_id).tags)


def test_a_flow_run_tags_itself_with_its_process_and_outside_a_flow_nothing_is_asked(
        prefect_api):
    from prefect import flow, get_client
    from prefect.runtime import flow_run

    assert prefect_runs.recover_prefect_runs() == []  # no flow run: no API call at all

    @flow(name=f"churn-tagging-test-{uuid.uuid4().hex[:8]}")
    def tagged():
        prefect_runs.recover_prefect_runs()
        return flow_run.get_id()

    run_id = tagged()
    with get_client(sync_client=True) as client:
        tags = client.read_flow_run(run_id).tags
    assert set(prefect_runs.owner_tag_list()) <= set(tags)
