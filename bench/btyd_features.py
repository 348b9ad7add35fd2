"""Do BG/NBD ("buy till you die") outputs help as model features? (issue 4, point 9)

Usage: python -m bench.btyd_features MODEL_INPUT.parquet
(a snapshot written by the training task, e.g. after `churn demo --data-dir DIR`:
DIR/model_input/<data_end>_h90.parquet).

At every cutoff of the snapshot it fits BG/NBD by maximum likelihood on that cutoff's rows
only (x, t_x and T come from the point-in-time RFM features, and the fit uses no label, so
nothing from after the cutoff enters), adds P(alive), P(no purchase in 90 days), the posterior
purchase rate and the expected purchases in 90 days, and compares the out-of-time ROC-AUC of
the product's early-stopped probe with and without them. A bench experiment: the product does
not carry these features unless they pay for themselves.
"""

from __future__ import annotations

import json
import sys

import pandas as pd
from sklearn.metrics import roc_auc_score

from features.catalog import FEATURES
from models.btyd import (
    DAYS_PER_UNIT,
    fit_bgnbd,
    probability_alive,
    probability_no_purchase,
    summary_from_features,
)
from models.params import TrainParams
from models.train import LABEL, fit_probe

BTYD = ["bgnbd_p_alive", "bgnbd_p_none_90d", "bgnbd_rate_per_week", "bgnbd_expected_90d"]


def with_btyd_columns(snapshot: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for _, rows in snapshot.groupby("cutoff", sort=True):
        summary = summary_from_features(rows)
        params = fit_bgnbd(summary)
        x, big_t = summary["x"].to_numpy(), summary["T"].to_numpy()
        out = pd.DataFrame(index=rows.index)
        out["bgnbd_p_alive"] = probability_alive(params, summary)
        out["bgnbd_p_none_90d"] = probability_no_purchase(params, summary, 90)
        out["bgnbd_rate_per_week"] = (params.r + x) / (params.alpha + big_t)
        out["bgnbd_expected_90d"] = (out["bgnbd_p_alive"] * out["bgnbd_rate_per_week"]
                                     * 90 / DAYS_PER_UNIT)
        parts.append(out)
    return snapshot.join(pd.concat(parts))


def main(path: str) -> dict:
    frame = with_btyd_columns(pd.read_parquet(path))
    observable = [s.name for s in FEATURES if s.name in frame.columns]
    sets = {"product features": observable, "+ BG/NBD features": observable + BTYD}
    results = {}
    for name, names in sets.items():
        probe = fit_probe(frame, names, TrainParams())
        outcome = probe.split.valid[LABEL].to_numpy(int)
        results[name] = round(float(roc_auc_score(outcome, probe.raw_probability)), 4)
        print(f"{name:<20} {len(names):>3} columns  out-of-time ROC-AUC {results[name]:.4f}",
              flush=True)
    results["valid_cutoff"] = str(probe.split.valid_cutoff)
    return results


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), indent=2))
