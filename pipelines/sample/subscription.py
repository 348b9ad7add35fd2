"""Seeded, vectorised simulator of a subscription business (`churn generate --business
subscription`): monthly and annual plans, billing-day payments, payment failures, upgrades and
downgrades, cancellations, and product events whose decline precedes cancellation.

Customers sign up like the retail simulator's (35 % in the first 60 days, then a growing
density, none in the last 30 days) and pay on the signup day. 80 % pay monthly, 20 % yearly
(ten months' price); a quarter of the monthly signups get 50 % off their first three months.
Plans: basic 15, pro 39, team 19 per seat (2+ seats). Renewals fall due on the signup day's
calendar anchor (the 31st renews on the last day of shorter months).

A hidden state evolves week by week: active -> at_risk through a logistic hazard of frailty (a
static trait, higher for less engaged customers), a discount that ended in the last four weeks
(the price doubles) and a failed payment in the last four weeks; at_risk -> active 6 %/week.
Product events (login, post, message, export, invite) are Poisson per week, at 0.3 x the usual
rate while at risk. At each renewal an at-risk customer cancels with 55 % (annual: 70 %), an
active one with 0.4 % (annual: 5 %): the cancellation is asked for 1-7 days before the due day
(`cancelled_at` in the master and the subscription) and the service ends on the due day. A
renewal's payment fails with 3 % (at risk: 6 %), is retried 3 and 7 days later (70 % and 60 %
success) and after the third failure the subscription is cancelled (involuntary churn). At
renewal an engaged active customer upgrades with 1 % (a plan, or a seat on team), an at-risk
one downgrades with 8 %. Monthly churn comes out at about 2 %.

Ground truth: churn = a cancellation in the `horizon_days` after `end` (every unpaid renewal
ends in one); the true probability is a Monte Carlo over `truth_replicates` continuations from
the exact state at `end`. Exported rows are dated on or before `end`; timestamps naive UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from pipelines.sample import names as nm
from pipelines.sample.config import SimulationConfig
from pipelines.sample.simulator import SimulatedBusiness

PLANS, PLAN_PRICE, PLAN_P = ("basic", "pro", "team"), np.array([15.0, 39.0, 19.0]), (
    0.5, 0.35, 0.15)
EVENT_TYPES = ("login", "post", "message", "export", "invite")
_EVENT_P = (0.45, 0.2, 0.2, 0.1, 0.05)
_EVENT_CHANNEL = ("app", "web", "app", "web", "web")
_P_ANNUAL, _P_DISCOUNT, _DISCOUNT_MONTHS, _DISCOUNT = 0.2, 0.25, 3, 0.5
_HAZ_BASE, _HAZ_DISCOUNT_END, _HAZ_FAILED = -5.4, 1.6, 1.4
_P_RECOVER, _RISK_ENGAGE = 0.04, 0.25
_P_CANCEL = {False: (0.004, 0.35), True: (0.05, 0.60)}  # (active, at risk) by annual
_P_FAIL, _P_FAIL_RISK, _RETRIES = 0.03, 0.06, ((3, 0.7), (7, 0.6))
_P_UPGRADE, _P_DOWNGRADE = 0.01, 0.08
_ENGAGE_MEAN, _ENGAGE_SIGMA = 1.2, 0.7
_INF = np.inf


@dataclass
class _Units:
    """Simulation units (customers, or customer x replicate): traits and hidden state."""

    cust: np.ndarray
    anchor: np.ndarray  # signup day (index from `start`): the billing anchor
    annual: np.ndarray
    engage: np.ndarray  # product events per week while active
    frailty: np.ndarray
    discount_end: np.ndarray  # day the intro discount ends (inf: none)
    plan: np.ndarray
    seats: np.ndarray
    risk: np.ndarray  # at risk (hidden)
    cycles: np.ndarray  # renewals paid so far
    next_due: np.ndarray  # day of the next renewal
    cancel: np.ndarray  # day the cancellation was asked for / the subscription stopped
    ended: np.ndarray  # day the service ended
    failed: np.ndarray  # day of the last failed payment

    def take(self, rows: np.ndarray) -> _Units:
        return _Units(**{f.name: getattr(self, f.name)[rows].copy() for f in fields(self)})


@dataclass
class _Log:
    """Rows recorded while simulating the exported history."""

    payments: list = None  # type: ignore[assignment]
    events: list = None  # type: ignore[assignment]

    def __post_init__(self):
        self.payments, self.events = [], []


def _plus_months(base: np.datetime64, day: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Day indices of `day` + `months` calendar months (clipped to the month's last day)."""
    dates = base + day.astype("timedelta64[D]")
    month = dates.astype("datetime64[M]") + months.astype("timedelta64[M]")
    first = month.astype("datetime64[D]")
    length = ((month + 1).astype("datetime64[D]") - first).astype(np.int64)
    dom = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64)
    return (first + np.minimum(dom, length - 1).astype("timedelta64[D]") - base).astype(
        np.int64)


