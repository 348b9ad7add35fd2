"""Metrics for ranked churn probabilities, and the recency-only baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)

from models.calibration import expected_calibration_error

TOP_FRACTIONS = (0.05, 0.10, 0.20)


class RetentionAssumptions(BaseModel):
    """What contacting a customer is assumed to be worth (for the retained-value metric).

    Contacting a customer who would have churned keeps them with probability `save_rate`; a kept
    customer is worth their spend over the last 365 days (`spend_365d`, or 1 per customer when
    the feature is absent); every contact costs `contact_cost`. Customers who would have stayed
    gain nothing from the contact.
    """

    save_rate: float = Field(0.2, ge=0, le=1, description="Share of contacted churners kept.")
    contact_cost: float = Field(0.0, ge=0, description="Cost of one contact, in spend units.")
    fraction: float = Field(0.10, gt=0, le=1, description="Share of customers contacted.")


def _top_rows(scores: np.ndarray, fraction: float) -> np.ndarray:
    n_top = max(1, int(round(len(scores) * fraction)))
    return np.argsort(-np.asarray(scores), kind="stable")[:n_top]


def top_fraction_lift(y_true: np.ndarray, scores: np.ndarray, fraction: float = 0.1) -> float:
    """Churn rate among the top `fraction` by score divided by the overall churn rate."""
    y_true = np.asarray(y_true)
    base = y_true.mean()
    return float(y_true[_top_rows(scores, fraction)].mean() / base) if base > 0 else float("nan")


def precision_recall_at(y_true: np.ndarray, scores: np.ndarray,
                        fraction: float) -> tuple[float, float]:
    """Share of churners among the top `fraction`, and share of all churners caught there."""
    y_true = np.asarray(y_true)
    caught = y_true[_top_rows(scores, fraction)]
    positives = y_true.sum()
    return float(caught.mean()), float(caught.sum() / positives) if positives else float("nan")


def expected_retained_value(
    y_true: np.ndarray, scores: np.ndarray, value: np.ndarray | None,
    assumptions: RetentionAssumptions,
) -> float:
    """Value kept by contacting the top fraction by score, under `assumptions`, minus costs."""
    y_true = np.asarray(y_true)
    value = np.ones(len(y_true)) if value is None else np.nan_to_num(np.asarray(value, float))
    top = _top_rows(scores, assumptions.fraction)
    kept = assumptions.save_rate * float((y_true[top] * value[top]).sum())
    return kept - assumptions.contact_cost * len(top)


def classification_metrics(
    y_true: np.ndarray, probability: np.ndarray, value: np.ndarray | None = None,
    assumptions: RetentionAssumptions | None = None,
) -> dict[str, float]:
    """ROC/PR-AUC, Brier, log loss, ECE, lift, precision/recall at the top 5/10/20 %, value."""
    y_true = np.asarray(y_true).astype(int)
    probability = np.clip(np.asarray(probability, dtype=float), 1e-6, 1 - 1e-6)
    metrics = {
        "roc_auc": float(roc_auc_score(y_true, probability)),
        "pr_auc": float(average_precision_score(y_true, probability)),
        "brier": float(brier_score_loss(y_true, probability)),
        "log_loss": float(log_loss(y_true, probability, labels=[0, 1])),
        "ece": expected_calibration_error(y_true, probability),
        "top_decile_lift": top_fraction_lift(y_true, probability, 0.1),
    }
    for fraction in TOP_FRACTIONS:
        precision, recall = precision_recall_at(y_true, probability, fraction)
        metrics[f"precision_top{round(fraction * 100)}"] = precision
        metrics[f"recall_top{round(fraction * 100)}"] = recall
    metrics["retained_value_top_decile"] = expected_retained_value(
        y_true, probability, value, assumptions or RetentionAssumptions())
    metrics["positive_rate"] = float(y_true.mean())
    metrics["n"] = float(len(y_true))
    return metrics


def recency_baseline_probability(
    train: pd.DataFrame, evaluate_on: pd.DataFrame, label: str = "churned"
) -> np.ndarray:
    """Churn probability from days since the last purchase alone (logistic on log1p days)."""
    def design(frame: pd.DataFrame) -> np.ndarray:
        return np.log1p(frame[["recency_days"]].to_numpy(dtype=float))

    model = LogisticRegression()
    model.fit(design(train), train[label].to_numpy(dtype=int))
    return model.predict_proba(design(evaluate_on))[:, 1]
