"""Tables stored in shard order: any shard of any count reads back exactly its customers' rows,
from the row groups that hold them only."""

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.shards import customer_shards
from pipelines.store.partitioned import (
    LAYOUT_KEY,
    key_ranges,
    read_shard,
    shard_row_groups,
    write_partitioned,
)


def _orders(customers: int, per_customer: int = 3) -> pd.DataFrame:
    ids = [f"C{i:05d}" for i in range(customers) for _ in range(per_customer)]
    return pd.DataFrame({
        "customer_id": pd.Series(ids, dtype="str"),
        "order_id": [f"O{i}" for i in range(len(ids))],
        "amount": np.arange(len(ids), dtype="float64") / 7,
        "ts": pd.date_range("2025-01-01", periods=len(ids), freq="h", tz="UTC"),
    })


def _expected_shard(frame: pd.DataFrame, shard: int, shards: int) -> pd.DataFrame:
    return frame[customer_shards(frame["customer_id"], shards) == shard].reset_index(drop=True)


def test_every_shard_of_every_count_reads_back_its_rows_in_the_stored_order(tmp_path):
    frame = _orders(700)
    path = tmp_path / "purchases.parquet"
    write_partitioned(frame, path, rows_per_group=100)
    # the file is an ordinary parquet table: read whole it holds every row once
    whole = pd.read_parquet(path)
    pd.testing.assert_frame_equal(
        whole.sort_values("order_id", key=lambda s: s.str[1:].astype(int)).reset_index(
            drop=True), frame)
    for shards in (1, 2, 3, 7, 16):
        parts = [read_shard(path, shard, shards) for shard in range(shards)]
        for shard, part in enumerate(parts):  # the stored order: by key, then as given
            pd.testing.assert_frame_equal(part, _expected_shard(whole, shard, shards))
        assert sum(len(p) for p in parts) == len(frame)


def test_one_shard_opens_only_the_row_groups_that_hold_it(tmp_path):
    path = tmp_path / "purchases.parquet"
    write_partitioned(_orders(2_000), path, rows_per_group=200)
    ranges = key_ranges(path)
    assert ranges is not None and len(ranges) == pq.ParquetFile(path).num_row_groups == 30
    assert all(low <= high for low, high in ranges)
    assert all(ranges[i][1] <= ranges[i + 1][0] for i in range(len(ranges) - 1))  # in order
    for shards in (3, 10):
        groups = [shard_row_groups(ranges, shard, shards) for shard in range(shards)]
        # each shard reads about its share of the groups, at most one more at each end
        assert all(len(g) <= 30 // shards + 2 for g in groups)
        assert set().union(*map(set, groups)) == set(range(30))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=80),
       st.integers(min_value=1, max_value=9), st.integers(min_value=1, max_value=20))
def test_any_ids_and_group_size_partition_without_loss(tmp_path_factory, ids, shards, rows):
    frame = pd.DataFrame({"customer_id": pd.Series(ids, dtype="str"),
                          "n": np.arange(len(ids))})
    path = tmp_path_factory.mktemp("p") / "t.parquet"
    write_partitioned(frame, path, rows_per_group=rows)
    parts = [read_shard(path, shard, shards) for shard in range(shards)]
    joined = pd.concat(parts).sort_values("n").reset_index(drop=True)
    pd.testing.assert_frame_equal(joined, frame)
    for shard, part in enumerate(parts):
        assert (customer_shards(part["customer_id"], shards) == shard).all()
        # a customer's rows keep the order they were given in
        assert part.groupby("customer_id")["n"].apply(lambda n: n.is_monotonic_increasing).all()


def test_a_file_without_the_layout_is_read_whole_and_filtered(tmp_path):
    frame = _orders(50)
    path = tmp_path / "old.parquet"
    frame.to_parquet(path, index=False)
    assert key_ranges(path) is None
    pd.testing.assert_frame_equal(read_shard(path, 1, 3), _expected_shard(frame, 1, 3))


def test_a_layout_of_another_version_is_not_trusted(tmp_path):
    frame = _orders(50)
    path = tmp_path / "t.parquet"
    write_partitioned(frame, path, rows_per_group=10)
    table = pq.read_table(path)
    layout = json.loads(table.schema.metadata[LAYOUT_KEY])
    layout["version"] = 99
    layout["groups"] = [[0, 0]] * len(layout["groups"])  # ranges that would skip every group
    pq.write_table(table.replace_schema_metadata(
        {**table.schema.metadata, LAYOUT_KEY: json.dumps(layout).encode()}), path)
    assert key_ranges(path) is None
    pd.testing.assert_frame_equal(read_shard(path, 0, 2),
                                  _expected_shard(pd.read_parquet(path), 0, 2))


def test_columns_attrs_and_empty_tables(tmp_path):
    frame = _orders(20)
    frame.attrs = {"source": "shop"}
    path = tmp_path / "t.parquet"
    write_partitioned(frame, path, rows_per_group=8)
    part = read_shard(path, 0, 2, columns=["amount"])
    assert list(part.columns) == ["amount"]
    assert part.attrs == {"source": "shop"} == pd.read_parquet(path).attrs
    empty = tmp_path / "empty.parquet"
    write_partitioned(frame.iloc[:0], empty)
    assert read_shard(empty, 0, 4).empty and list(read_shard(empty, 0, 4).columns) == list(frame)
    keyless = tmp_path / "keyless.parquet"
    write_partitioned(pd.DataFrame({"a": [1, 2]}), keyless)
    assert pd.read_parquet(keyless)["a"].tolist() == [1, 2]
    with pytest.raises(ValueError, match="no customer_id column"):
        read_shard(keyless, 0, 2)
