"""Formula-looking text made inert: a whole column at once says what each cell alone says."""

from __future__ import annotations

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pipelines.store.safe_text import escape_formula, escaped_formulas

cells = st.one_of(st.none(), st.sampled_from(["=1+1", "+31 6", "-5", "@me", "\tx", "\rx", "ok"]),
                  st.text(max_size=5))


@given(st.lists(cells, max_size=30))
def test_a_text_column_is_escaped_as_each_cell_is(values):
    column = pd.Series(values, dtype="str")
    pd.testing.assert_series_equal(escaped_formulas(column), column.map(escape_formula),
                                   check_dtype=False)  # all-empty: str vs float NaN, both ""


@given(st.lists(st.one_of(cells, st.integers(), st.floats(allow_nan=False)), max_size=20))
def test_mixed_and_numeric_columns_keep_each_cells_rule(values):
    column = pd.Series(values, dtype=object)
    pd.testing.assert_series_equal(escaped_formulas(column), column.map(escape_formula),
                                   check_dtype=False)  # all-empty: str vs float NaN, both ""
