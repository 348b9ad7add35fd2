"""The simulator with retention actions whose true effect it knows: the loop, week by week.

The retail simulator (`pipelines.sample.simulator`) runs customers through active -> at_risk
-> churned with complaints that push them towards the exit. Here the same weekly dynamics
run with a retention team in them: each week a list is made from what the CRM shows (days
since the last order against the customer's own rhythm, a complaint still open), its holdout
is drawn with `models.holdout` (standing assignments kept until their window ends), and the
team works the contact arm once per assignment. What an action does depends on the customer,
and only the simulator sees why:

* `call` saves, with probability `call_save_complaint`, a customer whose complaint is still
  open (the complaint is resolved and an at-risk customer is active again), others with
  `call_save_other`;
* `offer` saves a price-sensitive customer (a hidden trait, `price_sensitive_share` of them)
  with `offer_save_sensitive`, others with `offer_save_other`: a saved customer orders that
  week with the discount (and an at-risk one is active again);
* nothing saves a customer who has already churned (churned is absorbing).

A saved call moves an at-risk customer back to active and clears the open complaint's pull,
so its effect on churn depends on the state the customer is in, as in a real business. The
true effect of an action on one customer is exact up to Monte Carlo: P(churn) without it minus
P(churn) with it, both from the customer's state at the list, over the same horizon
(`_true_probability` of the simulator, with and without the save; a saved offer has bought,
so its churn is 0). Churn is "no completed order in the horizon", the pipeline's default
definition.

The world itself (state, a week's dynamics, what an action does and its truth, the exports)
is `pipelines.sample.retention_world.RetentionWorld`; `run_loop` drives it with the CRM rule
below, `bench.loop_pipeline` with the lists the pipeline writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features.contracts import STAGED_SCHEMAS
from features.labels import LabelSpec
from models.holdout import PLANNED_ACTION, assign_holdout, standing_assignments
from models.track_record import ShippedList
from pipelines.sample import simulator as sim
from pipelines.sample.retention_world import (
    CALL,
    OFFER,
    LoopConfig,
    RetentionEffects,
    RetentionWorld,
)

# What the CRM shows about a listed customer at the list (the uplift model's features).
SHOWN_FEATURES = ("days_since_last_order", "usual_interval_days", "orders_so_far",
                  "open_complaint")
__all__ = ["CALL", "OFFER", "SHOWN_FEATURES", "LoopConfig", "LoopResult", "RetentionEffects",
           "list_of_the_week", "run_loop"]


@dataclass(frozen=True)
class LoopResult:
    """Every randomisation with its arm, truth and outcome, and the team's action log."""

    randomised: pd.DataFrame  # as_of, run_id, customer_id, tier, planned_action, holdout,
    #                           p_churn_untreated, p_churn_treated, true_effect,
    #                           hidden_state, churned, annual_revenue, reached, cost and
    #                           the SHOWN_FEATURES
    actions: pd.DataFrame  # customer_id, action_at, action, cost, list_run_id
    lists: list[ShippedList]  # each week's list as the archive would hold it
    purchases: pd.DataFrame  # every completed order, staged shape
    data_end: dt.date  # the last day simulated


