"""A parquet written in row slices reads back as the frame, attrs included."""

from __future__ import annotations

import pandas as pd

from pipelines.store.atomic import write_parquet_atomic


def test_sliced_write_reads_back_equal_with_attrs(tmp_path):
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(10)],
                          "cutoff": pd.Timestamp("2024-01-31"),
                          "x": [i / 3 for i in range(10)],
                          # empty in the first slice: the schema is the whole frame's
                          "segment": [None] * 4 + ["SMB"] * 6})
    frame.attrs["churn_snapshot"] = {"rows": 10}
    whole = write_parquet_atomic(frame, tmp_path / "whole.parquet")
    sliced = write_parquet_atomic(frame, tmp_path / "sliced.parquet", slice_rows=4)
    back = pd.read_parquet(sliced)
    pd.testing.assert_frame_equal(back, pd.read_parquet(whole))
    pd.testing.assert_frame_equal(back, frame)
    assert back.attrs == {"churn_snapshot": {"rows": 10}}
    assert not list(tmp_path.glob(".*"))  # no temporary left
