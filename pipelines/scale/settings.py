"""`CHURN_DASK_SCHEDULER`, `CHURN_SHARDS` and `CHURN_TRAIN_ENGINE`: where shard work runs,
into how many shards customers are split, and whether training's final booster is fitted on
the cluster (`lightgbm.dask`); read once from the environment at a command's entry.

Unset, everything runs in this process as before. `local` or `local:N` starts a
`distributed.LocalCluster` of N worker processes (one thread each) for the command and stops
it at the end; `tcp://host:port` (or `tls://`) uses a scheduler someone else runs. The shard
count never changes a result (`pipelines.scale.runner` puts the rows back in their order); it
only bounds what one worker holds at once.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

SCHEDULER_VARIABLE = "CHURN_DASK_SCHEDULER"
SHARDS_VARIABLE = "CHURN_SHARDS"
TRAIN_ENGINE_VARIABLE = "CHURN_TRAIN_ENGINE"
#: `CHURN_TRAIN_ENGINE` values: the booster fitted in this process, or on the Dask cluster.
PROCESS, DASK = "process", "dask"
LOCAL = "local"
# `local` without a count: one worker per core, at most this many (each holds a model and a
# shard: more workers than cores only add memory).
MAX_DEFAULT_LOCAL_WORKERS = 8
# The default shard size: a shard's SHAP contributions (customers × features × 8 bytes) stay
# around 100 MB for a model of ~120 features.
CUSTOMERS_PER_SHARD = 100_000
SCHEDULER_SCHEMES = ("tcp", "tls", "inproc", "ucx", "ws", "wss")


class ScaleSettingError(ValueError):
    """A `CHURN_DASK_SCHEDULER`, `CHURN_SHARDS` or `CHURN_TRAIN_ENGINE` value that means
    nothing."""


@dataclass(frozen=True)
class ScaleSettings:
    """Where shard work runs: `scheduler` None in this process, `local` on a LocalCluster of
    `local_workers`, else that scheduler's address; `shards` None for `default_shards`;
    `train_engine` where training fits its final booster (`DASK` needs a scheduler)."""

    scheduler: str | None = None
    local_workers: int = 1
    shards: int | None = None
    train_engine: str = PROCESS

    @classmethod
    def from_env(cls) -> ScaleSettings:
        scheduler, workers = scheduler_setting(os.environ.get(SCHEDULER_VARIABLE))
        return cls(scheduler=scheduler, local_workers=workers,
                   shards=shards_setting(os.environ.get(SHARDS_VARIABLE)),
                   train_engine=train_engine_setting(os.environ.get(TRAIN_ENGINE_VARIABLE),
                                                     scheduler))

    @property
    def train_on_cluster(self) -> bool:
        """Training's final booster is fitted by `lightgbm.dask` on the cluster."""
        return self.train_engine == DASK

    @property
    def distributed(self) -> bool:
        return self.scheduler is not None

    def shard_count(self, customers: int, workers: int) -> int:
        """The shards `customers` are split into: the setting, else `default_shards`."""
        return self.shards if self.shards is not None else default_shards(customers, workers)

    def describe(self) -> str:
        if self.scheduler is None:
            return "in this process"
        if self.scheduler == LOCAL:
            return f"a local Dask cluster of {self.local_workers} workers"
        return f"the Dask scheduler at {self.scheduler}"


def default_shards(customers: int, workers: int) -> int:
    """One shard per `CUSTOMERS_PER_SHARD` customers, and at least one per worker (so every
    worker has work) while there are customers to go round; 1 for an empty table."""
    return max(1, min(workers, customers), math.ceil(customers / CUSTOMERS_PER_SHARD))


def default_local_workers() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_LOCAL_WORKERS))


_LOCAL_PATTERN = re.compile(r"^local(?::(\d+))?$")
_ADDRESS_PATTERN = re.compile(r"^(?P<scheme>[a-z]+)://(?P<host>[^\s/:]+|\[[0-9a-fA-F:]+\]):"
                              r"(?P<port>\d{1,5})/?$")


def scheduler_setting(value: str | None) -> tuple[str | None, int]:
    """`(scheduler, local workers)` from `CHURN_DASK_SCHEDULER`: `(None, 1)` unset,
    `("local", N)` for `local[:N]`, `(address, 1)` for `scheme://host:port`."""
    text = (value or "").strip()
    if not text or text.lower() in {"off", "none"}:
        return None, 1
    local = _LOCAL_PATTERN.match(text.lower())
    if local:
        workers = int(local.group(1)) if local.group(1) else default_local_workers()
        if workers < 1:
            raise ScaleSettingError(f"{SCHEDULER_VARIABLE}={value!r} asks for no workers; use "
                                    "`local:N` with N 1 or more, or unset it")
        return LOCAL, workers
    address = _ADDRESS_PATTERN.match(text)
    if address and address.group("scheme") in SCHEDULER_SCHEMES \
            and 0 < int(address.group("port")) < 65536:
        return text.rstrip("/"), 1
    raise ScaleSettingError(
        f"{SCHEDULER_VARIABLE}={value!r} is neither a scheduler address (tcp://host:8786) nor "
        "`local` / `local:N` (a Dask cluster of N workers on this machine); fix it, or unset "
        "it to run in this process")


def shards_setting(value: str | None) -> int | None:
    """`CHURN_SHARDS`: a whole number of shards (1 or more), or unset (None: the default)."""
    text = (value or "").strip()
    if not text or text.lower() == "auto":
        return None
    try:
        shards = int(text)
    except ValueError:
        shards = 0
    if shards < 1:
        raise ScaleSettingError(f"{SHARDS_VARIABLE}={value!r} is not a whole number of "
                                "customer shards (1 or more); fix it, or unset it for one "
                                f"shard per {CUSTOMERS_PER_SHARD:,} customers")
    return shards


def train_engine_setting(value: str | None, scheduler: str | None) -> str:
    """`CHURN_TRAIN_ENGINE`: `process` (also when unset) or `dask`, which needs
    `CHURN_DASK_SCHEDULER` (`scheduler`) to name a cluster."""
    text = (value or "").strip().lower()
    if not text or text == PROCESS:
        return PROCESS
    if text != DASK:
        raise ScaleSettingError(
            f"{TRAIN_ENGINE_VARIABLE}={value!r} is neither `{PROCESS}` (fit the model in this "
            f"process) nor `{DASK}` (fit it with lightgbm.dask on the cluster "
            f"{SCHEDULER_VARIABLE} names); fix it, or unset it to train in this process")
    if scheduler is None:
        raise ScaleSettingError(
            f"{TRAIN_ENGINE_VARIABLE}=dask fits the model on a Dask cluster, but "
            f"{SCHEDULER_VARIABLE} is unset; set it to `local` / `local:N` or a scheduler "
            f"address (tcp://host:8786), or unset {TRAIN_ENGINE_VARIABLE} to train in this "
            "process")
    return DASK
