"""The feature table built by customer shard is the whole build's table, row for row."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.event_types import customer_features_with_event_types, learn_event_types
from features.sharded import feature_jobs, joined_features, shard_features, tables_by_shard
from features.shards import customer_shards
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
