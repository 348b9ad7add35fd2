"""`features.membership.is_in` answers as pandas' `isin` does, for every kind of input."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from features.membership import is_in

ids = st.one_of(st.none(), st.text(max_size=4), st.sampled_from(["C1", "C2", "ç", "C1 "]))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(ids, max_size=30), candidates=st.lists(ids, max_size=30),
       as_=st.sampled_from(["list", "set", "series", "unique", "index"]))
def test_is_in_agrees_with_pandas_on_text(values, candidates, as_):
    column = pd.Series(values, dtype="str")
    given_as = {"list": candidates, "set": set(candidates),
                "series": pd.Series(candidates, dtype="str"),
                "unique": pd.Series(candidates, dtype="str").unique(),
                "index": pd.Index(candidates, dtype="str")}[as_]
    expected = column.isin(given_as).to_numpy()
    assert np.array_equal(is_in(column, given_as), expected)


def test_is_in_keeps_pandas_rule_for_numbers_and_mixed_types():
    assert is_in(pd.Series([1, 2, 3]), [2]).tolist() == [False, True, False]
    assert is_in(pd.Series(["1", "2"]), [1, 2]).tolist() == [False, False]
    assert is_in(pd.Series(["a", "b"], dtype=object), {"b"}).tolist() == [False, True]
    assert is_in(pd.Index(["x", "y"]), pd.Series(["y"])).tolist() == [False, True]
    assert is_in(pd.Series([], dtype="str"), ["a"]).tolist() == []
    assert is_in(pd.Series(["a"], dtype="str"), []).tolist() == [False]
