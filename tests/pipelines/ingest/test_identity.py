"""Linking customer keys across sources into one canonical customer id per customer."""

from __future__ import annotations

import random

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.identity import SourceKeys, resolve_identities


def source(label: str, kind: str, rows: list[dict], space: str = "") -> SourceKeys:
    frame = pd.DataFrame(rows, dtype=object)
    frame = frame.astype(object).where(frame.notna(), None)
    return SourceKeys(label, kind, frame, space)


def ids_of(sources: list[SourceKeys]) -> list[list]:
    return [s.tolist() for s in resolve_identities(sources).customer_ids]


def test_orders_keyed_by_email_get_the_masters_customer_code():
    master = source("customers/m.csv", "customers", [
        {"customer_id": "00042", "email": "ayse@x.com"},
        {"customer_id": "00043", "email": "jan@y.nl"}])
    orders = source("purchases/shop.csv", "purchases", [
        {"email": "jan@y.nl"}, {"email": "ayse@x.com"}, {"email": "new@z.nl"}])
    assert ids_of([orders, master]) == [["00043", "00042", "new@z.nl"], ["00042", "00043"]]


def test_a_helpdesks_own_ids_link_through_the_requesters_email():
    tickets = source("complaints/zendesk.csv", "complaints", [
        {"customer_id": "3601", "email": "ayse@x.com"}, {"customer_id": "3601", "email": None},
        {"customer_id": "3602", "email": None}], space="zendesk")
    orders = source("purchases/erp.csv", "purchases", [
        {"customer_id": "00042", "email": "ayse@x.com"}, {"customer_id": "3602"}])
    tickets_ids, orders_ids = ids_of([tickets, orders])
    # ticket 2 has only Zendesk's id, known from ticket 1 to be customer 00042
    assert tickets_ids[:2] == ["00042", "00042"]
    # Zendesk user 3602 is not shop customer 3602: equal numbers of two systems never meet
    assert orders_ids == ["00042", "3602"]
    assert tickets_ids[2] == "zendesk:3602"


def test_a_shared_mailbox_links_nobody_and_rows_keyed_only_by_it_are_quarantined():
    master = source("customers/m.csv", "customers", [
        {"customer_id": "A", "email": "info@firma.com.tr"},
        {"customer_id": "B", "email": "info@firma.com.tr"}])
    tickets = source("complaints/t.csv", "complaints", [
        {"email": "info@firma.com.tr"}, {"customer_id": "B", "email": "info@firma.com.tr"}])
    resolution = resolve_identities([master, tickets])
    assert resolution.customer_ids[0].tolist() == ["A", "B"]
    assert resolution.customer_ids[1].tolist() == [None, "B"]
    assert "belongs to several customers" in resolution.reasons[1].iloc[0]
    assert resolution.summary.shared_keys == 1
    assert resolution.summary.sources[1].ambiguous_rows == 1


def test_a_chain_through_a_helpdesk_id_never_merges_two_customer_codes():
    # one Zendesk user wrote from the addresses of two different customers
    orders = source("purchases/o.csv", "purchases", [
        {"customer_id": "A", "email": "a@x.nl"}, {"customer_id": "B", "email": "b@x.nl"}])
    tickets = source("complaints/t.csv", "complaints", [
        {"customer_id": "Z1", "email": "a@x.nl"}, {"customer_id": "Z1", "email": "b@x.nl"}],
        space="zendesk")
    order_ids, _ = ids_of([orders, tickets])
    assert order_ids == ["A", "B"]


def test_a_customer_without_an_id_is_named_by_email_then_phone():
    rows = source("complaints/t.csv", "complaints", [
        {"email": "x@y.nl", "phone": "+31612345678"}, {"phone": "+31612345678"},
        {"phone": "+905321234567"}])
    assert ids_of([rows]) == [["x@y.nl", "x@y.nl", "+905321234567"]]


def test_an_email_in_the_id_column_is_an_email_key():
    shop = source("purchases/o.csv", "purchases", [{"customer_id": "ann@x.nl"}])
    master = source("customers/c.csv", "customers", [{"customer_id": "7", "email": "ann@x.nl"}])
    assert ids_of([shop, master]) == [["7"], ["7"]]


