"""One customer across systems: linking the keys of every staged row into canonical ids.

Shops key orders by e-mail, helpdesks tickets by their own requester id and e-mail, ERPs by
customer code, CRMs by record id. Every staged row carries the keys its export had
(`pipelines.ingest.keys`): an id in an id space, an e-mail, a phone number. Two keys on one row
(Zendesk's requester id *and* e-mail; a customer master's code, e-mail and phone) say they are
the same customer; following those links gives one customer per connected group of keys, and
every row of the group gets the group's canonical `customer_id`:

1. the business's own customer number (the shared id space) when the group has one;
2. else its e-mail address, else its phone number (E.164);
3. else a system's own id (`zendesk:123` when the bare number is taken by another customer).

An e-mail or phone that would join two different ids of one space (a shared `info@` mailbox,
a family's phone) links nothing: ids are never merged through it. A row whose only key is such
a shared e-mail or phone cannot be given to either customer and is quarantined with a reason.
Names never link anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from features.codes import rows_at, tuple_codes
from models.privacy import masked_contact, masked_contacts
from pipelines.ingest.keys import (
    EXTRA_ID_PREFIX,
    LINK_COLUMNS,
    SHARED_SPACE,
    SPACE_ID_FORMS,
    linking_ids,
)
from pipelines.scale.memory import release_freed_memory

_SEP = "\x1f"  # between a key's type, space and value; never in a cleaned cell
_ID, _EMAIL, _PHONE = "i", "e", "p"
_LINK_TYPES = {"email": _EMAIL, "phone": _PHONE}
MAX_ROUNDS = 8  # splitting groups that hold two ids of one space; each round only removes links


@dataclass
class SourceKeys:
    """One staged file's rows as the identity step sees them."""

    label: str  # `<kind>/<file>`
    kind: str
    frame: pd.DataFrame  # staged rows: customer_id, email, phone, `_id:<space>` columns
    id_space: str = SHARED_SPACE


@dataclass
class SourceIdentity:
    """What one file contributed, for the report and `churn ingest --explain`."""

    file: str
    keys: list[str]  # `customer id`, `zendesk id`, `e-mail`, `phone`: the keys it carries
    customers: int = 0
    with_purchases: int = 0  # of those, customers who also have purchases
    only_here: int = 0  # customers seen in no other file
    ambiguous_rows: int = 0  # rows whose only key is shared by several customers

    @property
    def purchase_share(self) -> float | None:
        return self.with_purchases / self.customers if self.customers else None


@dataclass
class IdentitySummary:
    customers: int = 0
    in_several_sources: int = 0
    source_only: int = 0
    linked_by_key: int = 0  # customers whose rows were placed by different keys (linked)
    shared_keys: int = 0  # e-mails / phones left unlinked because several customers share them
    shared_examples: list[str] = field(default_factory=list)
    sources: list[SourceIdentity] = field(default_factory=list)


@dataclass
class Resolution:
    customer_ids: list[pd.Series]  # per source, canonical id per row (missing: quarantine)
    reasons: list[pd.Series]  # per source, why a row has no canonical id
    summary: IdentitySummary
    key_map: pd.DataFrame  # every key seen -> its customer (`customer_keys.parquet`)


KEY_TYPES = {_ID: "id", _EMAIL: "email", _PHONE: "phone"}


def _id_columns(source: SourceKeys) -> list[tuple[str, str]]:
    """(column, id space) of each id column of a source."""
    columns = [("customer_id", source.id_space)] if "customer_id" in source.frame else []
    return columns + [(str(c), str(c)[len(EXTRA_ID_PREFIX):]) for c in source.frame.columns
                      if str(c).startswith(EXTRA_ID_PREFIX)]


def _id_nodes(values: pd.Series, space: str) -> pd.Series:
    """Ids of one space as node names, in the form they link by (`keys.linking_ids`)."""
    text = values.astype(object).astype(str)
    return ((_ID + _SEP + space + _SEP) + linking_ids(text, space)).where(values.notna())


def _written_forms(sources: list[SourceKeys]) -> pd.DataFrame:
    """(node, id as written), distinct, for the ids of spaces with several forms
    (`SPACE_ID_FORMS`): a customer is named, and its keys listed, as the data wrote them, so
    an id written one way only keeps the name it always had."""
    parts = []
    for source in sources:
        for column, space in _id_columns(source):
            if space in SPACE_ID_FORMS:
                written = source.frame[column].dropna().astype(str)
                written = written[~written.str.contains("@", regex=False)]
                parts.append(pd.DataFrame({"node": _id_nodes(written, space).to_numpy(),
                                           "written": written.to_numpy()}))
    if not parts:
        return pd.DataFrame({"node": pd.Series(dtype=object), "written": pd.Series(dtype=object)})
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


