"""The feature table (and training's snapshots) built by customer shard is the whole build's,
row for row."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.event_types import customer_features_with_event_types, learn_event_types
from features.labels import LabelSpec
from features.sharded import (
    feature_jobs,
    joined_features,
    shard_features,
    shard_snapshots,
    snapshot_jobs,
    tables_by_shard,
)
from features.shards import customer_shards
from features.snapshots import build_model_input
from tests.simulated import staged_from_simulation


@pytest.fixture(scope="module")
def business():
    tables = staged_from_simulation(customers=300, seed=11)
    as_of = tables.purchases["order_date"].max().date() - dt.timedelta(days=20)
    types = learn_event_types(tables.interactions, as_of, top_n=2)
    assert types  # the learned-type columns are part of what must match
    return tables, as_of, types


@pytest.fixture(scope="module")
def whole(business):
    tables, as_of, types = business
    return customer_features_with_event_types(tables, as_of, types)


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shards=st.integers(1, 7))
def test_any_shard_count_builds_the_whole_table(business, whole, shards):
    tables, as_of, types = business
    jobs = feature_jobs(tables, as_of, shards, types)
    joined = joined_features([shard_features(job) for job in jobs])
    assert len(whole) > 50
    pd.testing.assert_frame_equal(joined, whole, check_exact=True)


def test_every_row_of_every_table_lands_in_its_customers_shard(business):
    tables, _, _ = business
    parts = tables_by_shard(tables, 3)
    for kind, frame in tables.as_dict().items():
        if frame is None:
            continue
        held = [p.as_dict()[kind] for p in parts]
        assert sum(len(h) for h in held) == len(frame)
        for h in held:
            assert len(set(customer_shards(h["customer_id"], 3))) <= 1


@pytest.mark.parametrize("definition", ["no_purchase", "cancellation"])
def test_shard_snapshots_are_the_whole_model_inputs_rows(business, definition):
    """Labels read each customer's own rows only: the snapshots built shard by shard (what
    training on a cluster fits on) are the whole build's, at every cutoff."""
    tables, as_of, types = business
    spec = LabelSpec(horizon_days=60, definition=definition)
    cutoffs = [as_of - dt.timedelta(days=60 + 30 * k) for k in (3, 2, 1)]
    whole = build_model_input(tables, cutoffs, spec, data_end=as_of, event_types=types)
    jobs = snapshot_jobs(tables, cutoffs, spec, as_of, 4, types)
    parts = pd.concat([shard_snapshots(job) for job in jobs], ignore_index=True)
    order = ["cutoff", "customer_id"]
    assert len(whole) > 300 and whole["churned"].nunique() == 2
    pd.testing.assert_frame_equal(
        parts.sort_values(order, kind="stable").reset_index(drop=True),
        whole.sort_values(order, kind="stable").reset_index(drop=True), check_exact=True)