def _price(u: _Units, rows: np.ndarray, day: np.ndarray) -> np.ndarray:
    monthly = PLAN_PRICE[u.plan[rows]] * np.where(u.plan[rows] == 2, u.seats[rows], 1)
    monthly = monthly * np.where(day < u.discount_end[rows], _DISCOUNT, 1.0)
    return np.round(np.where(u.annual[rows], 10 * monthly, monthly), 2)


def _week(rng: np.random.Generator, u: _Units, base: np.datetime64, a: int,
          log: _Log | None) -> None:
    """Advance every unit through the week of days [a, a + 7)."""
    alive = (u.anchor < a + 7) & ~np.isfinite(u.cancel)
    joining = alive & (u.anchor >= a)
    if log is not None and joining.any():
        rows = np.flatnonzero(joining)
        day = u.anchor[rows].astype(float)
        log.payments.append((rows, day + rng.uniform(0.3, 0.9, rows.size),
                             _price(u, rows, day), np.ones(rows.size, bool)))
    old = np.flatnonzero(alive & ~joining)
    shock = (_HAZ_DISCOUNT_END * ((u.discount_end[old] <= a) & (u.discount_end[old] > a - 28))
             + _HAZ_FAILED * (u.failed[old] > a - 28))
    p_risk = 1 / (1 + np.exp(-(_HAZ_BASE + u.frailty[old] + shock)))
    draw = rng.random(old.size)
    u.risk[old] = np.where(u.risk[old], draw >= _P_RECOVER, draw < p_risk)
    if log is not None:
        rows = np.flatnonzero(alive)
        count = rng.poisson(u.engage[rows] * np.where(u.risk[rows], _RISK_ENGAGE, 1.0))
        unit = np.repeat(rows, count)
        start = np.maximum(a, u.anchor[unit])
        log.events.append((unit, start + rng.random(unit.size) * (a + 7 - start),
                           rng.choice(len(EVENT_TYPES), unit.size, p=_EVENT_P)))
    due = np.flatnonzero(alive & ~joining & (u.next_due < a + 7))
    _renew(rng, u, base, due, log)


def _renew(rng: np.random.Generator, u: _Units, base: np.datetime64, rows: np.ndarray,
           log: _Log | None) -> None:
    """The renewals due this week: cancel, change plan, pay (with retries) or lapse."""
    if not rows.size:
        return
    due = u.next_due[rows]
    p_cancel = np.select([u.annual[rows] & u.risk[rows], u.annual[rows], u.risk[rows]],
                         [_P_CANCEL[True][1], _P_CANCEL[True][0], _P_CANCEL[False][1]],
                         _P_CANCEL[False][0])
    quits = rng.random(rows.size) < p_cancel
    gone = rows[quits]
    u.cancel[gone] = due[quits] - rng.uniform(1, 7, gone.size)
    u.ended[gone] = due[quits]
    stay, due = rows[~quits], due[~quits]
    change = rng.random(stay.size)
    up = ~u.risk[stay] & (change < _P_UPGRADE)
    down = u.risk[stay] & (change < _P_DOWNGRADE)
    team = u.plan[stay] == 2
    u.seats[stay] += (up & team).astype(np.int64) - (down & team & (u.seats[stay] > 2))
    u.plan[stay] += (up & ~team).astype(np.int64) - (down & ~team & (u.plan[stay] == 1))
    amount = _price(u, stay, due.astype(float))
    p_fail = np.where(u.risk[stay], _P_FAIL_RISK, _P_FAIL)
    paid_on = np.where(rng.random(stay.size) < p_fail, _INF, due.astype(float))
    failures = [(due.astype(float), ~np.isfinite(paid_on))]
    for delay, p_ok in _RETRIES:
        trying = ~np.isfinite(paid_on)
        ok = trying & (rng.random(stay.size) < p_ok)
        paid_on[ok] = due[ok] + delay
        failures.append((due + float(delay), trying & ~ok))
    lapsed = ~np.isfinite(paid_on)
    last_try = due + float(_RETRIES[-1][0])
    u.cancel[stay[lapsed]] = last_try[lapsed] + 0.5
    u.ended[stay[lapsed]] = last_try[lapsed] + 0.5
    u.failed[stay] = np.where(failures[0][1], due, u.failed[stay])
    if log is not None:
        for day, mask in failures:
            log.payments.append((stay[mask], day[mask] + 0.4, amount[mask],
                                 np.zeros(mask.sum(), bool)))
        log.payments.append((stay[~lapsed], paid_on[~lapsed] + 0.45, amount[~lapsed],
                             np.ones((~lapsed).sum(), bool)))
    kept = stay[~lapsed]
    u.cycles[kept] += 1
    u.next_due[kept] = _plus_months(base, u.anchor[kept],
                                    (u.cycles[kept] + 1) * np.where(u.annual[kept], 12, 1))


