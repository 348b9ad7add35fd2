"""`make bench` part: out-of-time quality against trees, and what each tree costs to score.

Per size of simulated data (the sample generator, ingested, the training task's model input):
one probe is boosted on the training cutoffs with plain early stopping (no cap), and judged
on the out-of-time cutoff at 50/100/200/400/800 trees and at its best iteration (ROC-AUC,
PR-AUC, log loss). Then the size rule (`models.train.parsimonious_trees`) at several
tolerances: the trees it keeps and the AUC given up against the best. Then scoring cost on
10,000 rows of the model input at each size: `predict`, LightGBM's TreeSHAP
(`pred_contrib=True`, what `models.explain` uses) and `shap.TreeExplainer(...).shap_values`
on the same model and rows (contributions compared, speed ratio). Last, `fit_probe` with the
default parameters: the trees the rule keeps and what training costs. Scoring costs are CPU
seconds of this process (`make bench` runs it with OMP_NUM_THREADS=1, so CPU seconds are the
work itself, little moved by other load on shared cores), the best of
`BENCH_MODEL_SIZE_REPEATS` (default 3).

BENCH_MODEL_SIZE_CUSTOMERS=5000,20000 python -m bench.model_size   # the default sizes
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, log_loss, roc_auc_score

from bench.run import machine, write_results
from models.matrix import category_levels, model_matrix
from models.params import TrainParams
from models.train import LABEL, fit_probe, parsimonious_trees, temporal_split, validation_losses

TREES = (50, 100, 200, 400, 800)
TOLERANCES = (0.0, 0.0005, 0.001, 0.002, 0.005, 0.01)
SCORED_ROWS = 10_000
UNCAPPED_ROUNDS = 5000


def model_input(folder: Path, customers: int) -> tuple[pd.DataFrame, list[str]]:
    """The training task's model input over freshly simulated and ingested data."""
    from pipelines.ingest.run import ingest_raw_exports
    from pipelines.sample.generate import generate_and_write
    from pipelines.store.settings import Settings
    from pipelines.tasks import resolve_cutoff, write_model_input

    settings = Settings.from_env(folder)
    generate_and_write(settings, customers=customers, seed=1)
    ingest_raw_exports(settings)
    written = write_model_input.fn(settings, resolve_cutoff.fn(settings, None), TrainParams())
    return pd.read_parquet(written["path"]), list(written["features"])


