"""Explaining customers by shard against `shap.TreeExplainer` (issue 15).

Trains one LightGBM model of a fixed size on synthetic model-input rows, then, on the same N
rows, times: `shap.TreeExplainer(model).shap_values` (contributions only), LightGBM's own
`pred_contrib` (what `models.explain.shap_contributions` calls), and our scoring outputs
(probability, contributions and reasons, `pipelines.scale.scoring.sharded_model_outputs`) in
this process and on a LocalCluster of 1 and of 2 workers (one thread each). The sharded
contributions must equal shap's exactly. Wall-clock seconds, with the machine and its load
(`uptime`) before and after: the numbers mean nothing without them.

Run: `make bench-reasons` (sizes: BENCH_REASONS_ROWS, default 200000; BENCH_REASONS_TREES,
default 200; BENCH_REASONS_WORKERS, default "1,2").
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import time
import warnings
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from bench.run import machine, write_results
from features.catalog import CATEGORICAL_FEATURES, feature_names
from features.labels import LabelSpec
from models.matrix import category_levels
from models.train import FittedChurnModel
from pipelines.scale.runner import command_runner
from pipelines.scale.scoring import sharded_model_outputs
from pipelines.scale.settings import LOCAL, ScaleSettings

SOURCES = ["purchases", "complaints", "interactions", "customers"]
TRAIN_ROWS = 20_000
NUM_LEAVES = 15


def synthetic_rows(n: int, seed: int) -> pd.DataFrame:
    """Model-input rows whose churn follows overdue ratio, complaints, satisfaction and a few
    engagement counts (enough signal for every tree to split)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({name: rng.gamma(2.0, 5.0, n) for name in feature_names(SOURCES)})
    frame["recency_days"] = rng.integers(0, 400, n).astype(float)
    frame["median_interval_days"] = rng.integers(5, 90, n).astype(float)
    frame["overdue_ratio"] = frame["recency_days"] / frame["median_interval_days"]
    frame["open_complaints"] = rng.poisson(0.3, n).astype(float)
    frame["last_satisfaction"] = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, np.nan], n)
    frame["segment"] = rng.choice(["Consumer", "SMB", "Corporate"], n)
    frame["region"] = rng.choice(["Istanbul", "Amsterdam", "Ankara", "Utrecht"], n)
    logit = (-2.0 + 1.2 * np.log1p(frame["overdue_ratio"]) + 0.9 * frame["open_complaints"]
             + 1.0 * (frame["last_satisfaction"] <= 0.25) - 0.05 * frame["orders_90d"]
             + 0.04 * frame["complaints_365d"] - 0.03 * frame["interactions_30d"])
    frame["churned"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame.insert(0, "customer_id", [f"C{seed}-{i:07d}" for i in range(n)])
    frame["last_purchase_date"] = pd.Timestamp("2026-11-30") - pd.to_timedelta(
        frame["recency_days"], "D")
    frame["as_of"] = pd.Timestamp("2026-11-30")
    return frame


def trained_model(trees: int) -> FittedChurnModel:
    """A model of exactly `trees` trees of `NUM_LEAVES` leaves (no early stop: its size is
    the benchmark's parameter, not an outcome)."""
    rows = synthetic_rows(TRAIN_ROWS, seed=1)
    features = feature_names(SOURCES)
    categorical = [f for f in features if f in CATEGORICAL_FEATURES]
    levels = category_levels(rows, categorical)
    model = FittedChurnModel(
        classifier=lgb.LGBMClassifier(n_estimators=trees, num_leaves=NUM_LEAVES,
                                      learning_rate=0.05, min_child_samples=20, verbose=-1),
        features=features, levels=levels, label=LabelSpec(horizon_days=60),
        best_iteration=trees)
    model.classifier.fit(model.matrix(rows), rows["churned"])
    return model


def seconds(work: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = work()
    return round(time.perf_counter() - start, 2), result


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def on_cluster(model: FittedChurnModel, rows: pd.DataFrame, workers: int) -> dict[str, Any]:
    settings = ScaleSettings(scheduler=LOCAL, local_workers=workers)
    with command_runner(settings) as runner:
        start_s, _ = seconds(runner.client)
        took, outputs = seconds(lambda: sharded_model_outputs(model, rows))
        shards = runner.shard_count(len(rows))
    return {"workers": workers, "shards": shards, "cluster_start_s": start_s,
            "outputs_s": took, "outputs": outputs}


def main() -> dict[str, Any]:
    import shap

    rows_n = int(os.environ.get("BENCH_REASONS_ROWS", "200000"))
    trees = int(os.environ.get("BENCH_REASONS_TREES", "200"))
    workers = [int(w) for w in os.environ.get("BENCH_REASONS_WORKERS", "1,2").split(",") if w]
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine(),
        "uptime_at_start": uptime(), "rows": rows_n, "trees": trees, "num_leaves": NUM_LEAVES}
    print(f"machine: {report['machine']}\n{report['uptime_at_start']}")
    fit_s, model = seconds(lambda: trained_model(trees))
    rows = synthetic_rows(rows_n, seed=2).drop(columns="churned")
    matrix = model.matrix(rows)
    report["features"] = len(model.features)
    report["fit_s"] = fit_s
    explainer = shap.TreeExplainer(model.classifier)
    with warnings.catch_warnings():  # "output has changed to a list": it is one array here
        warnings.simplefilter("ignore", UserWarning)
        shap_s, values = seconds(lambda: np.asarray(explainer.shap_values(matrix)))
    native_s, _ = seconds(lambda: model.classifier.predict(matrix, pred_contrib=True))
    alone_s, alone = seconds(lambda: sharded_model_outputs(model, rows))
    report["shap_tree_explainer_s"] = shap_s
    report["lightgbm_pred_contrib_s"] = native_s
    report["ours_in_process_s"] = alone_s  # probability, contributions and reasons
    bias = float(np.ravel(explainer.expected_value)[-1])

    def difference(contributions: pd.DataFrame) -> float:
        ours = contributions.to_numpy()
        return float(max(np.abs(ours[:, :-1] - values).max(), np.abs(ours[:, -1] - bias).max()))

    report["in_process_max_abs_difference"] = difference(alone.contributions)
    report["clusters"] = []
    for count in workers:
        run = on_cluster(model, rows, count)
        outputs = run.pop("outputs")
        run["max_abs_difference_to_shap"] = difference(outputs.contributions)
        run["same_as_in_process"] = bool(
            outputs.contributions.equals(alone.contributions)
            and outputs.reasons.equals(alone.reasons)
            and outputs.probability.equals(alone.probability))
        run["speedup_over_shap"] = round(shap_s / run["outputs_s"], 2)
        report["clusters"].append(run)
        print(f"{count} worker(s): {run}")
    report["uptime_at_end"] = uptime()
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2))
    write_results("reasons", report)
    return report


if __name__ == "__main__":
    main()
