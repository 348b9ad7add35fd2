"""Fitting the LightGBM churn classifier with out-of-time validation and calibration.

Pure: frames in, fitted estimators and numbers out. MLflow lives in `pipelines.tracking`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd

from features.labels import LabelSpec
from models.baselines import baseline_probabilities
from models.calibration import Calibrator, choose_calibrator, reliability_table
from models.evaluate import classification_metrics
from models.matrix import category_levels, model_matrix
from models.params import TrainParams

LABEL = "churned"
VALUE_COLUMN = "spend_365d"


class TemporalSplitError(ValueError):
    """The model input has too few cutoffs for an out-of-time validation."""


@dataclass(frozen=True)
class TemporalSplit:
    train: pd.DataFrame
    valid: pd.DataFrame
    valid_cutoff: dt.date


def temporal_split(model_input: pd.DataFrame, spec: LabelSpec,
                   valid_cutoff: dt.date | None = None) -> TemporalSplit:
    """Validate on `valid_cutoff` (default the latest); train only on cutoffs whose label
    window (gap + horizon) has ended by it.

    A training label window that overlaps the validation cutoff's future would let the model
    learn from the very period it is judged on.
    """
    cutoffs = pd.to_datetime(model_input["cutoff"])
    chosen = pd.Timestamp(valid_cutoff) if valid_cutoff else cutoffs.max()
    latest_train = pd.Timestamp(spec.last_labelled_cutoff(chosen))
    train = model_input[cutoffs <= latest_train]
    valid = model_input[cutoffs == chosen]
    if train.empty:
        raise TemporalSplitError(
            f"no cutoff ends its {spec.span_days}-day label window by the validation cutoff "
            f"{chosen.date()}; use more cutoffs (--n-cutoffs) or a shorter horizon"
        )
    return TemporalSplit(train.reset_index(drop=True), valid.reset_index(drop=True),
                         chosen.date())


@dataclass
class OutOfTimeEvaluation:
    """Validation rows with every probability judged on them (not persisted; for figures)."""

    valid: pd.DataFrame
    raw_probability: np.ndarray
    probability: np.ndarray  # calibrated out-of-fold: no row calibrated by a model that saw it
    baseline_probability: dict[str, np.ndarray]
    reliability: pd.DataFrame
    calibration_brier: dict[str, float]

    @property
    def outcome(self) -> np.ndarray:
        return self.valid[LABEL].to_numpy(dtype=int)


@dataclass
class FittedChurnModel:
    """A fitted classifier with everything scoring needs to rebuild its input."""

    classifier: lgb.LGBMClassifier
    features: list[str]
    levels: dict[str, list[str]]
    label: LabelSpec
    best_iteration: int  # the trees the model has (`size.trees` when trained here)
    validation: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)  # the recency baseline
    valid_cutoff: dt.date | None = None
    train_cutoffs: list[dt.date] = field(default_factory=list)
    calibrator: Calibrator = field(default_factory=Calibrator)
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)
    validation_uncalibrated: dict[str, float] = field(default_factory=dict)
    evaluation: OutOfTimeEvaluation | None = None
    # Interaction types learned at training (features.event_types): scoring rebuilds their
    # columns for exactly these types.
    event_types: list[str] = field(default_factory=list)
    size: ModelSize | None = None  # None for a model loaded from before the size rule
    # What the classifier was fitted on (`FinalFit`): rows, and "process" or "dask".
    fit_rows: int = 0
    fit_engine: str = "process"

    def matrix(self, frame: pd.DataFrame) -> pd.DataFrame:
        return model_matrix(frame, self.features, self.levels)

    def raw_probability(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.classifier.predict_proba(self.matrix(frame)))[:, 1]

    def predict_probability(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability per row of `frame`."""
        return self.calibrator.apply(self.raw_probability(frame))


