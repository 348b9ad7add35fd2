from __future__ import annotations

import numpy as np
import pytest

from models.evaluate import (
    RetentionAssumptions,
    classification_metrics,
    expected_retained_value,
    precision_recall_at,
)

# ten customers, scores descending; churners at ranks 1, 2, 4, 7
OUTCOME = np.array([1, 1, 0, 1, 0, 0, 1, 0, 0, 0])
SCORES = np.linspace(0.9, 0.0, 10)


def test_precision_and_recall_in_the_top_fraction():
    assert precision_recall_at(OUTCOME, SCORES, 0.2) == (1.0, 0.5)
    assert precision_recall_at(OUTCOME, SCORES, 0.5) == pytest.approx((0.6, 0.75))


def test_retained_value_counts_only_contacted_churners_and_costs():
    value = np.arange(10, 110, 10, dtype=float)  # 10, 20, ..., 100
    assumptions = RetentionAssumptions(save_rate=0.5, contact_cost=1.0, fraction=0.3)
    # top 3: values 10 (churner), 20 (churner), 30 (stays) -> 0.5 * 30 - 3 * 1
    assert expected_retained_value(OUTCOME, SCORES, value, assumptions) == pytest.approx(12.0)
    # without a value column every churner is worth 1
    assert expected_retained_value(OUTCOME, SCORES, None, assumptions) == pytest.approx(-2.0)


def test_all_metrics_are_reported():
    metrics = classification_metrics(OUTCOME, SCORES)
    for key in ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "top_decile_lift",
                "precision_top5", "recall_top5", "precision_top10", "recall_top10",
                "precision_top20", "recall_top20", "retained_value_top_decile"):
        assert np.isfinite(metrics[key]), key
    assert metrics["precision_top20"] == 1.0 and metrics["recall_top20"] == 0.5
    assert metrics["top_decile_lift"] == pytest.approx(1 / 0.4)
