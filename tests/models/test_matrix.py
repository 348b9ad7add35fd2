"""`model_matrix` converts columns without touching the frame it was given."""

from __future__ import annotations

import pandas as pd

from models.matrix import category_levels, model_matrix


def test_model_matrix_leaves_its_input_as_it_was():
    frame = pd.DataFrame({"customer_id": ["A", "B", "C"], "orders_365d": [1, 2, 3],
                          "segment": ["SMB", None, "Consumer"]})
    before = frame.copy()
    levels = category_levels(frame, ["orders_365d", "segment"])
    matrix = model_matrix(frame, ["orders_365d", "segment"], levels)
    assert list(matrix.columns) == ["orders_365d", "segment"]
    assert matrix["orders_365d"].dtype == "float64"
    assert isinstance(matrix["segment"].dtype, pd.CategoricalDtype)
    assert matrix["segment"].isna().tolist() == [False, True, False]
    matrix.loc[0, "orders_365d"] = 99.0  # writing to the matrix never reaches the frame
    pd.testing.assert_frame_equal(frame, before)
