"""Run a pure function over shards: in this process, or on the Dask cluster the settings name.

`shard_runner()` gives the runner of the current command: the one `command_runner()` holds
(the CLI opens it around a command, so a chain of flows starts one cluster, not one per
step), else one opened for the caller's block and closed at its end. `runner.map(function,
items, shared=...)` calls `function(item)` (or `function(item, shared)`) for every item and
returns the results in the items' order, whichever worker finished first. `shared` (a model,
a lookup table) travels to each worker once, not once per shard. A function that raises on a
worker raises the same exception type here, with its message.

Prefect's Dask task runner is not used: in ephemeral mode it starts one Prefect API per
worker and hung (stack notes, "Scale-out with Dask"). The Dask client is driven from ordinary
Prefect tasks instead, and the cluster is started only when something is mapped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pipelines.scale.settings import LOCAL, SCHEDULER_VARIABLE, ScaleSettings
from pipelines.tracking.problems import ServiceUnavailableError

if TYPE_CHECKING:  # distributed is imported when a cluster is first used
    from distributed import Client

T = TypeVar("T")
R = TypeVar("R")

# A scheduler that is there answers within this; a wrong address fails the command this fast.
CONNECT_TIMEOUT_SECONDS = 20
# Below this many shards a progress bar only flickers.
PROGRESS_MIN_ITEMS = 2
_NOT_SHARED = object()


class SchedulerUnavailableError(ServiceUnavailableError):
    """The Dask scheduler `CHURN_DASK_SCHEDULER` names does not answer."""


class ShardRunner:
    """Maps pure, picklable functions over shards where `settings` say; `close()` ends what
    it started (a LocalCluster's processes, the client's connection)."""

    def __init__(self, settings: ScaleSettings) -> None:
        self.settings = settings
        self._client: Client | None = None
        self._cluster: Any = None
        self._lock = threading.Lock()

    @property
    def workers(self) -> int:
        """How many shards run at once: 1 in process, else the cluster's worker threads."""
        if not self.settings.distributed:
            return 1
        if self.settings.scheduler == LOCAL:
            return self.settings.local_workers
        return max(1, sum(self.client().nthreads().values()))

    @property
    def started(self) -> bool:
        """Whether this runner holds a Dask client (it starts on the first cluster map)."""
        return self._client is not None

    def sees(self, folder: Path) -> bool:
        """Whether every worker reads the same staged version at `folder` as this process
        (`pipelines.store.staged.staged_fingerprint`): always in process and on a local
        cluster's filesystem; on a remote cluster only where the data dir is shared."""
        from pipelines.store.staged import staged_fingerprint

        here = staged_fingerprint(str(folder))
        if here is None:
            return False
        if not self.settings.distributed:
            return True
        seen = self.client().run(staged_fingerprint, str(folder))
        return bool(seen) and all(value == here for value in seen.values())

    def shard_count(self, customers: int) -> int:
        """The shards `customers` are split into under these settings."""
        return self.settings.shard_count(customers, self.workers)

    def map(self, function: Callable[..., R], items: Sequence[Any], *,
            shared: Any = _NOT_SHARED, label: str = "shards") -> list[R]:
        """`function(item[, shared])` for each item, results in the items' order."""
        if not items:
            return []
        if not self.settings.distributed:
            with _progress(label, len(items)) as advance:
                results = []
                for item in items:
                    results.append(function(item) if shared is _NOT_SHARED
                                   else function(item, shared))
                    advance()
                return results
        return self._map_on_cluster(function, items, shared, label)

    def _map_on_cluster(self, function: Callable[..., R], items: Sequence[Any], shared: Any,
                        label: str) -> list[R]:
        from distributed import as_completed

        client = self.client()
        futures: list[Any] = []
        held: list[Any] = []  # what this map put on the cluster, released at its end
        try:
            # hash=False: two equal items (or a map repeated) never share a key that the
            # first map's clean-up releases under the second
            scattered = client.scatter(list(items), hash=False)
            held += scattered
            extra = []
            if shared is not _NOT_SHARED:
                model = client.scatter(shared, broadcast=True, hash=False)
                held.append(model)
                extra = [[model] * len(items)]
            # pure=False: items are shards, not values worth hashing into a key
            futures = client.map(function, scattered, *extra, pure=False)
            position = {future.key: i for i, future in enumerate(futures)}
            results: list[Any] = [None] * len(futures)
            with _progress(label, len(futures)) as advance:
                for future in as_completed(futures, loop=client.loop):
                    # result() raises the worker's exception as its own type
                    results[position[future.key]] = future.result()
                    advance()
        finally:
            client.cancel([*futures, *held])
        return results

    def client(self) -> Client:
        """The Dask client, started on first use (a LocalCluster, or a connection)."""
        with self._lock:
            if self._client is None:
                self._client = self._start()
            return self._client

    def _start(self) -> Client:
        from distributed import Client, LocalCluster

        if self.settings.scheduler == LOCAL:
            self._cluster = LocalCluster(
                n_workers=self.settings.local_workers, threads_per_worker=1, processes=True,
                # a failed shard is raised here with its message: the workers' own
                # "Compute Failed" log lines would only repeat it
                dashboard_address=None, silence_logs=logging.CRITICAL,
                # the scheduler's health routes on any free loopback port: 8787 (its
                # default) may be another cluster's, and no other machine needs them
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
            try:
                return Client(self._cluster, set_as_default=False)
            except BaseException:
                self._cluster.close()
                self._cluster = None
                raise
        where = f"the Dask scheduler at {self.settings.scheduler} ({SCHEDULER_VARIABLE})"
        remedy = ("start it (`dask scheduler`) and its workers (`dask worker <address>`), or "
                  "set it to `local` for a cluster on this machine, or unset it to run in "
                  "this process")
        try:
            client = Client(self.settings.scheduler, timeout=CONNECT_TIMEOUT_SECONDS,
                            set_as_default=False)
        except (OSError, TimeoutError) as error:
            raise SchedulerUnavailableError(
                f"{where} did not answer within {CONNECT_TIMEOUT_SECONDS} s; {remedy}") \
                from error
        try:  # a scheduler without workers would take the shards and never run them
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_SECONDS)
        except (OSError, TimeoutError) as error:
            client.close()
            raise SchedulerUnavailableError(
                f"{where} has no workers after {CONNECT_TIMEOUT_SECONDS} s; {remedy}") \
                from error
        return client

    def close(self) -> None:
        """Close the client and stop the LocalCluster this runner started (its processes
        with it); a runner that never mapped anything started nothing."""
        with self._lock:
            client, cluster = self._client, self._cluster
            self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