@dataclass(frozen=True)
class ModelSize:
    """How many trees the model keeps and why (`parsimonious_trees`), with the out-of-time
    validation log loss at the kept size and at the loss-minimising one."""

    trees: int
    best_iteration: int
    valid_logloss_at_trees: float
    valid_logloss_at_best: float
    tolerance: float
    max_trees: int

    @property
    def capped(self) -> bool:
        """The probe reached `max_trees`: more trees might still have lowered the loss."""
        return self.best_iteration >= self.max_trees

    def as_params(self) -> dict[str, float | int | bool]:
        return {"trees": self.trees, "best_iteration_trees": self.best_iteration,
                "valid_logloss_at_trees": self.valid_logloss_at_trees,
                "valid_logloss_at_best": self.valid_logloss_at_best,
                "trees_capped": self.capped}


def parsimonious_trees(valid_loss: list[float] | np.ndarray, tolerance: float,
                       max_trees: int) -> int:
    """The fewest trees (1-based) whose validation loss is within `tolerance` (a share) of
    the lowest loss among the first `max_trees`.

    Early stopping alone keeps every tree that lowers the loss at all, so the model grows with
    the data while the last hundreds of trees buy almost nothing; each tree costs TreeSHAP time
    on every scored customer. With tolerance 0 this is the best iteration (first minimum).
    """
    losses = np.asarray(valid_loss, dtype=float)[:max_trees]
    if losses.size == 0:
        raise ValueError("an empty validation history has no size to choose")
    bound = losses.min() * (1.0 + tolerance)
    return int(np.flatnonzero(losses <= bound)[0]) + 1


@dataclass(frozen=True)
class ProbeFit:
    """A model fitted on the training cutoffs only, early-stopped on the validation one and
    judged there at the size `parsimonious_trees` chose."""

    split: TemporalSplit
    levels: dict[str, list[str]]
    best_iteration: int  # the trees kept (`size.trees`); the name older callers read
    raw_probability: np.ndarray
    size: ModelSize


def fit_probe(model_input: pd.DataFrame, features: list[str], params: TrainParams,
              valid_cutoff: dt.date | None = None) -> ProbeFit:
    split = temporal_split(model_input, params.label, valid_cutoff)
    _require_both_classes(split.train, "training")
    _require_both_classes(split.valid, "validation")
    levels = category_levels(split.train, features)
    x_train = model_matrix(split.train, features, levels)
    x_valid = model_matrix(split.valid, features, levels)
    ceiling = min(params.max_boost_rounds, params.max_trees)
    probe = lgb.LGBMClassifier(n_estimators=ceiling, **params.lightgbm_params(len(split.train)))
    probe.fit(
        x_train, split.train[LABEL],
        eval_X=(x_valid,), eval_y=(split.valid[LABEL],), eval_metric="binary_logloss",
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)],
    )
    losses = validation_losses(probe)
    size = model_size(losses, params.size_tolerance, ceiling)
    raw = np.asarray(probe.predict_proba(x_valid, num_iteration=size.trees))[:, 1]
    return ProbeFit(split, levels, size.trees, raw, size)


def validation_losses(probe: lgb.LGBMClassifier) -> list[float]:
    """The out-of-time log loss after each boosting round of an early-stopped probe."""
    history = probe.evals_result_
    return list(history[next(iter(history))]["binary_logloss"])


def model_size(losses: list[float], tolerance: float, max_trees: int) -> ModelSize:
    best = int(np.argmin(np.asarray(losses[:max_trees]))) + 1
    trees = parsimonious_trees(losses, tolerance, max_trees)
    return ModelSize(trees=trees, best_iteration=best,
                     valid_logloss_at_trees=float(losses[trees - 1]),
                     valid_logloss_at_best=float(losses[best - 1]),
                     tolerance=tolerance, max_trees=max_trees)


@dataclass(frozen=True)
class FinalFit:
    """The classifier scoring uses, the category levels its matrix was built with, the rows
    it was fitted on and where ("process", or "dask" for `lightgbm.dask` on a cluster)."""

    classifier: lgb.LGBMClassifier
    levels: dict[str, list[str]]
    rows: int
    engine: str = "process"