def test_the_summary_counts_linked_and_source_only_customers_and_purchase_share():
    master = source("customers/m.csv", "customers", [
        {"customer_id": "1", "email": "a@x.nl"}, {"customer_id": "2", "email": "b@x.nl"}])
    orders = source("purchases/o.csv", "purchases", [{"email": "a@x.nl"}, {"email": "c@x.nl"}])
    tickets = source("complaints/t.csv", "complaints", [{"email": "b@x.nl"},
                                                        {"email": "a@x.nl"}])
    summary = resolve_identities([master, orders, tickets]).summary
    assert (summary.customers, summary.in_several_sources, summary.source_only) == (3, 2, 1)
    assert summary.linked_by_key == 2  # 1 and 2: master rows by code, others by e-mail
    by_file = {s.file: s for s in summary.sources}
    assert (by_file["complaints/t.csv"].customers,
            by_file["complaints/t.csv"].with_purchases) == (2, 1)
    assert by_file["complaints/t.csv"].keys == ["e-mail"]
    assert by_file["customers/m.csv"].keys == ["customer id", "e-mail"]
    assert by_file["purchases/o.csv"].only_here == 1  # c@x.nl


KEYS = st.fixed_dictionaries({
    "customer_id": st.one_of(st.none(), st.sampled_from(["1", "2", "3", "4"])),
    "email": st.one_of(st.none(), st.sampled_from(["a@x.nl", "b@x.nl", "c@x.nl"])),
    "phone": st.one_of(st.none(), st.sampled_from(["+31611111111", "+31622222222"])),
})


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["", "zendesk"]), st.lists(KEYS, min_size=1,
                                                                         max_size=6)),
                min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_linking_invariants(files, rnd: random.Random):
    sources = [source(f"complaints/f{n}.csv", "complaints", rows, space)
               for n, (space, rows) in enumerate(files)]
    resolution = resolve_identities(sources)
    shared_ids: dict[str, set[str]] = {}
    for src, ids, why in zip(sources, resolution.customer_ids, resolution.reasons, strict=True):
        for row, customer, reason in zip(src.frame.to_dict("records"), ids, why, strict=True):
            has_key = any(row.get(k) is not None for k in ("customer_id", "email", "phone"))
            # every row with a key is placed, or set aside with a reason; never both
            assert (customer is None) == (reason is not None) or not has_key
            if customer is not None and src.id_space == "" and row["customer_id"]:
                shared_ids.setdefault(customer, set()).add(row["customer_id"])
    # two different customer numbers are never merged into one customer
    assert all(len(codes) == 1 for codes in shared_ids.values())
    # the result does not depend on the order of the files
    order = list(range(len(sources)))
    rnd.shuffle(order)
    shuffled = resolve_identities([sources[i] for i in order]).customer_ids
    for position, i in enumerate(order):
        assert shuffled[position].tolist() == resolution.customer_ids[i].tolist()


@settings(max_examples=60, deadline=None)
@given(st.lists(KEYS, min_size=1, max_size=8), st.lists(st.integers(1, 4), min_size=8,
                                                         max_size=8),
       st.randoms(use_true_random=False))
def test_repeated_keys_are_linked_once_and_every_row_takes_its_tuples_result(rows, repeats,
                                                                           rnd: random.Random):
    # identity works on distinct key tuples (an events file repeats them millions of times):
    # a row's result must be the one it gets when its tuple appears once
    master = source("customers/m.csv", "customers", [
        {"customer_id": "1", "email": "a@x.nl"}, {"customer_id": "2", "email": "a@x.nl"},
        {"customer_id": "3", "phone": "+31611111111"}])
    once = source("complaints/t.csv", "complaints", rows)
    many_rows = [row for row, k in zip(rows, repeats, strict=False) for _ in range(k)]
    rnd.shuffle(many_rows)
    many = source("complaints/t.csv", "complaints", many_rows)
    many.frame.index = pd.RangeIndex(100, 100 + len(many_rows))  # the index is kept
    alone, repeated = resolve_identities([master, once]), resolve_identities([master, many])
    result = {tuple(sorted(r.items())): (c, w) for r, c, w in zip(
        once.frame.to_dict("records"), alone.customer_ids[1], alone.reasons[1], strict=True)}
    ids, reasons = repeated.customer_ids[1], repeated.reasons[1]
    assert list(ids.index) == list(many.frame.index)
    for row, customer, why in zip(many.frame.to_dict("records"), ids, reasons, strict=True):
        assert result[tuple(sorted(row.items()))] == (customer, why)
    keyed = many.frame.notna().any(axis=1).to_numpy()
    assert repeated.summary.sources[1].ambiguous_rows == int((ids.isna().to_numpy()
                                                              & keyed).sum())
    assert repeated.summary.customers == alone.summary.customers
    assert repeated.key_map.equals(alone.key_map)