def _population(rng: np.random.Generator, n: int, days: int, base: np.datetime64) -> _Units:
    later = 60 + np.floor((days - 90) * rng.random(n) ** 0.6).astype(np.int64)
    anchor = np.sort(np.where(rng.random(n) < 0.35, rng.integers(0, 60, n), later))
    annual = rng.random(n) < _P_ANNUAL
    engage = rng.lognormal(np.log(_ENGAGE_MEAN) - _ENGAGE_SIGMA**2 / 2, _ENGAGE_SIGMA, n)
    frailty = -0.6 * np.log(engage / _ENGAGE_MEAN) + rng.normal(0, 0.5, n)
    discounted = ~annual & (rng.random(n) < _P_DISCOUNT)
    discount_end = np.where(discounted, _plus_months(base, anchor, np.full(n, 3)), _INF)
    plan = rng.choice(3, n, p=PLAN_P)
    seats = np.where(plan == 2, 2 + rng.poisson(3, n), 1)
    months = np.where(annual, 12, 1)
    return _Units(np.arange(n), anchor, annual, engage, frailty, discount_end.astype(float),
                  plan, seats, np.zeros(n, bool), np.zeros(n, np.int64),
                  _plus_months(base, anchor, months), np.full(n, _INF), np.full(n, _INF),
                  np.full(n, -_INF))


def _stamp(base: np.datetime64, days: np.ndarray) -> np.ndarray:
    finite = np.isfinite(days)
    sec = np.floor(np.where(finite, days, 0.0) * 86400.0).astype(np.int64)
    out = (base.astype("datetime64[s]") + sec.astype("timedelta64[s]")).astype("datetime64[ns]")
    out[~finite] = np.datetime64("NaT")
    return out


def _text(values) -> pd.Series:
    return nm.text(values)


