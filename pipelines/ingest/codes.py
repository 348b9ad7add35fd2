"""Integer codes for text keys, equal exactly where the keys are equal.

Deduplication and identity linking compare keys over millions of rows (an events export's
ids, its customer column). Hashing them in pandas or Arrow holds a hash table of the text
(about 130 bytes a row for distinct ids); DuckDB hashes the Arrow buffers directly at 8 bytes
a row. Hashes are only a first cut: every row is compared with the first row of its hash,
so a collision never makes two keys one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHECK_ROWS = 1_000_000  # rows compared with their hash's first row at a time


def key_codes(values: pd.Series) -> np.ndarray:
    """An integer per value, equal exactly where the values are equal (every missing value
    one more value). Text is hashed by DuckDB straight from its Arrow buffers; each row is
    then compared, in Arrow, with the first row of its hash, and only groups where that
    comparison fails (a hash collision) are coded again from the text itself."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values.astype("str"), type=pa.large_string())
    with duckdb.connect() as con:
        con.register("keys", pa.table({"k": text}))
        hashes = con.execute("SELECT hash(k) AS h FROM keys").fetchnumpy()["h"]
    codes, unique = pd.factorize(hashes)  # numbered in order of first appearance, so
    seen = np.maximum.accumulate(codes)  # a row whose code passes all before it is the first
    first = np.flatnonzero(np.concatenate([[True], codes[1:] > seen[:-1]])) if len(codes) \
        else np.empty(0, dtype=np.int64)  # of its hash: first[k] is hash k's first row
    del seen
    collided = np.zeros(len(codes), dtype=bool)
    for start in range(0, len(codes), CHECK_ROWS):  # a slice at a time: bounded copies
        part = text.slice(start, CHECK_ROWS)
        first_text = text.take(pa.array(first[codes[start:start + CHECK_ROWS]]))
        same = pc.or_(pc.fill_null(pc.equal(part, first_text), False),
                      pc.and_(pc.is_null(part), pc.is_null(first_text)))
        collided[start:start + len(part)] = ~np.asarray(same)
    if collided.any():  # the groups holding a collision, coded again from their text
        rows = np.isin(codes, np.unique(codes[collided]))
        exact = pd.factorize(values[rows].astype(object), use_na_sentinel=False)[0]
        codes[rows] = len(unique) + exact
    return codes


def tuple_codes(columns: list[pd.Series]) -> np.ndarray:
    """An integer per row, equal exactly where the rows agree in every column (missing equal
    to missing), numbered 0, 1, … without gaps."""
    if not columns:
        raise ValueError("no columns to code")
    per_column = np.stack([key_codes(c) for c in columns], axis=1)
    return np.unique(per_column, axis=0, return_inverse=True)[1].reshape(-1).astype(np.int64)
