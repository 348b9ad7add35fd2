"""Fitting the LightGBM churn classifier with out-of-time validation.

Pure: frames in, fitted estimators and numbers out. MLflow lives in `pipelines.tracking`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from models.evaluate import classification_metrics, recency_baseline_probability
from models.matrix import category_levels, model_matrix

LABEL = "churned"


class TrainParams(BaseModel):
    """Business and model parameters of a training run (typed flow parameters)."""

    horizon_days: int = Field(90, ge=7, description="Days after the cutoff the label looks at.")
    n_cutoffs: int = Field(8, ge=2, description="Monthly cutoffs in the model input.")
    cutoff_step_days: int = Field(30, ge=7)
    min_history_days: int = Field(
        180, ge=0, description="Cutoffs start this long after the first purchase in the data."
    )
    learning_rate: float = 0.03
    num_leaves: int = 15
    min_child_samples: int = 50
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    max_boost_rounds: int = 2000
    early_stopping_rounds: int = 100
    seed: int = 7

    def lightgbm_params(self) -> dict[str, object]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_child_samples": self.min_child_samples,
            "colsample_bytree": self.feature_fraction,
            "subsample": self.bagging_fraction,
            "subsample_freq": 1,
            "reg_lambda": self.lambda_l2,
            "random_state": self.seed,
            "n_jobs": -1,
            "verbose": -1,
        }


class TemporalSplitError(ValueError):
    """The model input has too few cutoffs for an out-of-time validation."""


@dataclass(frozen=True)
class TemporalSplit:
    train: pd.DataFrame
    valid: pd.DataFrame
    valid_cutoff: dt.date


def temporal_split(model_input: pd.DataFrame, horizon_days: int) -> TemporalSplit:
    """Validate on the latest cutoff; train only on cutoffs whose label window has ended by it.

    A training label window that overlaps the validation cutoff's future would let the model
    learn from the very period it is judged on.
    """
    cutoffs = sorted(pd.to_datetime(model_input["cutoff"]).unique())
    valid_cutoff = pd.Timestamp(cutoffs[-1])
    latest_train = valid_cutoff - pd.Timedelta(days=horizon_days)
    train = model_input[pd.to_datetime(model_input["cutoff"]) <= latest_train]
    valid = model_input[pd.to_datetime(model_input["cutoff"]) == valid_cutoff]
    if train.empty:
        raise TemporalSplitError(
            f"no cutoff ends its {horizon_days}-day label window by the validation cutoff "
            f"{valid_cutoff.date()}; use more cutoffs (--n-cutoffs) or a shorter horizon"
        )
    return TemporalSplit(train.reset_index(drop=True), valid.reset_index(drop=True),
                         valid_cutoff.date())


@dataclass
class FittedChurnModel:
    """A fitted classifier with everything scoring needs to rebuild its input."""

    classifier: lgb.LGBMClassifier
    features: list[str]
    levels: dict[str, list[str]]
    horizon_days: int
    best_iteration: int
    validation: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    valid_cutoff: dt.date | None = None
    train_cutoffs: list[dt.date] = field(default_factory=list)

    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        return model_matrix(frame, self.features, self.levels)

    def predict_probability(self, frame: pd.DataFrame) -> np.ndarray:
        return self.classifier.predict_proba(self.matrix(frame))[:, 1]


def fit_with_validation(
    model_input: pd.DataFrame, features: list[str], params: TrainParams
) -> FittedChurnModel:
    """Early-stop on the out-of-time cutoff, report its metrics, then refit on every cutoff.

    The reported metrics come from the model that never saw the validation cutoff's labels;
    the returned classifier is refitted on all labelled cutoffs with the same number of trees,
    so the scored model has seen the most recent behaviour.
    """
    split = temporal_split(model_input, params.horizon_days)
    _require_both_classes(split.train, "training")
    _require_both_classes(split.valid, "validation")
    levels = category_levels(split.train, features)
    x_train, x_valid = model_matrix(split.train, features, levels), model_matrix(
        split.valid, features, levels
    )
    probe = lgb.LGBMClassifier(n_estimators=params.max_boost_rounds, **params.lightgbm_params())
    probe.fit(
        x_train, split.train[LABEL],
        eval_X=(x_valid,), eval_y=(split.valid[LABEL],), eval_metric="binary_logloss",
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    best = int(probe.best_iteration_ or params.max_boost_rounds)
    validation = classification_metrics(
        split.valid[LABEL], probe.predict_proba(x_valid, num_iteration=best)[:, 1]
    )
    baseline = classification_metrics(
        split.valid[LABEL], recency_baseline_probability(split.train, split.valid, LABEL)
    )
    levels_all = category_levels(model_input, features)
    final = lgb.LGBMClassifier(n_estimators=best, **params.lightgbm_params())
    final.fit(model_matrix(model_input, features, levels_all), model_input[LABEL])
    return FittedChurnModel(
        classifier=final, features=list(features), levels=levels_all,
        horizon_days=params.horizon_days, best_iteration=best,
        validation=validation, baseline=baseline, valid_cutoff=split.valid_cutoff,
        train_cutoffs=sorted(pd.to_datetime(split.train["cutoff"]).dt.date.unique().tolist()),
    )


def _require_both_classes(frame: pd.DataFrame, what: str) -> None:
    counts = frame[LABEL].value_counts()
    if counts.get(0, 0) == 0 or counts.get(1, 0) == 0:
        raise TemporalSplitError(
            f"the {what} cutoffs hold only one class ({counts.to_dict()}); "
            "more customers or a different horizon are needed"
        )
