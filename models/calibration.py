"""Calibrating churn probabilities on out-of-time data, and measuring calibration.

A calibrator is a monotone map from the classifier's raw probability to a calibrated one. It is
stored as plain numbers (JSON), so it travels with the registered model and reloads exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

Method = Literal["identity", "platt", "isotonic"]
_EPS = 1e-6


def _logit(probability: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(probability, dtype=float), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class Calibrator:
    """`platt`: sigmoid(a * logit(p) + b); `isotonic`: piecewise-linear through the knots."""

    method: Method = "identity"
    a: float = 1.0
    b: float = 0.0
    knots_x: list[float] = field(default_factory=list)
    knots_y: list[float] = field(default_factory=list)

    def apply(self, probability: np.ndarray) -> np.ndarray:
        p = np.asarray(probability, dtype=float)
        if self.method == "platt":
            return 1.0 / (1.0 + np.exp(-(self.a * _logit(p) + self.b)))
        if self.method == "isotonic":
            return np.interp(p, self.knots_x, self.knots_y)
        return p

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method, "a": self.a, "b": self.b,
                "knots_x": self.knots_x, "knots_y": self.knots_y}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Calibrator:
        return cls(**data) if data else cls()


def fit_platt(probability: np.ndarray, outcome: np.ndarray) -> Calibrator:
    # A very large C: plain maximum likelihood, no shrinkage of the slope towards 0.
    model = LogisticRegression(C=1e6)
    model.fit(_logit(probability).reshape(-1, 1), np.asarray(outcome, dtype=int))
    return Calibrator("platt", a=float(model.coef_[0, 0]), b=float(model.intercept_[0]))


def fit_isotonic(probability: np.ndarray, outcome: np.ndarray) -> Calibrator:
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit(np.asarray(probability, dtype=float), np.asarray(outcome, dtype=float))
    return Calibrator("isotonic", knots_x=[float(v) for v in model.X_thresholds_],
                      knots_y=[float(v) for v in model.y_thresholds_])


FITTERS = {"platt": fit_platt, "isotonic": fit_isotonic}


@dataclass(frozen=True)
class CalibrationChoice:
    """The chosen calibrator (fitted on all rows) and honest, out-of-fold evidence for it."""

    calibrator: Calibrator
    oof_brier: dict[str, float]
    oof_probability: np.ndarray  # calibrated, each row by a calibrator that never saw it


def cross_fitted_probability(
    probability: np.ndarray, outcome: np.ndarray, method: str, folds: int = 5, seed: int = 0
) -> np.ndarray:
    """Each row calibrated by a calibrator fitted on the other folds only."""
    probability, outcome = np.asarray(probability, float), np.asarray(outcome, int)
    out = np.empty_like(probability)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_rows, held_rows in splitter.split(probability.reshape(-1, 1), outcome):
        calibrator = FITTERS[method](probability[fit_rows], outcome[fit_rows])
        out[held_rows] = calibrator.apply(probability[held_rows])
    return out


def choose_calibrator(
    probability: np.ndarray, outcome: np.ndarray, folds: int = 5, seed: int = 0
) -> CalibrationChoice:
    """Platt or isotonic, whichever has the lower out-of-fold Brier score on these rows.

    The rows are out-of-time predictions of a model that never trained on them; the out-of-fold
    predictions are what the calibration metrics (ECE, reliability) are reported on.
    """
    outcome = np.asarray(outcome, int)
    minority = int(np.bincount(outcome, minlength=2).min())
    if minority < 2:  # nothing to learn a mapping from, nor to judge one on
        raw = np.asarray(probability, float)
        return CalibrationChoice(Calibrator(), {"identity": float(np.mean((raw - outcome) ** 2))},
                                 raw)
    folds = min(folds, minority)
    candidates = {m: cross_fitted_probability(probability, outcome, m, folds, seed)
                  for m in FITTERS}
    briers = {m: float(np.mean((p - outcome) ** 2)) for m, p in candidates.items()}
    best = min(briers, key=lambda method: briers[method])
    return CalibrationChoice(FITTERS[best](probability, outcome), briers, candidates[best])


def reliability_table(outcome: np.ndarray, probability: np.ndarray,
                      bins: int = 10) -> pd.DataFrame:
    """Per equal-width probability bin: customers, mean predicted and observed churn rate."""
    p, y = np.asarray(probability, float), np.asarray(outcome, float)
    index = np.clip((p * bins).astype(int), 0, bins - 1)
    frame = pd.DataFrame({"bin": index, "p": p, "y": y})
    grouped = frame.groupby("bin").agg(customers=("y", "size"), mean_predicted=("p", "mean"),
                                       observed_rate=("y", "mean"))
    grouped = grouped.reindex(range(bins))
    grouped.insert(0, "upper", [(b + 1) / bins for b in range(bins)])
    grouped.insert(0, "lower", [b / bins for b in range(bins)])
    grouped["customers"] = grouped["customers"].fillna(0).astype(int)
    return grouped.reset_index(drop=True)


def expected_calibration_error(outcome: np.ndarray, probability: np.ndarray,
                               bins: int = 10) -> float:
    """Customer-weighted mean |observed rate - mean predicted| over equal-width bins."""
    table = reliability_table(outcome, probability, bins)
    used = table[table["customers"] > 0]
    gap = (used["observed_rate"] - used["mean_predicted"]).abs()
    return float((gap * used["customers"]).sum() / used["customers"].sum())
