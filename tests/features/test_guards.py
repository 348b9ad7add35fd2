"""Snapshot guards: refuse too few examples, warn on constant features and label-rate jumps."""

from __future__ import annotations

import pandas as pd
import pytest

from features.guards import (
    TooFewExamplesError,
    constant_features,
    label_rate_jumps,
    require_enough_examples,
    snapshot_warnings,
)


def snapshot(labels_by_cutoff: dict[str, list[int]]) -> pd.DataFrame:
    rows = [
        {"cutoff": pd.Timestamp(c), "churned": y, "recency_days": float(i), "flag": 0.0}
        for c, ys in labels_by_cutoff.items() for i, y in enumerate(ys)
    ]
    return pd.DataFrame(rows)


def test_too_few_positives_is_refused_with_what_to_change():
    frame = snapshot({"2024-01-01": [1] * 3 + [0] * 200})
    with pytest.raises(TooFewExamplesError, match=r"only 3 churners \(need 100\).*--n-cutoffs"):
        require_enough_examples(frame)
    require_enough_examples(frame, min_positives=3)  # the minimum is configurable


def test_too_few_negatives_is_refused():
    frame = snapshot({"2024-01-01": [1] * 150 + [0] * 99})
    with pytest.raises(TooFewExamplesError, match=r"99 non-churners \(need 100\)"):
        require_enough_examples(frame)
    require_enough_examples(frame, min_negatives=99)


def test_constant_features_are_named():
    frame = snapshot({"2024-01-01": [0, 1, 0]})
    frame["empty"] = float("nan")
    assert constant_features(frame, ["recency_days", "flag", "empty"]) == ["flag", "empty"]


def test_label_rate_jump_between_consecutive_cutoffs_is_reported():
    frame = snapshot({
        "2024-01-01": [1, 0, 0, 0],       # 0.25
        "2024-02-01": [1, 0, 0, 0, 0],    # 0.20: a small move
        "2024-03-01": [1, 1, 1, 0],       # 0.75: a jump
    })
    messages = label_rate_jumps(frame)
    assert messages == ["churn rate moves from 0.200 at cutoff 2024-02-01 to 0.750 at 2024-03-01"]
    assert label_rate_jumps(frame, max_jump=0.6) == []
    assert len(snapshot_warnings(frame, ["recency_days", "flag"])) == 2
