"""The model card: a short markdown account of what a trained model is and how good it is."""

from __future__ import annotations

from typing import Any

import pandas as pd

from features.labels import LabelSpec
from features.renewals import RENEWAL_GRACE_DAYS
from models.backtest import BACKTEST_METRICS
from models.params import TrainParams
from models.train import FittedChurnModel

HEADLINE = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "top_decile_lift",
            "precision_top10", "recall_top10", "retained_value_top_decile")


def _markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    text = frame.astype(object).map(
        lambda v: f"{v:.{digits}f}" if isinstance(v, float) else ("" if v is None else str(v)))
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |",
             "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(row) + " |" for row in text.itertuples(index=False)]
    return "\n".join(lines)


def metrics_vs_baselines(fitted: FittedChurnModel) -> pd.DataFrame:
    columns = {"model": fitted.validation, **fitted.baselines}
    return pd.DataFrame({"metric": list(HEADLINE),
                         **{name: [m.get(k) for k in HEADLINE] for name, m in columns.items()}})


def lead_over_baselines(fitted: FittedChurnModel) -> dict[str, float]:
    """Model minus baseline, for ROC-AUC and PR-AUC (positive: the model is ahead)."""
    lead = {}
    for name, metrics in fitted.baselines.items():
        for key in ("roc_auc", "pr_auc"):
            lead[f"lead_over_{name}_{key}"] = fitted.validation[key] - metrics[key]
    return lead


def definition_of_churn(spec: LabelSpec) -> str:
    """The churn definition of `spec` as one English sentence (the card is English only)."""
    h, g, span = spec.horizon_days, spec.gap_days, spec.span_days
    if spec.definition == "renewal":
        return (f"Cancelled in the {span} days after the cutoff (the customer master, or every "
                "subscription stopped), or a renewal due in that window not paid: renewals fall "
                "due every billing period (calendar months) from the last payment on or before "
                f"the cutoff and count as paid within {RENEWAL_GRACE_DAYS} days of their due "
                f"day; the {h}-day window holds {h / 30.44:.1f} monthly billing periods"
                + (f" (after a {g}-day gap)" if g else "") + ". Never \"no payment\" in a "
                "window as short as the billing period.")
    if spec.definition == "cancellation":
        if g:
            return (f"A cancellation in the customer master in the {span} days after the cutoff "
                    f"(a {g}-day gap, then a {h}-day window; a cancellation during the gap "
                    "counts too); purchases do not matter.")
        return (f"A cancellation in the customer master in the {h} days after the cutoff; "
                "purchases do not matter.")
    if g:
        return (f"No completed purchase in the {h} days that start {g} days after the cutoff "
                f"(days {g + 1} to {span}; the {g}-day gap is left out), or a cancellation in "
                f"the {span} days after the cutoff.")
    return (f"No completed purchase in the {h} days after the cutoff, or a cancellation in that "
            "window.")


def action_save_rate_lines(params: TrainParams) -> list[str]:
    """The save rate in force per planned action, each labelled measured (customers and
    interval) or assumed; none before `churn track-record` measured anything."""
    if not params.action_save_rates:
        return []
    return ["Save rate per planned action (the playbook's; measured once both arms of an "
            "action have enough randomised customers, else assumed):", "",
            *(f"- {action}: {rate.save_rate:.0%}, {rate.source}"
              for action, rate in params.action_save_rates.items()), ""]


def model_card(
    fitted: FittedChurnModel, params: TrainParams, data: dict[str, Any],
    backtest: pd.DataFrame, segments: pd.DataFrame, decision: str,
    billing: dict[str, Any] | None = None,
) -> str:
    """Markdown: data, churn definition, metrics vs baselines, stability, segments, limits."""
    calibrator = fitted.calibrator.method
    lines = [
        "# Churn model card", "",
        "## Data",
        f"- Events from {data.get('data_start')} to {data.get('data_end')}; model input "
        f"`{data.get('path')}` (SHA-256 `{str(data.get('sha256', ''))[:16]}…`).",
        f"- Cutoffs: {', '.join(map(str, data.get('cutoffs', [])))}; trained on "
        f"{len(fitted.train_cutoffs)} cutoff(s) "
        f"for validation, refitted on all; validated out of time on {fitted.valid_cutoff}.",
        *([f"- Customers: {data['sample_note']}."] if data.get("sample_note") else []),
        *([f"- Final model: {data['fit_note']}."] if data.get("fit_note") else []),
        f"- {len(fitted.features)} features: {', '.join(fitted.features)}.", "",
        *_business_lines(billing),
        "## Definition of churn",
        f"- {definition_of_churn(fitted.label)} Features see only events up to the end of the "
        "cutoff day (UTC).", "",
        "## Model",
        f"- LightGBM, {fitted.best_iteration} trees (the fewest within "
        f"{params.size_tolerance:.1%} of the best out-of-time log loss, at most "
        f"{params.max_trees}), "
        f"learning rate {params.learning_rate}, {params.num_leaves} leaves; classes not "
        "re-weighted.",
        f"- Calibration: {calibrator}, chosen by out-of-fold Brier score on the out-of-time "
        f"cutoff ({', '.join(f'{k} {v:.5f}' for k, v in _briers(fitted).items())}).", "",
        "## Out-of-time metrics vs baselines",
        "Same customers, same cutoff. Model metrics are on out-of-fold calibrated "
        "probabilities.", "",
        _markdown_table(metrics_vs_baselines(fitted)), "",
        f"Retained value assumes contacting the top 10 %, keeping {params.save_rate:.0%} of "
        f"contacted churners ({params.save_rate_source}), each worth their last-365-day "
        f"spend, at {params.contact_cost} per contact.", "",
        *action_save_rate_lines(params),
        "## Rolling-origin backtest", "",
        _markdown_table(backtest[["origin", "train_cutoffs", "best_iteration",
                                  *BACKTEST_METRICS, "n"]])
        if not backtest.empty else "(too few cutoffs)", "",
        "## Segments and tenure bands (out-of-time cutoff)", "",
        _markdown_table(segments) if not segments.empty else "(none)", "",
        "## Promotion", f"- {decision}", "",
        "## Known limits",
        "- Early stopping and calibration both use the latest labelled cutoff, so its metrics "
        "are slightly optimistic; the backtest shows the spread over earlier origins.",
        "- The registered model is refitted on all cutoffs with the validated tree count and "
        "reuses the calibrator fitted on the validation model's predictions.",
        "- Behaviour can drift: retrain monthly and watch the backtest spread.",
    ]
    return "\n".join(lines) + "\n"


def _briers(fitted: FittedChurnModel) -> dict[str, float]:
    return fitted.evaluation.calibration_brier if fitted.evaluation else {}


def _business_lines(billing: dict[str, Any] | None) -> list[str]:
    """The "Business" section: contractual or not, why, and who chose the definition."""
    if not billing:
        return []
    chosen = ("chosen from this verdict" if billing.get("definition_chosen")
              else "set by the user")
    return ["## Business", f"- {str(billing.get('business', '')).capitalize()}: "
            + "; ".join(billing.get("evidence", [])) + f". Churn definition {chosen}.", ""]
