"""Staging text rows: header mapping, typed conversion, quarantine reasons, deduplication."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.headers import fold_header
from pipelines.ingest.staging import (
    SOURCE_FILE,
    SOURCE_LINE,
    StagingError,
    deduplicate,
    stage_rows,
    validate_staged,
)


def raw(rows: list[dict], file: str = "a.csv") -> pd.DataFrame:
    frame = pd.DataFrame(rows, dtype=str)
    frame[SOURCE_FILE] = file
    frame[SOURCE_LINE] = range(2, len(frame) + 2)
    return frame


def test_fold_header_handles_turkish_dotted_and_dotless_i():
    assert fold_header("MÜŞTERİ NO") == fold_header("müşteri no") == "musterino"
    assert fold_header("Customer ID") == "customerid"


def test_purchases_are_typed_and_bad_rows_quarantined_with_reasons():
    rows = raw([
        {"customer_id": "00123", "order_id": "A1", "order_date": "2024-03-01T10:00:00Z",
         "amount": "12.50", "status": "Paid"},
        {"customer_id": "", "order_id": "A2", "order_date": "2024-03-01", "amount": "1",
         "status": ""},
        {"customer_id": "00124", "order_id": "A3", "order_date": "yesterday", "amount": "1",
         "status": ""},
        {"customer_id": "00125", "order_id": "A4", "order_date": "2024-03-02", "amount": "abc",
         "status": ""},
        {"customer_id": "00126", "order_id": "A5", "order_date": "2024-03-02", "amount": "5",
         "status": "lost in space"},
        {"customer_id": "00127", "order_id": "A6", "order_date": "2024-03-02 12:00+03:00",
         "amount": "-5", "status": "refunded"},
    ])
    staged, quarantined = stage_rows("purchases", rows, timezone="Europe/Amsterdam")
    assert staged["order_id"].tolist() == ["A1", "A6"]
    assert staged["customer_id"].tolist() == ["00123", "00127"]  # leading zeros survive
    assert staged["amount"].tolist() == [12.5, -5.0]
    assert staged["status"].tolist() == ["completed", "returned"]
    assert staged["order_date"].iloc[1] == pd.Timestamp("2024-03-02 09:00", tz="UTC")
    assert dict(zip(quarantined[SOURCE_LINE], quarantined["reason"], strict=True)) == {
        3: "missing customer_id", 4: "unparseable order_date",
        5: "amount is not a number", 6: "unknown order status",
    }
    assert len(staged) + len(quarantined) == len(rows)


def test_naive_timestamps_are_read_in_the_configured_zone():
    rows = raw([{"customer_id": "1", "order_id": "A", "order_date": "2024-07-01 00:30",
                 "amount": "1"}])
    staged, _ = stage_rows("purchases", rows, timezone="Europe/Istanbul")
    assert staged["order_date"].iloc[0] == pd.Timestamp("2024-06-30 21:30", tz="UTC")


def test_missing_required_column_is_a_file_level_error():
    with pytest.raises(StagingError, match="order_id"):
        stage_rows("purchases", raw([{"customer_id": "1", "order_date": "2024-01-01",
                                      "amount": "1"}]))


def test_satisfaction_scales_to_zero_one_and_rejects_unknown_words():
    rows = raw([
        {"customer_id": "1", "complaint_id": "T1", "opened_at": "2024-01-01", "satisfaction": "5"},
        {"customer_id": "1", "complaint_id": "T2", "opened_at": "2024-01-01", "satisfaction": "1"},
        {"customer_id": "1", "complaint_id": "T3", "opened_at": "2024-01-01", "satisfaction": "Bad"},
        {"customer_id": "1", "complaint_id": "T4", "opened_at": "2024-01-01", "satisfaction": ""},
        {"customer_id": "1", "complaint_id": "T5", "opened_at": "2024-01-01", "satisfaction": "meh"},
    ])
    staged, quarantined = stage_rows("complaints", rows)
    assert staged["satisfaction"].tolist()[:3] == [1.0, 0.0, 0.0]
    assert pd.isna(staged["satisfaction"].iloc[3])
    assert quarantined["reason"].tolist() == ["unrecognised satisfaction value"]


def test_interactions_without_ids_get_stable_content_ids():
    rows = raw([{"customer_id": "1", "occurred_at": "2024-01-01", "channel": "email"}] * 2)
    first, _ = stage_rows("interactions", rows)
    again, _ = stage_rows("interactions", rows)
    assert first["interaction_id"].tolist() == again["interaction_id"].tolist()
    kept, dropped = deduplicate("interactions", first)
    assert (len(kept), len(dropped)) == (1, 1)


def test_deduplicate_keeps_the_latest_copy_and_validation_accepts_it():
    rows = pd.concat([
        raw([{"customer_id": "1", "order_id": "A", "order_date": "2024-01-01", "amount": "1"}],
            "old.csv"),
        raw([{"customer_id": "1", "order_id": "A", "order_date": "2024-01-01", "amount": "2"}],
            "new.csv"),
    ], ignore_index=True)
    staged, _ = stage_rows("purchases", rows)
    kept, dropped = deduplicate("purchases", staged)
    assert kept["amount"].tolist() == [2.0] and dropped[SOURCE_FILE].tolist() == ["old.csv"]
    assert list(validate_staged("purchases", kept).columns) == [
        "customer_id", "order_id", "order_date", "amount", "status", "quantity", "channel"]


def test_record_ids_two_systems_both_use_are_kept_apart_and_re_exports_still_collapse():
    from pipelines.ingest.staging import keep_systems_apart

    trendyol = pd.DataFrame({"order_id": ["1001", "1002"]})
    hepsiburada = pd.DataFrame({"order_id": ["1001", "2001"]})
    generic = pd.DataFrame({"order_id": ["1002"]})
    again = pd.DataFrame({"order_id": ["1001"]})  # a second Trendyol export
    frames, warning = keep_systems_apart(
        "purchases", [trendyol, hepsiburada, generic, again],
        ["trendyol", "hepsiburada", "", "trendyol"])
    assert [f["order_id"].tolist() for f in frames] == [
        ["trendyol:1001", "trendyol:1002"], ["hepsiburada:1001", "2001"], ["1002"],
        ["trendyol:1001"]]
    assert "2 order_ids are used by more than one system" in warning
    untouched, none = keep_systems_apart("purchases", [trendyol, again],
                                         ["trendyol", "trendyol"])
    assert none is None and untouched[0]["order_id"].tolist() == ["1001", "1002"]


def _reference_deduplicate(kind: str, staged: pd.DataFrame):
    """Deduplication as first written (on the key's text): the latest `_updated_at` wins,
    else the later row; kept and dropped rows in arrival order."""
    from features.contracts import SOURCE_KEYS
    from pipelines.ingest.staging import UPDATED_AT

    order, key = staged.reset_index(drop=True), SOURCE_KEYS[kind]
    if UPDATED_AT in order and order[UPDATED_AT].notna().any():
        ranked = order.assign(_arrival=range(len(order))).sort_values(
            [UPDATED_AT, "_arrival"], na_position="first", kind="stable")
        dropped = ranked.duplicated(subset=[key], keep="last").sort_index()
    else:
        dropped = order.duplicated(subset=[key], keep="last")
    return order.loc[~dropped], order.loc[dropped]


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", None]),
                          st.one_of(st.none(), st.integers(0, 3))), min_size=0, max_size=12),
       st.booleans(), st.sampled_from(["object", "str"]))
def test_deduplicate_on_key_codes_equals_deduplicating_on_the_text(rows, with_updated, dtype):
    from pipelines.ingest.staging import UPDATED_AT

    frame = pd.DataFrame({"order_id": pd.Series([k for k, _ in rows], dtype=object),
                          SOURCE_LINE: range(len(rows))})
    frame["order_id"] = frame["order_id"].astype(dtype)
    if with_updated:
        frame[UPDATED_AT] = pd.to_datetime(
            [None if u is None else f"2024-01-0{u + 1}" for _, u in rows], utc=True)
    kept, dropped = deduplicate("purchases", frame)
    want_kept, want_dropped = _reference_deduplicate("purchases", frame)
    assert kept[SOURCE_LINE].tolist() == want_kept[SOURCE_LINE].tolist()
    assert dropped[SOURCE_LINE].tolist() == want_dropped[SOURCE_LINE].tolist()
    assert len(kept) + len(dropped) == len(rows)


def test_validating_in_slices_gives_the_whole_tables_result_and_still_sees_duplicates():
    rows = raw([{"customer_id": str(i % 3), "order_id": f"O{i}", "order_date": "2024-01-01",
                 "amount": str(i)} for i in range(7)])
    staged, _ = stage_rows("purchases", rows)
    whole = validate_staged("purchases", staged)
    assert validate_staged("purchases", staged, slice_rows=2).equals(whole)
    twice = pd.concat([staged, staged.iloc[[4]]], ignore_index=True)  # O4 in two slices
    with pytest.raises(ValueError, match="order_id"):
        validate_staged("purchases", twice, slice_rows=3)
    bad = staged.assign(status=["completed"] * 6 + ["lost"])  # a row check, in the last slice
    with pytest.raises(Exception, match="status"):
        validate_staged("purchases", bad, slice_rows=3)
