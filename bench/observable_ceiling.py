"""The best any model could do from the exports: a Bayes filter with the simulator's own rules.

Usage: python -m bench.observable_ceiling GROUND_TRUTH.csv RISK_LIST.parquet
       [--customers N] [--seed S]
(from `churn demo --customers N --seed S --data-dir DIR`: DIR/ground_truth/
true_churn_probability.csv and the newest DIR/scored/<date>/<run>/risk_list.parquet).

The issue 5 target compares the model with the ROC-AUC of the generator's true probabilities,
which are computed from the hidden state (active / at risk / churned) and the hidden traits
(order rate, engagement, frailty). This diagnostic asks how much of that is reachable from
what the exports show. It re-runs the simulation with the demo's seed, takes only the
exported rows (orders, interactions with the unsubscribe event, complaints with their
resolution and visible rating, the master's segment), and runs a forward filter over the
simulator's weekly process: the hidden state and a grid over the unknown traits, with the
simulator's own transition hazards (from the complaint windows the exports show), emission
rates and priors. Its P(no completed order in the horizon) is then close to the
observable-optimal prediction; its ROC-AUC is an estimate of the observable ceiling. It is
not exact: rating times are taken as mid-window, complaint windows as unions, the effect of
future complaints and the timing of account closure are approximated. Calibration (ECE) of
its probabilities is printed as a check that the filter matches the process.
A bench diagnostic only: nothing here is part of the product.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
from scipy.special import expit, gammaln
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from models.evaluate import classification_metrics
from pipelines.sample import simulator as sim
from pipelines.sample.config import SimulationConfig

GRID_RATE, GRID_FRAILTY, GRID_ENGAGE = 16, 6, 6
CHUNK = 1500


def _equal_probability_points(n: int) -> np.ndarray:
    """Standard-normal quantiles at the middles of n equal-probability bins."""
    return norm.ppf((np.arange(n) + 0.5) / n)


def trait_grid() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per grid point: weekly order rate, weekly interaction rate, frailty minus segment offset
    (all grid points equally likely a priori, following `simulator._draw_traits`)."""
    interval = np.clip(np.exp(np.log(30.0) + sim._INTERVAL_SIGMA
                              * _equal_probability_points(GRID_RATE)), 5.0, 180.0)
    rate = 7.0 / interval
    z = 0.8 * _equal_probability_points(GRID_FRAILTY)
    eps = 0.6 * _equal_probability_points(GRID_ENGAGE)
    var = (0.35 * 0.8) ** 2 + 0.6**2
    r, f, e = np.meshgrid(rate, z, eps, indexing="ij")
    engage = np.exp(np.log(0.3) - var / 2 - 0.35 * f + e)
    return r.ravel(), engage.ravel(), f.ravel()


