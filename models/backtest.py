"""Rolling-origin backtest over the latest cutoffs, and metrics per segment and tenure band."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd

from models.calibration import choose_calibrator
from models.evaluate import classification_metrics
from models.params import TrainParams
from models.train import LABEL, ProbeFit, TemporalSplitError, customer_value, fit_probe

BACKTEST_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "top_decile_lift")
TENURE_BANDS = ((0, 180, "tenure <6m"), (180, 365, "tenure 6-12m"),
                (365, 730, "tenure 1-2y"), (730, np.inf, "tenure 2y+"))
MIN_GROUP_ROWS = 50


def backtest_origins(model_input: pd.DataFrame, window_days: int, k: int) -> list:
    """The latest `k` cutoffs that have at least one fully-labelled cutoff before them."""
    cutoffs = sorted(pd.to_datetime(model_input["cutoff"]).unique())
    usable = [c for c in cutoffs if cutoffs[0] + pd.Timedelta(days=window_days) <= c]
    return [pd.Timestamp(c).date() for c in usable[-k:]]


def origin_probes(
    model_input: pd.DataFrame, features: list[str], params: TrainParams
) -> Iterator[tuple[dt.date, ProbeFit]]:
    """Per backtest origin, the early-stopped probe trained on cutoffs labelled by it."""
    for origin in backtest_origins(model_input, params.label.span_days, params.backtest_origins):
        try:
            yield origin, fit_probe(model_input, features, params, valid_cutoff=origin)
        except TemporalSplitError:
            continue  # an origin with one class cannot be judged; the others still can


def rolling_origin_backtest(
    model_input: pd.DataFrame, features: list[str], params: TrainParams
) -> pd.DataFrame:
    """One row per origin: train on cutoffs labelled by it, early-stop and judge on it.

    Each origin's probabilities are calibrated out-of-fold, as in the main run, so the spread
    across origins is the spread a user of the calibrated scores would see.
    """
    rows = []
    for origin, probe in origin_probes(model_input, features, params):
        outcome = probe.split.valid[LABEL].to_numpy(int)
        calibrated = choose_calibrator(probe.raw_probability, outcome,
                                       params.calibration_folds, params.seed).oof_probability
        metrics = classification_metrics(outcome, calibrated,
                                         customer_value(probe.split.valid), params.retention())
        rows.append({"origin": str(origin), "train_cutoffs": probe.split.train["cutoff"].nunique(),
                     "best_iteration": probe.best_iteration, **metrics})
    return pd.DataFrame(rows)


def backtest_summary(table: pd.DataFrame) -> dict[str, float]:
    """Mean and standard deviation across origins of each headline metric."""
    if table.empty:
        return {}
    summary = {"backtest_origins": float(len(table))}
    for name in BACKTEST_METRICS:
        summary[f"backtest_{name}_mean"] = float(table[name].mean())
        summary[f"backtest_{name}_std"] = float(table[name].std(ddof=0))
    return summary


def tenure_band(tenure_days: pd.Series) -> pd.Series:
    labels = pd.Series("tenure unknown", index=tenure_days.index, dtype=object)
    for low, high, name in TENURE_BANDS:
        labels[(tenure_days >= low) & (tenure_days < high)] = name
    return labels


def segment_breakdown(valid: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    """Headline metrics per customer segment and per tenure band on the validation rows.

    Groups with fewer than MIN_GROUP_ROWS customers, or with one class only, are listed with
    their size but no metrics: an AUC on a handful of rows would only mislead.
    """
    groupings = {"tenure_band": tenure_band(valid["tenure_days"])}
    if "segment" in valid:
        groupings["segment"] = valid["segment"].astype(object).fillna("unknown").astype(str)
    outcome = valid[LABEL].to_numpy(int)
    rows = []
    for by, labels in groupings.items():
        for group in sorted(labels.unique()):
            mask = (labels == group).to_numpy()
            row = {"by": by, "group": group, "customers": int(mask.sum()),
                   "churn_rate": float(outcome[mask].mean())}
            if mask.sum() >= MIN_GROUP_ROWS and 0 < outcome[mask].sum() < mask.sum():
                metrics = classification_metrics(outcome[mask], probability[mask])
                row.update({k: metrics[k] for k in ("roc_auc", "pr_auc", "brier", "ece",
                                                    "top_decile_lift")})
            rows.append(row)
    return pd.DataFrame(rows)
