"""Metrics for ranked churn probabilities, and the recency-only baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)


def top_fraction_lift(y_true: np.ndarray, scores: np.ndarray, fraction: float = 0.1) -> float:
    """Churn rate among the top `fraction` by score divided by the overall churn rate."""
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    n_top = max(1, int(round(len(scores) * fraction)))
    top = np.argsort(-scores, kind="stable")[:n_top]
    base = y_true.mean()
    return float(y_true[top].mean() / base) if base > 0 else float("nan")


def classification_metrics(y_true: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    """ROC-AUC, PR-AUC, Brier score, log loss, top-decile lift and the positive rate."""
    y_true = np.asarray(y_true).astype(int)
    probability = np.clip(np.asarray(probability, dtype=float), 1e-6, 1 - 1e-6)
    return {
        "roc_auc": float(roc_auc_score(y_true, probability)),
        "pr_auc": float(average_precision_score(y_true, probability)),
        "brier": float(brier_score_loss(y_true, probability)),
        "log_loss": float(log_loss(y_true, probability, labels=[0, 1])),
        "top_decile_lift": top_fraction_lift(y_true, probability, 0.1),
        "positive_rate": float(y_true.mean()),
        "n": float(len(y_true)),
    }


def recency_baseline_probability(
    train: pd.DataFrame, evaluate_on: pd.DataFrame, label: str = "churned"
) -> np.ndarray:
    """Churn probability from days since the last purchase alone (logistic on log1p days)."""
    def design(frame: pd.DataFrame) -> np.ndarray:
        return np.log1p(frame[["recency_days"]].to_numpy(dtype=float))

    model = LogisticRegression()
    model.fit(design(train), train[label].to_numpy(dtype=int))
    return model.predict_proba(design(evaluate_on))[:, 1]