_HELD: dict[str, ShardRunner | None] = {"runner": None}


@contextmanager
def command_runner(settings: ScaleSettings | None = None) -> Iterator[ShardRunner]:
    """The runner every `shard_runner()` of this command uses until the block ends; its
    cluster starts on first use and stops at the end of the block."""
    runner = ShardRunner(settings or ScaleSettings.from_env())
    previous, _HELD["runner"] = _HELD["runner"], runner
    try:
        yield runner
    finally:
        _HELD["runner"] = previous
        runner.close()


@contextmanager
def shard_runner(settings: ScaleSettings | None = None) -> Iterator[ShardRunner]:
    """The command's runner when one is held, else one for this block (closed at its end);
    `settings` (default: the environment) only apply to a runner opened here."""
    held = _HELD["runner"]
    if held is not None:
        yield held
        return
    with command_runner(settings) as runner:
        yield runner


def map_shards(function: Callable[..., R], items: Sequence[Any], *, shared: Any = _NOT_SHARED,
               label: str = "shards") -> list[R]:
    """`shard_runner().map(...)`: for a caller that maps once and needs no shard count."""
    with shard_runner() as runner:
        return runner.map(function, items, shared=shared, label=label)


@contextmanager
def _progress(label: str, total: int) -> Iterator[Callable[[], None]]:
    """A transient rich progress bar on the CLI's console while shards finish (a terminal
    and more than one shard only); yields the function that marks one shard done."""
    from pipelines.console import console

    if total < PROGRESS_MIN_ITEMS or not console.is_terminal:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress("[bold]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)
