"""Baselines every model is measured against, on the same out-of-time customers."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.catalog import FEATURES_BY_NAME
from features.labels import LabelSpec
from models.btyd import (
    fit_bgnbd,
    probability_no_purchase,
    probability_no_purchase_after_gap,
    summary_from_features,
)
from models.evaluate import recency_baseline_probability
from models.matrix import category_levels, model_matrix

BGNBD_FIT_ROWS = 20_000


def rfm_features(features: list[str]) -> list[str]:
    """The purchase-history (RFM and cadence) features among `features`."""
    # learned interaction types (features.event_types) are not in the catalog: engagement
    return [name for name in features
            if name in FEATURES_BY_NAME and FEATURES_BY_NAME[name].group == "rfm"]


def rfm_lightgbm_probability(
    train: pd.DataFrame, valid: pd.DataFrame, features: list[str], lightgbm_params: dict,
    n_estimators: int, label: str = "churned",
) -> np.ndarray:
    """The same LightGBM recipe restricted to RFM features: what the other sources add."""
    columns = rfm_features(features)
    levels = category_levels(train, columns)
    model = lgb.LGBMClassifier(n_estimators=n_estimators, **lightgbm_params)
    model.fit(model_matrix(train, columns, levels), train[label])
    return np.asarray(model.predict_proba(model_matrix(valid, columns, levels)))[:, 1]


def bgnbd_probability(valid: pd.DataFrame, spec: LabelSpec, seed: int = 0) -> np.ndarray:
    """BG/NBD P(no purchase in the label window (g, g + H]), fitted on the validation cutoff's
    own purchase histories (no labels used).

    It models purchases only: for the `cancellation` definition it stands for "drops out", the
    nearest thing a purchase-only model has to a cancellation.
    """
    summary = summary_from_features(valid)
    fit_on = summary.sample(min(len(summary), BGNBD_FIT_ROWS), random_state=seed)
    fitted = fit_bgnbd(fit_on)
    if spec.gap_days:
        return probability_no_purchase_after_gap(fitted, summary, spec.gap_days,
                                                 spec.horizon_days)
    # without a gap the original closed form, so that default runs keep their exact numbers
    return probability_no_purchase(fitted, summary, spec.horizon_days)


def baseline_probabilities(
    train: pd.DataFrame, valid: pd.DataFrame, features: list[str], lightgbm_params: dict,
    n_estimators: int, spec: LabelSpec, label: str = "churned",
) -> dict[str, np.ndarray]:
    """Out-of-time probabilities of each baseline on the validation rows."""
    return {
        "recency": recency_baseline_probability(train, valid, label),
        "rfm_lightgbm": rfm_lightgbm_probability(train, valid, features, lightgbm_params,
                                                 n_estimators, label),
        "bgnbd": bgnbd_probability(valid, spec),
    }
