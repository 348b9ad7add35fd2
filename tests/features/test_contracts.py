"""The staged contracts' key check (`distinct_values`, by `features.codes.any_duplicated`):
the same verdict as `Series.is_unique` on both of its paths, a repeated key named in the
error, and every staged kind's key declared distinct."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from features import codes
from features.contracts import SOURCE_KEYS, STAGED_SCHEMAS, distinct_columns, distinct_values

KEYS = st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "", " a", "ç", "1"]),
                          st.text(max_size=3)), max_size=25)


@settings(max_examples=120, deadline=None)
@given(values=KEYS, dtype=st.sampled_from(["str", "object"]), duckdb_path=st.booleans())
def test_the_check_passes_exactly_when_is_unique_does(values, dtype, duckdb_path):
    series = pd.Series(values, dtype=dtype)
    saved = codes.SMALL_ROWS
    codes.SMALL_ROWS = 0 if duckdb_path else saved  # hypothesis runs the body per example
    try:
        verdict = distinct_values(series, enabled=True)
    finally:
        codes.SMALL_ROWS = saved
    if series.is_unique:
        assert verdict is True
    else:  # the rows whose value repeats are the failures, the others pass
        assert verdict.tolist() == (~series.duplicated(keep=False)).tolist()


@pytest.mark.parametrize("small_rows", [0, codes.SMALL_ROWS])
def test_a_repeated_order_id_is_refused_and_named(small_rows, monkeypatch):
    monkeypatch.setattr(codes, "SMALL_ROWS", small_rows)
    purchases = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3"], "order_id": ["o1", "o-dup", "o-dup"],
        "order_date": pd.to_datetime(["2024-01-01"] * 3, utc=True), "amount": [1.0, 2.0, 3.0],
        "status": ["completed"] * 3, "quantity": [1.0] * 3, "channel": ["web"] * 3})
    with pytest.raises(pa.errors.SchemaError, match="o-dup") as error:
        STAGED_SCHEMAS["purchases"].validate(purchases)
    assert "order_id" in str(error.value)
    assert "o1" not in str(error.value).split("failure cases:")[-1]
    assert len(STAGED_SCHEMAS["purchases"].validate(purchases.iloc[:2])) == 2


def test_every_staged_kind_declares_its_source_key_distinct():
    assert {kind: distinct_columns(schema) for kind, schema in STAGED_SCHEMAS.items()} == {
        kind: [key] for kind, key in SOURCE_KEYS.items()}
