"""Five months of data train on fewer cutoffs, and say so, instead of refusing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from features.catalog import feature_names
from features.labels import LabelSpec
from features.snapshots import build_model_input, training_cutoffs
from models.params import MIN_FEATURE_HISTORY_DAYS, TrainParams
from models.train import fit_with_validation
from tests import factories as f

DATA_START, DATA_END = dt.date(2024, 1, 1), dt.date(2024, 5, 31)  # five months


def five_months_of_purchases(customers: int = 400, seed: int = 1):
    """Customers buying every few days to weeks; a third stop at a random day."""
    rng = np.random.default_rng(seed)
    rows = []
    span = (DATA_END - DATA_START).days
    for k in range(customers):
        every = int(rng.integers(4, 25))
        stop = int(rng.integers(10, span)) if rng.random() < 0.35 else span
        day = int(rng.integers(0, 10))
        while day <= stop:
            rows.append((f"{k:04d}", str(DATA_START + dt.timedelta(days=day)),
                         float(rng.integers(10, 200))))
            day += max(1, int(rng.normal(every, every / 4)))
    return f.tables(purchases=f.purchases(rows))


def test_the_minimum_history_follows_the_horizon_and_the_feature_windows():
    assert MIN_FEATURE_HISTORY_DAYS == 90
    assert TrainParams().history_days == 90  # 90-day horizon, no gap
    assert TrainParams(label=LabelSpec(horizon_days=30)).history_days == 90
    assert TrainParams(label=LabelSpec(horizon_days=90, gap_days=30)).history_days == 120
    assert TrainParams(label=LabelSpec(horizon_days=7), min_history_days=20).history_days == 20


@pytest.mark.parametrize("horizon", [30, 7])
def test_five_months_train_on_fewer_cutoffs_and_say_why(horizon):
    tables = five_months_of_purchases()
    params = TrainParams(label=LabelSpec(horizon_days=horizon), min_positives=20,
                         min_negatives=20)
    first = tables.purchases["order_date"].min().date()
    plan = training_cutoffs(first, DATA_END, params.label, params.n_cutoffs,
                            history_days=params.history_days)
    assert 2 <= len(plan.cutoffs) < params.n_cutoffs and plan.short
    assert all((c - first).days >= params.history_days for c in plan.cutoffs)
    assert plan.note() == (
        f"trained on {len(plan.cutoffs)} cutoffs (from {plan.cutoffs[0]} to {plan.cutoffs[-1]});"
        f" fewer than usual ({params.n_cutoffs}) because the data starts on {first} and a "
        f"cutoff needs {params.history_days} days of history behind it")
    frame = build_model_input(tables, plan.cutoffs, params.label, data_end=DATA_END)
    fitted = fit_with_validation(frame, feature_names(["purchases"]), params)
    assert fitted.valid_cutoff == plan.cutoffs[-1] and fitted.train_cutoffs
    assert 0.5 < fitted.validation["roc_auc"] <= 1


def test_the_old_fixed_180_days_would_have_left_no_cutoff():
    plan = training_cutoffs(DATA_START, DATA_END, LabelSpec(horizon_days=30), 8,
                            history_days=180)
    assert plan.cutoffs == [] and "no cutoff fits" in plan.note()


def test_long_data_takes_every_cutoff_asked_for_and_says_nothing_unusual():
    plan = training_cutoffs(dt.date(2022, 1, 1), DATA_END, LabelSpec(), 8, history_days=90)
    assert len(plan.cutoffs) == 8 and not plan.short and "fewer" not in plan.note()
