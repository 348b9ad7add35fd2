"""CHURN_DASK_SCHEDULER, CHURN_SHARDS and CHURN_TRAIN_ENGINE: what each value means, and one sentence for a value
that means nothing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipelines.operate.failures import failure_message
from pipelines.scale.settings import (
    CUSTOMERS_PER_SHARD,
    DASK,
    LOCAL,
    PROCESS,
    ScaleSettingError,
    ScaleSettings,
    default_shards,
    scheduler_setting,
    shards_setting,
    train_engine_setting,
)


@pytest.mark.parametrize("value, expected", [
    (None, (None, 1)), ("", (None, 1)), ("off", (None, 1)),
    ("local:3", (LOCAL, 3)), ("LOCAL:1", (LOCAL, 1)),
    ("tcp://10.0.0.5:8786", ("tcp://10.0.0.5:8786", 1)),
    ("tls://scheduler.internal:8786/", ("tls://scheduler.internal:8786", 1)),
])
def test_scheduler_values(value, expected):
    assert scheduler_setting(value) == expected


def test_local_without_a_count_uses_the_cores():
    scheduler, workers = scheduler_setting("local")
    assert scheduler == LOCAL and workers >= 1


@pytest.mark.parametrize("value", ["local:0", "local:two", "10.0.0.5:8786", "tcp://host",
                                   "http://host:8786", "tcp://host:99999"])
def test_a_scheduler_value_that_means_nothing_is_refused(value):
    with pytest.raises(ScaleSettingError, match="CHURN_DASK_SCHEDULER"):
        scheduler_setting(value)


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("auto", None),
                                             ("1", 1), (" 16 ", 16)])
def test_shards_values(value, expected):
    assert shards_setting(value) == expected


@pytest.mark.parametrize("value", ["0", "-2", "many", "2.5"])
def test_a_shard_count_that_means_nothing_is_refused(value):
    with pytest.raises(ScaleSettingError, match="CHURN_SHARDS"):
        shards_setting(value)


def test_a_bad_value_ends_a_command_with_one_sentence(monkeypatch):
    monkeypatch.setenv("CHURN_SHARDS", "many")
    with pytest.raises(ScaleSettingError) as raised:
        ScaleSettings.from_env()
    message = failure_message("score", raised.value)
    assert message is not None and message.startswith("score failed: CHURN_SHARDS='many'")
    assert "\n" not in message


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("CHURN_DASK_SCHEDULER", "local:2")
    monkeypatch.setenv("CHURN_SHARDS", "7")
    scale = ScaleSettings.from_env()
    assert scale == ScaleSettings(scheduler=LOCAL, local_workers=2, shards=7)
    assert scale.distributed and scale.shard_count(10, 2) == 7
    monkeypatch.delenv("CHURN_DASK_SCHEDULER")
    monkeypatch.delenv("CHURN_SHARDS")
    assert not ScaleSettings.from_env().distributed


@pytest.mark.parametrize("value, scheduler, expected", [
    (None, None, PROCESS), ("", LOCAL, PROCESS), ("Process", None, PROCESS),
    ("dask", LOCAL, DASK), (" DASK ", "tcp://10.0.0.5:8786", DASK),
])
def test_train_engine_values(value, scheduler, expected):
    assert train_engine_setting(value, scheduler) == expected


def test_training_on_dask_without_a_cluster_says_what_to_set(monkeypatch):
    monkeypatch.delenv("CHURN_DASK_SCHEDULER", raising=False)
    monkeypatch.setenv("CHURN_TRAIN_ENGINE", "dask")
    with pytest.raises(ScaleSettingError) as raised:
        ScaleSettings.from_env()
    message = failure_message("train", raised.value)
    assert message is not None and "\n" not in message
    assert message.startswith("train failed: CHURN_TRAIN_ENGINE=dask")
    assert "CHURN_DASK_SCHEDULER is unset" in message
    monkeypatch.setenv("CHURN_DASK_SCHEDULER", "local:2")
    scale = ScaleSettings.from_env()
    assert scale.train_on_cluster and scale.train_engine == DASK


@pytest.mark.parametrize("value", ["spark", "gpu", "1"])
def test_a_train_engine_that_means_nothing_is_refused(value):
    with pytest.raises(ScaleSettingError, match="neither `process`"):
        train_engine_setting(value, LOCAL)


@given(customers=st.integers(0, 5_000_000), workers=st.integers(1, 64))
def test_default_shards_give_every_worker_work_and_bound_a_shard(customers, workers):
    shards = default_shards(customers, workers)
    assert shards >= 1
    assert customers <= shards * CUSTOMERS_PER_SHARD  # no shard above the bound
    assert shards >= min(workers, customers)  # every worker has a shard while customers last
