"""Where the gap to the ceiling comes from: the same LightGBM with the simulator's hidden state.

Usage: python -m bench.ceiling_gap MODEL_INPUT.parquet [--customers N] [--seed S]
(the snapshot of `churn demo --customers N --seed S --data-dir DIR`:
DIR/model_input/<data_end>_h90.parquet; N and S must be the demo's).

It re-runs the simulation with the demo's seed (the history does not depend on the number of
Monte Carlo replicates, which come from their own random stream), records every customer's
hidden state week by week, and trains the product's early-stopped `fit_probe` on the snapshot
with extra "oracle" columns: the hidden state at each cutoff, how long the customer has been
in it, and the static traits (usual order and interaction rates, frailty). The out-of-time
ROC-AUC of each set says how much of the gap observable features could still close (the
traits are in principle estimable from a long history; the current state is not observable).
A bench diagnostic only: nothing here is part of the product.
"""

from __future__ import annotations

import argparse
import json
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from features.catalog import FEATURES
from models.params import TrainParams
from models.train import LABEL, fit_probe
from pipelines.sample import simulator as sim
from pipelines.sample.config import SimulationConfig

ORACLE_STATE = ["oracle_state", "oracle_weeks_in_state"]
ORACLE_TRAITS = ["oracle_order_rate", "oracle_engage_rate", "oracle_frailty"]


@contextmanager
def _recording(n: int, weeks: dict[int, np.ndarray]):
    """Record the main history's state after each weekly transition, keyed by week start."""
    risk_prob, transition, seen = sim._risk_prob, sim._transition, {}

    def risk(st, tr, idx, t):
        seen.setdefault("main", id(st))  # the history's state is the first one asked
        seen["t"] = t
        return risk_prob(st, tr, idx, t)

    def move(rng, st, idx, p):
        out = transition(rng, st, idx, p)
        if id(st) == seen.get("main") and st.state.size == n:
            weeks[seen["t"]] = st.state.copy()
        return out

    sim._risk_prob, sim._transition = risk, move
    try:
        yield
    finally:
        sim._risk_prob, sim._transition = risk_prob, transition


def hidden_history(customers: int, seed: int) -> tuple[pd.DataFrame, dict[int, np.ndarray],
                                                       SimulationConfig]:
    config = SimulationConfig(customers=customers, seed=seed, truth_replicates=2)
    weeks: dict[int, np.ndarray] = {}
    traits = {}
    draw = sim._draw_traits

    def keep_traits(rng, n):
        traits["tr"] = draw(rng, n)
        return traits["tr"]

    sim._draw_traits = keep_traits
    try:
        with _recording(customers, weeks):
            business = sim.simulate_business(config)
    finally:
        sim._draw_traits = draw
    tr = traits["tr"]
    frame = pd.DataFrame({
        "customer_id": business.customers["customer_id"].astype(str).to_numpy(),
        "oracle_order_rate": tr.rate, "oracle_engage_rate": tr.engage,
        "oracle_frailty": tr.frailty,
    })
    return frame, weeks, config


def oracle_columns(snapshot: pd.DataFrame, customers: int, seed: int) -> pd.DataFrame:
    traits, weeks, config = hidden_history(customers, seed)
    starts = np.array(sorted(weeks))
    states = np.stack([weeks[t] for t in starts])  # week x customer
    position = pd.Series(np.arange(len(traits)), index=traits["customer_id"])
    out = snapshot.merge(traits, on="customer_id", how="left")
    if out["oracle_order_rate"].isna().any():
        raise SystemExit("snapshot customers are not the simulated ones: check --customers/--seed")
    day = (pd.to_datetime(out["cutoff"]).dt.date - config.start).map(lambda d: d.days).to_numpy()
    week = np.searchsorted(starts, day, side="right") - 1  # the week containing the cutoff day
    pos = position.loc[out["customer_id"]].to_numpy()
    state = states[week, pos]
    out["oracle_state"] = state.astype(float)  # 0 active, 1 at_risk, 2 churned
    same = np.ones(len(out))
    for back in range(1, 60):  # weeks the customer has been in the current state (capped)
        earlier = np.maximum(week - back, 0)
        still = (states[earlier, pos] == state) & (week - back >= 0) & (same == back)
        same = same + still
    out["oracle_weeks_in_state"] = np.where(state != sim.ACTIVE, same, 0.0)
    return out


def main(path: str, customers: int, seed: int) -> dict:
    snapshot = pd.read_parquet(path)
    frame = oracle_columns(snapshot, customers, seed)
    observable = [s.name for s in FEATURES if s.name in frame.columns]
    sets = {
        "observable (product features)": observable,
        "observable + traits": observable + ORACLE_TRAITS,
        "observable + order rate": observable + ["oracle_order_rate"],
        "observable + engagement rate": observable + ["oracle_engage_rate"],
        "observable + frailty": observable + ["oracle_frailty"],
        "observable + hidden state": observable + ORACLE_STATE,
        "observable + state + traits": observable + ORACLE_STATE + ORACLE_TRAITS,
        "state + traits only": ORACLE_STATE + ORACLE_TRAITS + ["recency_days"],
    }
    params, results = TrainParams(), {}
    for name, names in sets.items():
        # the early-stopped probe's raw out-of-time scores (the product's baselines and
        # calibration only know catalog features); ROC-AUC does not depend on calibration
        probe = fit_probe(frame, names, params)
        outcome = probe.split.valid[LABEL].to_numpy(int)
        results[name] = round(float(roc_auc_score(outcome, probe.raw_probability)), 4)
        print(f"{name:<32} {len(names):>3} columns  out-of-time ROC-AUC {results[name]:.4f}",
              flush=True)
    valid = frame[pd.to_datetime(frame["cutoff"]) == pd.Timestamp(probe.split.valid_cutoff)]
    share = valid.groupby("oracle_state")["churned"].agg(["size", "mean"])
    results["valid_cutoff"] = str(probe.split.valid_cutoff)
    results["valid_rows_by_state"] = {sim._STATE_NAMES[int(k)]: int(v)
                                      for k, v in share["size"].items()}
    results["valid_churn_rate_by_state"] = {sim._STATE_NAMES[int(k)]: round(float(v), 4)
                                            for k, v in share["mean"].items()}
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_input")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    print(json.dumps(main(args.model_input, args.customers, args.seed), indent=2))
