"""Which shard a customer belongs to: one stable function for every stage that splits work.

Staging, feature building, training samples and scoring split customers the same way, so a
customer's rows meet in one shard whichever stage reads them, and a shard written by one stage
can be read by another without a shuffle. The hash is pandas' `hash_array` (SipHash-2-4 with a
fixed key over the id's UTF-8 bytes): the same id gives the same shard in every process, on
every machine and in every run, which Python's own `hash` does not (it is salted per process).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The fixed key of the hash (pandas' default, written out so a pandas change cannot move it).
SHARD_HASH_KEY = "0123456789123456"


def customer_hashes(customer_ids: pd.Series | np.ndarray) -> np.ndarray:
    """A stable unsigned 64-bit hash of each customer id (ids compared as text)."""
    # each distinct id hashed once: the factorising runs on the ids as they are (Arrow text
    # hashes in C++), and only the distinct ones become Python strings for SipHash (20 M
    # order rows of a million customers: 1 M strings, not 20 M)
    codes, distinct = pd.factorize(pd.Series(customer_ids, copy=False).astype(str),
                                   use_na_sentinel=False)
    hashes = pd.util.hash_array(np.asarray(distinct, dtype=object), hash_key=SHARD_HASH_KEY,
                                categorize=True)  # as before: a missing id's hash unchanged
    return hashes[codes]


def customer_shards(customer_ids: pd.Series | np.ndarray, shards: int) -> np.ndarray:
    """The shard (0 … shards-1) of each customer id; `shards` 1 puts everyone in shard 0."""
    if shards < 1:
        raise ValueError(f"shards must be 1 or more, not {shards}")
    return (customer_hashes(customer_ids) % np.uint64(shards)).astype(np.int64)


def in_sample(customer_ids: pd.Series | np.ndarray, share: float, salt: str = "") -> np.ndarray:
    """Whether each customer falls in a stable sample of `share` of all customers: the same
    customers at every cutoff and in every run (a salt draws another, independent sample)."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, not {share}")
    ids = pd.Series(customer_ids, copy=False).astype(str)
    hashes = customer_hashes(ids if not salt else salt + "|" + ids)
    return hashes < np.uint64(min(share, 1.0) * float(2**64 - 1)) if share < 1.0 else \
        np.ones(len(ids), dtype=bool)
