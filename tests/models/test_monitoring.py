"""PSI and the drift check: a hand computation, invariants, missing values, unseen levels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.monitoring import (
    MISSING,
    SHARE_FLOOR,
    MonitoringPolicy,
    compare_column,
    feature_monitoring,
    monitoring_summary,
    numeric_edges,
    numeric_shares,
    psi,
    reference_profile,
)


def test_psi_matches_a_hand_computation():
    expected, actual = [0.5, 0.3, 0.2], [0.4, 0.4, 0.2]
    by_hand = (0.4 - 0.5) * math.log(0.4 / 0.5) + (0.4 - 0.3) * math.log(0.4 / 0.3) + 0.0
    assert psi(expected, actual) == pytest.approx(by_hand)
    assert by_hand == pytest.approx(0.05108, abs=1e-5)


def test_an_empty_bin_counts_as_rare_not_impossible():
    value = psi([0.5, 0.5, 0.0], [0.5, 0.25, 0.25])
    floor = SHARE_FLOOR
    by_hand = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.25 - floor) * math.log(0.25 / floor)
    assert value == pytest.approx(by_hand)


def test_bins_are_right_closed_with_missing_last():
    values = pd.Series([1.0, 2.0, 2.0, 3.0, 4.0, np.nan, 5.0, 6.0, 7.0, 8.0])
    assert numeric_shares(values, [2.0, 5.0]) == pytest.approx([0.3, 0.3, 0.3, 0.1])


def test_numeric_column_psi_by_hand():
    training = pd.Series([1.0, 2.0, 3.0, 4.0])  # 2 bins at the median: edge 2.5
    assert numeric_edges(training, 2) == [2.5]
    current = pd.Series([1.0, 3.0, 4.0, 5.0])
    profile = reference_profile(pd.DataFrame({"x": training}), ["x"], np.zeros(4),
                                label_rate=0.25, cutoff="2026-01-01", bins=2)["features"]["x"]
    shares = [0.5, 0.5, SHARE_FLOOR]  # reference: no missing value
    now = [0.25, 0.75, SHARE_FLOOR]
    by_hand = sum((a - e) * math.log(a / e) for e, a in zip(shares, now, strict=True))
    assert compare_column(profile, current)["psi"] == pytest.approx(by_hand)


def test_missing_values_and_unseen_categories_are_reported_and_drift():
    training = pd.DataFrame({"region": pd.Categorical(["north"] * 50 + ["south"] * 50),
                             "spend": np.arange(100, dtype=float)})
    now = pd.DataFrame({"region": pd.Categorical(["north"] * 40 + ["east"] * 40 + [None] * 20),
                        "spend": [np.nan] * 30 + list(np.arange(70, dtype=float))})
    reference = reference_profile(training, ["region", "spend"], np.linspace(0, 1, 100),
                                  label_rate=0.2, cutoff="2026-01-01")
    table = feature_monitoring(reference, now, MonitoringPolicy()).set_index("feature")
    assert table.loc["region", "unseen"] == "east"
    assert table.loc["region", "unseen_share"] == pytest.approx(0.4)
    assert table.loc["region", "missing_current"] == pytest.approx(0.2)
    assert table.loc["region", "drifted"] and table.loc["region", "missing_flagged"]
    assert table.loc["spend", "missing_training"] == 0.0
    assert table.loc["spend", "missing_current"] == pytest.approx(0.3)
    assert table.loc["spend", "missing_flagged"]


def test_summary_verdicts_population_and_label_rates():
    rng = np.random.default_rng(0)
    training = pd.DataFrame({"a": rng.normal(size=2000), "b": rng.normal(size=2000)})
    score = rng.uniform(size=2000)
    reference = reference_profile(training, ["a", "b"], score, label_rate=0.2,
                                  cutoff="2026-01-01")
    same = monitoring_summary(reference, training.head(600), score[:600], MonitoringPolicy(),
                              latest_label_rate=0.25, latest_matured_cutoff="2026-03-01")
    assert not same["drift"] and not same["score_drifted"] and same["drifted_features"] == []
    assert same["population_training"] == 2000 and same["population_current"] == 600
    assert same["small_list"]  # 600 < 0.5 x 2000
    assert same["label_rate_training"] == 0.2 and same["label_rate_latest"] == 0.25
    shifted = monitoring_summary(reference, training.assign(a=training["a"] + 1.5),
                                 np.clip(score + 0.4, 0, 1), MonitoringPolicy())
    assert shifted["drift"] and shifted["score_drifted"] and shifted["drifted_features"] == ["a"]
    assert shifted["features"][0]["feature"] == "a"  # largest PSI first


def test_the_threshold_is_the_policys():
    rng = np.random.default_rng(1)
    training = pd.DataFrame({"a": rng.normal(size=1000)})
    reference = reference_profile(training, ["a"], rng.uniform(size=1000), label_rate=0.1,
                                  cutoff="2026-01-01")
    moved = training.assign(a=training["a"] + 0.5)
    value = feature_monitoring(reference, moved, MonitoringPolicy())["psi"].iloc[0]
    assert feature_monitoring(reference, moved, MonitoringPolicy(psi_drift=value + 0.01)
                              )["drifted"].tolist() == [False]
    assert feature_monitoring(reference, moved, MonitoringPolicy(psi_drift=value - 0.01)
                              )["drifted"].tolist() == [True]


def test_categorical_missing_is_its_own_level():
    profile = reference_profile(pd.DataFrame({"c": pd.Series(["x", None, "x", "y"])}), ["c"],
                                np.zeros(4), label_rate=0.0, cutoff="c")["features"]["c"]
    assert profile["shares"][MISSING] == 0.25 and profile["missing_share"] == 0.25


shares = st.lists(st.floats(0.0, 1.0), min_size=2, max_size=12).filter(lambda v: sum(v) > 0)


def _normalised(values: list[float]) -> np.ndarray:
    array = np.asarray(values, float)
    return array / array.sum()


@settings(max_examples=200, deadline=None)
@given(shares)
def test_psi_of_identical_distributions_is_zero(values):
    assert psi(_normalised(values), _normalised(values)) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 12).flatmap(lambda n: st.tuples(
    st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n).filter(lambda v: sum(v) > 0),
    st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n).filter(lambda v: sum(v) > 0))))
def test_psi_is_non_negative_and_symmetric_over_fixed_bins(pair):
    e, a = _normalised(pair[0]), _normalised(pair[1])
    assert psi(e, a) >= 0
    assert psi(e, a) == pytest.approx(psi(a, e), rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 2.0))
def test_column_psi_is_near_zero_for_the_same_sample_and_grows_with_a_shift(seed, shift):
    rng = np.random.default_rng(seed)
    training = pd.Series(rng.normal(size=3000))
    profile = reference_profile(pd.DataFrame({"x": training}), ["x"], np.zeros(3000),
                                label_rate=0.0, cutoff="c")["features"]["x"]
    assert compare_column(profile, training)["psi"] == pytest.approx(0.0, abs=1e-12)
    # with bins from the training quantiles, swapping roles moves the bins: close, not equal
    moved = compare_column(profile, training + shift)["psi"]
    back = reference_profile(pd.DataFrame({"x": training + shift}), ["x"], np.zeros(3000),
                             label_rate=0.0, cutoff="c")["features"]["x"]
    reverse = compare_column(back, training)["psi"]
    assert moved >= 0 and reverse >= 0
    assert abs(moved - reverse) <= 0.35 * max(moved, reverse) + 0.02