#: Fits the final classifier with the given number of trees (`fit_with_validation`'s refit).
Refit = Callable[[int], FinalFit]


def refit_in_process(model_input: pd.DataFrame, features: list[str],
                     params: TrainParams) -> Refit:
    """The default refit: every row of `model_input`, in this process."""
    def refit(trees: int) -> FinalFit:
        levels = category_levels(model_input, features)
        final = lgb.LGBMClassifier(n_estimators=trees,
                                   **params.lightgbm_params(len(model_input)))
        final.fit(model_matrix(model_input, features, levels), model_input[LABEL])
        return FinalFit(final, levels, len(model_input))
    return refit


def customer_value(frame: pd.DataFrame) -> np.ndarray | None:
    return frame[VALUE_COLUMN].to_numpy(float) if VALUE_COLUMN in frame else None


def fit_with_validation(
    model_input: pd.DataFrame, features: list[str], params: TrainParams,
    refit: Refit | None = None,
) -> FittedChurnModel:
    """Early-stop on the out-of-time cutoff, keep the fewest trees within `size_tolerance`
    of the best loss there (`parsimonious_trees`), calibrate and report at that size, then
    refit on all.

    The calibrator is fitted on the out-of-time predictions of the model that never saw the
    validation cutoff's labels; the reported metrics are on out-of-fold calibrated predictions,
    so no row is judged by a calibrator fitted on it. The returned classifier is refitted on
    all labelled cutoffs with the same number of trees, and keeps that calibrator.

    `refit` fits that final classifier (default `refit_in_process` over `model_input`); a
    cluster's refit (`pipelines.scale.training`) fits it on every customer's snapshots while
    `model_input` is the in-memory sample the size, calibration and figures come from.
    """
    probe = fit_probe(model_input, features, params)
    split, outcome = probe.split, probe.split.valid[LABEL].to_numpy(int)
    choice = choose_calibrator(probe.raw_probability, outcome, params.calibration_folds,
                               params.seed)
    value, retention = customer_value(split.valid), params.retention()
    baseline_probability = baseline_probabilities(
        split.train, split.valid, features, params.lightgbm_params(len(split.train)),
        probe.best_iteration, params.label, LABEL,
    )
    baselines = {name: classification_metrics(outcome, p, value, retention)
                 for name, p in baseline_probability.items()}
    train_cutoffs = sorted(pd.to_datetime(split.train["cutoff"]).dt.date.unique().tolist())
    valid, valid_cutoff, size = split.valid, split.valid_cutoff, probe.size
    raw, trees = probe.raw_probability, probe.best_iteration
    # The split's training rows are a copy of most of the input: let them go before the refit
    # builds its matrix over all rows.
    del probe, split
    final = (refit or refit_in_process(model_input, features, params))(trees)
    return FittedChurnModel(
        classifier=final.classifier, features=list(features), levels=final.levels,
        fit_rows=final.rows, fit_engine=final.engine,
        label=params.label, best_iteration=trees,
        validation=classification_metrics(outcome, choice.oof_probability, value, retention),
        validation_uncalibrated=classification_metrics(outcome, raw, value, retention),
        baseline=baselines["recency"], baselines=baselines, valid_cutoff=valid_cutoff,
        train_cutoffs=train_cutoffs, calibrator=choice.calibrator, size=size,
        evaluation=OutOfTimeEvaluation(
            valid=valid, raw_probability=raw,
            probability=choice.oof_probability, baseline_probability=baseline_probability,
            reliability=reliability_table(outcome, choice.oof_probability),
            calibration_brier=choice.oof_brier,
        ),
    )


def _require_both_classes(frame: pd.DataFrame, what: str) -> None:
    counts = frame[LABEL].value_counts()
    if counts.get(0, 0) == 0 or counts.get(1, 0) == 0:
        raise TemporalSplitError(
            f"the {what} cutoffs hold only one class ({counts.to_dict()}); "
            "more customers or a different horizon are needed"
        )
