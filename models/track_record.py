"""The track record of shipped risk lists: what really happened to the customers on each list.

A list is graded once its label window (under the `LabelSpec` recorded with it) has ended by
the data end; until then it is "not matured yet" with the date it matures on. Outcomes come
from `features.labels.churn_labels`, which only counts events after the list's as-of and up to
its window end; purchases after the window end are dropped here as well, so nothing later can
leak in. Each graded list is set against what the model promised out of time at training.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from features.build import to_naive_utc
from features.labels import LabelSpec, churn_labels
from features.renewals import subscriptions_known_at
from models.calibration import expected_calibration_error

GRADED, NOT_MATURED = "graded", "not matured"
LIST_COLUMNS = [
    "as_of", "run_id", "model_version", "status", "matures_on", "customers", "churned",
    "churn_rate", "mean_predicted", "roc_auc", "pr_auc", "brier", "ece", "top_tier_customers",
    "precision_top_tiers", "recall_top_tiers", "value_at_risk", "value_lost",
    "value_lost_top_tiers", "promised_roc_auc", "promised_pr_auc", "promised_churn_rate",
    "roc_auc_vs_promised", "pr_auc_vs_promised",
]
TIER_COLUMNS = ["as_of", "run_id", "tier", "customers", "churned", "churn_rate",
                "mean_predicted"]


@dataclass(frozen=True)
class ShippedList:
    """One archived risk list and what was recorded with it."""

    as_of: dt.date
    run_id: str
    model_version: str
    label: LabelSpec
    risk: pd.DataFrame  # customer_id, churn_probability, risk_tier, value_at_risk, annual_revenue
    top_tiers: tuple[str, ...]
    promised: dict[str, float] = field(default_factory=dict)  # the model's out-of-time metrics


@dataclass(frozen=True)
class TrackRecord:
    lists: pd.DataFrame  # LIST_COLUMNS, one row per list, oldest first
    tiers: pd.DataFrame  # TIER_COLUMNS, realised churn per tier of every graded list

    @property
    def graded(self) -> pd.DataFrame:
        return self.lists[self.lists["status"] == GRADED]


def realised_outcomes(
    shipped: ShippedList, purchases: pd.DataFrame, data_end: dt.date,
    customers: pd.DataFrame | None = None, subscriptions: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The list joined with `churned` (0/1): events in (as-of, window end] only.

    Raises `CensoredCutoffError` when the window has not ended by `data_end`."""
    window_end = pd.Timestamp(shipped.label.window_end(shipped.as_of) + dt.timedelta(days=1))
    seen = purchases[to_naive_utc(purchases["order_date"]) < window_end]
    labels = churn_labels(shipped.risk["customer_id"].astype(str), seen, shipped.as_of,
                          shipped.label, data_end=data_end, customers=customers,
                          subscriptions=subscriptions_known_at(subscriptions, window_end))
    return shipped.risk.merge(labels, on="customer_id", how="inner", validate="one_to_one")


def _auc(metric, y: np.ndarray, p: np.ndarray) -> float:
    return float(metric(y, p)) if 0 < y.sum() < len(y) else float("nan")


def grade_list(shipped: ShippedList,
               outcomes: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame]:
    """The list's row of the track record and its per-tier table, from its outcomes."""
    y = outcomes["churned"].to_numpy(int)
    p = outcomes["churn_probability"].to_numpy(float)
    top = outcomes["risk_tier"].isin(shipped.top_tiers).to_numpy()
    churners = int(y.sum())
    revenue = outcomes.get("annual_revenue", pd.Series(0.0, index=outcomes.index))
    lost = revenue.to_numpy(float) * y
    promised = shipped.promised
    roc, pr = _auc(roc_auc_score, y, p), _auc(average_precision_score, y, p)
    promised_roc = float(promised.get("roc_auc", float("nan")))
    promised_pr = float(promised.get("pr_auc", float("nan")))
    row: dict[str, Any] = {
        "status": GRADED, "customers": len(y), "churned": churners,
        "churn_rate": float(y.mean()) if len(y) else float("nan"),
        "mean_predicted": float(p.mean()) if len(p) else float("nan"),
        "roc_auc": roc, "pr_auc": pr,
        "brier": float(np.mean((p - y) ** 2)) if len(y) else float("nan"),
        "ece": expected_calibration_error(y, p) if len(y) else float("nan"),
        "top_tier_customers": int(top.sum()),
        "precision_top_tiers": float(y[top].mean()) if top.any() else float("nan"),
        "recall_top_tiers": float(y[top].sum() / churners) if churners else float("nan"),
        "value_at_risk": float(outcomes["value_at_risk"].sum()),
        "value_lost": float(lost.sum()), "value_lost_top_tiers": float(lost[top].sum()),
        "promised_roc_auc": promised_roc, "promised_pr_auc": promised_pr,
        "promised_churn_rate": float(promised.get("positive_rate", float("nan"))),
        "roc_auc_vs_promised": roc - promised_roc, "pr_auc_vs_promised": pr - promised_pr,
    }
    tiers = (outcomes.groupby("risk_tier", sort=False)
             .agg(customers=("churned", "size"), churned=("churned", "sum"),
                  churn_rate=("churned", "mean"), mean_predicted=("churn_probability", "mean"))
             .reset_index().rename(columns={"risk_tier": "tier"}))
    return row, tiers


def track_record(
    shipped: list[ShippedList], purchases: pd.DataFrame, data_end: dt.date,
    customers: pd.DataFrame | None = None, subscriptions: pd.DataFrame | None = None,
) -> TrackRecord:
    """Every list graded (window ended by `data_end`) or marked not matured, oldest first."""
    rows, tier_tables = [], []
    for item in sorted(shipped, key=lambda s: (s.as_of, s.run_id)):
        head = {"as_of": item.as_of, "run_id": item.run_id, "model_version": item.model_version,
                "matures_on": item.label.window_end(item.as_of)}
        if not item.label.is_labelled(item.as_of, data_end):
            rows.append({**head, "status": NOT_MATURED, "customers": len(item.risk)})
            continue
        row, tiers = grade_list(item, realised_outcomes(item, purchases, data_end, customers,
                                                        subscriptions))
        rows.append({**head, **row})
        tier_tables.append(tiers.assign(as_of=item.as_of, run_id=item.run_id))
    lists = pd.DataFrame(rows, columns=LIST_COLUMNS)
    tiers = (pd.concat(tier_tables, ignore_index=True)[TIER_COLUMNS] if tier_tables
             else pd.DataFrame(columns=TIER_COLUMNS))
    return TrackRecord(lists, tiers)