def weekly_observations(business: sim.SimulatedBusiness, config: SimulationConfig,
                        customers: pd.Index) -> dict[str, np.ndarray]:
    """Per eligible customer and weekly step: orders, interactions, unsubscribe, complaint
    windows on at the week start (unresolved > 14 days, repeat, bad rating)."""
    base = pd.Timestamp(config.start)
    day_end = (config.end - config.start).days + 1
    t0 = day_end - 7 * -(-day_end // 7)
    weeks = (day_end - t0) // 7
    future = -(-config.horizon_days // 7)
    starts = t0 + 7 * np.arange(weeks + future)
    pos = pd.Series(np.arange(len(customers)), index=customers)

    def days(column: pd.Series) -> np.ndarray:
        return ((column - base) / pd.Timedelta(days=1)).to_numpy(float)

    def counts(frame: pd.DataFrame, column: str) -> np.ndarray:
        frame = frame[frame["customer_id"].isin(customers)]
        week = ((days(frame[column]) - t0) // 7).astype(int)
        out = np.zeros((len(customers), weeks))
        np.add.at(out, (pos.loc[frame["customer_id"]].to_numpy(), week), 1)
        return out

    orders = counts(business.purchases, "order_date")
    inter = business.interactions
    unsub_rows = inter[inter["type"] == "newsletter_unsubscribe"]
    interactions = counts(inter[inter["type"] != "newsletter_unsubscribe"], "occurred_at")
    unsub_week = np.full(len(customers), np.iinfo(np.int64).max)
    rows = unsub_rows[unsub_rows["customer_id"].isin(customers)]
    unsub_week[pos.loc[rows["customer_id"]].to_numpy()] = (
        (days(rows["occurred_at"]) - t0) // 7).astype(int)

    on = np.zeros((3, len(customers), len(starts)), bool)
    comp = business.complaints[business.complaints["customer_id"].isin(customers)]
    comp = comp.sort_values(["customer_id", "opened_at"])
    opened, resolved = days(comp["opened_at"]), days(comp["resolved_at"])
    resolved = np.where(np.isnan(resolved), np.inf, resolved)
    who = pos.loc[comp["customer_id"]].to_numpy()
    previous = np.r_[np.nan, opened[:-1]]
    previous[np.r_[True, who[1:] != who[:-1]]] = np.nan
    rated_bad = (comp["satisfaction"] <= 2).to_numpy()
    windows = [
        (np.ceil(opened + sim._UNRESOLVED_DAYS), np.ceil(resolved), np.ones(len(comp), bool)),
        (np.ceil(opened), np.ceil(opened) + sim._MEMORY_DAYS,
         np.abs(opened - previous) <= sim._MEMORY_DAYS),
        # the rating time is not exported: mid-way through its 0-3 day window
        (np.ceil(resolved + 1.5), np.ceil(resolved + 1.5) + sim._MEMORY_DAYS, rated_bad),
    ]
    for kind, (lo, hi, real) in enumerate(windows):
        for c, a, b in zip(who[real], lo[real], hi[real], strict=True):
            on[kind, c] |= (starts >= a) & (starts < b)
    signup = days(business.customers.set_index("customer_id").loc[customers, "signup_date"])
    first = np.searchsorted(starts, signup, side="left")  # present from the first start >= signup
    segment = business.customers.set_index("customer_id").loc[customers, "segment"]
    offset = segment.map(dict(zip(sim._SEGMENTS, sim._SEGMENT_FRAILTY, strict=True))).to_numpy()
    return {"orders": orders, "interactions": interactions, "unsub_week": unsub_week,
            "on": on, "first": first, "offset": offset, "weeks": np.array(weeks),
            "spans": np.array([min(7, config.horizon_days - 7 * k) for k in range(future)])}


def _poisson(count: np.ndarray, mean: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        log = count * np.log(mean) - mean - gammaln(count + 1)
    return np.where(mean > 0, np.exp(log), (count == 0).astype(float))


def filtered_probability(obs: dict[str, np.ndarray]) -> np.ndarray:
    rate, engage, frailty = trait_grid()
    m_order, m_engage = sim._PURCHASE_MULT, sim._ENGAGE_MULT
    n, weeks = obs["orders"].shape
    out = np.empty(n)
    for c0 in range(0, n, CHUNK):
        idx = np.arange(c0, min(n, c0 + CHUNK))
        alpha = np.zeros((idx.size, rate.size, 3))
        alpha[:, :, sim.ACTIVE] = 1.0 / rate.size
        f = obs["offset"][idx, None] + frailty[None, :]
        for w in range(weeks):
            live = obs["first"][idx] <= w
            if not live.any():
                continue
            a = alpha[live]
            hazard = sim._HAZ_BASE + f[live] + (sim._HAZ_BETAS[:, None]
                                                * obs["on"][:, idx[live], w]).sum(0)[:, None]
            a = _transition(a, expit(hazard))
            orders = obs["orders"][idx[live], w][:, None, None]
            like = _poisson(orders, rate[None, :, None] * m_order[None, None, :])
            unsub = obs["unsub_week"][idx[live]]
            mute = np.where(unsub < w, 0.5, 1.0)[:, None, None]  # e-mail events stop
            events = obs["interactions"][idx[live], w][:, None, None]
            like = like * _poisson(events, mute * engage[None, :, None] * m_engage[None, None, :])
            event_now = (unsub == w)[:, None]
            before = (unsub > w)[:, None]
            unsub_like = np.ones((live.sum(), 1, 3))
            unsub_like[:, :, sim.AT_RISK] = np.where(event_now, sim._P_UNSUBSCRIBE,
                                                     np.where(before, 1 - sim._P_UNSUBSCRIBE, 1))
            unsub_like[:, :, sim.ACTIVE] = np.where(event_now, 0.0, 1.0)
            unsub_like[:, :, sim.CHURNED] = np.where(event_now, 0.0, 1.0)
            a = a * like * unsub_like
            alpha[live] = a / a.sum(axis=(1, 2), keepdims=True)
        # a churned customer closes the account with p=0.35: still open at the export is
        # evidence against churned (taken as settled: most churns are weeks old)
        alpha[:, :, sim.CHURNED] *= 1 - sim._P_CANCEL
        alpha /= alpha.sum(axis=(1, 2), keepdims=True)
        value = np.ones((idx.size, rate.size, 3))
        for k in reversed(range(len(obs["spans"]))):
            hazard = sim._HAZ_BASE + f + (sim._HAZ_BETAS[:, None]
                                          * obs["on"][:, idx, weeks + k]).sum(0)[:, None]
            none = np.exp(-sim._ORDER_STATUS_P[0] * rate[None, :, None]
                          * m_order[None, None, :] * obs["spans"][k] / 7.0)
            value = _transition_back(value * none, expit(hazard))
        out[idx] = (alpha * value).sum(axis=(1, 2))
    return out


def _transition(a: np.ndarray, p_risk: np.ndarray) -> np.ndarray:
    act, risk, gone = a[..., 0], a[..., 1], a[..., 2]
    stay = 1 - sim._P_RISK_CHURN - sim._P_RISK_RECOVER
    return np.stack([act * (1 - p_risk - sim._P_DIRECT_CHURN) + risk * sim._P_RISK_RECOVER,
                     act * p_risk + risk * stay,
                     gone + act * sim._P_DIRECT_CHURN + risk * sim._P_RISK_CHURN], axis=-1)


def _transition_back(v: np.ndarray, p_risk: np.ndarray) -> np.ndarray:
    """E[v(next state) | current state], the transposed step of `_transition`."""
    act, risk, gone = v[..., 0], v[..., 1], v[..., 2]
    stay = 1 - sim._P_RISK_CHURN - sim._P_RISK_RECOVER
    return np.stack([act * (1 - p_risk - sim._P_DIRECT_CHURN) + risk * p_risk
                     + gone * sim._P_DIRECT_CHURN,
                     act * sim._P_RISK_RECOVER + risk * stay + gone * sim._P_RISK_CHURN,
                     gone], axis=-1)


def main(truth_path: str, risk_path: str, customers: int, seed: int) -> dict:
    truth = pd.read_csv(truth_path, dtype={"customer_id": str})
    risk = pd.read_parquet(risk_path)[["customer_id", "churn_probability"]]
    config = SimulationConfig(customers=customers, seed=seed, truth_replicates=2)
    business = sim.simulate_business(config)
    ids = pd.Index(truth["customer_id"])
    probability = filtered_probability(weekly_observations(business, config, ids))
    frame = truth.assign(filter_probability=probability).merge(risk, on="customer_id")
    outcome = frame["churned"].astype(int).to_numpy()

    def auc(column: str) -> float:
        return round(float(roc_auc_score(outcome, frame[column])), 4)

    result = {
        "customers": len(frame),
        "roc_auc": {"true probabilities (ceiling)": auc("true_churn_probability"),
                    "observable filter": auc("filter_probability"),
                    "product model": auc("churn_probability")},
        "filter_ece": round(classification_metrics(
            outcome, frame["filter_probability"].to_numpy())["ece"], 4),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ground_truth")
    parser.add_argument("risk_list")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    main(args.ground_truth, args.risk_list, args.customers, args.seed)