def simulate_subscription_business(config: SimulationConfig) -> SimulatedBusiness:
    """Simulate `config.customers` subscribers from `start` to `end` plus the ground truth."""
    seeds = np.random.SeedSequence([config.seed, 2]).spawn(4)
    rng_pop, rng_dyn, rng_out, rng_mc = (np.random.default_rng(s) for s in seeds)
    n, horizon = config.customers, config.horizon_days
    days = (config.end - config.start).days + 1
    if days < 92:
        raise ValueError("the subscription simulator needs at least 92 days of history")
    base = np.datetime64(config.start, "D")
    units = _population(rng_pop, n, days, base)
    log = _Log()
    weeks = -(-days // 7)
    first = days - 7 * weeks  # week boundaries fall on the export moment
    for w in range(weeks):
        _week(rng_dyn, units, base, first + 7 * w, log)
    snapshot = units.take(np.arange(n))
    for w in range(-(-horizon // 7)):
        _week(rng_dyn, units, base, days + 7 * w, None)
    eligible = np.flatnonzero((snapshot.anchor < days) & ~(snapshot.cancel < days))
    churned = (units.cancel[eligible] >= days) & (units.cancel[eligible] < days + horizon)
    probability = _true_probability(rng_mc, snapshot, eligible, base, days, horizon,
                                    config.truth_replicates)
    return _frames(rng_out, snapshot, log, base, days, eligible, churned, probability,
                   config, horizon)


def _true_probability(rng: np.random.Generator, snapshot: _Units, eligible: np.ndarray,
                      base: np.datetime64, days: int, horizon: int, replicates: int
                      ) -> np.ndarray:
    rows = np.repeat(eligible, replicates)
    units = snapshot.take(rows)
    for w in range(-(-horizon // 7)):
        _week(rng, units, base, days + 7 * w, None)
    lost = (units.cancel >= days) & (units.cancel < days + horizon)
    return lost.reshape(eligible.size, replicates).mean(axis=1)


def _frames(rng: np.random.Generator, u: _Units, log: _Log, base: np.datetime64, days: int,
            eligible: np.ndarray, churned: np.ndarray, probability: np.ndarray,
            config: SimulationConfig, horizon: int) -> SimulatedBusiness:
    n = u.cust.size
    number = np.sort(rng.choice(max(100_000, 5 * n), n, replace=False) + 1)
    ids = nm.ids("", number, 7)
    company = u.plan == 2
    dressed = nm.dress(rng, company)
    cancelled = np.where(u.cancel < days, u.cancel, _INF)
    customers = pd.DataFrame({
        "customer_id": _text(ids), "name": _text(dressed["name"]),
        "email": _text(dressed["email"]), "signup_date": _stamp(base, u.anchor.astype(float)),
        "segment": _text(nm.pick(("Consumer", "Business"), company.astype(np.int64))),
        "region": _text(dressed["region"]), "owner": _text(dressed["owner"]),
        "cancelled_at": _stamp(base, cancelled),
    })
    unit, when, amount, ok = (np.concatenate(parts) for parts in zip(*log.payments,
                                                                       strict=True))
    keep = np.flatnonzero(when < days)
    keep = keep[np.argsort(when[keep], kind="stable")]
    purchases = pd.DataFrame({
        "customer_id": _text(ids.take(unit[keep])),
        "order_id": _text(nm.ids("in_", np.arange(keep.size) + 10_001, 8)),
        "order_date": _stamp(base, when[keep]), "amount": amount[keep],
        "status": _text(nm.pick(("cancelled", "completed"), ok[keep].astype(np.int64))),
        "quantity": u.seats[unit[keep]].astype(np.int64),
        "channel": _text(nm.pick(("card",), np.zeros(keep.size, np.int64))),
    })
    unit, when, kind = (np.concatenate(parts) for parts in zip(*log.events, strict=True))
    keep = np.flatnonzero((when < days) & (when < u.cancel[unit]))
    keep = keep[np.argsort(when[keep], kind="stable")]
    interactions = pd.DataFrame({
        "customer_id": _text(ids.take(unit[keep])),
        "interaction_id": _text(nm.ids("EV-", np.arange(keep.size) + 1, 9)),
        "occurred_at": _stamp(base, when[keep]),
        "channel": _text(nm.pick(_EVENT_CHANNEL, kind[keep])),
        "type": _text(nm.pick(EVENT_TYPES, kind[keep])),
        "direction": _text(nm.pick(("inbound",), np.zeros(keep.size, np.int64))),
    })
    started = np.flatnonzero(u.anchor < days)
    months = np.where(u.annual, 12, 1)
    mrr = _price(u, np.arange(n), np.full(n, float(days))) / months
    subscriptions = pd.DataFrame({
        "customer_id": _text(ids.take(started)),
        "subscription_id": _text(nm.ids("sub_", number[started], 8)),
        "plan": _text(nm.pick(PLANS, u.plan[started])),
        "started_at": _stamp(base, u.anchor[started] + 0.3),
        "cancelled_at": _stamp(base, cancelled[started]),
        "ended_at": _stamp(base, np.where(cancelled[started] < _INF, u.ended[started], _INF)),
        "billing_period": _text(nm.pick(("month", "year"), u.annual[started].astype(np.int64))),
        "mrr": np.round(mrr[started], 2),
        "seats": u.seats[started].astype(np.int64),
        "status": _text(nm.pick(("active", "canceled"),
                                np.isfinite(cancelled[started]).astype(np.int64))),
        "discount": np.where(np.isfinite(u.discount_end[started]), _DISCOUNT, np.nan),
        "discount_ends_at": _stamp(base, u.discount_end[started]),
        "channel": _text(nm.pick(("web",), np.zeros(started.size, np.int64))),
    })
    ground_truth = pd.DataFrame({
        "customer_id": _text(ids.take(eligible)),
        "as_of": np.full(eligible.size, np.datetime64(config.end, "ns")),
        "horizon_days": np.full(eligible.size, horizon, np.int64),
        "true_churn_probability": probability, "churned": churned,
        "hidden_state": _text(nm.pick(("active", "at_risk"),
                                      u.risk[eligible].astype(np.int64))),
    })
    complaints = pd.DataFrame(columns=["customer_id", "complaint_id", "opened_at",
                                       "resolved_at", "category", "satisfaction", "status"])
    return replace(SimulatedBusiness(customers, purchases, complaints, interactions,
                                     ground_truth), subscriptions=subscriptions)
