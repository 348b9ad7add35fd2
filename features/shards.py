"""Which shard a customer belongs to: one stable function for every stage that splits work.

Staging, feature building, training samples and scoring split customers the same way, so a
customer's rows meet in one shard whichever stage reads them, and a shard written by one stage
can be read by another without a shuffle. The hash is pandas' `hash_array` (SipHash-2-4 with a
fixed key over the id's UTF-8 bytes): the same id gives the same shard in every process, on
every machine and in every run, which Python's own `hash` does not (it is salted per process).

A shard is a range of the hash, not a remainder: of `n` shards, shard `s` holds the customers
whose shard key (the hash's top 32 bits) lies in `shard_key_range(s, n)`. So a table written
in key order (`pipelines.store.partitioned`) holds every shard of every count as one run of
rows, and a reader of one shard opens only the row groups whose keys overlap its range,
whatever count the writer had in mind.
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


#: Shard keys run over 0 … 2**KEY_BITS - 1; a count of shards may be at most that large.
KEY_BITS = 32


def shard_keys(customer_ids: pd.Series | np.ndarray) -> np.ndarray:
    """Each customer id's shard key (unsigned 64-bit, below 2**KEY_BITS): what a partitioned
    table is sorted by."""
    return customer_hashes(customer_ids) >> np.uint64(64 - KEY_BITS)


def shards_of_keys(keys: np.ndarray, shards: int) -> np.ndarray:
    """The shard (0 … shards-1) each shard key falls in."""
    if not 1 <= shards <= 2**KEY_BITS:
        raise ValueError(f"shards must be between 1 and {2**KEY_BITS}, not {shards}")
    # key * shards < 2**64 for every key below 2**32 and shards up to 2**32
    return ((keys * np.uint64(shards)) >> np.uint64(KEY_BITS)).astype(np.int64)


def shard_key_range(shard: int, shards: int) -> tuple[int, int]:
    """The keys [low, high) of shard `shard` of `shards`: those with key * shards >> 32 ==
    shard, i.e. from ceil(shard * 2**32 / shards) up to the next shard's low."""
    if not 0 <= shard < shards:
        raise ValueError(f"shard must be between 0 and {shards - 1}, not {shard}")
    return (-(-shard * 2**KEY_BITS // shards), -(-(shard + 1) * 2**KEY_BITS // shards))


def customer_shards(customer_ids: pd.Series | np.ndarray, shards: int) -> np.ndarray:
    """The shard (0 … shards-1) of each customer id; `shards` 1 puts everyone in shard 0."""
    if shards < 1:
        raise ValueError(f"shards must be 1 or more, not {shards}")
    return shards_of_keys(shard_keys(customer_ids), shards)


def sample_key_limit(share: float) -> int:
    """The shard key below which a customer is in a stable sample of `share` of all
    customers (`in_key_sample`): 2**KEY_BITS for everyone."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, not {share}")
    return 2**KEY_BITS if share >= 1.0 else int(share * 2**KEY_BITS)


def in_key_sample(customer_ids: pd.Series | np.ndarray, share: float) -> np.ndarray:
    """Whether each customer falls in the stable sample of `share` of all customers whose
    shard keys are the lowest: the same customers at every cutoff and in every run, a smaller
    share a subset of a larger one, and one run of rows at the start of a table stored in
    shard order (`pipelines.store.partitioned.read_key_range`), so the sample can be read
    without the rest."""
    return shard_keys(customer_ids) < np.uint64(sample_key_limit(share))


def in_sample(customer_ids: pd.Series | np.ndarray, share: float, salt: str = "") -> np.ndarray:
    """Whether each customer falls in a stable sample of `share` of all customers: the same
    customers at every cutoff and in every run (a salt draws another, independent sample)."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, not {share}")
    ids = pd.Series(customer_ids, copy=False).astype(str)
    hashes = customer_hashes(ids if not salt else salt + "|" + ids)
    return hashes < np.uint64(min(share, 1.0) * float(2**64 - 1)) if share < 1.0 else \
        np.ones(len(ids), dtype=bool)
