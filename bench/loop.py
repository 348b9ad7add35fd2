"""`make loop`: a simulated year of weekly lists with holdouts and actions, then its figures.

The simulator that knows the truth (`pipelines.sample.retention`) runs 52 weekly lists; each
list's holdout is drawn with `models.holdout`, the team works the contact arm, and each
list's customers are followed over its 13-week horizon. Then:

- the track record (`models.track_record.loop_record`, what `churn track-record` runs, on the
  simulated archive of lists, its purchases and the team's action log), pooled per tier and
  planned action, is set against the simulator's true mean effect of the same customers:
  does each interval cover the truth?
- the save rate measured per action against the true one (true effect / true churn without
  the contact);
- out of time, an uplift model (`models.uplift.TLearner`, trained on the first half of the
  lists on what the CRM shows) against contacting the riskiest (value at risk from a churn
  model on the same features): Qini areas (random = 0) on the second half, and the true value
  each ranking keeps at a contact capacity of 30 % of each list, with the gain's interval (a
  bootstrap over lists).

    python -m bench.loop      # LOOP_CUSTOMERS (6000), LOOP_WEEKS (52), LOOP_SEEDS (8)

With LOOP_SEEDS > 1 it also repeats smaller loops on as many seeds and reports, per stratum,
how often the interval covered the truth and the mean error (one loop's misses are chance
or bias only over many).

Figures are printed and written to `bench/results/<date>-loop.json`. The CI test
(`tests/pipelines/sample/test_retention.py`) runs the same code on 26 weeks of a smaller shop.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from models.track_record import loop_record
from models.uplift import TLearner, policy_gain, qini_area, qini_curve
from pipelines.sample.retention import (
    CALL,
    SHOWN_FEATURES,
    LoopConfig,
    LoopResult,
    RetentionEffects,
    run_loop,
)

CAPACITY = 0.30  # share of each list the team can contact
FEATURES = (*SHOWN_FEATURES, "annual_revenue")


def _prepared(result: LoopResult, effects: RetentionEffects) -> pd.DataFrame:
    units = result.randomised
    return units.assign(
        action_cost=np.where(units["planned_action"] == CALL, effects.call_cost,
                             effects.offer_cost),
        open_complaint=units["open_complaint"].astype(float))


def recovery(result: LoopResult) -> pd.DataFrame:
    """The track record's pooled effects (`models.track_record.loop_record` on the simulated
    archive, its purchases and action log) beside the true mean effect of the same customers,
    per tier x action, per tier, per action and overall ("*")."""
    record = loop_record(result.lists, result.purchases, result.data_end,
                         actions=result.actions)
    units = result.randomised
    truths = []
    for tier_all in (False, True):
        for action_all in (False, True):
            frame = units.assign(**({"tier": "*"} if tier_all else {}),
                                 **({"planned_action": "*"} if action_all else {}))
            truths.append(frame.groupby(["tier", "planned_action"])["true_effect"].mean())
    truth = pd.concat(truths).rename("true_effect").reset_index()
    out = record.pooled.merge(truth, on=["tier", "planned_action"], how="left")
    out["covered"] = (out["effect_low"] <= out["true_effect"]) & (
        out["true_effect"] <= out["effect_high"])
    return out


def out_of_time(units: pd.DataFrame, seed: int = 0) -> dict[str, Any]:
    """The uplift ranking against the risk ranking on the later half of the lists."""
    from lightgbm import LGBMClassifier

    runs = sorted(units["run_id"].unique())
    split = runs[len(runs) // 2]
    train, test = units[units["run_id"] < split], units[units["run_id"] >= split].copy()
    learner = TLearner.fit(train, FEATURES, seed=seed)
    risk_model = LGBMClassifier(n_estimators=150, learning_rate=0.05, num_leaves=7,
                                min_child_samples=40, verbose=-1, n_jobs=1, random_state=seed)
    risk_model.fit(train[list(FEATURES)].astype(float), train["churned"])
    p_churn = risk_model.predict_proba(test[list(FEATURES)].astype(float))[:, 1]
    revenue = test["annual_revenue"].to_numpy(float)
    uplift = learner.uplift(test)
    risk_score = pd.Series(p_churn * revenue, index=test.index)
    saved_value = pd.Series(uplift * revenue - test["action_cost"].to_numpy(float),
                            index=test.index)
    random_score = np.random.default_rng(seed).random(len(test))
    churned, held = test["churned"].to_numpy(int), test["holdout"].to_numpy(bool)
    gain = policy_gain(test, risk_score, saved_value, CAPACITY)
    return {
        "train_lists": len(runs) // 2, "test_lists": len(runs) - len(runs) // 2,
        "train_customers": len(train), "test_customers": len(test),
        "uplift_vs_true_effect_correlation": float(np.corrcoef(uplift,
                                                               test["true_effect"])[0, 1]),
        "qini_area": {name: qini_area(qini_curve(score, churned, held)) for name, score in (
            ("uplift", saved_value.to_numpy()), ("risk", risk_score.to_numpy()),
            ("random", random_score))},
        "capacity": CAPACITY, **asdict(gain),
        "uplift_beats_risk": bool(gain.gain_low > 0),
    }


def loop_figures(config: LoopConfig, effects: RetentionEffects | None = None
                 ) -> dict[str, Any]:
    """Every figure of the bench for one simulated loop."""
    effects = effects or RetentionEffects()
    result = run_loop(config, effects)
    units = _prepared(result, effects)
    table = recovery(result)
    true_save = units.groupby("planned_action").apply(
        lambda g: g["true_effect"].sum() / g["p_churn_untreated"].sum(), include_groups=False)
    actions = table[table["tier"] == "*"].set_index("planned_action")
    return {
        "config": {k: str(v) for k, v in asdict(config).items()},
        "effects": asdict(effects),
        "randomised": len(units), "held_out": int(units["holdout"].sum()),
        "actions_logged": len(result.actions),
        "recovery": json.loads(table.to_json(orient="records")),
        "strata_covered": f"{int(table['covered'].sum())} of {len(table)}",
        "save_rate": {a: {"measured": float(actions.loc[a, "save_rate"]),
                          "true": float(true_save[a])} for a in true_save.index},
        "out_of_time": out_of_time(units, seed=config.seed),
    }


def summary_lines(figures: dict[str, Any]) -> list[str]:
    lines = [f"{figures['randomised']} randomised customers ({figures['held_out']} held out), "
             f"{figures['actions_logged']} actions logged; intervals covering the true effect: "
             f"{figures['strata_covered']}"]
    for row in figures["recovery"]:
        lines.append(f"  {row['tier']:>8} {row['planned_action']:>5}: measured "
                     f"{row['effect']:+.3f} [{row['effect_low']:+.3f}, {row['effect_high']:+.3f}]"
                     f" true {row['true_effect']:+.3f} ({row['contacted']} contacted, "
                     f"{row['holdout']} held out)")
    for action, rates in figures["save_rate"].items():
        lines.append(f"  save rate {action}: measured {rates['measured']:.2f}, "
                     f"true {rates['true']:.2f}")
    oot = figures["out_of_time"]
    lines.append(f"out of time ({oot['test_lists']} lists): Qini area uplift "
                 f"{oot['qini_area']['uplift']:+.4f}, risk {oot['qini_area']['risk']:+.4f}, "
                 f"random {oot['qini_area']['random']:+.4f}")
    lines.append(f"value kept at {oot['capacity']:.0%} capacity: uplift {oot['kept_uplift']:,.0f},"
                 f" risk {oot['kept_risk']:,.0f}; gain {oot['gain']:,.0f} "
                 f"[{oot['gain_low']:,.0f}, {oot['gain_high']:,.0f}]")
    return lines


def coverage_over_seeds(config: LoopConfig, seeds: int) -> pd.DataFrame:
    """Per stratum, over `seeds` independent simulated loops: how often the interval covers
    the true effect, and the mean and spread of measured - true."""
    rows = []
    for seed in range(config.seed, config.seed + seeds):
        table = recovery(run_loop(LoopConfig(**{**asdict(config), "seed": seed})))
        rows.append(table.assign(error=table["effect"] - table["true_effect"]))
    every = pd.concat(rows, ignore_index=True)
    return (every.groupby(["tier", "planned_action"])
            .agg(loops=("error", "size"), covered=("covered", "mean"),
                 mean_error=("error", "mean"), error_sd=("error", "std")).reset_index())


def main() -> None:
    from bench.run import machine, write_results

    config = LoopConfig(customers=int(os.environ.get("LOOP_CUSTOMERS", "6000")),
                        weeks=int(os.environ.get("LOOP_WEEKS", "52")), truth_replicates=100)
    figures = loop_figures(config)
    for line in summary_lines(figures):
        print(line)
    seeds = int(os.environ.get("LOOP_SEEDS", "8"))
    if seeds > 1:  # smaller loops, so the repetitions stay quick
        small = LoopConfig(**{**asdict(config), "customers": config.customers * 2 // 3,
                              "truth_replicates": 60})
        coverage = coverage_over_seeds(small, seeds)
        figures["coverage_over_seeds"] = json.loads(coverage.to_json(orient="records"))
        print(f"over {seeds} loops of {small.customers} customers:")
        for row in coverage.to_dict("records"):
            print(f"  {row['tier']:>8} {row['planned_action']:>5}: covered "
                  f"{row['covered']:.0%}, measured - true {row['mean_error']:+.4f} "
                  f"(sd {row['error_sd']:.4f})")
    write_results("loop", {"machine": machine(), **figures})


if __name__ == "__main__":
    main()
