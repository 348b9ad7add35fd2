"""The shard runner: results in the items' order, a worker's exception raised as its own type,
the same results in process and on a two-worker LocalCluster, and nothing left running."""

from __future__ import annotations

import operator
import os

import psutil
import pytest

from pipelines.scale.runner import (
    SchedulerUnavailableError,
    ShardRunner,
    command_runner,
    map_shards,
    shard_runner,
)
from pipelines.scale.settings import ScaleSettings

TWO_WORKERS = ScaleSettings(scheduler="local", local_workers=2)


def slow_square(item: int) -> int:
    """Later items finish first on a busy worker: the order must come from the items."""
    total = 0
    for _ in range((20 - item) * 20_000):
        total += 1
    return item * item + 0 * total


def worker_pid(_item: object) -> int:
    return os.getpid()


@pytest.fixture(scope="module")
def cluster():
    runner = ShardRunner(TWO_WORKERS)
    yield runner
    runner.close()


def test_in_process_results_come_in_the_items_order():
    with shard_runner(ScaleSettings()) as runner:
        assert runner.map(slow_square, list(range(12))) == [i * i for i in range(12)]
        assert runner.map(operator.add, [1, 2, 3], shared=10) == [11, 12, 13]
        assert not runner.started  # in process: no client, no cluster


def test_a_cluster_returns_what_the_process_returns_in_the_same_order(cluster):
    items = list(range(12))
    alone = ShardRunner(ScaleSettings()).map(slow_square, items)
    assert cluster.map(slow_square, items) == alone
    assert cluster.map(operator.add, items, shared=100) == [i + 100 for i in items]
    assert cluster.started and cluster.workers == 2
    # the work really ran in two other processes
    assert len(set(cluster.map(worker_pid, list(range(8))))) == 2
    assert os.getpid() not in cluster.map(worker_pid, [0, 1])


def test_equal_items_and_a_repeated_map_keep_their_own_results(cluster):
    assert cluster.map(operator.mul, [3, 3, 3], shared=2) == [6, 6, 6]
    assert cluster.map(operator.mul, [3, 3, 3], shared=2) == [6, 6, 6]


@pytest.mark.parametrize("where", ["process", "cluster"])
def test_a_failing_shard_raises_its_own_exception_type(where, cluster):
    runner = cluster if where == "cluster" else ShardRunner(ScaleSettings())
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        runner.map(operator.truediv, [1, 2, 0, 4], shared=0)
    with pytest.raises(KeyError, match="missing"):
        runner.map(operator.getitem, [{"a": 1}, {}], shared="missing")
    # the runner still works after a failure
    assert runner.map(operator.neg, [1, 2]) == [-1, -2]


def test_no_items_start_nothing():
    runner = ShardRunner(TWO_WORKERS)
    assert runner.map(slow_square, []) == []
    assert not runner.started
    runner.close()


def test_a_command_holds_one_runner_and_stops_its_workers_at_the_end():
    with command_runner(TWO_WORKERS) as held:
        with shard_runner() as inner:
            assert inner is held
        pids = set(map_shards(worker_pid, list(range(6))))
        assert held.started and len(pids) == 2
    assert not held.started
    assert not any(psutil.pid_exists(pid) for pid in pids)
    # outside the command, a block opens (and closes) its own runner
    with shard_runner(ScaleSettings()) as own:
        assert own is not held


def test_a_scheduler_that_does_not_answer_is_one_sentence(monkeypatch):
    monkeypatch.setattr("pipelines.scale.runner.CONNECT_TIMEOUT_SECONDS", 1)
    runner = ShardRunner(ScaleSettings(scheduler="tcp://127.0.0.1:9"))
    with pytest.raises(SchedulerUnavailableError, match="did not answer"):
        runner.map(slow_square, [1])
    runner.close()


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_shows_on_a_terminal_only(monkeypatch, terminal):
    import io

    from rich.console import Console

    out = io.StringIO()
    monkeypatch.setattr("pipelines.console.console",
                        Console(file=out, force_terminal=terminal, width=80))
    ShardRunner(ScaleSettings()).map(slow_square, [1, 2, 3], label="explaining customers")
    assert ("explaining customers" in out.getvalue()) == terminal


def test_blocks_inside_a_block_share_its_runner():
    """A scheduled scoring run opens one runner for its feature build and its explanations."""
    with shard_runner(ScaleSettings()) as outer:
        with shard_runner(TWO_WORKERS) as inner:
            assert inner is outer
    with shard_runner(ScaleSettings()) as after:
        assert after is not outer


@pytest.fixture
def scheduler_without_workers():
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=0, threads_per_worker=1, dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    yield cluster
    cluster.close()


def test_a_scheduler_address_runs_the_shards_on_its_workers(scheduler_without_workers):
    scheduler_without_workers.scale(1)
    runner = ShardRunner(ScaleSettings(scheduler=scheduler_without_workers.scheduler_address))
    try:
        assert runner.map(operator.add, [1, 2, 3], shared=1) == [2, 3, 4]
        assert runner.workers == 1
    finally:
        runner.close()
    assert scheduler_without_workers.status.name == "running"  # not ours to stop


def test_a_scheduler_without_workers_is_one_sentence(monkeypatch, scheduler_without_workers):
    monkeypatch.setattr("pipelines.scale.runner.CONNECT_TIMEOUT_SECONDS", 1)
    runner = ShardRunner(ScaleSettings(scheduler=scheduler_without_workers.scheduler_address))
    with pytest.raises(SchedulerUnavailableError, match="has no workers"):
        runner.map(slow_square, [1])
    assert not runner.started
