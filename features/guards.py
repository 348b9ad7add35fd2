"""Checks on a model-input snapshot before training: refuse what cannot train, flag what smells.

Pure functions: they return findings or raise; the pipeline decides where warnings go.
"""

from __future__ import annotations

import pandas as pd

DEFAULT_MIN_POSITIVES = 100
DEFAULT_MIN_NEGATIVES = 100
DEFAULT_MAX_RATE_JUMP = 0.10  # absolute change of the churn rate between consecutive cutoffs


class TooFewExamplesError(ValueError):
    """The snapshot holds too few churners or stayers to train and validate a model."""


def require_enough_examples(
    model_input: pd.DataFrame,
    *,
    min_positives: int = DEFAULT_MIN_POSITIVES,
    min_negatives: int = DEFAULT_MIN_NEGATIVES,
    label: str = "churned",
) -> None:
    """Raise `TooFewExamplesError` (saying what to change) when either class is too small."""
    positives = int((model_input[label] == 1).sum())
    negatives = int((model_input[label] == 0).sum())
    if positives >= min_positives and negatives >= min_negatives:
        return
    short = []
    if positives < min_positives:
        short.append(f"{positives} churners (need {min_positives})")
    if negatives < min_negatives:
        short.append(f"{negatives} non-churners (need {min_negatives})")
    raise TooFewExamplesError(
        f"model input has only {' and '.join(short)} over {len(model_input)} rows: "
        "supply more history or customers, add cutoffs (--n-cutoffs), change the horizon, "
        "or lower the minimum (min_positives / min_negatives) if you accept a noisier model"
    )


def constant_features(model_input: pd.DataFrame, features: list[str]) -> list[str]:
    """Features with a single value (empties counted as a value) across the whole snapshot."""
    return [f for f in features if model_input[f].nunique(dropna=False) <= 1]


def label_rate_jumps(
    model_input: pd.DataFrame, *, max_jump: float = DEFAULT_MAX_RATE_JUMP, label: str = "churned"
) -> list[str]:
    """One message per pair of consecutive cutoffs whose churn rates differ by more than
    `max_jump` (a broken export or a changed definition looks like this)."""
    rates = model_input.groupby("cutoff")[label].mean().sort_index()
    messages = []
    for (before, r0), (after, r1) in zip(rates.items(), list(rates.items())[1:], strict=False):
        if abs(r1 - r0) > max_jump:
            messages.append(
                f"churn rate moves from {r0:.3f} at cutoff {pd.Timestamp(before).date()} "
                f"to {r1:.3f} at {pd.Timestamp(after).date()}"
            )
    return messages


def snapshot_warnings(
    model_input: pd.DataFrame, features: list[str], *, max_jump: float = DEFAULT_MAX_RATE_JUMP
) -> list[str]:
    """Every warning about a snapshot, as sentences for the run log."""
    out = [f"feature {f} is constant in the model input" for f in constant_features(
        model_input, features)]
    return out + label_rate_jumps(model_input, max_jump=max_jump)
