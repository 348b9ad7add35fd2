from __future__ import annotations

import numpy as np
import pytest

from models.calibration import (
    FITTERS,
    Calibrator,
    choose_calibrator,
    cross_fitted_probability,
    expected_calibration_error,
    reliability_table,
)


def _overconfident_case(n: int = 6000, seed: int = 1):
    """True probabilities known; the 'model' pushes them away from 0.5 (logit doubled)."""
    rng = np.random.default_rng(seed)
    true_p = rng.uniform(0.03, 0.9, n)
    outcome = (rng.random(n) < true_p).astype(int)
    logit = np.log(true_p / (1 - true_p))
    raw = 1 / (1 + np.exp(-2.0 * logit))
    return true_p, outcome, raw


def test_reliability_table_and_ece_by_hand():
    outcome = np.array([0, 1, 1, 0, 0])
    probability = np.array([0.05, 0.15, 0.55, 0.55, 0.95])
    table = reliability_table(outcome, probability, bins=2)
    assert table["customers"].tolist() == [2, 3]
    assert table["mean_predicted"].tolist() == pytest.approx([0.10, 2.05 / 3])
    assert table["observed_rate"].tolist() == pytest.approx([0.5, 1 / 3])
    # (2 * |0.5 - 0.1| + 3 * |1/3 - 0.6833|) / 5
    assert expected_calibration_error(outcome, probability, bins=2) == pytest.approx(
        (2 * 0.4 + 3 * abs(1 / 3 - 2.05 / 3)) / 5)


def test_calibration_recovers_known_probabilities_on_rows_it_never_saw():
    true_p, outcome, raw = _overconfident_case()
    assert expected_calibration_error(outcome, raw) > 0.05  # the raw model is miscalibrated
    choice = choose_calibrator(raw, outcome)
    # judged out-of-fold: each row calibrated by a calibrator fitted without it
    assert expected_calibration_error(outcome, choice.oof_probability) < 0.025
    assert np.abs(choice.oof_probability - true_p).mean() < 0.03
    assert set(choice.oof_brier) == {"platt", "isotonic"}
    assert choice.calibrator.method == min(choice.oof_brier, key=choice.oof_brier.get)


def test_platt_undoes_a_logit_stretch():
    true_p, outcome, raw = _overconfident_case()
    p_platt = cross_fitted_probability(raw, outcome, "platt")
    from models.calibration import fit_platt
    calibrator = fit_platt(raw, outcome)
    assert calibrator.a == pytest.approx(0.5, abs=0.05)  # logit was doubled
    assert calibrator.b == pytest.approx(0.0, abs=0.08)
    assert np.abs(p_platt - true_p).mean() < 0.02


def test_calibrator_round_trips_through_plain_numbers():
    _, outcome, raw = _overconfident_case(n=800)
    for fit in FITTERS.values():
        calibrator = fit(raw, outcome)
        again = Calibrator.from_dict(calibrator.to_dict())
        np.testing.assert_array_equal(again.apply(raw), calibrator.apply(raw))
    assert Calibrator.from_dict(None).apply(np.array([0.3]))[0] == 0.3


def test_calibrated_probabilities_stay_monotone_in_the_raw_score():
    _, outcome, raw = _overconfident_case(n=2000)
    calibrator = choose_calibrator(raw, outcome).calibrator
    grid = np.linspace(0, 1, 101)
    assert (np.diff(calibrator.apply(grid)) >= -1e-12).all()


def test_too_few_churners_to_calibrate_leaves_probabilities_as_they_are():
    probability = np.array([0.1, 0.2, 0.3, 0.9])
    choice = choose_calibrator(probability, np.array([0, 0, 0, 1]))
    assert choice.calibrator.method == "identity"
    np.testing.assert_array_equal(choice.oof_probability, probability)
