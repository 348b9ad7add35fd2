"""Out-of-time ROC-AUC by feature group: what each group adds on top of RFM (issue 4).

Usage: python -m bench.ablation MODEL_INPUT.parquet
(a snapshot written by the training task, e.g. after `churn demo --data-dir DIR`:
DIR/model_input/<data_end>_h90.parquet). Prints one line per feature set and a JSON summary.
"""

from __future__ import annotations

import json
import sys

import pandas as pd

from features.catalog import FEATURES
from models.params import TrainParams
from models.train import fit_with_validation

SETS: dict[str, tuple[str, ...]] = {
    "rfm": ("rfm",),
    "rfm+complaints": ("rfm", "complaints"),
    "rfm+complaints+satisfaction": ("rfm", "complaints", "satisfaction"),
    "rfm+engagement": ("rfm", "engagement"),
    "all-but-satisfaction": ("rfm", "complaints", "engagement", "profile"),
    "all-but-engagement": ("rfm", "complaints", "satisfaction", "profile"),
    "all": ("rfm", "complaints", "satisfaction", "engagement", "profile"),
}
#: Features comparing a customer with their own usual rates (issue 5); "all-but-own-history"
#: shows what they add on top of everything else.
OWN_HISTORY: frozenset[str] = frozenset({
    "usual_orders_per_30d", "orders_90d_vs_usual", "orders_surprise_30d", "orders_surprise_90d",
    "order_silence_surprise", "interactions_surprise_30d", "interactions_surprise_60d",
    "interaction_silence_surprise",
})


def features_of(groups: tuple[str, ...], available: set[str]) -> list[str]:
    return [s.name for s in FEATURES if s.group in groups and s.name in available]


def main(path: str) -> dict:
    frame = pd.read_parquet(path)
    params = TrainParams()
    results = {}
    runs = {name: features_of(groups, set(frame.columns)) for name, groups in SETS.items()}
    runs["all-but-own-history"] = [n for n in runs["all"] if n not in OWN_HISTORY]
    for name, names in runs.items():
        fitted = fit_with_validation(frame, names, params)
        results[name] = {"features": len(names), "roc_auc": round(fitted.validation["roc_auc"], 4),
                         "pr_auc": round(fitted.validation.get("pr_auc", float("nan")), 4)}
        print(f"{name:<30} {len(names):>3} features  out-of-time ROC-AUC "
              f"{results[name]['roc_auc']:.4f}", flush=True)
    results["valid_cutoff"] = str(fitted.valid_cutoff)
    results["rows"] = len(frame)
    return results


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), indent=2))
