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

    # the Arrow chunks as they are (a staged column is one chunk per file chunk): joining
    # them into one array would copy every key once more
    keys = pa.Table.from_pandas(pd.DataFrame({"k": values.astype("str")}), preserve_index=False)
    text = keys["k"]
    with duckdb.connect() as con:
        con.register("keys", keys)
        hashes = con.execute("SELECT hash(k) AS h FROM keys").fetchnumpy()["h"]
    # groups of equal hash by sorting (a hash table of millions of hashes would hold more);
    # stable, so a group's first row in sorted order is its earliest row
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts = np.concatenate([[True], ordered[1:] != ordered[:-1]]) if len(order) \
        else np.zeros(0, dtype=bool)
    del ordered, hashes
    codes = np.empty(len(order), dtype=np.int64)
    codes[order] = np.cumsum(starts) - 1
    first = order[starts]  # per hash group: its earliest row
    sizes = np.diff(np.append(np.flatnonzero(starts), len(order)))
    del order, starts
    unique = len(first)
    # only rows that share their hash with others are compared with the group's first row
    shared = np.flatnonzero(sizes[codes] > 1)
    collided = np.zeros(len(codes), dtype=bool)
    for begin in range(0, len(shared), CHECK_ROWS):  # a slice at a time: bounded copies
        rows = shared[begin:begin + CHECK_ROWS]
        part = text.take(pa.array(rows))
        first_text = text.take(pa.array(first[codes[rows]]))
        same = pc.or_(pc.fill_null(pc.equal(part, first_text), False),
                      pc.and_(pc.is_null(part), pc.is_null(first_text)))
        collided[rows] = ~np.asarray(same)
    if collided.any():  # the groups holding a collision, coded again from their text
        redo = np.isin(codes, np.unique(codes[collided]))
        exact = pd.factorize(values[redo].astype(object), use_na_sentinel=False)[0]
        codes[redo] = unique + exact
    return codes


def tuple_codes(columns: list[pd.Series]) -> np.ndarray:
    """An integer per row, equal exactly where the rows agree in every column (missing equal
    to missing), numbered 0, 1, … without gaps in the order of the rows' per-column codes.
    Columns are folded in one at a time (a pair of dense codes is one integer while their
    product fits), so no row × column table of codes is ever held."""
    if not columns:
        raise ValueError("no columns to code")
    codes = _dense(key_codes(columns[0]))
    for column in columns[1:]:
        other = _dense(key_codes(column))
        width = int(other.max()) + 1 if len(other) else 1
        if (int(codes.max()) + 1 if len(codes) else 1) * width < 2**62:
            codes = _dense(codes * width + other)
        else:  # too many distinct pairs for one integer: the pairs themselves
            codes = np.unique(np.stack([codes, other], axis=1), axis=0,
                              return_inverse=True)[1].reshape(-1)
    return codes.astype(np.int64)


def _dense(codes: np.ndarray) -> np.ndarray:
    """Codes renumbered 0, 1, … in their order (equal stays equal)."""
    return np.unique(codes, return_inverse=True)[1].reshape(-1).astype(np.int64)


def duplicated_codes(codes: np.ndarray) -> np.ndarray:
    """`pd.Series(codes).duplicated(keep="last")` without its hash table (about 24 bytes a
    row): a row is a duplicate when a later row has its code, found by a stable sort."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    later = np.zeros(len(codes), dtype=bool)
    later[order[:-1][ordered[:-1] == ordered[1:]]] = True
    return later
