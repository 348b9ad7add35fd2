"""The retention simulator's world, one week at a time: who the customers are, what happens to
them each week, what an action does to them, and what the CRM would export.

`pipelines.sample.retention.run_loop` drives it with a list made from what the CRM shows;
`bench.loop_pipeline` drives it with the lists the pipeline itself writes. Either way a week
is: look at the world as of the day before `t` (`crm_view`), apply the team's actions at `t`
(`treat`, which records each action's true effect at the moment it is applied), then let the
week's dynamics run (`advance`). The random streams (population, dynamics, team, Monte Carlo
truth) are the ones `run_loop` always drew, in the same order, so its loop is reproduced
exactly whoever drives the world.

The export side (`export_frames`) cuts what happened between two days into the files a CRM
would send: orders, tickets (an open ticket is sent again once it is resolved), the customer
master (new sign-ups) in the canonical column names `churn ingest` reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.sample import simulator as sim

CALL, OFFER = "call", "offer"
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

    def cost(self, action: np.ndarray) -> np.ndarray:
        return np.where(action == CALL, self.call_cost, self.offer_cost)


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
class CrmView:
    """What the CRM shows at day `t` (events before it) about customers with an order."""

    seen: np.ndarray  # positions of customers with at least one completed order
    open_complaint: np.ndarray  # per customer (all n): a complaint open at t
    interval: np.ndarray  # per seen customer: mean days between their orders (30 for one)
    days_since_last_order: np.ndarray  # per seen customer
    orders_so_far: np.ndarray  # per seen customer


@dataclass(frozen=True)
class Treatment:
    """The week's actions on `unit` and what the simulator knows about them."""

    unit: np.ndarray
    action: np.ndarray
    contacted: np.ndarray  # False: held out (or not worked), nothing was done
    p_churn_untreated: np.ndarray  # P(churn over the horizon) without the action
    p_churn_treated: np.ndarray  # ... with it (whether or not it was done)
    saved: np.ndarray  # the action was done and saved the customer
    state: np.ndarray  # hidden state before the action
    open_complaint: np.ndarray

    @property
    def true_effect(self) -> np.ndarray:
        return self.p_churn_untreated - self.p_churn_treated


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


