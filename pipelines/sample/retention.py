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

CALL, OFFER = "call", "offer"
# What the CRM shows about a listed customer at the list (the uplift model's features).
SHOWN_FEATURES = ("days_since_last_order", "usual_interval_days", "orders_so_far",
                  "open_complaint")
_P_COMPLETED = sim._ORDER_STATUS_P[0]


@dataclass(frozen=True)
class RetentionEffects:
    """The true save probabilities and the costs of the two actions."""

    call_save_complaint: float = 0.8
    call_save_other: float = 0.05
    offer_save_sensitive: float = 0.8
    offer_save_other: float = 0.0
    price_sensitive_share: float = 0.5
    call_cost: float = 5.0
    offer_cost: float = 10.0

    def save_probability(self, action: np.ndarray, open_complaint: np.ndarray,
                         price_sensitive: np.ndarray) -> np.ndarray:
        call = np.where(open_complaint, self.call_save_complaint, self.call_save_other)
        offer = np.where(price_sensitive, self.offer_save_sensitive, self.offer_save_other)
        return np.where(action == CALL, call, offer)


@dataclass(frozen=True)
class LoopConfig:
    customers: int = 3000
    seed: int = 11
    warmup_weeks: int = 40  # weeks of history before the first list
    weeks: int = 52  # weekly lists
    horizon_days: int = 90  # outcome window of every list (the pipeline's default label)
    holdout_share: float = 0.2
    truth_replicates: int = 100
    start: dt.date = dt.date(2025, 1, 6)  # day 0 (a Monday)


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


def _saved_state(st: sim._State, units: np.ndarray, action: np.ndarray, t: int) -> sim._State:
    """A copy of `st` in which `units` were saved at day `t` by `action`."""
    out = st.copy()
    _apply_save(out, units, action, t)
    return out


def _apply_save(st: sim._State, units: np.ndarray, action: np.ndarray, t: int) -> None:
    back = units[st.state[units] == sim.AT_RISK]
    st.state[back] = sim.ACTIVE
    called = units[action == CALL]
    st.win[0, called], st.win[1, called] = sim._NEVER, -sim._NEVER  # the complaint is settled


