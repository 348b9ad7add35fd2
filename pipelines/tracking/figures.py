"""Matplotlib figures of a training run (Agg backend: no display needed)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from models.train import FittedChurnModel  # noqa: E402

SHAP_ROWS = 1000


def _axes(title: str) -> tuple[Figure, plt.Axes]:
    figure, axes = plt.subplots(figsize=(5.5, 4.5), dpi=90)
    axes.set_title(title)
    return figure, axes


def roc_figure(outcome: np.ndarray, curves: dict[str, np.ndarray]) -> Figure:
    figure, axes = _axes("ROC, out-of-time cutoff")
    for name, probability in curves.items():
        fpr, tpr, _ = roc_curve(outcome, probability)
        axes.plot(fpr, tpr, label=name, lw=2 if name == "model" else 1)
    axes.plot([0, 1], [0, 1], "k:", lw=0.8)
    axes.set(xlabel="false positive rate", ylabel="true positive rate")
    axes.legend(loc="lower right", fontsize=8)
    return figure


def pr_figure(outcome: np.ndarray, curves: dict[str, np.ndarray]) -> Figure:
    figure, axes = _axes("Precision-recall, out-of-time cutoff")
    for name, probability in curves.items():
        precision, recall, _ = precision_recall_curve(outcome, probability)
        axes.plot(recall, precision, label=name, lw=2 if name == "model" else 1)
    axes.axhline(outcome.mean(), color="k", ls=":", lw=0.8, label="churn rate")
    axes.set(xlabel="recall", ylabel="precision")
    axes.legend(loc="upper right", fontsize=8)
    return figure


def calibration_figure(reliability: pd.DataFrame) -> Figure:
    figure, axes = _axes("Calibration (out-of-fold, out-of-time)")
    used = reliability[reliability["customers"] > 0]
    axes.plot([0, 1], [0, 1], "k:", lw=0.8, label="perfect")
    axes.plot(used["mean_predicted"], used["observed_rate"], "o-", label="model")
    for row in used.itertuples():
        axes.annotate(str(row.customers), (row.mean_predicted, row.observed_rate), fontsize=7)
    axes.set(xlabel="mean predicted probability", ylabel="observed churn rate",
             xlim=(0, 1), ylim=(0, 1))
    axes.legend(loc="upper left", fontsize=8)
    return figure


def gain_figure(outcome: np.ndarray, curves: dict[str, np.ndarray]) -> Figure:
    figure, (gain, lift) = plt.subplots(1, 2, figsize=(9, 4), dpi=90)
    share = np.arange(1, len(outcome) + 1) / len(outcome)
    for name, probability in curves.items():
        ordered = outcome[np.argsort(-probability, kind="stable")]
        captured = np.cumsum(ordered) / max(ordered.sum(), 1)
        gain.plot(share, captured, label=name, lw=2 if name == "model" else 1)
        lift.plot(share, captured / share, label=name, lw=2 if name == "model" else 1)
    gain.plot([0, 1], [0, 1], "k:", lw=0.8)
    gain.set(title="Cumulative gain", xlabel="share contacted", ylabel="share of churners")
    lift.set(title="Lift", xlabel="share contacted", ylabel="lift", xlim=(0.01, 1))
    gain.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure


def importance_figure(fitted: FittedChurnModel, top: int = 20) -> Figure:
    booster = fitted.classifier.booster_
    gain = pd.Series(booster.feature_importance("gain"), index=booster.feature_name())
    gain = gain.sort_values().tail(top)
    figure, axes = plt.subplots(figsize=(6, 0.3 * len(gain) + 1.2), dpi=90)
    axes.barh(gain.index, gain.to_numpy())
    axes.set(title="Feature importance (total gain)", xlabel="gain")
    figure.tight_layout()
    return figure


def shap_figure(fitted: FittedChurnModel, frame: pd.DataFrame, seed: int = 0) -> Figure:
    """SHAP beeswarm (log-odds) of the registered model on a sample of validation rows."""
    import shap

    sample = frame.sample(min(len(frame), SHAP_ROWS), random_state=seed)
    explanation = shap.TreeExplainer(fitted.classifier)(fitted.matrix(sample))
    plt.figure(figsize=(7, 6), dpi=90)
    shap.plots.beeswarm(explanation, max_display=15, show=False)
    figure = plt.gcf()
    figure.tight_layout()
    return figure


def training_figures(fitted: FittedChurnModel) -> dict[str, Figure]:
    """File name -> figure for every chart of a run with an out-of-time evaluation."""
    evaluation = fitted.evaluation
    if evaluation is None:
        return {}
    outcome = evaluation.outcome
    curves = {"model": evaluation.probability, **evaluation.baseline_probability}
    return {
        "figures/roc.png": roc_figure(outcome, curves),
        "figures/precision_recall.png": pr_figure(outcome, curves),
        "figures/calibration.png": calibration_figure(evaluation.reliability),
        "figures/lift_gain.png": gain_figure(outcome, curves),
        "figures/feature_importance.png": importance_figure(fitted),
        "figures/shap_beeswarm.png": shap_figure(fitted, evaluation.valid),
    }