def best_cpu_seconds(work: Callable[[], Any], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def quality(outcome: np.ndarray, probability: np.ndarray) -> dict[str, float]:
    return {"roc_auc": round(float(roc_auc_score(outcome, probability)), 4),
            "pr_auc": round(float(average_precision_score(outcome, probability)), 4),
            "log_loss": round(float(log_loss(outcome, probability, labels=[0, 1])), 5)}


def scoring_cost(booster: lgb.Booster, rows: pd.DataFrame, trees: int,
                 repeats: int) -> dict[str, float]:
    """CPU seconds per 10,000 rows of predict, native TreeSHAP and shap.TreeExplainer at `trees`."""
    import shap

    sized = lgb.Booster(model_str=booster.model_to_string(num_iteration=trees))
    per = SCORED_ROWS / len(rows)
    native = np.asarray(sized.predict(rows, pred_contrib=True))
    explainer = shap.TreeExplainer(sized)
    values = np.asarray(explainer.shap_values(rows))
    bias = float(np.ravel(explainer.expected_value)[-1])
    predict_s = best_cpu_seconds(lambda: sized.predict(rows), repeats) * per
    contrib_s = best_cpu_seconds(lambda: sized.predict(rows, pred_contrib=True), repeats) * per
    shap_s = best_cpu_seconds(lambda: explainer.shap_values(rows), repeats) * per
    return {
        "trees": trees, "predict_cpu_s_per_10k": round(predict_s, 4),
        "pred_contrib_cpu_s_per_10k": round(contrib_s, 4),
        "shap_tree_explainer_cpu_s_per_10k": round(shap_s, 4),
        "shap_over_pred_contrib": round(shap_s / contrib_s, 3),
        "pred_contrib_cpu_us_per_row_per_tree": round(contrib_s / SCORED_ROWS / trees * 1e6, 3),
        "max_abs_contribution_difference": float(
            max(np.abs(native[:, :-1] - values).max(), np.abs(native[:, -1] - bias).max())),
    }


def measure(customers: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="churn-model-size-") as folder:
        frame, features = model_input(Path(folder) / "data", customers)
    params = TrainParams()
    split = temporal_split(frame, params.label)
    levels = category_levels(split.train, features)
    x_train = model_matrix(split.train, features, levels)
    x_valid = model_matrix(split.valid, features, levels)
    outcome = split.valid[LABEL].to_numpy(int)
    # plain early stopping, no cap: the curve the size rule reads, and what it used to keep
    probe = lgb.LGBMClassifier(n_estimators=UNCAPPED_ROUNDS,
                               **params.lightgbm_params(len(split.train)))
    start = time.perf_counter()
    probe.fit(x_train, split.train[LABEL], eval_X=(x_valid,), eval_y=(split.valid[LABEL],),
              eval_metric="binary_logloss",
              callbacks=[lgb.early_stopping(params.early_stopping_rounds, verbose=False)])
    uncapped_fit_s = time.perf_counter() - start
    losses = validation_losses(probe)
    best = int(np.argmin(losses)) + 1

    def judged(trees: int) -> dict[str, float]:
        return quality(outcome, np.asarray(probe.predict_proba(x_valid,
                                                               num_iteration=trees))[:, 1])

    at_best = judged(best)
    curve = [{"trees": t, **judged(t)} for t in sorted({*[t for t in TREES if t < best], best})]
    rule = []
    for tolerance in TOLERANCES:
        trees = parsimonious_trees(losses, tolerance, len(losses))
        got = judged(trees)
        rule.append({"tolerance": tolerance, "trees": trees, **got,
                     "roc_auc_lost_vs_best": round(at_best["roc_auc"] - got["roc_auc"], 4),
                     "pr_auc_lost_vs_best": round(at_best["pr_auc"] - got["pr_auc"], 4)})
    rows = model_matrix(frame.sample(min(SCORED_ROWS, len(frame)), random_state=0),
                        features, levels)
    sizes = sorted({*[t for t in TREES if t < best], best, *[r["trees"] for r in rule]})
    cost = [scoring_cost(probe.booster_, rows, t, repeats) for t in sizes]
    start = time.perf_counter()
    default = fit_probe(frame, features, params)
    default_fit_s = time.perf_counter() - start
    return {
        "customers": customers, "rows": len(frame), "train_rows": len(split.train),
        "valid_rows": len(split.valid), "valid_cutoff": str(split.valid_cutoff),
        "features": len(features), "num_leaves": params.num_leaves,
        "uncapped": {"best_iteration": best, "trees_boosted": len(losses),
                     "fit_seconds": round(uncapped_fit_s, 2), **at_best},
        "curve": curve, "rule": rule, "scoring_cost": cost,
        "default_params": {"size_tolerance": params.size_tolerance,
                           "max_trees": params.max_trees, **default.size.as_params(),
                           "fit_probe_seconds": round(default_fit_s, 2),
                           **quality(outcome, default.raw_probability)},
    }


def main() -> dict:
    sizes = [int(n) for n in os.environ.get("BENCH_MODEL_SIZE_CUSTOMERS",
                                            "5000,20000").split(",") if n]
    repeats = int(os.environ.get("BENCH_MODEL_SIZE_REPEATS", "3"))
    report: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                              "machine": machine(), "load_average_at_start": os.getloadavg(),
                              "repeats": repeats, "runs": []}
    print(f"machine: {report['machine']}, load average {report['load_average_at_start']}")
    for customers in sizes:
        run = measure(customers, repeats)
        report["runs"].append(run)
        print(f"{customers} customers, {run['rows']} rows: best iteration "
              f"{run['uncapped']['best_iteration']} (ROC-AUC {run['uncapped']['roc_auc']})")
        for row in run["rule"]:
            print(f"  tolerance {row['tolerance']:<7} {row['trees']:>5} trees  ROC-AUC "
                  f"{row['roc_auc']:.4f} (-{row['roc_auc_lost_vs_best']:.4f})  PR-AUC "
                  f"{row['pr_auc']:.4f} (-{row['pr_auc_lost_vs_best']:.4f})")
        for row in run["scoring_cost"]:
            print(f"  {row['trees']:>5} trees: predict {row['predict_cpu_s_per_10k']:.3f} s, "
                  f"pred_contrib {row['pred_contrib_cpu_s_per_10k']:.3f} s, shap "
                  f"{row['shap_tree_explainer_cpu_s_per_10k']:.3f} CPU s per 10k rows "
                  f"(x{row['shap_over_pred_contrib']}, max diff "
                  f"{row['max_abs_contribution_difference']:.1e})", flush=True)
        print(f"  defaults: {run['default_params']}", flush=True)
    report["load_average_at_end"] = os.getloadavg()
    write_results(f"{report['machine']['host']}-model-size-{'-'.join(str(n) for n in sizes)}",
                  report)
    return report


if __name__ == "__main__":
    main()
