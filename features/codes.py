"""Integer codes for text keys, equal exactly where the keys are equal.

Deduplication and identity linking compare keys over millions of rows (an events export's
ids, its customer column). Hashing them in pandas or Arrow holds a hash table of the text
(about 130 bytes a row for distinct ids); DuckDB hashes the Arrow buffers directly at 8 bytes
a row. Hashes are only a first cut: every row is compared with the first row of its hash,
so a collision never makes two keys one. A column of few distinct values (an events export's
customers) is coded by Arrow's dictionary encoding instead, whose table holds only those.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHECK_ROWS = 1_000_000  # rows compared with their hash's first row at a time

#: Below this many rows keys are coded by pandas' hash table directly: a few megabytes at
#: most, and opening a DuckDB database costs about 13 ms a call, which made identity
#: linking of a small export (hundreds of calls, one per key column) 20x slower.
SMALL_ROWS = 100_000


#: A column whose distinct values are at most this share of its rows is coded through Arrow's
#: dictionary encoding (a hash table of the distinct values only: a customer column of an
#: events export, 2,000 values over 8.5 M rows, +66 MB and 0.3 s against +530 MB and 2.2 s
#: by hashing every row); nearly distinct columns (event ids) are hashed row by row, where
#: a table of every distinct text would cost about 110 bytes a row against about 40.
DICTIONARY_SHARE = 0.25


def key_codes(values: pd.Series) -> np.ndarray:
    """An integer per value, equal exactly where the values are equal (every missing value
    one more value). Few distinct values (`DICTIONARY_SHARE`, estimated by DuckDB's
    HyperLogLog): Arrow's dictionary indices, exact by construction. Else text is hashed by
    DuckDB straight from its Arrow buffers; each row is then compared, in Arrow, with the
    first row of its hash, and only groups where that comparison fails (a hash collision)
    are coded again from the text itself."""
    import duckdb
    import pyarrow as pa

    if len(values) < SMALL_ROWS:
        return pd.factorize(values.astype("str"), use_na_sentinel=False)[0].astype(np.int64)
    # the Arrow chunks as they are (a staged column is one chunk per file chunk): joining
    # them into one array would copy every key once more
    keys = pa.Table.from_pandas(pd.DataFrame({"k": values.astype("str")}), preserve_index=False)
    with duckdb.connect() as con:
        con.register("keys", keys)
        row = con.execute("SELECT approx_count_distinct(k) FROM keys").fetchall()[0]
        distinct = int(row[0] or 0) if row else 0
        if distinct + 1 <= DICTIONARY_SHARE * len(keys):
            return dictionary_codes(keys["k"])
        return hashed_codes(values, keys, con)


def any_duplicated(values: pd.Series) -> bool:
    """Whether two values are equal (missing equal to missing), as
    `duplicated_codes(key_codes(values)).any()` but without coding a column whose hashes
    are all distinct (an events export's ids): sorted in place, 8 bytes a row, and no two
    equal hashes means no two equal values. Otherwise the exact codes decide."""
    import duckdb
    import pyarrow as pa

    if len(values) < 2:
        return False
    if len(values) < SMALL_ROWS:
        return bool(values.astype("str").duplicated().any())
    keys = pa.Table.from_pandas(pd.DataFrame({"k": values.astype("str")}), preserve_index=False)
    with duckdb.connect() as con:
        con.register("keys", keys)
        hashes = con.execute("SELECT hash(k) AS h FROM keys").fetchnumpy()["h"]
    hashes.sort()
    if not (hashes[1:] == hashes[:-1]).any():
        return False
    del hashes, keys
    return bool(duplicated_codes(key_codes(values)).any())


def dictionary_codes(text) -> np.ndarray:
    """Codes of an Arrow (chunked) string column: its dictionary indices, missing values one
    more entry; dense, numbered in order of first appearance."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(pa.chunked_array(text))  # missing stays missing
    chunks = encoded.chunks
    if any(not c.dictionary.equals(chunks[0].dictionary) for c in chunks[1:]):
        chunks = encoded.unify_dictionaries().chunks  # one dictionary for every chunk
    missing = len(chunks[0].dictionary) if chunks else 0  # the code of a missing value
    codes = np.empty(len(encoded), dtype=np.int64)
    at = 0
    for chunk in chunks:
        indices = pc.fill_null(chunk.indices, pa.scalar(missing, chunk.indices.type))
        codes[at:at + len(chunk)] = indices.to_numpy(zero_copy_only=False)
        at += len(chunk)
    return codes


def hashed_codes(values: pd.Series, keys, con=None) -> np.ndarray:
    """`key_codes` by hashing every row (`keys`: `values` as a one-column Arrow table `k`;
    `con`: a DuckDB connection to use, with `keys` registered or not)."""
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc

    if con is None:
        with duckdb.connect() as own:
            return hashed_codes(values, keys, own)
    text = keys["k"]
    con.register("keys", keys)
    hashes = con.execute("SELECT hash(k) AS h FROM keys").fetchnumpy()["h"]
    # groups of equal hash by sorting (a hash table of millions of hashes would hold more);
    # stable, so a group's first row in sorted order is its earliest row; positions as int32
    # where they fit (half the memory of the sort's bookkeeping)
    index: type[np.signedinteger] = np.int32 if len(hashes) < 2**31 else np.int64
    order = np.argsort(hashes, kind="stable").astype(index)
    ordered = hashes[order]
    starts = np.concatenate([[True], ordered[1:] != ordered[:-1]]) if len(order) \
        else np.zeros(0, dtype=bool)
    del ordered, hashes
    codes = np.empty(len(order), dtype=np.int64)
    codes[order] = np.cumsum(starts) - 1
    first = order[starts]  # per hash group: its earliest row
    sizes = np.diff(np.append(np.flatnonzero(starts), len(order))).astype(index)
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
    """Codes renumbered 0, 1, … in their order (equal stays equal). Codes no larger than a
    few times the rows (a column's own codes) are renumbered through a table of the values
    used, in one pass; a pair's combined codes by sorting."""
    if not len(codes):
        return codes.astype(np.int64)
    if codes.min() >= 0 and codes.max() < 4 * len(codes):
        used = np.zeros(int(codes.max()) + 1, dtype=bool)
        used[codes] = True
        if used.all():  # dense already (a dictionary's codes): no copy
            return codes.astype(np.int64, copy=False)
        return (np.cumsum(used) - 1)[codes]
    return np.unique(codes, return_inverse=True)[1].reshape(-1).astype(np.int64)


def duplicated_codes(codes: np.ndarray) -> np.ndarray:
    """`pd.Series(codes).duplicated(keep="last")` without its hash table (about 24 bytes a
    row): a row is a duplicate when a later row has its code, found by a stable sort."""
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    later = np.zeros(len(codes), dtype=bool)
    later[order[:-1][ordered[:-1] == ordered[1:]]] = True
    return later


def rows_at(values: pd.Series, positions: np.ndarray) -> pd.Series:
    """`values.iloc[positions]` with a fresh index, taken chunk by chunk from Arrow text:
    Arrow's take on a column of many chunks first joins them into one array, a copy of the
    whole column (+125 MB for an events export's customer ids) to take a few thousand rows."""
    chunked = getattr(values.array, "_pa_array", None)
    if chunked is None or chunked.num_chunks < 2 or not len(positions):
        return values.iloc[positions].reset_index(drop=True)
    import pyarrow as pa

    order = np.argsort(positions, kind="stable")
    ordered = np.asarray(positions)[order]
    ends = np.cumsum([len(c) for c in chunked.chunks])
    which = np.searchsorted(ends, ordered, side="right")  # the chunk of each position
    starts = np.concatenate([[0], ends[:-1]])
    taken = [chunked.chunks[k].take(pa.array(ordered[which == k] - starts[k]))
             for k in np.unique(which)]
    picked = pa.concat_arrays(taken).take(pa.array(np.argsort(order, kind="stable")))
    return pd.Series(pd.array(picked, dtype=values.dtype), name=values.name)
