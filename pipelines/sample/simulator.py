"""Seeded, vectorised simulator of a retail business whose customers churn for visible reasons.

Time runs in weekly steps aligned so that a step boundary falls exactly at the end of the
day ``config.end`` (the export moment). 35 % of customers sign up in the first 60 days, the
rest with a density growing over time (a growing shop keeps label rates stable), none later
than 30 days before ``end``; a customer takes part from the first week start after signup.
Every customer draws static traits: order cadence (lognormal mean inter-purchase interval,
median 30 days, clipped 5-180), order value (lognormal x segment), engagement (interactions
per week, mean ~0.3, lower for frail customers), complaint propensity per order (beta, mean
5 %) and a latent frailty. A hidden state evolves week by week:

* active -> at_risk through a logistic hazard of facts the CRM shows at the start of the
  week: a complaint unresolved for more than 14 days, a repeat complaint within 8 weeks, a
  CSAT <= 2 given in the last 8 weeks, plus frailty (slightly lower for SMB/Corporate) and a
  small base rate; active -> churned with a tiny unexplained hazard; at_risk -> churned
  10 %/week and at_risk -> active 4 %/week (churned is absorbing).
* Orders are Poisson per week with rate multiplier 1 / 0.3 / 0 by state, interactions
  1 / 0.3 / 0.03 (engagement fades before churn); at_risk customers may unsubscribe from
  the newsletter (no more e-mail opens/clicks afterwards).
* Every order may raise a complaint, opened 0-4 days later, with a resolution time (mostly
  days, some weeks, ~10 % two months or more) and, once resolved, a CSAT with p=0.6 (lower
  when slow). Its effect on the hazard is stored as [from, to) day windows per customer
  (overlapping windows merge into their hull): with the state, the full hidden state.
* 35 % of churned customers close their account ~3 weeks later (``cancelled_at``).

The same simulation continues past ``end`` for ``horizon_days`` to give the realised
``churned``; ``true_churn_probability`` is a Monte Carlo over ``truth_replicates``
independent continuations from the exact state at ``end`` (a replicate stops as soon as its
outcome is decided). Dates are day-granular: exported events lie on calendar days <= end,
the horizon covers the calendar days end+1 ... end+horizon_days. Timestamps are naive UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.sample import names as nm
from pipelines.sample.config import SimulationConfig

ACTIVE, AT_RISK, CHURNED = 0, 1, 2
_STATE_NAMES = ("active", "at_risk", "churned")
_PURCHASE_MULT = np.array([1.0, 0.3, 0.0])
_ENGAGE_MULT = np.array([1.0, 0.3, 0.03])
_SEGMENTS, _SEGMENT_P = ("Consumer", "SMB", "Corporate"), (0.6, 0.3, 0.1)
_SEGMENT_VALUE, _SEGMENT_QTY, _SEGMENT_FRAILTY = (1.0, 2.5, 6.0), (0.5, 2.0, 5.0), (0.0, -0.2, -0.4)
_ORDER_STATUS, _ORDER_STATUS_P = ("completed", "cancelled", "returned"), (0.96, 0.02, 0.02)
_ORDER_CHANNELS, _ORDER_CHANNEL_P = ("web", "store", "phone", "app"), (0.45, 0.25, 0.1, 0.2)
_CATEGORIES, _CATEGORY_P = ("delivery", "product_quality", "billing", "service", "returns"), (
    0.3, 0.25, 0.15, 0.2, 0.1)
# interaction types (the unsubscribe event is added separately) with channel and direction
_ITYPES = ("email_open", "email_click", "site_visit", "app_session", "call")
_ITYPE_P = (0.38, 0.12, 0.25, 0.17, 0.08)
_ITYPE_CHANNEL = ("email", "email", "web", "app", "phone")
_HAZ_BASE = -7.0  # weekly logit of active -> at_risk without complaint effects
_HAZ_BETAS = np.array([6.0, 4.0, 6.0])  # unresolved > 14 d, repeat complaint, bad CSAT
_P_DIRECT_CHURN, _P_RISK_CHURN, _P_RISK_RECOVER = 0.0005, 0.10, 0.04
_P_UNSUBSCRIBE, _P_CANCEL, _CANCEL_DELAY = 0.04, 0.35, 20.0
_UNRESOLVED_DAYS, _MEMORY_DAYS, _P_RATED = 14, 56, 0.6
_NEVER = 2**30
_SIGNUP_SHAPE = 0.6  # later signups: density grows linearly over time (a growing business)
_INTERVAL_SIGMA = 0.85  # spread of the mean inter-purchase interval (median 30 days)
_HOUR_P = np.array([1, 1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 9, 8, 7, 7, 7, 8, 9, 10, 10, 8, 5, 2.0])
_HOUR_P /= _HOUR_P.sum()


@dataclass(frozen=True)
class SimulatedBusiness:
    customers: pd.DataFrame  # one row per customer
    purchases: pd.DataFrame  # one row per order, only order_date <= end
    complaints: pd.DataFrame  # one row per complaint, only opened_at <= end
    interactions: pd.DataFrame  # one row per interaction, only occurred_at <= end
    ground_truth: pd.DataFrame  # one row per customer eligible at `end`
    subscriptions: pd.DataFrame | None = None  # a subscription business only


@dataclass(frozen=True)
class _Traits:
    """Static per-customer parameters (index = customer position, sorted by signup)."""

    rate: np.ndarray  # expected orders per week while active
    value: np.ndarray  # typical order value
    engage: np.ndarray  # expected interactions per week while active
    p_complaint: np.ndarray  # probability that an order raises a complaint
    frailty: np.ndarray  # additive term of the at_risk logit
    segment: np.ndarray  # index into _SEGMENTS
    channel: np.ndarray  # preferred order channel


@dataclass
class _State:
    """Hazard-relevant hidden state of simulation units (customers, or customer x replicate).

    ``win`` rows are [from, to) day windows: unresolved complaint, repeat complaint, bad CSAT.
    """

    cust: np.ndarray
    state: np.ndarray
    win: np.ndarray
    last_complaint: np.ndarray
    unsubscribed: np.ndarray = field(default_factory=lambda: np.empty(0))

    @classmethod
    def fresh(cls, n: int) -> _State:
        win = np.tile(np.array([[_NEVER], [-_NEVER]], np.int32), (3, n))
        return cls(np.arange(n), np.zeros(n, np.int8), win, np.full(n, -1e9), np.full(n, np.inf))

    def replicate(self, units: np.ndarray, reps: int) -> _State:
        rows = np.repeat(units, reps)
        return _State(rows, self.state[rows], self.win[:, rows], self.last_complaint[rows])

    def copy(self) -> _State:
        parts = (self.cust, self.state, self.win, self.last_complaint, self.unsubscribed)
        return _State(*(a.copy() for a in parts))


def _risk_prob(st: _State, tr: _Traits, idx: np.ndarray, t: int) -> np.ndarray:
    """Weekly active -> at_risk probability of units ``idx`` for the week starting on day ``t``."""
    w = st.win[:, idx]
    on = ((w[0::2] <= t) & (t < w[1::2])).astype(float)
    return 1.0 / (1.0 + np.exp(-(_HAZ_BASE + tr.frailty[st.cust[idx]] + _HAZ_BETAS @ on)))


def _transition(rng: np.random.Generator, st: _State, idx: np.ndarray,
                p_risk: np.ndarray) -> np.ndarray:
    """Move units ``idx`` to their state for the coming week; return the units that just churned."""
    s = st.state[idx]
    u = rng.random(idx.size)
    new = s.copy()
    act, risk = s == ACTIVE, s == AT_RISK
    new[act & (u < p_risk)] = AT_RISK
    new[act & (u >= 1.0 - _P_DIRECT_CHURN)] = CHURNED
    new[risk & (u < _P_RISK_CHURN)] = CHURNED
    new[risk & (u >= 1.0 - _P_RISK_RECOVER)] = ACTIVE
    st.state[idx] = new
    return idx[(new == CHURNED) & (s != CHURNED)]


def _rare_poisson(rng: np.random.Generator, mu: np.ndarray) -> np.ndarray:
    """Poisson(mu) draws by inversion; fast when almost all draws are zero."""
    u, p = rng.random(mu.size), np.exp(-mu)
    out, cdf = np.zeros(mu.size, np.int64), p.copy()
    todo, k = np.flatnonzero(u >= cdf), 0
    while todo.size and k < 50:
        k += 1
        out[todo] = k
        p[todo] *= mu[todo] / k
        cdf[todo] += p[todo]
        todo = todo[u[todo] >= cdf[todo]]
    return out


def _order_times(rng: np.random.Generator, t: int, n: int, span: int = 7) -> np.ndarray:
    """Order moments (fractional days) within the first ``span`` days of the week at ``t``."""
    seconds = rng.choice(24, n, p=_HOUR_P) * 3600 + rng.integers(0, 3600, n)
    return t + rng.integers(0, span, n) + seconds / 86400.0


def _merge(st: _State, row: int, unit: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> None:
    keep = hi > lo
    np.minimum.at(st.win[row], unit[keep], lo[keep].astype(np.int32))
    np.maximum.at(st.win[row + 1], unit[keep], hi[keep].astype(np.int32))


def _complaints(rng: np.random.Generator, st: _State, tr: _Traits, unit: np.ndarray,
                order_time: np.ndarray, t: int, thinned: bool = False) -> dict[str, np.ndarray]:
    """Raise complaints from orders of the week starting at ``t`` and register their windows.

    With ``thinned`` every given order raises one (the caller already thinned by propensity).
    """
    hit = rng.random(unit.size) < (1.0 if thinned else tr.p_complaint[st.cust[unit]])
    unit, opened = unit[hit], order_time[hit] + rng.uniform(0.02, 4.0, int(hit.sum()))
    n = unit.size
    kind = rng.random(n)
    duration = np.where(kind < 0.72, rng.lognormal(np.log(1.5), 0.7, n),
                        np.where(kind < 0.90, rng.lognormal(np.log(18.0), 0.45, n),
                                 60.0 + rng.exponential(60.0, n)))
    resolved = opened + duration
    rated = rng.random(n) < _P_RATED
    rating = np.clip(np.rint(4.7 - 0.6 * np.log1p(duration) + rng.normal(0.0, 0.9, n)), 1, 5)
    rated_at = resolved + rng.uniform(0.0, 3.0, n)
    if n:
        for row in (0, 2, 4):  # forget windows over before the next week starts, then merge
            old = unit[st.win[row + 1, unit] <= t + 7]
            st.win[row, old], st.win[row + 1, old] = _NEVER, -_NEVER
        order = np.lexsort((opened, unit))
        u_s, o_s = unit[order], opened[order]
        prev = st.last_complaint[u_s]
        same = np.r_[False, u_s[1:] == u_s[:-1]]
        prev[same] = o_s[:-1][same[1:]]
        np.maximum.at(st.last_complaint, u_s, o_s)
        start, bad_from, memory = np.ceil(o_s), np.ceil(rated_at), _MEMORY_DAYS
        _merge(st, 2, u_s, start, np.where(np.abs(o_s - prev) <= memory, start + memory, start))
        _merge(st, 0, unit, np.ceil(opened + _UNRESOLVED_DAYS), np.ceil(resolved))
        _merge(st, 4, unit, bad_from, np.where(rated & (rating <= 2), bad_from + memory, bad_from))
    return {"unit": unit, "opened": opened, "resolved": resolved, "rated": rated,
            "rating": rating, "rated_at": rated_at}


def _draw_traits(rng: np.random.Generator, n: int) -> _Traits:
    segment = rng.choice(3, n, p=_SEGMENT_P)
    frailty = rng.normal(0.0, 0.8, n) + np.take(_SEGMENT_FRAILTY, segment)
    interval = np.clip(rng.lognormal(np.log(30.0), _INTERVAL_SIGMA, n), 5.0, 180.0)
    value = rng.lognormal(np.log(45.0), 0.5, n) * np.take(_SEGMENT_VALUE, segment)
    var = (0.35 * 0.8) ** 2 + 0.6**2  # engagement: mean 0.3/week, lower for frail customers
    engage = np.exp(np.log(0.3) - var / 2 - 0.35 * (frailty - np.take(_SEGMENT_FRAILTY, segment))
                    + rng.normal(0.0, 0.6, n))
    return _Traits(rate=7.0 / interval, value=value, engage=engage,
                   p_complaint=rng.beta(1.5, 28.5, n), frailty=frailty, segment=segment,
                   channel=rng.choice(4, n, p=_ORDER_CHANNEL_P))


_text, _ids, _pick = nm.text, nm.ids, nm.pick


def _stamp(base: np.datetime64, days: np.ndarray) -> np.ndarray:
    """Fractional days since ``start`` -> naive datetime64[ns] (NaT for non-finite days)."""
    finite = np.isfinite(days)
    sec = np.floor(np.where(finite, days, 0.0) * 86400.0).astype(np.int64)
    out = (base + sec.astype("timedelta64[s]")).astype("datetime64[ns]")
    out[~finite] = np.datetime64("NaT")
    return out


def _customer_frame(rng: np.random.Generator, tr: _Traits, signup: np.ndarray, cancel: np.ndarray,
                    base: np.datetime64, day_end: int) -> pd.DataFrame:
    n = signup.size
    number = np.sort(rng.choice(min(9_999_999, max(100_000, 5 * n)), n, replace=False) + 1)
    company = (tr.segment == 2) | ((tr.segment == 1) & (rng.random(n) < 0.5))
    names = nm.dress(rng, company)
    return pd.DataFrame({
        "customer_id": _text(_ids("", number, 7)),
        "name": _text(names["name"]),
        "email": _text(names["email"]),
        "signup_date": _stamp(base, signup.astype(float)),
        "segment": _text(_pick(_SEGMENTS, tr.segment)),
        "region": _text(names["region"]),
        "owner": _text(names["owner"]),
        "cancelled_at": _stamp(base, np.where(cancel < day_end, cancel, np.inf)),
    })


def _true_probability(rng: np.random.Generator, snap: _State, tr: _Traits, units: np.ndarray,
                      day0: int, horizon: int, reps: int) -> np.ndarray:
    """P(no completed order in days [day0, day0+horizon)) per unit, by Monte Carlo from ``snap``."""
    prob = np.ones(units.size)
    todo = np.flatnonzero(snap.state[units] != CHURNED)
    chunk = max(1, 2_000_000 // reps)
    p_done = _ORDER_STATUS_P[0]
    for c0 in range(0, todo.size, chunk):
        cu = units[todo[c0:c0 + chunk]]
        sims = snap.replicate(cu, reps)  # customer-major: sim i belongs to cu[i // reps]
        alive = np.arange(cu.size * reps)
        bought, dirty = np.zeros(alive.size, bool), np.zeros(alive.size, bool)
        for k in range(-(-horizon // 7)):
            t, span = day0 + 7 * k, min(7, horizon - 7 * k)
            p_risk = _risk_prob(snap, tr, cu, t)[alive // reps]
            own = dirty[alive]  # replicates whose windows changed after `end`
            p_risk[own] = _risk_prob(sims, tr, alive[own], t)
            _transition(rng, sims, alive, p_risk)
            alive = alive[sims.state[alive] != CHURNED]
            lam = tr.rate[cu][alive // reps] * _PURCHASE_MULT[sims.state[alive]] * span / 7.0
            buy = rng.random(alive.size) < -np.expm1(-p_done * lam)
            bought[alive[buy]] = True
            alive, lam = alive[~buy], lam[~buy]
            # complaints from the (non-completed) orders of still undecided replicates
            mu = (1.0 - p_done) * lam * tr.p_complaint[cu][alive // reps]
            unit = np.repeat(alive, _rare_poisson(rng, mu))
            dirty[unit] = True
            _complaints(rng, sims, tr, unit, _order_times(rng, t, unit.size, span), t, thinned=True)
        prob[todo[c0:c0 + chunk]] = 1.0 - bought.reshape(cu.size, reps).mean(axis=1)
    return prob


_Events = list[tuple[np.ndarray, np.ndarray]]  # per week: (customer position, time in days)


def _history(rng: np.random.Generator, tr: _Traits, signup: np.ndarray, day_end: int, steps: int,
             ) -> tuple[_State, _State, np.ndarray, _Events, list[dict[str, np.ndarray]], _Events]:
    """Weekly simulation, weeks starting on days ``day_end - 7k``. Returns the final state, the
    state at ``day_end`` (export moment), cancel days, and orders, complaints, interactions."""
    n, t0 = signup.size, day_end - 7 * -(-day_end // 7)
    st, snap, cancel = _State.fresh(n), None, np.full(n, np.inf)
    orders: _Events = []
    comps: list[dict[str, np.ndarray]] = []
    inter: _Events = []
    for s in range(steps):
        t = t0 + 7 * s
        if t == day_end:
            snap = st.copy()
        present = int(np.searchsorted(signup, t, side="right"))  # customers are sorted by signup
        live = np.flatnonzero(st.state[:present] != CHURNED)
        gone = _transition(rng, st, live, _risk_prob(st, tr, live, t))
        closing = gone[rng.random(gone.size) < _P_CANCEL]
        cancel[closing] = t + np.floor(rng.exponential(_CANCEL_DELAY, closing.size))
        live = live[st.state[live] != CHURNED]
        unit = np.repeat(live, rng.poisson(tr.rate[live] * _PURCHASE_MULT[st.state[live]]))
        when = _order_times(rng, t, unit.size)
        orders.append((unit, when))
        comps.append(_complaints(rng, st, tr, unit, when, t))
        now = st.state[:present]
        k = rng.poisson(tr.engage[:present] * _ENGAGE_MULT[now])
        inter.append((np.repeat(np.arange(present), k), t + rng.random(int(k.sum())) * 7.0))
        risk = np.flatnonzero((now == AT_RISK) & np.isinf(st.unsubscribed[:present]))
        quits = risk[rng.random(risk.size) < _P_UNSUBSCRIBE]
        st.unsubscribed[quits] = t + rng.random(quits.size) * 7.0
    return st, snap if snap is not None else st.copy(), cancel, orders, comps, inter


def _sorted_before(times: np.ndarray, day_end: int) -> np.ndarray:
    keep = np.flatnonzero(times < day_end)
    return keep[np.argsort(times[keep], kind="stable")]


def simulate_business(config: SimulationConfig) -> SimulatedBusiness:
    """Simulate ``config.customers`` customers from ``start`` to ``end`` plus the ground truth."""
    seeds = np.random.SeedSequence(config.seed).spawn(4)
    rng_pop, rng_dyn, rng_out, rng_mc = (np.random.default_rng(s) for s in seeds)
    n, horizon = config.customers, config.horizon_days
    D = (config.end - config.start).days + 1  # day index of end + 1 day: the export moment
    if D < 92:
        raise ValueError("simulate_business needs at least 92 days between start and end")
    base = np.datetime64(config.start, "s")
    later = 60 + np.floor((D - 90) * rng_pop.random(n) ** _SIGNUP_SHAPE).astype(np.int64)
    signup = np.sort(np.where(rng_pop.random(n) < 0.35, rng_pop.integers(0, 60, n), later))
    tr = _draw_traits(rng_pop, n)
    steps = -(-D // 7) + -(-horizon // 7)
    st, snap, cancel, orders, comps, inter = _history(rng_dyn, tr, signup, D, steps)
    customers = _customer_frame(rng_out, tr, signup, cancel, base, D)
    cid = pa.array(customers["customer_id"].array)

    o_unit, o_time = (np.concatenate(a) for a in zip(*orders, strict=True))
    del orders
    status = rng_out.choice(3, o_unit.size, p=_ORDER_STATUS_P)
    done = status == 0
    eligible, bought_after = np.zeros(n, bool), np.zeros(n, bool)
    eligible[o_unit[done & (o_time < D)]] = True
    eligible &= ~(cancel < D)
    bought_after[o_unit[done & (o_time >= D) & (o_time < D + horizon)]] = True
    qty = 1 + rng_out.poisson(np.take(_SEGMENT_QTY, tr.segment[o_unit]))
    amount = tr.value[o_unit] * rng_out.lognormal(0.0, 0.4, o_unit.size)
    amount = np.maximum(1.0, np.round(amount, 2))
    channel = np.where(rng_out.random(o_unit.size) < 0.7, tr.channel[o_unit],
                       rng_out.choice(4, o_unit.size, p=_ORDER_CHANNEL_P))
    keep = _sorted_before(o_time, D)
    purchases = pd.DataFrame({
        "customer_id": _text(cid.take(o_unit[keep])),
        "order_id": _text(_ids("SO-", rng_out.integers(1_000, 50_000) + np.arange(keep.size), 9)),
        "order_date": _stamp(base, o_time[keep]),
        "amount": amount[keep], "status": _text(_pick(_ORDER_STATUS, status[keep])),
        "quantity": qty[keep].astype(np.int64),
        "channel": _text(_pick(_ORDER_CHANNELS, channel[keep])),
    })
    del o_unit, o_time, status, done, qty, amount, channel

    c = {key: np.concatenate([d[key] for d in comps]) for key in comps[0]}
    keep = _sorted_before(c["opened"], D)
    solved = c["resolved"][keep] < D
    shown = c["rated"][keep] & (c["rated_at"][keep] < D)  # CSAT given by the export moment
    complaints = pd.DataFrame({
        "customer_id": _text(cid.take(c["unit"][keep])),
        "complaint_id": _text(_ids("TCK-", rng_out.integers(100, 5_000) + np.arange(keep.size), 7)),
        "opened_at": _stamp(base, c["opened"][keep]),
        "resolved_at": _stamp(base, np.where(solved, c["resolved"][keep], np.inf)),
        "category": _text(_pick(_CATEGORIES, rng_out.choice(5, keep.size, p=_CATEGORY_P))),
        "satisfaction": np.where(shown, c["rating"][keep], np.nan),
        "status": _text(_pick(("open", "solved"), solved.astype(np.int64))),
    })

    i_unit, i_time = (np.concatenate(a) for a in zip(*inter, strict=True))
    del inter
    itype = rng_out.choice(5, i_unit.size, p=_ITYPE_P)  # no e-mail events after unsubscribing
    muted = (itype < 2) & (i_time >= st.unsubscribed[i_unit])
    ok = (i_time < D) & (i_time < cancel[i_unit]) & ~muted
    quitters = np.flatnonzero(st.unsubscribed < np.minimum(D, cancel))
    i_unit = np.concatenate([i_unit[ok], quitters])
    i_time = np.concatenate([i_time[ok], st.unsubscribed[quitters]])
    itype = np.concatenate([itype[ok], np.full(quitters.size, len(_ITYPES))])
    inbound = np.where(itype == _ITYPES.index("call"), rng_out.random(itype.size) < 0.6, itype >= 2)
    keep = _sorted_before(i_time, D)
    interactions = pd.DataFrame({
        "customer_id": _text(cid.take(i_unit[keep])),
        "interaction_id": _text(_ids("INT-", rng_out.integers(10**4, 10**5) + np.arange(keep.size),
                                     10)),
        "occurred_at": _stamp(base, i_time[keep]),
        "channel": _text(_pick(_ITYPE_CHANNEL + ("email",), itype[keep])),
        "type": _text(_pick(_ITYPES + ("newsletter_unsubscribe",), itype[keep])),
        "direction": _text(_pick(("outbound", "inbound"), inbound[keep].astype(np.int64))),
    })
    del i_unit, i_time, itype, inbound, keep

    units = np.flatnonzero(eligible)
    prob = _true_probability(rng_mc, snap, tr, units, D, horizon, config.truth_replicates)
    ground_truth = pd.DataFrame({
        "customer_id": _text(cid.take(units)),
        "as_of": np.full(units.size, np.datetime64(config.end, "ns")),
        "horizon_days": np.full(units.size, horizon, np.int64),
        "true_churn_probability": prob,
        "churned": ~bought_after[units],
        "hidden_state": _text(_pick(_STATE_NAMES, snap.state[units].astype(np.int64))),
    })
    return SimulatedBusiness(customers, purchases, complaints, interactions, ground_truth)
