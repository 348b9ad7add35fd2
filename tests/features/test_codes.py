"""Integer codes of text keys: equal exactly where the keys (or key tuples) are equal."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features import codes as codes_module
from features.codes import (
    any_duplicated,
    dictionary_codes,
    duplicated_codes,
    hashed_codes,
    key_codes,
    rows_at,
    tuple_codes,
)


@contextmanager
def _coded_as_large():
    """Small inputs coded the way millions of rows are (DuckDB's estimate and hashes)."""
    small = codes_module.SMALL_ROWS
    codes_module.SMALL_ROWS = 0
    try:
        yield
    finally:
        codes_module.SMALL_ROWS = small


@pytest.fixture
def large_path(monkeypatch):
    monkeypatch.setattr(codes_module, "SMALL_ROWS", 0)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=4), st.integers(0, 2)), max_size=30))
def test_key_codes_are_equal_exactly_where_the_keys_are(values):
    # as text: a number and its digits are one key, as in the staged (text) columns
    series = pd.Series(values, dtype=object)
    small = key_codes(series)
    with _coded_as_large():
        large = key_codes(series)
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            same = (a is None and b is None) or (
                a is not None and b is not None and str(a) == str(b))
            assert (small[i] == small[j]) == same, (a, b)
            assert (large[i] == large[j]) == same, (a, b)


@pytest.fixture
def colliding_hashes(monkeypatch):
    """Every DuckDB hash equal: the text alone must tell the keys apart."""
    import duckdb

    real_connect = duckdb.connect

    class Colliding:
        def __init__(self):
            self.con = real_connect()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.con.close()

        def register(self, name, table):
            self.con.register(name, table)

        def execute(self, sql):
            return self.con.execute(sql.replace("hash(k)", "0::UBIGINT"))

    monkeypatch.setattr(duckdb, "connect", Colliding)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "ab", "", " "])), max_size=40),
       st.integers(1, 7))
def test_dictionary_and_hashed_codes_agree_on_equality(values, chunk):
    # both ways of coding, over a column of several Arrow chunks as staged text is held
    import pyarrow as pa

    series = pd.concat([pd.Series(values[i:i + chunk], dtype="str")
                        for i in range(0, len(values), chunk)] or [pd.Series([], dtype="str")],
                       ignore_index=True)
    table = pa.Table.from_pandas(pd.DataFrame({"k": series}), preserve_index=False)
    by_dictionary = dictionary_codes(table["k"])
    by_hash = hashed_codes(series, table)
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            assert (by_dictionary[i] == by_dictionary[j]) == (a == b)
            assert (by_hash[i] == by_hash[j]) == (a == b)
    assert sorted(set(by_dictionary)) == list(range(len(set(values))))  # dense


def test_key_codes_take_the_dictionary_for_few_distinct_values(monkeypatch, large_path):
    used = []
    real = codes_module.dictionary_codes
    monkeypatch.setattr(codes_module, "dictionary_codes",
                        lambda text: used.append(len(text)) or real(text))
    few = pd.Series(["c1", "c2", None] * 400, dtype="str")  # 3 values over 1,200 rows
    codes = key_codes(few)
    assert used == [1200]
    assert codes[0] == codes[3] and codes[2] == codes[5] and len(set(codes)) == 3
    key_codes(pd.Series([f"EV-{i}" for i in range(1200)], dtype="str"))  # all distinct
    assert used == [1200]  # hashed, not through the dictionary


def test_key_codes_survive_a_hash_collision(colliding_hashes, large_path):
    codes = key_codes(pd.Series(["a", "b", "a", None, None]))
    assert codes[0] == codes[2] and codes[3] == codes[4]
    assert len({codes[0], codes[1], codes[3]}) == 3


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.sampled_from(["1", "2"])),
                          st.one_of(st.none(), st.sampled_from(["a@x.nl", "b@x.nl"]))),
                min_size=1, max_size=20))
def test_tuple_codes_are_equal_exactly_where_every_column_is(rows):
    first = pd.Series([a for a, _ in rows], dtype=object)
    second = pd.Series([b for _, b in rows], dtype="str")
    codes = tuple_codes([first, second])
    assert sorted(set(codes)) == list(range(len(set(rows))))  # numbered without gaps
    for i, a in enumerate(rows):
        for j, b in enumerate(rows):
            assert (codes[i] == codes[j]) == (a == b)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-3, 3), max_size=30))
def test_duplicated_codes_are_pandas_duplicated_keeping_the_last(codes):
    array = np.asarray(codes, dtype=np.int64)
    expected = pd.Series(array).duplicated(keep="last").to_numpy()
    assert duplicated_codes(array).tolist() == expected.tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["1", "2", None]), st.sampled_from(["a", "b", None]),
                          st.sampled_from(["x", None])), min_size=1, max_size=25))
def test_tuple_codes_number_rows_as_the_lexicographic_order_of_their_codes(rows):
    columns = [pd.Series([r[i] for r in rows], dtype=object) for i in range(3)]
    per_column = np.stack([key_codes(c) for c in columns], axis=1)
    expected = np.unique(per_column, axis=0, return_inverse=True)[1].reshape(-1)
    assert tuple_codes(columns).tolist() == expected.tolist()
    with _coded_as_large():
        per_column = np.stack([key_codes(c) for c in columns], axis=1)
        expected = np.unique(per_column, axis=0, return_inverse=True)[1].reshape(-1)
        assert tuple_codes(columns).tolist() == expected.tolist()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=3)), max_size=30))
def test_any_duplicated_is_pandas_duplicated_any(values):
    series = pd.Series(values, dtype=object)
    expected = bool(series.duplicated().any())
    assert any_duplicated(series) == expected
    assert any_duplicated(series.astype("str")) == expected
    with _coded_as_large():
        assert any_duplicated(series) == expected
        assert any_duplicated(series.astype("str")) == expected


def test_any_duplicated_is_exact_when_every_hash_collides(colliding_hashes, large_path):
    assert not any_duplicated(pd.Series([f"EV-{i}" for i in range(50)], dtype="str"))
    assert any_duplicated(pd.Series(["EV-1", "EV-2", "EV-1"], dtype="str"))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "cc"])), min_size=1,
                max_size=40), st.integers(1, 7), st.data())
def test_rows_at_is_iloc_over_chunked_text(values, chunk, data):
    series = pd.concat([pd.Series(values[i:i + chunk], dtype="str")
                        for i in range(0, len(values), chunk)], ignore_index=True)
    positions = np.asarray(data.draw(st.lists(st.integers(0, len(values) - 1), max_size=15)),
                           dtype=np.int64)
    pd.testing.assert_series_equal(rows_at(series, positions),
                                   series.iloc[positions].reset_index(drop=True))