class RetentionWorld:
    """The simulated business, advanced one week at a time (`week`, day `t` = 7 x week)."""

    def __init__(self, config: LoopConfig, effects: RetentionEffects) -> None:
        self.config, self.effects = config, effects
        seeds = np.random.SeedSequence(config.seed).spawn(4)
        rng_pop, self.rng_dyn, self.rng_team, self.rng_mc = (np.random.default_rng(s)
                                                             for s in seeds)
        n = self.n = config.customers
        self.signup = np.sort(rng_pop.integers(0, 7 * max(1, config.warmup_weeks // 2), n))
        self.traits = sim._draw_traits(rng_pop, n)
        self.sensitive = rng_pop.random(n) < effects.price_sensitive_share
        # a year of orders at the customer's own rhythm
        self.revenue = self.traits.rate * 52.0 * self.traits.value
        self.ids = np.array([f"S{i:06d}" for i in range(n)])
        self.st = sim._State.fresh(n)
        self.first_order, self.last_order = np.full(n, np.nan), np.full(n, np.nan)
        self.orders_seen = np.zeros(n)
        self.complaint_unit = np.empty(0, np.int64)
        self.complaint_open, self.complaint_resolved = np.empty(0), np.empty(0)
        self.complaint_rating, self.complaint_rated_at = np.empty(0), np.empty(0)
        self.order_unit: list[np.ndarray] = []
        self.order_day: list[np.ndarray] = []
        self._extra_unit: list[np.ndarray] = []  # orders the week's saved offers place
        self._extra_day: list[np.ndarray] = []
        self.week = 0

    @property
    def t(self) -> int:
        return 7 * self.week

    def day(self, t: int) -> dt.date:
        return self.config.start + dt.timedelta(days=t)

    def open_complaints(self, t: int) -> np.ndarray:
        now_open = (self.complaint_open < t) & (self.complaint_resolved >= t)
        out = np.zeros(self.n, bool)
        out[self.complaint_unit[now_open]] = True
        return out

    def crm_view(self) -> CrmView:
        t, seen = self.t, np.flatnonzero(self.orders_seen > 0)
        count = self.orders_seen[seen]
        interval = np.where(count > 1, (self.last_order[seen] - self.first_order[seen])
                            / np.maximum(count - 1, 1), 30.0)
        return CrmView(seen, self.open_complaints(t), interval, t - self.last_order[seen],
                       count)

    def treat(self, who: np.ndarray, action: np.ndarray, contacted: np.ndarray) -> Treatment:
        """Apply `action` at day t to the `contacted` ones of `who`; the truth for all of them:
        P(churn) from their state now without the action and with it, over the horizon."""
        st, t, horizon, reps = self.st, self.t, self.config.horizon_days, \
            self.config.truth_replicates
        open_complaint = self.open_complaints(t)
        state = st.state[who].copy()  # hidden, before anyone is saved
        s = self.effects.save_probability(action, open_complaint[who], self.sensitive[who])
        s[st.state[who] == sim.CHURNED] = 0.0  # nothing saves the already-gone
        p0 = sim._true_probability(self.rng_mc, st, self.traits, who, t, horizon, reps)
        # a saved offer orders this week (no churn); a saved call is active, complaint
        # settled, and its churn is simulated from there
        q = np.zeros(who.size)
        called = action == CALL
        q[called] = sim._true_probability(self.rng_mc, _saved_state(st, who[called],
                                                                    action[called], t),
                                          self.traits, who[called], t, horizon, reps)
        p1 = s * q + (1 - s) * p0
        saved = contacted & (self.rng_team.random(who.size) < s)
        _apply_save(st, who[saved], action[saved], t)
        now_open = (self.complaint_open < t) & (self.complaint_resolved >= t)
        settled = np.isin(self.complaint_unit, who[saved & called]) & now_open
        self.complaint_resolved[settled] = t  # a saving call resolves the open complaint
        bought = who[saved & ~called]
        self._extra_unit.append(bought)
        self._extra_day.append(t + self.rng_team.random(bought.size) * 7.0)
        return Treatment(who, action, contacted, p0, p1, saved, state, open_complaint[who])

    def advance(self) -> None:
        """The week starting at day t: transitions, orders, complaints; then week + 1."""
        st, tr, rng, t = self.st, self.traits, self.rng_dyn, self.t
        present = int(np.searchsorted(self.signup, t, side="right"))
        live = np.flatnonzero(st.state[:present] != sim.CHURNED)
        sim._transition(rng, st, live, sim._risk_prob(st, tr, live, t))
        live = live[st.state[live] != sim.CHURNED]
        unit = np.repeat(live, rng.poisson(tr.rate[live] * sim._PURCHASE_MULT[st.state[live]]))
        when = sim._order_times(rng, t, unit.size)
        complaints = sim._complaints(rng, st, tr, unit, when, t)
        self.complaint_unit = np.concatenate([self.complaint_unit, complaints["unit"]])
        self.complaint_open = np.concatenate([self.complaint_open, complaints["opened"]])
        self.complaint_resolved = np.concatenate([self.complaint_resolved,
                                                  complaints["resolved"]])
        self.complaint_rating = np.concatenate([
            self.complaint_rating, np.where(complaints["rated"], complaints["rating"], np.nan)])
        self.complaint_rated_at = np.concatenate([self.complaint_rated_at,
                                                  complaints["rated_at"]])
        done = rng.random(unit.size) < _P_COMPLETED
        bought_unit = np.concatenate([unit[done], *self._extra_unit])
        bought_day = np.concatenate([when[done], *self._extra_day])
        self._extra_unit, self._extra_day = [], []
        self.order_unit.append(bought_unit)
        self.order_day.append(bought_day)
        np.fmin.at(self.first_order, bought_unit, bought_day)
        np.fmax.at(self.last_order, bought_unit, bought_day)
        np.add.at(self.orders_seen, bought_unit, 1)
        self.week += 1

    def orders(self) -> tuple[np.ndarray, np.ndarray]:
        """Every completed order so far: customer position and day."""
        if not self.order_unit:
            return np.empty(0, np.int64), np.empty(0)
        return np.concatenate(self.order_unit), np.concatenate(self.order_day)

    def export_frames(self, since: float, until: int) -> dict[str, pd.DataFrame]:
        """What a CRM export sent at the start of day `until` holds of what happened from day
        `since` on: new orders, new tickets and tickets resolved (or rated) since, whose
        latest copy says how they stand at `until`, and new sign-ups."""
        unit, day = self.orders()
        number = np.arange(unit.size)
        new = (day >= since) & (day < until)
        stamp = pd.Timestamp(self.config.start)

        def when(days: np.ndarray) -> pd.Series:
            return (stamp + pd.to_timedelta(days, unit="D")).dt.strftime("%Y-%m-%d %H:%M:%S") \
                if len(days) else pd.Series([], dtype=str)

        purchases = pd.DataFrame({
            "customer_id": self.ids[unit[new]], "order_id": [f"SIM-{i:08d}" for i in number[new]],
            "order_date": when(pd.Series(day[new])).to_numpy(),
            "amount": np.round(self.traits.value[unit[new]], 2), "status": "completed"})
        opened, resolved = self.complaint_open, self.complaint_resolved
        rated_at = np.where(np.isnan(self.complaint_rating), np.inf, self.complaint_rated_at)
        changed = ((resolved >= since) & (resolved < until)) | ((rated_at >= since)
                                                                 & (rated_at < until))
        sent = (opened < until) & ((opened >= since) | changed)
        solved = resolved[sent] < until
        shown = solved & (rated_at[sent] < until)
        complaints = pd.DataFrame({
            "customer_id": self.ids[self.complaint_unit[sent]],
            "complaint_id": [f"TCK-{i:07d}" for i in np.flatnonzero(sent)],
            "opened_at": when(pd.Series(opened[sent])).to_numpy(),
            "resolved_at": np.where(solved, when(pd.Series(np.where(solved, resolved[sent],
                                                                    0.0))).to_numpy(), ""),
            "status": np.where(solved, "solved", "open"),
            "satisfaction": np.where(shown, self.complaint_rating[sent], np.nan)})
        joined = (self.signup >= since) & (self.signup < until)
        customers = pd.DataFrame({"customer_id": self.ids[joined],
                                  "signup_date": when(pd.Series(self.signup[joined].astype(float)
                                                                )).to_numpy()})
        return {"purchases": purchases, "complaints": complaints, "customers": customers}