def _row_keys(source: SourceKeys) -> list[pd.Series]:
    """Each key column of a source as node names (missing where the row lacks that key)."""
    frame = source.frame
    keys: list[pd.Series] = []
    for column, space in _id_columns(source):
        ids = frame[column].astype(object)
        node = _id_nodes(ids, space)
        if column == "customer_id":
            email_like = ids.str.contains("@", regex=False).fillna(False).astype(bool)
            node = node.where(~email_like, _EMAIL + _SEP + _SEP + ids.astype(str))
        keys.append(node.where(ids.notna()))
    for column in LINK_COLUMNS:
        if column in frame:
            values = frame[column].astype(object)
            keys.append(((_LINK_TYPES[column] + _SEP + _SEP) + values.astype(str))
                        .where(values.notna()))
    return keys


def _space(node: str) -> str | None:
    kind, space, _ = node.split(_SEP, 2)
    return space if kind == _ID else None


def _value(node: str) -> str:
    return node.split(_SEP, 2)[2]


def key_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a staged frame that identity reads (in `_row_keys`' order)."""
    return [c for c in frame.columns
            if c == "customer_id" or str(c).startswith(EXTRA_ID_PREFIX) or c in LINK_COLUMNS]


@dataclass
class _DistinctKeys:
    """One source reduced to its distinct key tuples: identity depends on a row's keys only,
    and an events export repeats a customer's keys millions of times (8.4 M rows, 140 k
    distinct keys), so linking works on the tuples and each row takes its tuple's result."""

    source: SourceKeys  # the frame holds each distinct tuple once
    codes: np.ndarray  # per row of the original frame: its tuple
    counts: np.ndarray  # per tuple: how many rows carry it
    index: pd.Index  # the original frame's index, which the per-row results keep


def _distinct_keys(source: SourceKeys) -> _DistinctKeys:
    columns = key_columns(source.frame)
    if not columns or source.frame.empty:
        codes = np.arange(len(source.frame), dtype=np.int64)
        return _DistinctKeys(source, codes, np.ones(len(codes), dtype=np.int64),
                             source.frame.index)
    codes = tuple_codes([source.frame[c] for c in columns])  # dense: 0 .. tuples - 1
    if len(codes) < 2**31:  # a code per row is held until the results are spread back
        codes = codes.astype(np.int32)
    release_freed_memory()  # the coding's temporary arrays, before the per-row results
    counts = np.bincount(codes)
    first = _first_rows(codes, len(counts))
    distinct = pd.DataFrame({c: rows_at(source.frame[c], first) for c in columns})
    return _DistinctKeys(SourceKeys(source.label, source.kind, distinct, source.id_space),
                         codes, counts, source.frame.index)


def _first_rows(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Per dense code, the first row that has it (`np.unique(codes, return_index=True)[1]`
    without sorting every row: an unbuffered minimum per code, 8 bytes a row)."""
    first = np.full(n_codes, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first


def resolve_identities(sources: list[SourceKeys]) -> Resolution:
    """Canonical customer ids for every row of every source (see the module docstring)."""
    reduced = [_distinct_keys(s) for s in sources]
    distinct = [r.source for r in reduced]
    per_source = [_row_keys(s) for s in distinct]
    all_nodes = pd.concat([k for keys in per_source for k in keys] or [pd.Series(dtype=object)],
                          ignore_index=True).dropna()
    nodes = pd.Index(pd.unique(all_nodes))
    codes = [[np.asarray(nodes.get_indexer(k.fillna("\0")), dtype=np.int64) for k in keys]
             for keys in per_source]  # -1 where the row lacks the key
    kinds = np.array([n[0] for n in nodes]) if len(nodes) else np.array([], dtype=str)
    spaces = np.array([_space(n) or "" for n in nodes], dtype=object)
    is_link = kinds != _ID
    pairs = _row_pairs(codes)  # (a, b) node pairs that appear on one row
    shared = _shared_links(pairs, is_link, spaces)
    labels = _groups(len(nodes), pairs, shared)
    for _ in range(MAX_ROUNDS):  # chains like id A - e-mail - id Z - e-mail - id B
        conflicted = _conflicted_links(labels, is_link, spaces)
        if not conflicted.any():
            break
        shared |= conflicted
        labels = _groups(len(nodes), pairs, shared)
    forms = _written_forms(distinct)
    # an id written several ways is named by the first of them in text order, whatever the
    # order of the files (a 15-character Salesforce id before its 18-character form)
    named = forms.sort_values(["node", "written"]).drop_duplicates("node", ignore_index=True)
    values = np.array([_value(n) for n in nodes], dtype=object)
    at = nodes.get_indexer(named["node"])  # every written id is a node: never -1
    values[at[at >= 0]] = named["written"].to_numpy()[at >= 0]
    canonical = _canonical_names(nodes, labels, kinds, spaces, values, shared)
    customer_ids, reasons, chosen = [], [], []
    for source, row_codes in zip(distinct, codes, strict=True):
        ids, why, used = _assign(source.frame.index, row_codes, labels, canonical, shared, nodes)
        customer_ids.append(ids)
        reasons.append(why)
        chosen.append(used)
    summary = _summary(distinct, per_source, chosen, customer_ids, shared, nodes,
                       [r.counts for r in reduced])
    key_map = pd.DataFrame({
        "key_type": pd.Series([KEY_TYPES[k] for k in kinds], dtype=object),
        "id_space": pd.Series(spaces, dtype=object),
        "key": pd.Series(values, dtype=object),
        "customer_id": pd.Series(canonical[labels] if len(nodes) else [], dtype=object),
        "shared": shared})
    if len(forms) > len(named):  # an id written more than one way: every way listed
        other = forms[~forms["written"].isin(named["written"])]
        at = nodes.get_indexer(other["node"])
        key_map = pd.concat([key_map, key_map.iloc[at].assign(key=other["written"].to_numpy())],
                            ignore_index=True)
    key_map.loc[key_map["shared"], "customer_id"] = None  # a shared key names nobody
    key_map = key_map.sort_values(["customer_id", "key_type", "key"], na_position="last",
                                  kind="stable", ignore_index=True)
    per_row_ids = [_per_row(ids, r) for ids, r in zip(customer_ids, reduced, strict=True)]
    per_row_reasons = [_per_row(why, r) for why, r in zip(reasons, reduced, strict=True)]
    return Resolution(per_row_ids, per_row_reasons, summary, key_map)


def _per_row(values: pd.Series, reduced: _DistinctKeys) -> pd.Series:
    """A per-tuple result spread back over the source's rows (its index kept)."""
    return pd.Series(values.to_numpy()[reduced.codes], index=reduced.index,
                     dtype=object)


def _row_pairs(codes: list[list[np.ndarray]]) -> np.ndarray:
    """Every pair (first key, other key) of the keys one row carries, deduplicated."""
    pairs = []
    for row_codes in codes:
        for i, first in enumerate(row_codes):
            for other in row_codes[i + 1:]:
                both = (first >= 0) & (other >= 0) & (first != other)
                pairs.append(np.stack([first[both], other[both]], axis=1))
    if not pairs:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(pairs), axis=0)


def _shared_links(pairs: np.ndarray, is_link: np.ndarray, spaces: np.ndarray) -> np.ndarray:
    """E-mails / phones that sit next to two different ids of one space."""
    shared = np.zeros(len(is_link), dtype=bool)
    if not len(pairs):
        return shared
    both = np.concatenate([pairs, pairs[:, ::-1]])
    link_id = both[is_link[both[:, 0]] & ~is_link[both[:, 1]]]
    if not len(link_id):
        return shared
    frame = pd.DataFrame({"link": link_id[:, 0], "id": link_id[:, 1],
                          "space": spaces[link_id[:, 1]]}).drop_duplicates()
    counts = frame.groupby(["link", "space"])["id"].nunique()
    shared[counts[counts > 1].index.get_level_values("link").unique().to_numpy()] = True
    return shared


def _groups(n: int, pairs: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Connected groups of keys over the pairs that use no shared link."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.empty(0, dtype=np.int64)
    usable = pairs[~shared[pairs[:, 0]] & ~shared[pairs[:, 1]]] if len(pairs) else pairs
    graph = coo_matrix((np.ones(len(usable)), (usable[:, 0], usable[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def _conflicted_links(labels: np.ndarray, is_link: np.ndarray, spaces: np.ndarray) -> np.ndarray:
    """The links of groups that hold two ids of one space: those links may not join them."""
    ids = pd.DataFrame({"group": labels[~is_link], "space": spaces[~is_link]})
    per_space = ids.groupby(["group", "space"]).size()
    bad_groups = per_space[per_space > 1].index.get_level_values("group").unique()
    return is_link & np.isin(labels, bad_groups.to_numpy())


def _canonical_names(nodes: pd.Index, labels: np.ndarray, kinds: np.ndarray,
                     spaces: np.ndarray, values: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Per group, its customer id: shared-space id > e-mail > phone > a system's id (each
    node's `values`: its key as written); a system's bare id taken by another group is
    written `<space>:<id>`."""
    if not len(nodes):
        return np.empty(0, dtype=object)
    rank = np.select([(kinds == _ID) & (spaces == SHARED_SPACE), kinds == _EMAIL,
                      kinds == _PHONE], [0, 1, 2], default=3)
    usable = ~shared  # a shared e-mail never names a group
    table = pd.DataFrame({"group": labels, "rank": rank, "space": spaces, "value": values,
                          "usable": usable})
    best = (table[table["usable"]].sort_values(["group", "rank", "space", "value"])
            .drop_duplicates("group").set_index("group"))
    names = best["value"].copy()
    system = best["rank"] == 3
    taken = names.duplicated(keep=False) & system
    names[taken] = best.loc[taken, "space"] + ":" + names[taken]
    result = np.full(labels.max() + 1, None, dtype=object)
    result[names.index.to_numpy()] = names.to_numpy()
    return result


def _assign(index: pd.Index, row_codes: list[np.ndarray], labels: np.ndarray,
            canonical: np.ndarray, shared: np.ndarray, nodes: pd.Index
            ) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """A row's canonical id from its first key that is not a shared link, else a reason; and
    the key each row was placed by (-1: none)."""
    chosen = np.full(len(index), -1, dtype=np.int64)
    first_shared = np.full(len(index), -1, dtype=np.int64)
    for column in row_codes:
        present = column >= 0
        usable = present.copy()
        usable[present] = ~shared[column[present]]
        take = (chosen < 0) & usable
        chosen[take] = column[take]
        mark = (first_shared < 0) & present & ~usable
        first_shared[mark] = column[mark]
    found = chosen >= 0
    ids = np.full(len(index), None, dtype=object)
    ids[found] = canonical[labels[chosen[found]]]
    reasons = np.full(len(index), None, dtype=object)
    lost = ~found & (first_shared >= 0)
    if lost.any():
        names = {_EMAIL: "e-mail", _PHONE: "phone"}
        reasons[lost] = [  # the key masked, as in the summary
            f"{names.get(nodes[c][0], 'key')} {masked_contact(_value(nodes[c]))!r} belongs to "
            "several customers (a shared mailbox or phone), and the row has no other key"
            for c in first_shared[lost]]
    return (pd.Series(ids, index=index, dtype=object),
            pd.Series(reasons, index=index, dtype=object), chosen)


def _key_names(source: SourceKeys, keys: list[pd.Series]) -> list[str]:
    names = []
    for key in keys:
        sample = key.dropna()
        if sample.empty:
            continue
        kinds = set(sample.str[0])
        spaces = {_space(n) for n in sample.head(1000) if n[0] == _ID}
        for space in sorted(s for s in spaces if s is not None):
            names.append(f"{space} id" if space else "customer id")
        names += [label for letter, label in ((_EMAIL, "e-mail"), (_PHONE, "phone"))
                  if letter in kinds]
    return list(dict.fromkeys(names))


def _summary(sources: list[SourceKeys], per_source: list[list[pd.Series]],
             chosen: list[np.ndarray], customer_ids: list[pd.Series],
             shared: np.ndarray, nodes: pd.Index, counts: list[np.ndarray]) -> IdentitySummary:
    """The identity summary; `sources` hold distinct key tuples, `counts` the rows of each."""
    summary = IdentitySummary()
    seen = [set(ids.dropna().unique()) for ids in customer_ids]
    buyers = set().union(*[s for s, src in zip(seen, sources, strict=True)
                           if src.kind == "purchases"]) if seen else set()
    owners: dict[str, set[int]] = {}
    for number, customers in enumerate(seen):
        for customer in customers:
            owners.setdefault(customer, set()).add(number)
    summary.customers = len(owners)
    summary.in_several_sources = sum(len(v) > 1 for v in owners.values())
    summary.source_only = summary.customers - summary.in_several_sources
    # placed by different keys in different rows (orders by e-mail, the master by id): the
    # customer's files meet only because the keys were linked
    placed = [pd.DataFrame({"customer": ids.to_numpy()[used >= 0], "key": used[used >= 0]})
              for ids, used in zip(customer_ids, chosen, strict=True)]
    if placed:
        keys_per_customer = pd.concat(placed).drop_duplicates().groupby("customer").size()
        summary.linked_by_key = int((keys_per_customer > 1).sum())
    summary.shared_keys = int(shared.sum())
    # masked: the report and the task's cached result are not a second copy of the keys
    summary.shared_examples = masked_contacts(_value(n) for n in nodes[shared][:3])
    for number, (source, keys, ids, rows) in enumerate(zip(sources, per_source, customer_ids,
                                                           counts, strict=True)):
        customers = seen[number]
        summary.sources.append(SourceIdentity(
            file=source.label, keys=_key_names(source, keys), customers=len(customers),
            with_purchases=len(customers & buyers),
            only_here=sum(owners[c] == {number} for c in customers),
            ambiguous_rows=int(rows[ids.isna().to_numpy()].sum() - _no_key_rows(keys, rows))))
    return summary


def _no_key_rows(keys: list[pd.Series], rows: np.ndarray) -> int:
    """Rows (each tuple weighted by its `rows`) that carry no key at all."""
    if not keys:
        return 0
    return int(rows[pd.concat(keys, axis=1).isna().all(axis=1).to_numpy()].sum())