# Salesforce writes one record id in 15 characters (reports) or 18 (API, Data Loader)
ACCOUNT_15, ACCOUNT_18 = "001D000000IqhSL", "001D000000IqhSLIAZ"


def test_a_salesforce_id_links_whether_written_in_15_or_18_characters():
    master = source("customers/accounts.csv", "customers", [
        {"customer_id": "C-1", "_id:salesforce": ACCOUNT_18}])
    cases = source("complaints/case_report.csv", "complaints", [
        {"customer_id": ACCOUNT_15}, {"customer_id": ACCOUNT_18.lower()}], space="salesforce")
    assert ids_of([master, cases]) == [["C-1"], ["C-1", "C-1"]]


def test_a_customer_known_only_to_salesforce_is_named_as_written_and_every_form_is_a_key():
    tasks = source("actions/Task.csv", "actions", [{"customer_id": ACCOUNT_18}],
                   space="salesforce")
    cases = source("complaints/case_report.csv", "complaints", [{"customer_id": ACCOUNT_15}],
                   space="salesforce")
    resolution = resolve_identities([tasks, cases])
    # named by the first written form in text order (the 15 characters), in any file order
    assert [s.tolist() for s in resolution.customer_ids] == [[ACCOUNT_15], [ACCOUNT_15]]
    assert ids_of([cases, tasks]) == [[ACCOUNT_15], [ACCOUNT_15]]
    keys = resolution.key_map
    assert sorted(keys["key"]) == [ACCOUNT_15, ACCOUNT_18]
    assert set(keys["customer_id"]) == {ACCOUNT_15}
    assert resolution.summary.customers == 1
    # written one way only, an id keeps the name it had before both forms linked
    assert ids_of([tasks]) == [[ACCOUNT_18]]


def test_salesforce_ids_that_differ_only_by_case_are_two_accounts():
    cases = source("complaints/case_report.csv", "complaints", [
        {"customer_id": "001D000000IqhSL"}, {"customer_id": "001D000000IQHSL"}],
        space="salesforce")
    first, second = ids_of([cases])[0]
    assert first != second


def test_other_spaces_do_not_link_15_and_18_character_ids():
    tickets = source("complaints/t.csv", "complaints", [
        {"customer_id": ACCOUNT_15}, {"customer_id": ACCOUNT_18}], space="zendesk")
    first, second = ids_of([tickets])[0]
    assert first != second


SALESFORCE_KEYS = st.fixed_dictionaries({
    "customer_id": st.sampled_from([ACCOUNT_15, ACCOUNT_18, ACCOUNT_18.lower(),
                                    "001D000000IQHSL", "001000000000001AAA"]),
    "email": st.one_of(st.none(), st.sampled_from(["a@x.nl", "b@x.nl"])),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(SALESFORCE_KEYS, min_size=1, max_size=5), min_size=1, max_size=4),
       st.randoms(use_true_random=False))
def test_salesforce_forms_link_the_same_whatever_the_order_of_the_files(files, rnd):
    sources = [source(f"complaints/f{n}.csv", "complaints", rows, "salesforce")
               for n, rows in enumerate(files)]
    resolution = resolve_identities(sources)
    order = list(range(len(sources)))
    rnd.shuffle(order)
    shuffled = resolve_identities([sources[i] for i in order])
    for position, i in enumerate(order):
        assert shuffled.customer_ids[position].tolist() == resolution.customer_ids[i].tolist()
    # the spellings of one account are one customer (rows with an e-mail may be set aside
    # when the e-mail is shared), and two accounts never are
    from pipelines.ingest.keys import salesforce_id_18

    placed = {}
    for src, ids in zip(sources, resolution.customer_ids, strict=True):
        for row, customer in zip(src.frame.to_dict("records"), ids, strict=True):
            if customer is not None and row["email"] is None:
                placed.setdefault(salesforce_id_18(row["customer_id"]), set()).add(customer)
    assert all(len(customers) == 1 for customers in placed.values())
    assert len(set().union(*placed.values())) == len(placed)
