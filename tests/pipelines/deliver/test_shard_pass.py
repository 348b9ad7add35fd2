"""A scoring run's pass over the events, read one customer shard at a time from the staged
version, gives exactly the facts of the same tables loaded whole: the features, the value
estimate, the churn history, the base-wide figures, the backtest, the track record, the
volume and the open complaints, for any shard count and churn definition."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from features.labels import LabelSpec
from pipelines.deliver.run_history import newest_matured_list
from pipelines.deliver.shard_pass import (
    FactsRequest,
    ScoringFacts,
    data_now,
    facts_by_shard,
    facts_in_memory,
)
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables, publish_staged, staged_version_dir
from tests.simulated import staged_from_simulation

DEFINITIONS = [LabelSpec(horizon_days=60), LabelSpec(horizon_days=60, definition="cancellation")]


def _archive(settings: Settings, tables, as_of: dt.date, run_id: str, spec: LabelSpec,
             seed: int) -> None:
    """A shipped list of every customer (probabilities and tiers at random) at `as_of`."""
    rng = np.random.default_rng(seed)
    ids = tables.customers["customer_id"].astype(str).sample(frac=1.0, random_state=seed)
    probability = rng.random(len(ids))
    run_dir = settings.scored_dir / str(as_of) / run_id
    run_dir.mkdir(parents=True)
    pd.DataFrame({"customer_id": ids.to_numpy(), "churn_probability": probability,
                  "risk_tier": np.where(probability > 0.7, "Critical",
                                        np.where(probability > 0.4, "Watch", "Safe")),
                  "value_at_risk": rng.random(len(ids)) * 100,
                  "annual_revenue": rng.random(len(ids)) * 200}
                 ).to_parquet(run_dir / "risk_list.parquet")
    (run_dir / "metadata.json").write_text(json.dumps({
        "as_of": str(as_of), "run_id": run_id, "model_version": "1",
        "label": spec.model_dump(), "tier_policy": {"top_tiers": ["Critical"]},
        "model_validation": {"roc_auc": 0.8, "pr_auc": 0.5}}))
    (run_dir / "report.html").write_text("<html></html>")


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    """Simulated tables staged as a version, and an archive of matured and fresh lists."""
    tables = staged_from_simulation(customers=400, seed=11)
    end = tables.purchases["order_date"].max().date()
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"),
                        mlflow_tracking_uri="sqlite:///unused.db")
    publish_staged(settings, {k: f for k, f in tables.as_dict().items() if f is not None}, {})
    for k, (days, spec) in enumerate([(200, DEFINITIONS[0]), (120, DEFINITIONS[1]),
                                      (90, DEFINITIONS[0]), (10, DEFINITIONS[0])]):
        _archive(settings, tables, end - dt.timedelta(days=days), f"run{k}", spec, seed=k)
    return settings, staged_version_dir(settings), end


def _assert_same(sharded: ScoringFacts, whole: ScoringFacts) -> None:
    assert sharded.features is not None and whole.features is not None
    pd.testing.assert_frame_equal(sharded.features, whole.features, check_exact=True)
    assert sharded.revenue.method == whole.revenue.method
    assert sharded.revenue.evidence == whole.revenue.evidence
    if whole.revenue.per_customer is None:
        assert sharded.revenue.per_customer is None
    else:
        assert sharded.revenue.per_customer is not None
        pd.testing.assert_series_equal(sharded.revenue.per_customer.sort_index(),
                                       whole.revenue.per_customer.sort_index(),
                                       check_exact=True)
    pd.testing.assert_frame_equal(sharded.past.churn_history, whole.past.churn_history,
                                  check_exact=True)
    pd.testing.assert_frame_equal(sharded.past.figures.retention, whole.past.figures.retention,
                                  check_exact=True)
    pd.testing.assert_series_equal(sharded.past.figures.revenue, whole.past.figures.revenue,
                                   check_exact=True)
    pd.testing.assert_frame_equal(sharded.past.figures.kpis, whole.past.figures.kpis,
                                  check_exact=True)
    assert (sharded.past.backtest is None) == (whole.past.backtest is None)
    if whole.past.backtest is not None and sharded.past.backtest is not None:
        assert sharded.past.backtest[1] == whole.past.backtest[1]
        pd.testing.assert_frame_equal(sharded.past.backtest[0], whole.past.backtest[0],
                                      check_exact=True)
    pd.testing.assert_frame_equal(sharded.past.record.lists, whole.past.record.lists,
                                  check_exact=True)
    pd.testing.assert_frame_equal(sharded.past.record.tiers, whole.past.record.tiers,
                                  check_exact=True)
    assert sharded.past.volume == whole.past.volume
    # each customer's oldest open complaint; the list merges them by customer
    pd.testing.assert_frame_equal(
        sharded.open_complaints.sort_values("customer_id", ignore_index=True),
        whole.open_complaints.sort_values("customer_id", ignore_index=True), check_exact=True)
    assert sharded.available == whole.available


@pytest.mark.parametrize("spec", DEFINITIONS, ids=lambda s: s.definition)
@pytest.mark.parametrize("shards", [1, 2, 5])
def test_the_pass_by_shard_gives_the_facts_of_the_tables_loaded_whole(staged, spec, shards):
    settings, folder, end = staged
    request = FactsRequest(end, spec, backtest=newest_matured_list(settings, end, spec, True))
    assert request.backtest is not None  # the 90-day-old list has matured
    whole = facts_in_memory(settings, load_source_tables(settings, folder), request)
    sharded = facts_by_shard(settings, folder, shards, request)
    _assert_same(sharded, whole)
    # what was asserted is there to compare: lists graded, figures filled
    assert (whole.past.record.lists["status"] == "graded").sum() >= 2
    assert len(whole.past.churn_history) and len(whole.past.figures.retention)
    assert whole.past.volume["customers"] > 300


def test_the_pass_at_an_earlier_date_reads_nothing_after_it(staged):
    """At a date before the data's end, the shards' facts are still the whole tables'."""
    settings, folder, end = staged
    as_of = end - dt.timedelta(days=60)
    spec = DEFINITIONS[0]
    request = FactsRequest(as_of, spec,
                           backtest=newest_matured_list(settings, as_of, spec, True))
    whole = facts_in_memory(settings, load_source_tables(settings, folder), request)
    _assert_same(facts_by_shard(settings, folder, 3, request), whole)
    assert whole.past.record.lists["as_of"].max() <= as_of  # later lists not read


@pytest.mark.parametrize("shards", [1, 4])
def test_what_the_retrain_rules_read_by_shard_is_what_they_read_of_the_whole_tables(
        staged, shards):
    """`data_now`: the features, track record and volume the retrain rules measure."""
    settings, folder, end = staged
    whole = data_now(settings, load_source_tables(settings, folder), end)
    sharded = data_now(settings, folder, end, shards=shards)
    pd.testing.assert_frame_equal(sharded.features, whole.features, check_exact=True)
    pd.testing.assert_frame_equal(sharded.record.lists, whole.record.lists, check_exact=True)
    pd.testing.assert_frame_equal(sharded.record.tiers, whole.record.tiers, check_exact=True)
    assert sharded.volume == whole.volume and sharded.available == whole.available
    assert (whole.record.lists["status"] == "graded").sum() >= 2
