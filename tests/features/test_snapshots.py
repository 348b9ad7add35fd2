"""Rolling snapshots carry the settings that made them and a content hash."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from features.labels import LabelSpec
from features.snapshots import (
    SnapshotSettings,
    build_model_input,
    frame_content_hash,
    labelled_cutoffs,
    snapshot_manifest,
)
from tests import factories as f


def small_tables():
    purchases = f.purchases([
        ("A", "2024-01-05", 10), ("A", "2024-02-10", 10), ("A", "2024-03-20", 10),
        ("B", "2024-01-07", 10),
        ("C", "2024-02-01", 10), ("C", "2024-04-15", 10),
    ])
    return f.tables(purchases=purchases)


def test_model_input_has_one_row_per_eligible_customer_per_cutoff_with_labels():
    cutoffs = [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]
    frame = build_model_input(small_tables(), cutoffs, LabelSpec(horizon_days=30),
                              data_end=dt.date(2024, 4, 30))
    got = {(pd.Timestamp(c).date().isoformat(), k): y
           for c, k, y in frame[["cutoff", "customer_id", "churned"]].itertuples(index=False)}
    # Jan 31: A buys 02-10, B never again. Feb 29: A buys 03-20, C's next order is 04-15 (>30d)
    assert got == {("2024-01-31", "A"): 0, ("2024-01-31", "B"): 1,
                   ("2024-02-29", "A"): 0, ("2024-02-29", "B"): 1, ("2024-02-29", "C"): 1}


def test_gap_pulls_the_last_labelled_cutoff_back():
    no_gap = labelled_cutoffs(dt.date(2024, 12, 31), LabelSpec(horizon_days=90), 2,
                              earliest=dt.date(2024, 1, 1))
    gap = labelled_cutoffs(dt.date(2024, 12, 31), LabelSpec(horizon_days=90, gap_days=14), 2,
                           earliest=dt.date(2024, 1, 1))
    assert no_gap[-1] == dt.date(2024, 10, 2) and gap[-1] == dt.date(2024, 9, 18)


def test_manifest_records_settings_hash_and_label_rates():
    cutoffs = [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]
    spec = LabelSpec(horizon_days=30)
    frame = build_model_input(small_tables(), cutoffs, spec, data_end=dt.date(2024, 4, 30))
    settings = SnapshotSettings(label=spec, cutoffs=[str(c) for c in cutoffs],
                                data_start="2024-01-05", data_end="2024-04-30",
                                sources=["purchases"])
    manifest = snapshot_manifest(frame, settings)
    assert manifest["sha256"] == frame_content_hash(frame)
    assert manifest["label"] == {"definition": "no_purchase", "horizon_days": 30, "gap_days": 0}
    json.dumps(manifest)  # written beside the parquet as JSON
    assert manifest["windows_days"] == [30, 90, 180, 365]
    assert manifest["label_rate_by_cutoff"]["2024-01-31"] == {"rows": 2, "churn_rate": 0.5}
    assert manifest["rows"] == 5 and "recency_days" in manifest["features"]
    changed = frame.assign(churned=1 - frame["churned"])
    assert frame_content_hash(changed) != manifest["sha256"]


def _concatenated_in_pandas(tables, cutoffs, spec, data_end):
    """The model input as `pd.concat` of per-cutoff frames builds it (what the Arrow join in
    `build_model_input` replaces to hold one copy instead of two)."""
    from features.event_types import customer_features_with_event_types
    from features.labels import churn_labels

    parts = []
    for cutoff in cutoffs:
        features = customer_features_with_event_types(tables, cutoff, [])
        labels = churn_labels(features["customer_id"], tables.purchases, cutoff, spec,
                              data_end=data_end, customers=tables.customers)
        snapshot = features.merge(labels, on="customer_id", how="left")
        snapshot.insert(1, "cutoff", pd.Timestamp(cutoff))
        parts.append(snapshot.drop(columns=["as_of"]))
    return pd.concat(parts, ignore_index=True)


def test_model_input_joined_through_arrow_equals_a_pandas_concat():
    tables = f.tables(
        purchases=small_tables().purchases,
        customers=f.customers([("A", "2023-06-01", "SMB"), ("B", "2023-06-01", None),
                               ("C", "2023-06-01", "Consumer")]),
    ).validated()
    cutoffs = [dt.date(2024, 1, 31), dt.date(2024, 2, 29)]
    spec, end = LabelSpec(horizon_days=30), dt.date(2024, 4, 30)
    frame = build_model_input(tables, cutoffs, spec, data_end=end)
    expected = _concatenated_in_pandas(tables, cutoffs, spec, end)
    pd.testing.assert_frame_equal(frame, expected)
    assert frame_content_hash(frame) == frame_content_hash(expected)


def test_content_hash_in_slices_equals_the_whole_frame_hash(monkeypatch):
    import hashlib

    from features import snapshots

    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(25)],
                          "x": [i / 3 for i in range(25)],
                          "segment": ["a", None, "b", "c", None] * 5})
    whole = hashlib.sha256()
    whole.update("|".join(frame.columns).encode())
    rounded = frame.assign(x=frame["x"].round(9))
    whole.update(pd.util.hash_pandas_object(rounded, index=False).to_numpy().tobytes())
    monkeypatch.setattr(snapshots, "HASH_ROWS", 7)  # slices that do not divide the rows
    assert frame_content_hash(frame) == whole.hexdigest()
