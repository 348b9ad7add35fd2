from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.labels import LabelSpec
from models.train import TemporalSplitError, temporal_split


def test_temporal_split_never_trains_on_a_window_overlapping_validation(model_input):
    split = temporal_split(model_input, LabelSpec(horizon_days=60))
    valid_cutoff = pd.Timestamp(split.valid_cutoff)
    assert set(split.valid["cutoff"]) == {valid_cutoff}
    train_cutoffs = pd.to_datetime(split.train["cutoff"])
    # every training label window (c, c + 60] ends on or before the validation cutoff
    assert (train_cutoffs + pd.Timedelta(days=60) <= valid_cutoff).all()
    assert train_cutoffs.max() < valid_cutoff
    # the cutoff 30 days before validation overlaps its future and must be left out
    assert valid_cutoff - pd.Timedelta(days=30) not in set(train_cutoffs)


def test_temporal_split_refuses_when_no_cutoff_fits(model_input):
    with pytest.raises(TemporalSplitError, match="shorter horizon"):
        temporal_split(model_input, LabelSpec(horizon_days=400))


def test_model_beats_the_recency_baseline_on_synthetic_signal(fitted):
    assert fitted.validation["roc_auc"] > 0.7
    assert fitted.validation["roc_auc"] > fitted.baseline["roc_auc"]
    assert fitted.best_iteration >= 1


def test_category_levels_are_fixed_at_training(fitted, model_input):
    frame = model_input.head(3).copy()
    frame["segment"] = ["Consumer", "Unheard-of", None]
    matrix = fitted.matrix(frame)
    assert list(matrix["segment"].cat.categories) == ["Consumer", "Corporate", "SMB"]
    assert matrix["segment"].isna().tolist() == [False, True, True]


def test_explicit_validation_cutoff_never_leaks_a_later_cutoff(model_input):
    cutoffs = sorted(pd.to_datetime(model_input["cutoff"]).unique())
    split = temporal_split(model_input, LabelSpec(horizon_days=60),
                           valid_cutoff=cutoffs[-2].date())
    assert pd.to_datetime(split.train["cutoff"]).max() + pd.Timedelta(days=60) <= cutoffs[-2]
    assert cutoffs[-1] not in set(pd.to_datetime(split.train["cutoff"]))


def test_predict_probability_applies_the_out_of_time_calibrator(fitted, model_input):
    frame = model_input.head(50)
    raw = fitted.raw_probability(frame)
    np.testing.assert_allclose(fitted.predict_probability(frame), fitted.calibrator.apply(raw))
    assert fitted.calibrator.method in {"platt", "isotonic"}
    # reported calibration is judged on out-of-fold rows and is reasonable on this signal
    assert fitted.validation["ece"] < 0.08
    assert fitted.evaluation.reliability["customers"].sum() == len(fitted.evaluation.valid)


def test_every_baseline_is_judged_on_the_same_customers(fitted):
    assert set(fitted.baselines) == {"recency", "rfm_lightgbm", "bgnbd"}
    n = fitted.validation["n"]
    assert all(metrics["n"] == n for metrics in fitted.baselines.values())
    assert fitted.baseline == fitted.baselines["recency"]
    assert fitted.validation["roc_auc"] > fitted.baselines["bgnbd"]["roc_auc"]


def test_a_gap_pushes_training_cutoffs_further_back(model_input):
    """With a gap, a training window (c + gap, c + gap + H] must still end by validation."""
    split = temporal_split(model_input, LabelSpec(horizon_days=30, gap_days=30))
    valid_cutoff = pd.Timestamp(split.valid_cutoff)
    train_cutoffs = pd.to_datetime(split.train["cutoff"])
    assert (train_cutoffs + pd.Timedelta(days=60) <= valid_cutoff).all()
    assert valid_cutoff - pd.Timedelta(days=30) not in set(train_cutoffs)
