"""The subscription churn model against a reference on per-customer event-rate metrics.

Usage: python -m bench.subscription_reference DATA_DIR
(after `churn generate --business subscription`, `churn ingest` and `churn train` on
DATA_DIR: reads the staged tables and the newest `model_input/*_renewal.parquet`).

The reference sees only what a product-analytics team would compute from the event log: per
customer and cutoff, product events in the last 7, 30, 90 and 180 days, per event type in the
last 30 and 90 days, the last 30 days against the 60 before, days since the last event and
the lifetime weekly rate. Logistic regression (standardised) and LightGBM are fitted on the
same training cutoffs and judged on the same out-of-time cutoff, with the same labels, as the
pipeline's model (`models.train.fit_with_validation` on the snapshot's catalog features).
Prints the out-of-time ROC-AUC and PR-AUC of all three and a JSON line. A bench diagnostic:
nothing here is part of the product.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from features.build import to_naive_utc
from features.catalog import FEATURES
from models.evaluate import classification_metrics
from models.params import TrainParams
from models.train import fit_with_validation
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables

WINDOWS = (7, 30, 90, 180)
TYPE_WINDOWS = (30, 90)


def event_rate_metrics(events: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """`keys` (`customer_id, cutoff`) with the reference's event-rate columns."""
    day = to_naive_utc(events["occurred_at"]).dt.normalize()
    log = pd.DataFrame({"customer_id": events["customer_id"].astype(str), "day": day,
                        "type": events["type"].fillna("other")})
    types = sorted(log["type"].unique())
    parts = []
    for cutoff, rows in keys.groupby("cutoff"):
        cut = pd.Timestamp(cutoff)
        seen = log[log["day"] <= cut]
        age = (cut - seen["day"]).dt.days
        out = pd.DataFrame(index=pd.Index(rows["customer_id"].astype(str).unique()))
        for days in WINDOWS:
            out[f"events_{days}d"] = seen[age < days].groupby("customer_id").size()
        for days in TYPE_WINDOWS:
            recent = seen[age < days]
            counts = recent.groupby(["customer_id", "type"]).size().unstack(fill_value=0)
            for kind in types:
                out[f"{kind}_{days}d"] = counts[kind] if kind in counts else 0
        out = out.fillna(0.0)
        out["events_prev_60d"] = out["events_90d"] - out["events_30d"]
        out["events_trend"] = (2 * out["events_30d"] - out["events_prev_60d"]) / (
            2 * out["events_30d"] + out["events_prev_60d"]).replace(0, np.nan)
        grouped = seen.groupby("customer_id")["day"]
        out["days_since_last_event"] = (cut - grouped.max()).dt.days
        weeks = ((cut - grouped.min()).dt.days + 1) / 7
        out["events_per_week"] = grouped.size() / weeks
        out = out.fillna({"events_trend": 0.0, "days_since_last_event": 9999.0,
                          "events_per_week": 0.0})
        parts.append(out.rename_axis("customer_id").reset_index().assign(cutoff=cutoff))
    return keys.merge(pd.concat(parts, ignore_index=True), on=["customer_id", "cutoff"],
                      how="left").fillna(0.0)


def main(data_dir: str) -> dict[str, float]:
    settings = Settings.from_env(data_dir)
    snapshot = sorted(Path(settings.model_input_dir).glob("*_renewal.parquet"))[-1]
    frame = pd.read_parquet(snapshot)
    tables = load_source_tables(settings)
    features = [s.name for s in FEATURES if s.name in frame.columns]
    params = TrainParams()
    fitted = fit_with_validation(frame, features, params)
    train = frame[frame["cutoff"].isin([pd.Timestamp(c) for c in fitted.train_cutoffs])]
    valid = frame[frame["cutoff"] == pd.Timestamp(fitted.valid_cutoff)]
    assert tables.interactions is not None
    reference = event_rate_metrics(tables.interactions, frame[["customer_id", "cutoff"]])
    columns = [c for c in reference.columns if c not in ("customer_id", "cutoff")]
    x_train = train[["customer_id", "cutoff"]].merge(reference, how="left")[columns]
    x_valid = valid[["customer_id", "cutoff"]].merge(reference, how="left")[columns]
    y_train, y_valid = train["churned"].to_numpy(int), valid["churned"].to_numpy(int)
    logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    logistic.fit(x_train, y_train)
    booster = lgb.LGBMClassifier(n_estimators=300, learning_rate=0.03, num_leaves=15,
                                 min_child_samples=50, subsample=0.8, subsample_freq=1,
                                 colsample_bytree=0.8, random_state=7, verbose=-1)
    booster.fit(x_train, y_train)
    results = {
        "model": fitted.validation,
        "reference_logistic": classification_metrics(
            y_valid, logistic.predict_proba(x_valid)[:, 1]),
        "reference_lightgbm": classification_metrics(
            y_valid, booster.predict_proba(x_valid)[:, 1]),
    }
    summary = {"snapshot": snapshot.name, "valid_cutoff": str(fitted.valid_cutoff),
               "valid_rows": len(valid), "valid_churn_rate": float(y_valid.mean())}
    for name, metrics in results.items():
        summary[f"{name}_roc_auc"] = round(float(metrics["roc_auc"]), 4)
        summary[f"{name}_pr_auc"] = round(float(metrics["pr_auc"]), 4)
        print(f"{name:20} ROC-AUC {metrics['roc_auc']:.4f}  PR-AUC {metrics['pr_auc']:.4f}")
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main(sys.argv[1])