def list_of_the_week(last_order: np.ndarray, interval: np.ndarray, open_complaint: np.ndarray,
                     t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who is on the list at day `t`, their tier and planned action, from what the CRM shows:
    Critical when overdue three times the usual interval or with an open complaint, At risk at
    twice, Watch at 1.2 times; a call for an open complaint, else an offer."""
    ratio = (t - last_order) / np.maximum(interval, 1.0)
    tier = np.where(open_complaint | (ratio > 3), "Critical",
                    np.where(ratio > 2, "At risk", np.where(ratio > 1.2, "Watch", "")))
    listed = np.flatnonzero(tier != "")
    action = np.where(open_complaint[listed], CALL, OFFER)
    return listed, tier[listed], action


def run_loop(config: LoopConfig | None = None,
             effects: RetentionEffects | None = None) -> LoopResult:
    """Weekly lists with holdouts and actions over `config.weeks`, then each list's horizon."""
    config, effects = config or LoopConfig(), effects or RetentionEffects()
    world = RetentionWorld(config, effects)
    horizon = config.horizon_days
    units: list[dict] = []
    lists: list[ShippedList] = []
    log: list[dict] = []
    past = pd.DataFrame(columns=["customer_id", "holdout", "assigned_in", "window_end"])
    total_weeks = config.warmup_weeks + config.weeks + -(-horizon // 7)
    for week in range(total_weeks):
        t = 7 * week
        list_week = week - config.warmup_weeks
        if 0 <= list_week < config.weeks:
            # the list of day t knows the events before it: data as of the day before
            as_of = config.start + dt.timedelta(days=t - 1)
            run_id = f"sim-{list_week:03d}"
            crm = world.crm_view()
            seen = crm.seen
            listed, tier, action = list_of_the_week(world.last_order[seen], crm.interval,
                                                    crm.open_complaint[seen], t)
            shown = {"days_since_last_order": crm.days_since_last_order[listed],
                     "usual_interval_days": crm.interval[listed],
                     "orders_so_far": crm.orders_so_far[listed]}
            listed = seen[listed]
            risk = pd.DataFrame({"customer_id": world.ids[listed], "risk_tier": tier,
                                 PLANNED_ACTION: action})
            standing = standing_assignments(past, as_of)
            assigned = assign_holdout(
                risk, dict.fromkeys(("Critical", "At risk", "Watch"), config.holdout_share),
                seed=config.seed, as_of=as_of, list_run_id=run_id, standing=standing)
            fresh = (assigned["assigned_in"] == run_id).to_numpy()
            who, act = listed[fresh], action[fresh]
            held = assigned["holdout"].to_numpy()[fresh]
            done = world.treat(who, act, ~held)
            cost = effects.cost(act)
            acted = pd.Timestamp(as_of + dt.timedelta(days=1), tz="UTC")
            contact = ~held
            log += [{"customer_id": world.ids[c], "action_at": acted, "action": a, "cost": k,
                     "list_run_id": run_id}
                    for c, a, k in zip(who[contact], act[contact], cost[contact], strict=True)]
            end = as_of + dt.timedelta(days=horizon)
            units.append({"as_of": as_of, "run_id": run_id, "unit": who,
                          "tier": tier[fresh], "planned_action": act, "holdout": held,
                          "p_churn_untreated": done.p_churn_untreated,
                          "p_churn_treated": done.p_churn_treated,
                          "cost": np.where(held, 0.0, cost), "t": t, "state": done.state,
                          "open_complaint": done.open_complaint,
                          **{k: v[fresh] for k, v in shown.items()}})
            lists.append(_shipped(as_of, run_id, world.ids[listed], tier, action, assigned,
                                  world.revenue[listed], horizon))
            past = pd.concat([past, pd.DataFrame({
                "customer_id": world.ids[who], "holdout": held, "assigned_in": run_id,
                "window_end": pd.Timestamp(end)})], ignore_index=True)
        world.advance()
    all_unit, all_day = world.orders()
    return LoopResult(
        _outcomes(units, all_unit, all_day, world.ids, world.revenue, horizon),
        pd.DataFrame(log, columns=["customer_id", "action_at", "action", "cost",
                                   "list_run_id"]),
        lists, _purchases(all_unit, all_day, world.ids, world.traits.value, config.start),
        config.start + dt.timedelta(days=7 * total_weeks - 1))


def _shipped(as_of: dt.date, run_id: str, customer_ids: np.ndarray, tier: np.ndarray,
             action: np.ndarray, assigned: pd.DataFrame, revenue: np.ndarray,
             horizon: int) -> ShippedList:
    """The week's list as the archive holds it (no model: no churn probability)."""
    risk = pd.DataFrame({
        "customer_id": customer_ids, "churn_probability": np.nan, "risk_tier": tier,
        "value_at_risk": np.nan, "annual_revenue": revenue,
        "holdout": assigned["holdout"].to_numpy(),
        "assigned_in": assigned["assigned_in"].to_numpy(), "planned_action": action})
    return ShippedList(as_of=as_of, run_id=run_id, model_version="simulated",
                       label=LabelSpec(horizon_days=horizon), risk=risk, top_tiers=("Critical",))


def _purchases(unit: np.ndarray, day: np.ndarray, ids: np.ndarray, value: np.ndarray,
               start: dt.date) -> pd.DataFrame:
    """The completed orders as a staged purchases table (UTC timestamps)."""
    order = np.argsort(day, kind="stable")
    frame = pd.DataFrame({
        "customer_id": ids[unit[order]], "order_id": [f"SIM-{i:08d}" for i in range(unit.size)],
        "order_date": pd.Timestamp(start, tz="UTC") + pd.to_timedelta(day[order], unit="D"),
        "amount": np.round(value[unit[order]], 2), "status": "completed", "quantity": 1.0,
        "channel": "web"})
    return STAGED_SCHEMAS["purchases"].validate(frame)


def _outcomes(units: list[dict], order_unit: np.ndarray, order_day: np.ndarray,
              ids: np.ndarray, revenue: np.ndarray, horizon: int) -> pd.DataFrame:
    """Each randomisation with `churned`: no completed order in [as-of, as-of + horizon)."""
    frames = []
    order = np.lexsort((order_day, order_unit))
    o_unit, o_day = order_unit[order], order_day[order]
    for u in units:
        who, t = u["unit"], u["t"]
        # the first order at or after t, per customer, by binary search in the sorted orders
        lo = np.searchsorted(o_unit, who, side="left")
        hi = np.searchsorted(o_unit, who, side="right")
        bought = np.zeros(who.size, bool)
        for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
            days = o_day[a:b]
            k = np.searchsorted(days, t)
            bought[i] = k < days.size and days[k] < t + horizon
        frames.append(pd.DataFrame({
            "as_of": u["as_of"], "run_id": u["run_id"], "customer_id": ids[who],
            "tier": u["tier"], "planned_action": u["planned_action"], "holdout": u["holdout"],
            "p_churn_untreated": u["p_churn_untreated"], "p_churn_treated": u["p_churn_treated"],
            "true_effect": u["p_churn_untreated"] - u["p_churn_treated"],
            "hidden_state": np.take(sim._STATE_NAMES, u["state"]),
            "churned": (~bought).astype(int), "annual_revenue": revenue[who],
            "reached": ~u["holdout"], "cost": u["cost"],
            **{k: u[k] for k in SHOWN_FEATURES}}))
    return pd.concat(frames, ignore_index=True)
