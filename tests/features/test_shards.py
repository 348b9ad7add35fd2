"""The customer shard function: stable, total, independent of order and of the frame."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from features.shards import (
    KEY_BITS,
    SHARD_HASH_KEY,
    customer_hashes,
    customer_shards,
    in_sample,
    shard_key_range,
    shard_keys,
    shards_of_keys,
)


def test_known_ids_have_fixed_shards():
    # pinned: a change of hash would reshuffle every partitioned table already written
    ids = pd.Series(["C1", "C2", "00123", "ayşe@example.com"])
    first = customer_shards(ids, 16)
    assert list(first) == list(customer_shards(ids.to_numpy(), 16))
    assert list(customer_hashes(["C1"])) == list(customer_hashes(pd.Series(["C1"])))
    assert customer_shards(ids, 1).tolist() == [0, 0, 0, 0]
    # pinned values: staged tables on disk are sorted by these keys
    assert shard_keys(ids).tolist() == [3009900929, 1333292013, 151295533, 716434969]
    assert first.tolist() == [11, 4, 0, 2]
    assert customer_shards(ids, 3).tolist() == [2, 0, 0, 0]


@given(st.integers(min_value=1, max_value=2**KEY_BITS),
       st.lists(st.integers(min_value=0, max_value=2**KEY_BITS - 1), min_size=1, max_size=30))
def test_a_shard_is_the_range_of_keys_its_bounds_say(shards, keys):
    which = shards_of_keys(np.array(keys, dtype=np.uint64), shards)
    for key, shard in zip(keys, which, strict=True):
        low, high = shard_key_range(int(shard), shards)
        assert low <= key < high
    # the ranges tile the key space in order, none empty while shards <= 2**32
    ranges = [shard_key_range(s, shards) for s in {0, shards // 2, shards - 1}]
    assert all(low < high for low, high in ranges)
    assert shard_key_range(0, shards)[0] == 0
    assert shard_key_range(shards - 1, shards)[1] == 2**KEY_BITS


@given(st.integers(min_value=1, max_value=50))
def test_consecutive_shard_ranges_meet(shards):
    bounds = [shard_key_range(s, shards) for s in range(shards)]
    assert all(bounds[i][1] == bounds[i + 1][0] for i in range(shards - 1))
    with pytest.raises(ValueError):
        shard_key_range(shards, shards)


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=40),
       st.integers(min_value=1, max_value=64))
def test_shard_depends_only_on_the_id(ids, shards):
    out = customer_shards(pd.Series(ids), shards)
    assert ((out >= 0) & (out < shards)).all()
    reversed_out = customer_shards(pd.Series(ids[::-1]), shards)
    assert list(out) == list(reversed_out[::-1])
    alone = [int(customer_shards(pd.Series([i]), shards)[0]) for i in ids]
    assert list(out) == alone


def test_numbers_and_their_text_share_a_shard():
    assert list(customer_shards(pd.Series([123, 7]), 8)) == \
        list(customer_shards(pd.Series(["123", "7"]), 8))


def test_shards_are_balanced_on_many_ids():
    counts = np.bincount(customer_shards(pd.Series([f"C{i}" for i in range(40_000)]), 8))
    assert counts.min() > 0.9 * 5_000 and counts.max() < 1.1 * 5_000


def test_sample_is_stable_nested_and_near_its_share():
    ids = pd.Series([f"C{i}" for i in range(20_000)])
    half, fifth = in_sample(ids, 0.5), in_sample(ids, 0.2)
    assert abs(half.mean() - 0.5) < 0.02 and abs(fifth.mean() - 0.2) < 0.02
    assert not (fifth & ~half).any()  # a smaller share keeps a subset of the larger one
    assert (in_sample(ids, 0.5) == half).all()
    assert in_sample(ids, 1.0).all() and not in_sample(ids, 0.0).any()
    other = in_sample(ids, 0.5, salt="train")
    assert 0.4 < (other == half).mean() < 0.6  # a salt draws an independent sample
    with pytest.raises(ValueError):
        in_sample(ids, 1.5)


@given(st.lists(st.one_of(st.none(), st.text(max_size=8), st.sampled_from(["C1", "ç"])),
                max_size=60))
def test_each_distinct_id_hashed_once_gives_every_rows_own_hash(ids):
    series = pd.Series(ids, dtype="str")
    per_row = pd.util.hash_array(np.asarray(series.astype(str), dtype=object),
                                 hash_key=SHARD_HASH_KEY, categorize=False)
    missing = series.isna().to_numpy()
    hashes = customer_hashes(series)
    assert (hashes[~missing] == per_row[~missing]).all()
    assert len(set(hashes[missing].tolist())) <= 1  # every missing id in one shard