def run_loop(config: LoopConfig | None = None,
             effects: RetentionEffects | None = None) -> LoopResult:
    """Weekly lists with holdouts and actions over `config.weeks`, then each list's horizon."""
    config, effects = config or LoopConfig(), effects or RetentionEffects()
    seeds = np.random.SeedSequence(config.seed).spawn(4)
    rng_pop, rng_dyn, rng_team, rng_mc = (np.random.default_rng(s) for s in seeds)
    n, horizon = config.customers, config.horizon_days
    signup = np.sort(rng_pop.integers(0, 7 * max(1, config.warmup_weeks // 2), n))
    tr = sim._draw_traits(rng_pop, n)
    sensitive = rng_pop.random(n) < effects.price_sensitive_share
    revenue = tr.rate * 52.0 * tr.value  # a year of orders at the customer's own rhythm
    ids = np.array([f"S{i:06d}" for i in range(n)])
    st = sim._State.fresh(n)
    first_order, last_order = np.full(n, np.nan), np.full(n, np.nan)
    orders_seen = np.zeros(n)
    complaint_unit, complaint_open, complaint_resolved = (np.empty(0, np.int64),
                                                          np.empty(0), np.empty(0))
    order_unit: list[np.ndarray] = []
    order_day: list[np.ndarray] = []
    extra_unit: list[np.ndarray] = []  # orders the week's saved offers place
    extra_day: list[np.ndarray] = []
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
            seen = np.flatnonzero(orders_seen > 0)
            now_open = (complaint_open < t) & (complaint_resolved >= t)
            open_complaint = np.zeros(n, bool)
            open_complaint[complaint_unit[now_open]] = True
            interval = np.where(orders_seen[seen] > 1, (last_order[seen] - first_order[seen])
                                / np.maximum(orders_seen[seen] - 1, 1), 30.0)
            listed, tier, action = list_of_the_week(last_order[seen], interval,
                                                    open_complaint[seen], t)
            shown = {"days_since_last_order": (t - last_order[seen])[listed],
                     "usual_interval_days": interval[listed],
                     "orders_so_far": orders_seen[seen][listed]}
            listed = seen[listed]
            risk = pd.DataFrame({"customer_id": ids[listed], "risk_tier": tier,
                                 PLANNED_ACTION: action})
            standing = standing_assignments(past, as_of)
            assigned = assign_holdout(
                risk, dict.fromkeys(("Critical", "At risk", "Watch"), config.holdout_share),
                seed=config.seed, as_of=as_of, list_run_id=run_id, standing=standing)
            fresh = (assigned["assigned_in"] == run_id).to_numpy()
            who, act = listed[fresh], action[fresh]
            held = assigned["holdout"].to_numpy()[fresh]
            state = st.state[who].copy()  # hidden, before anyone is saved
            s = effects.save_probability(act, open_complaint[who], sensitive[who])
            s[st.state[who] == sim.CHURNED] = 0.0  # nothing saves the already-gone
            p0 = sim._true_probability(rng_mc, st, tr, who, t, horizon, config.truth_replicates)
            # a saved offer orders this week (no churn); a saved call is active, complaint
            # settled, and its churn is simulated from there
            q = np.zeros(who.size)
            called = act == CALL
            q[called] = sim._true_probability(rng_mc, _saved_state(st, who[called],
                                                                    act[called], t),
                                              tr, who[called], t, horizon,
                                              config.truth_replicates)
            p1 = s * q + (1 - s) * p0
            saved = ~held & (rng_team.random(who.size) < s)
            _apply_save(st, who[saved], act[saved], t)
            settled = np.isin(complaint_unit, who[saved & (act == CALL)]) & now_open
            complaint_resolved[settled] = t  # a saving call resolves the open complaint
            bought = who[saved & ~called]
            extra_unit.append(bought)
            extra_day.append(t + rng_team.random(bought.size) * 7.0)
            contact = ~held
            cost = np.where(act == CALL, effects.call_cost, effects.offer_cost)
            acted = pd.Timestamp(as_of + dt.timedelta(days=1), tz="UTC")
            log += [{"customer_id": ids[c], "action_at": acted, "action": a, "cost": k,
                     "list_run_id": run_id}
                    for c, a, k in zip(who[contact], act[contact], cost[contact], strict=True)]
            end = as_of + dt.timedelta(days=horizon)
            units.append({"as_of": as_of, "run_id": run_id, "unit": who,
                          "tier": tier[fresh], "planned_action": act, "holdout": held,
                          "p_churn_untreated": p0, "p_churn_treated": p1,
                          "cost": np.where(held, 0.0, cost), "t": t, "state": state,
                          "open_complaint": open_complaint[who],
                          **{k: v[fresh] for k, v in shown.items()}})
            lists.append(_shipped(as_of, run_id, ids[listed], tier, action, assigned,
                                  revenue[listed], horizon))
            past = pd.concat([past, pd.DataFrame({
                "customer_id": ids[who], "holdout": held, "assigned_in": run_id,
                "window_end": pd.Timestamp(end)})], ignore_index=True)
        present = int(np.searchsorted(signup, t, side="right"))
        live = np.flatnonzero(st.state[:present] != sim.CHURNED)
        sim._transition(rng_dyn, st, live, sim._risk_prob(st, tr, live, t))
        live = live[st.state[live] != sim.CHURNED]
        unit = np.repeat(live, rng_dyn.poisson(tr.rate[live] * sim._PURCHASE_MULT[st.state[live]]))
        when = sim._order_times(rng_dyn, t, unit.size)
        complaints = sim._complaints(rng_dyn, st, tr, unit, when, t)
        complaint_unit = np.concatenate([complaint_unit, complaints["unit"]])
        complaint_open = np.concatenate([complaint_open, complaints["opened"]])
        complaint_resolved = np.concatenate([complaint_resolved, complaints["resolved"]])
        done = rng_dyn.random(unit.size) < _P_COMPLETED
        bought_unit = np.concatenate([unit[done], *extra_unit])
        bought_day = np.concatenate([when[done], *extra_day])
        extra_unit, extra_day = [], []
        order_unit.append(bought_unit)
        order_day.append(bought_day)
        np.fmin.at(first_order, bought_unit, bought_day)
        np.fmax.at(last_order, bought_unit, bought_day)
        np.add.at(orders_seen, bought_unit, 1)
    all_unit, all_day = np.concatenate(order_unit), np.concatenate(order_day)
    return LoopResult(
        _outcomes(units, all_unit, all_day, ids, revenue, horizon),
        pd.DataFrame(log, columns=["customer_id", "action_at", "action", "cost",
                                   "list_run_id"]),
        lists, _purchases(all_unit, all_day, ids, tr.value, config.start),
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
