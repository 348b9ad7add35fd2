"""The measured link between complaint resolution time and churn, against the simulator's truth.

Usage: python -m bench.analytics_truth DATA_DIR   (after `churn demo --data-dir DATA_DIR`)

`churn analyze` measures, on the exports alone, the churn of customers active at the last
labelled cutoff (data end - 90 days) by the slowest resolution of their recent complaints.
The simulator knows more at the data end: each customer's true probability of buying nothing
in the next 90 days (from the hidden state) and what really happened. This prints, per band,
the measured churn rate (with its Wilson interval) next to the mean true probability and the
realised churn at the data end, for customers banded the same way from the complaints of the
90 days before the data end. Complaints still open at the data end cannot be given their
final resolution time there: they form the `never` band on that side. In the simulator a
complaint open for more than 14 days, a repeat complaint and a rating of 1-2 (likelier after
a slow resolution) each raise the weekly hazard of becoming at risk (logit +6, +4, +6 over a
base of -7), so the effect must be large for the slow band and small for the fast one.
A bench diagnostic only: nothing here is part of the product.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from models.analytics.policy import AnalyticsPolicy
from models.analytics.service import BANDS, churn_by_resolution_band, resolution_band
from pipelines.sample.generate import ground_truth_path
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables


def truth_by_band(settings: Settings, policy: AnalyticsPolicy) -> pd.DataFrame:
    tables = load_source_tables(settings)
    truth = pd.read_csv(ground_truth_path(settings), dtype={"customer_id": str})
    end = pd.Timestamp(truth["as_of"].iloc[0]).tz_localize("UTC") + pd.Timedelta(days=1)
    complaints = tables.complaints
    recent = complaints[(complaints["opened_at"] < end) & (
        complaints["opened_at"] >= end - pd.Timedelta(days=policy.complaint_lookback_days))]
    hours = (recent["resolved_at"] - recent["opened_at"]).dt.total_seconds() / 3600
    slowest = hours.fillna(np.inf).groupby(recent["customer_id"].astype(str)).max()
    band = resolution_band(slowest.replace(np.inf, np.nan), policy)
    # active at the end: bought in the last year (the ground truth holds the eligible ones)
    done = tables.purchases[tables.purchases["status"] == "completed"]
    last = done.groupby("customer_id")["order_date"].max()
    active = set(last[last >= end - pd.Timedelta(days=policy.active_days)].index.astype(str))
    truth = truth[truth["customer_id"].isin(active)].copy()
    truth["band"] = truth["customer_id"].map(band).fillna("none")
    out = truth.groupby("band").agg(customers=("customer_id", "size"),
                                    true_probability=("true_churn_probability", "mean"),
                                    realised=("churned", "mean"))
    return out.reindex(list(BANDS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    args = parser.parse_args()
    settings = Settings.from_env(args.data_dir)
    policy = AnalyticsPolicy()
    tables = load_source_tables(settings)
    as_of = tables.last_event_date().date()
    measured = churn_by_resolution_band(tables, as_of, policy).set_index("band")
    truth = truth_by_band(settings, policy)
    table = measured[["customers", "churn_rate", "ci_low", "ci_high", "rate_ratio"]].join(
        truth.add_prefix("end_"))
    table["end_true_ratio"] = table["end_true_probability"] / table.loc[
        "none", "end_true_probability"]
    pd.set_option("display.width", 200)
    print(f"measured at {policy.label.last_labelled_cutoff(as_of)}; truth at {as_of}")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
