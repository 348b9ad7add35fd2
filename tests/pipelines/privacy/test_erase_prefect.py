"""`churn erase` and the Prefect history: artifacts of past runs that name an erased
customer (by id, or by the pseudonym `--pseudonymize` gave it) are deleted and recorded; an
API that cannot be reached is said and recorded, and the rest of the erasure still done."""

from __future__ import annotations

import pytest

from models.privacy import pseudonym
from pipelines.ingest.run import ingest_raw_exports
from pipelines.privacy.erase import erase_customers
from pipelines.privacy.erasure_log import erasure_records
from pipelines.store.settings import Settings

KEY = "k" * 32


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.delenv("CHURN_ERASURE_KEY", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("CHURN_PSEUDONYM_KEY", KEY)
    settings = Settings.from_env(tmp_path / "data")
    (settings.raw_dir / "purchases").mkdir(parents=True)
    (settings.raw_dir / "purchases" / "o.csv").write_text(
        "customer_id,order_id,order_date,amount\nCX1,O1,2024-01-05,5\nCX2,O2,2024-01-06,6\n"
        "CX3,O3,2024-01-07,7\n")
    ingest_raw_exports(settings)
    return settings


def _artifact(client, data, key="churn-top-customers"):
    from prefect.client.schemas.actions import ArtifactCreate

    return client.create_artifact(ArtifactCreate(key=key, type="table", data=data)).id


def test_artifacts_naming_the_customer_are_deleted_and_recorded(prefect_api, settings):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        # an older release's artifact: names next to ids
        by_id = _artifact(client, [{"customer_id": "CX1", "name": "Ann Erased"}])
        by_pseudonym = _artifact(client, [{"customer_id": pseudonym("CX2", KEY.encode())}])
        summary = _artifact(client, "# Top\n\n| CX1 | 0.9 |\n", key="churn-scoring-summary")
        kept = _artifact(client, [{"customer_id": "CX3"}])
        erased = erase_customers(settings, ["CX1", "CX2"])
        left = {a.id for a in client.read_artifacts()}
    assert not {by_id, by_pseudonym, summary} & left
    assert kept in left
    assert len(erased.prefect_artifacts) == 3 and erased.prefect_not_cleaned == ""
    records = erasure_records(settings)
    assert len(records) == 2
    for record in records:
        assert record["prefect_history_cleaned"] is True
        assert sorted(record["prefect_artifacts"]) == sorted(erased.prefect_artifacts)
        assert "CX1" not in str(record) and "CX2" not in str(record)


def test_an_unreachable_api_is_recorded_and_the_rest_is_erased(settings, monkeypatch):
    import httpx

    from pipelines.operate import prefect_history

    def unreachable(names, settings):
        raise httpx.ConnectError("All connection attempts failed")

    monkeypatch.setattr(prefect_history, "erase_artifacts", unreachable)
    erased = erase_customers(settings, ["CX1"])
    assert erased.touched["staged/purchases"] == 1
    assert "All connection attempts failed" in erased.prefect_not_cleaned
    [record] = erasure_records(settings)
    assert record["prefect_history_cleaned"] is False and record["prefect_artifacts"] == []
