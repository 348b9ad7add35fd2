"""Optional hyper-parameter search (Optuna) judged on the temporal backtest, never a random split.

The search space lives in `SearchSpace`, the one typed place to change it. Each trial's
objective is the mean over the backtest origins of the out-of-time PR-AUC (maximised) or log
loss (minimised) of a model fitted only on cutoffs labelled by that origin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel
from sklearn.metrics import average_precision_score, log_loss

from models.backtest import origin_probes
from models.params import TrainParams
from models.train import LABEL

Objective = Literal["pr_auc", "log_loss"]


class SearchSpace(BaseModel):
    """Ranges of the tuned LightGBM parameters (log-uniform where marked)."""

    learning_rate: tuple[float, float] = (0.01, 0.1)  # log
    num_leaves: tuple[int, int] = (7, 63)
    min_child_samples: tuple[int, int] = (10, 300)  # log
    feature_fraction: tuple[float, float] = (0.5, 1.0)
    bagging_fraction: tuple[float, float] = (0.5, 1.0)
    lambda_l2: tuple[float, float] = (1e-3, 10.0)  # log

    def sample(self, trial) -> dict[str, float | int]:
        return {
            "learning_rate": trial.suggest_float("learning_rate", *self.learning_rate, log=True),
            "num_leaves": trial.suggest_int("num_leaves", *self.num_leaves),
            "min_child_samples": trial.suggest_int("min_child_samples", *self.min_child_samples,
                                                   log=True),
            "feature_fraction": trial.suggest_float("feature_fraction", *self.feature_fraction),
            "bagging_fraction": trial.suggest_float("bagging_fraction", *self.bagging_fraction),
            "lambda_l2": trial.suggest_float("lambda_l2", *self.lambda_l2, log=True),
        }


@dataclass(frozen=True)
class TrialResult:
    number: int
    params: dict[str, float | int]
    value: float
    per_origin: list[float]


def backtest_objective(
    model_input: pd.DataFrame, features: list[str], params: TrainParams, objective: Objective
) -> list[float]:
    """The objective on each backtest origin (raw probabilities: calibration comes later)."""
    values = []
    for _, probe in origin_probes(model_input, features, params):
        outcome = probe.split.valid[LABEL].to_numpy(int)
        values.append(float(average_precision_score(outcome, probe.raw_probability))
                      if objective == "pr_auc"
                      else float(log_loss(outcome, probe.raw_probability, labels=[0, 1])))
    return values


def tune(
    model_input: pd.DataFrame, features: list[str], base: TrainParams, n_trials: int,
    objective: Objective = "pr_auc", space: SearchSpace | None = None,
    on_trial: Callable[[TrialResult], None] | None = None,
) -> tuple[TrainParams, list[TrialResult]]:
    """Best parameters found in `n_trials` (seeded TPE) and every trial's result."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = space or SearchSpace()
    results: list[TrialResult] = []

    def run_trial(trial) -> float:
        sampled = space.sample(trial)
        per_origin = backtest_objective(model_input, features,
                                        base.model_copy(update=sampled), objective)
        value = float(np.mean(per_origin)) if per_origin else float("nan")
        result = TrialResult(trial.number, sampled, value, per_origin)
        results.append(result)
        if on_trial is not None:
            on_trial(result)
        return value

    study = optuna.create_study(
        direction="maximize" if objective == "pr_auc" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=base.seed),
    )
    study.optimize(run_trial, n_trials=n_trials)
    return base.model_copy(update=study.best_params), results
