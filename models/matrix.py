"""Turning a feature table into the exact matrix a fitted model expects."""

from __future__ import annotations

import pandas as pd

from features.catalog import CATEGORICAL_FEATURES


def category_levels(frame: pd.DataFrame, features: list[str]) -> dict[str, list[str]]:
    """Sorted levels of each categorical feature seen in training (fixed from then on)."""
    return {
        name: sorted(frame[name].dropna().astype(str).unique().tolist())
        for name in features
        if name in CATEGORICAL_FEATURES
    }


def model_matrix(
    frame: pd.DataFrame, features: list[str], levels: dict[str, list[str]]
) -> pd.DataFrame:
    """Columns in training order; categoricals as `category` with the training levels.

    A level unseen in training becomes missing rather than a new code, so codes mean the same
    thing at scoring as at fitting.
    """
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise KeyError(f"feature table lacks columns the model needs: {missing}")
    # No `.copy()`: pandas copies on write, so only the columns converted below are new; a
    # deep copy would hold a second matrix of every feature while LightGBM reads the first.
    matrix = frame.loc[:, features]
    for name, known in levels.items():
        values = matrix[name].astype(object).where(matrix[name].notna(), None)
        matrix[name] = pd.Categorical(values, categories=known)
    for name in features:
        if name not in levels:
            matrix[name] = matrix[name].astype("float64")
    return matrix
