"""Integer codes of text keys: equal exactly where the keys (or key tuples) are equal."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.codes import duplicated_codes, key_codes, tuple_codes


@settings(max_examples=80, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=4)), max_size=30))
def test_key_codes_are_equal_exactly_where_the_keys_are(values):
    codes = key_codes(pd.Series(values, dtype=object))
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            assert (codes[i] == codes[j]) == (a == b), (a, b)


def test_key_codes_survive_a_hash_collision(monkeypatch):
    # every hash equal: the text alone must tell the keys apart
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
            assert "hash(k)" in sql
            return self.con.execute(sql.replace("hash(k)", "0::UBIGINT"))

    monkeypatch.setattr(duckdb, "connect", Colliding)
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
