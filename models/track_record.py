"""The track record of shipped risk lists: what really happened to the customers on each list.

A list is graded once its label window (under the `LabelSpec` recorded with it) has ended by
the data end; until then it is "not matured yet" with the date it matures on. Outcomes come
from `features.labels.churn_labels`, which only counts events after the list's as-of and up to
its window end; purchases after the window end are dropped here as well, so nothing later can
leak in. Each graded list is set against what the model promised out of time at training.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from features.build import to_naive_utc
from features.labels import LabelSpec, churn_labels
from features.renewals import subscriptions_known_at
from models.calibration import expected_calibration_error
from models.effects import EFFECT_COLUMNS, effects_by

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
    shipped: Iterable[ShippedList], purchases: pd.DataFrame, data_end: dt.date,
    customers: pd.DataFrame | None = None, subscriptions: pd.DataFrame | None = None,
) -> TrackRecord:
    """Every list graded (window ended by `data_end`) or marked not matured, oldest first.

    The lists are taken one at a time in the order given (an archive's reader yields them as
    it reads them, so only one is held) and the record is put in order at the end."""
    return graded_track_record(shipped, lambda item: realised_outcomes(
        item, purchases, data_end, customers, subscriptions), data_end)


def graded_track_record(shipped: Iterable[ShippedList],
                        outcomes_of: Callable[[ShippedList], pd.DataFrame],
                        data_end: dt.date) -> TrackRecord:
    """`track_record` with each matured list's `realised_outcomes` from `outcomes_of` (the
    whole tables' labels, or those of one customer shard at a time)."""
    rows, tier_tables = [], []
    for item in shipped:
        head = {"as_of": item.as_of, "run_id": item.run_id, "model_version": item.model_version,
                "matures_on": item.label.window_end(item.as_of)}
        if not item.label.is_labelled(item.as_of, data_end):
            rows.append({**head, "status": NOT_MATURED, "customers": len(item.risk)})
            continue
        row, tiers = grade_list(item, outcomes_of(item))
        rows.append({**head, **row})
        tier_tables.append(tiers.assign(as_of=item.as_of, run_id=item.run_id))
    lists = _oldest_first(pd.DataFrame(rows, columns=LIST_COLUMNS))
    tiers = (_oldest_first(pd.concat(tier_tables, ignore_index=True)[TIER_COLUMNS])
             if tier_tables else pd.DataFrame(columns=TIER_COLUMNS))
    return TrackRecord(lists, tiers)


