"""Bounding the Prefect run history against a real (temporary) Prefect API: which flow runs
and artifacts go, which stay, and which bound applies where.

The API stamps runs and artifacts with its own clock, so the cutoff is taken from what it
stamped: everything made before the first "new" run is old, whatever the wall clock says.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from pipelines.operate import prefect_history as history
from pipelines.store.settings import PREFECT_HISTORY_OFF, Settings, prefect_history_days_setting


def _settings(tmp_path, retention=None, own=None) -> Settings:
    return Settings(data_dir=tmp_path, mlflow_tracking_uri="sqlite:///x.db",
                    retention_days=retention, prefect_history_days=own)


@pytest.mark.parametrize(("retention", "own", "data_dir_api", "days"), [
    (None, None, True, history.DEFAULT_HISTORY_DAYS),  # a year of weekly runs browsable
    (90, None, True, 90),  # the retention period bounds Prefect's copy too
    (None, 30, True, 30),
    (90, 30, True, 30),
    (500, None, True, history.DEFAULT_HISTORY_DAYS),
    (None, PREFECT_HISTORY_OFF, True, None),
    (90, PREFECT_HISTORY_OFF, True, 90),
    (None, None, False, None),  # a configured (shared) server: only when asked
    (90, None, False, None),
    (90, 30, False, 30),
])
def test_which_bound_applies(tmp_path, retention, own, data_dir_api, days):
    assert history.history_days(_settings(tmp_path, retention, own), data_dir_api) == days


def test_the_setting_reads_days_or_off():
    assert prefect_history_days_setting(None) is None
    assert prefect_history_days_setting(" 30 ") == 30
    assert prefect_history_days_setting("off") == PREFECT_HISTORY_OFF
    for bad in ("0", "-3", "a year"):
        with pytest.raises(ValueError, match="CHURN_PREFECT_HISTORY_DAYS"):
            prefect_history_days_setting(bad)


def test_the_data_dir_api_is_the_temporary_one_or_the_recorded_server(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / ".prefect"))
    settings = _settings(tmp_path)
    assert history.uses_data_dir_api(settings, None)
    assert not history.uses_data_dir_api(settings, "http://127.0.0.1:4200/api")
    (tmp_path / ".prefect").mkdir()
    (tmp_path / ".prefect" / "churn-api.json").write_text(
        '{"url": "http://127.0.0.1:4200/api", "pid": 1}')
    assert history.uses_data_dir_api(settings, "http://127.0.0.1:4200/api")
    assert not history.uses_data_dir_api(settings, "http://prefect.example.org/api")


def test_our_flow_names_are_the_pipelines_flows():
    names = history.pipeline_flow_names()
    assert {"churn-ingest", "churn-score", "churn-weekly"} <= set(names)
    assert all(name.startswith("churn-") for name in names)


def _flow(name: str):
    from prefect import Flow

    return Flow(fn=lambda: None, name=name)


def _table(client, run_id, customer: str, key: str = "churn-top-customers"):
    from prefect.client.schemas.actions import ArtifactCreate

    return client.create_artifact(ArtifactCreate(
        key=key, type="table", flow_run_id=run_id,
        data=[{"customer_id": customer, "churn_probability": 0.9}])).id


def _exists(client, read, object_id) -> bool:
    from prefect.exceptions import ObjectNotFound

    try:
        read(object_id)
    except ObjectNotFound:
        return False
    return True


def test_prune_removes_exactly_the_old_finished_runs_of_our_flows(prefect_api):
    from prefect import get_client
    from prefect.client.schemas.actions import ArtifactCreate
    from prefect.states import Completed, Failed, Running

    ours = f"churn-history-test-{uuid.uuid4().hex[:8]}"
    theirs = f"someone-else-{uuid.uuid4().hex[:8]}"
    with get_client(sync_client=True) as client:
        old_done = client.create_flow_run(_flow(ours), state=Completed())
        old_failed = client.create_flow_run(_flow(ours), state=Failed())
        old_running = client.create_flow_run(_flow(ours), state=Running())
        current = client.create_flow_run(_flow(ours), state=Completed())
        other_flow = client.create_flow_run(_flow(theirs), state=Completed())
        old_artifact = _table(client, old_done.id, "C1")
        running_artifact = _table(client, old_running.id, "C2")
        orphan = client.create_artifact(ArtifactCreate(
            key="churn-scoring-summary", type="markdown", data="# old run")).id
        new_done = client.create_flow_run(_flow(ours), state=Completed())
        new_artifact = _table(client, new_done.id, "C3")
        cutoff = client.read_flow_run(new_done.id).expected_start_time
        assert cutoff is not None

        pruned = history.prune_history(cutoff, [ours], keep={current.id})

        made = (old_done, old_failed, old_running, current, other_flow, new_done)
        gone = {r.id for r in made if not _exists(client, client.read_flow_run, r.id)}
        assert gone == {old_done.id, old_failed.id}
        assert sorted(pruned.flow_runs) == sorted(f"{r.name} ({r.id})"
                                                  for r in (old_done, old_failed))
        left = {a.id for a in client.read_artifacts()}
        assert old_artifact not in left and orphan not in left
        assert {running_artifact, new_artifact} <= left
        assert pruned.artifacts >= 2  # the session's other tests may have left old ones

        again = history.prune_history(cutoff, [ours], keep={current.id})
        assert again.flow_runs == []


def test_prune_through_the_settings_only_on_request_on_a_configured_api(prefect_api, tmp_path):
    """The test harness is a configured API (not the data dir's), so nothing goes unless
    `CHURN_PREFECT_HISTORY_DAYS` says so; then only the pipeline's own flows."""
    from prefect import get_client
    from prefect.states import Completed

    with get_client(sync_client=True) as client:
        old = client.create_flow_run(_flow("churn-score"), state=Completed())
        other = client.create_flow_run(_flow(f"not-ours-{uuid.uuid4().hex[:8]}"),
                                       state=Completed())
        made = client.read_flow_run(other.id).expected_start_time
        assert made is not None
        later = made + dt.timedelta(days=30, seconds=1)  # both a month and a second old
        assert history.prune_prefect_history(_settings(tmp_path, retention=30), later) is None
        assert _exists(client, client.read_flow_run, old.id)

        pruned = history.prune_prefect_history(_settings(tmp_path, own=30), later)
        assert pruned is not None and f"{old.name} ({old.id})" in pruned.flow_runs
        assert not _exists(client, client.read_flow_run, old.id)
        assert _exists(client, client.read_flow_run, other.id)


def test_erase_artifacts_matches_whole_ids_only(prefect_api, tmp_path):
    from prefect import get_client
    from prefect.states import Completed

    with get_client(sync_client=True) as client:
        run = client.create_flow_run(_flow("churn-score"), state=Completed())
        named = _table(client, run.id, "C-ERASE-7")
        longer = _table(client, run.id, "C-ERASE-77")
        foreign = _table(client, run.id, "C-ERASE-7", key="not-our-artifact")
        deleted = history.erase_artifacts(["C-ERASE-7"], _settings(tmp_path))
        assert deleted == [f"churn-top-customers of flow run {run.id}"]
        left = {a.id for a in client.read_artifacts()}
        assert named not in left
        # a configured API: only this pipeline's artifacts are ours to delete
        assert {longer, foreign} <= left


def test_without_an_api_nor_a_database_there_is_nothing_to_clean(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / ".prefect"))
    settings = _settings(tmp_path)
    assert history.has_no_history(settings, None)
    assert not history.has_no_history(settings, "http://127.0.0.1:4200/api")
    (tmp_path / ".prefect").mkdir()
    (tmp_path / ".prefect" / "prefect.db").write_bytes(b"")
    assert not history.has_no_history(settings, None)


def test_an_unreachable_api_leaves_the_retention_task_done(tmp_path, monkeypatch, caplog):
    """The run's own work is done when pruning the history fails: a warning, not a failure."""
    import httpx

    from pipelines.tasks.privacy import prune_expired_data

    def unreachable(settings, now):
        raise httpx.ConnectError("All connection attempts failed")

    monkeypatch.setattr(history, "prune_prefect_history", unreachable)
    with caplog.at_level("WARNING", logger="churn"):
        assert prune_expired_data.fn(_settings(tmp_path)) == []
    assert "the Prefect run history was not pruned" in caplog.text