def _oldest_first(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by list (as-of, then run id), each list's rows in their own order."""
    return frame.sort_values(["as_of", "run_id"], kind="stable").reset_index(drop=True)


# The loop: what the contacts on each matured list changed (models.holdout, models.effects).
RANDOMISED_COLUMNS = ["as_of", "run_id", "customer_id", "tier", "planned_action", "holdout",
                      "churned", "annual_revenue", "reached", "cost"]


@dataclass(frozen=True)
class LoopRecord:
    """Contacted against holdout per matured list (by tier and by planned action) and pooled
    over every matured list: `models.effects.EFFECT_COLUMNS` after the strata columns."""

    by_list: pd.DataFrame  # as_of, run_id, tier ("*": all), planned_action ("*": all), ...
    pooled: pd.DataFrame  # tier, planned_action, ... over every matured list
    randomised: pd.DataFrame  # RANDOMISED_COLUMNS: the customers behind every figure


def _contacts_in_window(units: pd.DataFrame, actions: pd.DataFrame | None) -> pd.DataFrame:
    """`reached` and `cost` per unit: the logged actions dated after the list's as-of and on
    or before its window end (an action outside it belongs to no randomisation of this list)."""
    out = units.assign(reached=False, cost=0.0)
    if actions is None or actions.empty or units.empty:
        return out
    logged = pd.DataFrame({
        "customer_id": actions["customer_id"].astype(str),
        "day": to_naive_utc(actions["action_at"]).dt.normalize(),
        "cost": pd.to_numeric(actions.get("cost"), errors="coerce") if "cost" in actions
        else 0.0})
    keyed = units[["customer_id", "_start", "_end"]].reset_index()
    hits = keyed.merge(logged, on="customer_id")
    hits = hits[(hits["day"] > hits["_start"]) & (hits["day"] <= hits["_end"])]
    per_unit = hits.groupby("index").agg(n=("day", "size"), cost=("cost", "sum"))
    out.loc[per_unit.index, "reached"] = per_unit["n"].to_numpy() > 0
    out.loc[per_unit.index, "cost"] = per_unit["cost"].fillna(0.0).to_numpy(float)
    return out


def randomised_outcomes(
    shipped: ShippedList, purchases: pd.DataFrame, data_end: dt.date,
    customers: pd.DataFrame | None = None, subscriptions: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None, carry: tuple[str, ...] = (),
) -> pd.DataFrame:
    """The customers `shipped` randomised itself (`assigned_in` its run id) with their outcome
    over its window and the actions logged for them in it (`RANDOMISED_COLUMNS`, then the
    list's `carry` columns: what was known of them at the list, for an uplift model).

    `shipped.risk` needs `holdout, assigned_in, planned_action` besides the usual columns; a
    list archived before the holdout existed randomised nobody."""
    carry = tuple(c for c in carry if c not in RANDOMISED_COLUMNS)
    if not {"holdout", "assigned_in"} <= set(shipped.risk.columns):
        return pd.DataFrame(columns=RANDOMISED_COLUMNS)
    own = shipped.risk[shipped.risk["assigned_in"].astype(str) == shipped.run_id]
    if own.empty:
        return pd.DataFrame(columns=RANDOMISED_COLUMNS)
    outcomes = realised_outcomes(replace(shipped, risk=own), purchases, data_end, customers,
                                 subscriptions)
    units = pd.DataFrame({
        "as_of": shipped.as_of, "run_id": shipped.run_id,
        "customer_id": outcomes["customer_id"].astype(str).to_numpy(),
        "tier": outcomes["risk_tier"].astype(str).to_numpy(),
        "planned_action": outcomes.get("planned_action", pd.Series("", index=outcomes.index))
        .astype(str).to_numpy(),
        "holdout": outcomes["holdout"].astype(bool).to_numpy(),
        "churned": outcomes["churned"].to_numpy(int),
        "annual_revenue": outcomes.get("annual_revenue", pd.Series(0.0, index=outcomes.index))
        .to_numpy(float),
        "_start": pd.Timestamp(shipped.as_of),
        "_end": pd.Timestamp(shipped.label.window_end(shipped.as_of)),
        **{c: outcomes[c].to_numpy() for c in carry if c in outcomes},
    })
    return _contacts_in_window(units, actions)[
        [*RANDOMISED_COLUMNS, *(c for c in carry if c in units)]]


def _with_totals(units: pd.DataFrame, head: list[str]) -> pd.DataFrame:
    """Effects per tier x planned action, per tier, per action and over all (`*`)."""
    parts = []
    for tier_all, action_all in ((False, False), (False, True), (True, False), (True, True)):
        frame = units.assign(**({"tier": "*"} if tier_all else {}),
                             **({"planned_action": "*"} if action_all else {}))
        parts.append(effects_by(frame, [*head, "tier", "planned_action"]))
    return pd.concat(parts, ignore_index=True)


def loop_record(
    shipped: Iterable[ShippedList], purchases: pd.DataFrame, data_end: dt.date,
    customers: pd.DataFrame | None = None, subscriptions: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None, carry: tuple[str, ...] = (),
) -> LoopRecord:
    """Contacted against holdout on every list whose window has ended by `data_end`.

    Pooling adds the randomised customers of every matured list into one table per stratum:
    a customer's assignments never overlap in time (`models.holdout`), so no outcome counts
    twice; it assumes one holdout share per tier across the lists pooled. `carry`: list
    columns kept on `randomised` (see `randomised_outcomes`)."""
    # one list at a time (see `track_record`); only its randomised customers are kept
    parts = [randomised_outcomes(s, purchases, data_end, customers, subscriptions, actions,
                                 carry)
             for s in shipped if s.label.is_labelled(s.as_of, data_end)]
    parts = [p for p in parts if not p.empty]
    units = (_oldest_first(pd.concat(parts, ignore_index=True)) if parts
             else pd.DataFrame(columns=RANDOMISED_COLUMNS))
    if units.empty:
        empty = pd.DataFrame(columns=["tier", "planned_action", *EFFECT_COLUMNS])
        return LoopRecord(empty.assign(as_of=None, run_id=None), empty, units)
    return LoopRecord(_with_totals(units, ["as_of", "run_id"]), _with_totals(units, []), units)
