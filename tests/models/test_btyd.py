from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import betaln

from models.btyd import (
    DAYS_PER_UNIT,
    BgNbdParams,
    fit_bgnbd,
    probability_alive,
    probability_no_purchase,
    probability_no_purchase_after_gap,
    summary_from_features,
)


def test_no_repeat_buyer_matches_the_closed_form():
    params = BgNbdParams(r=0.5, alpha=4.0, a=0.8, b=2.5)
    summary = pd.DataFrame({"x": [0.0], "t_x": [0.0], "T": [10.0]})
    # x = 0: nobody can have dropped out, so P(0 in H) = ((alpha + T) / (alpha + T + H))^r
    expected = (14.0 / 17.0) ** 0.5
    assert probability_no_purchase(params, summary, 3 * DAYS_PER_UNIT)[0] == pytest.approx(
        expected)


def test_probability_alive_matches_the_closed_form():
    params = BgNbdParams(r=1.0, alpha=2.0, a=1.0, b=3.0)
    summary = pd.DataFrame({"x": [0.0, 4.0], "t_x": [0.0, 20.0], "T": [52.0, 52.0]})
    # x = 0: no repeat purchase, so no chance yet to drop out; else
    # P(alive) = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x))
    expected = 1 / (1 + 1.0 / 6.0 * (54.0 / 22.0) ** 5.0)
    assert probability_alive(params, summary) == pytest.approx([1.0, expected])


def test_long_silence_after_frequent_buying_means_likely_gone():
    params = BgNbdParams(r=1.0, alpha=2.0, a=1.0, b=3.0)
    summary = pd.DataFrame({"x": [10.0, 10.0], "t_x": [50.0, 20.0], "T": [52.0, 52.0]})
    recent, silent = probability_no_purchase(params, summary, 90)
    assert silent > recent


def _simulate(params: BgNbdParams, n: int, horizon: float, rng) -> pd.DataFrame:
    lam = rng.gamma(params.r, 1 / params.alpha, n)
    p = rng.beta(params.a, params.b, n)
    rows = []
    for rate, drop in zip(lam, p, strict=True):
        t, times = 0.0, []
        while True:
            t += rng.exponential(1 / rate)
            if t > horizon:
                break
            times.append(t)
            if rng.random() < drop:
                break
        rows.append((len(times), times[-1] if times else 0.0, horizon))
    return pd.DataFrame(rows, columns=["x", "t_x", "T"])


def test_maximum_likelihood_recovers_simulated_parameters():
    truth = BgNbdParams(r=0.8, alpha=3.0, a=0.7, b=2.5)
    summary = _simulate(truth, 3000, 52.0, np.random.default_rng(5))
    fitted = fit_bgnbd(summary)
    assert fitted.r == pytest.approx(truth.r, rel=0.25)
    assert fitted.alpha == pytest.approx(truth.alpha, rel=0.3)
    # implied mean purchase rate and drop-out probability are what matters for prediction
    assert fitted.r / fitted.alpha == pytest.approx(truth.r / truth.alpha, rel=0.15)
    assert fitted.a / (fitted.a + fitted.b) == pytest.approx(
        truth.a / (truth.a + truth.b), rel=0.3)


def test_summary_from_rfm_features():
    frame = pd.DataFrame({"orders_lifetime": [1.0, 4.0], "tenure_days": [14.0, 70.0],
                          "recency_days": [14.0, 7.0]})
    summary = summary_from_features(frame)
    assert summary["x"].tolist() == [0.0, 3.0]
    assert summary["T"].tolist() == [2.0, 10.0]
    assert summary["t_x"].tolist() == [0.0, 9.0]


GAP_PARAMS = BgNbdParams(r=0.7, alpha=2.0, a=0.8, b=2.5)
GAP_SUMMARY = pd.DataFrame({"x": [0.0, 3.0, 10.0], "t_x": [0.0, 20.0, 50.0],
                            "T": [0.5, 52.0, 52.0]})


def test_no_purchase_after_a_gap_of_zero_is_the_plain_probability():
    np.testing.assert_allclose(
        probability_no_purchase_after_gap(GAP_PARAMS, GAP_SUMMARY, 0, 90),
        probability_no_purchase(GAP_PARAMS, GAP_SUMMARY, 90), rtol=1e-12)


def test_no_purchase_after_a_gap_matches_a_simulation():
    # x = 0: alive for sure, with lambda ~ Gamma(r, alpha + T) and p ~ Beta(a, b); each gap
    # purchase is a drop-out chance, then the window must stay empty
    rng, n = np.random.default_rng(0), 400_000
    rate = rng.gamma(GAP_PARAMS.r, 1 / (GAP_PARAMS.alpha + 0.5), n)
    drop = rng.beta(GAP_PARAMS.a, GAP_PARAMS.b, n)
    gap, horizon = 30 / DAYS_PER_UNIT, 90 / DAYS_PER_UNIT
    alive = rng.random(n) < (1 - drop) ** rng.poisson(rate * gap)
    none = ~alive | (rng.poisson(rate * horizon) == 0)
    got = probability_no_purchase_after_gap(GAP_PARAMS, GAP_SUMMARY, 30, 90)
    assert got[0] == pytest.approx(none.mean(), abs=0.004)


def test_no_purchase_after_a_gap_matches_the_integral_over_the_drop_out_probability():
    params, (x, _, big_t) = GAP_PARAMS, GAP_SUMMARY.iloc[1]
    gap, horizon = 30 / DAYS_PER_UNIT, 90 / DAYS_PER_UNIT
    shape, rate = params.r + x, params.alpha + big_t
    density = lambda p: np.exp((params.a - 1) * np.log(p) + (params.b + x - 1) * np.log1p(-p)  # noqa: E731
                               - betaln(params.a, params.b + x))
    survives = quad(lambda p: density(p) * (rate / (rate + p * gap)) ** shape, 0, 1)[0]
    silent = quad(lambda p: density(p) * (rate / (rate + p * gap + horizon)) ** shape, 0, 1)[0]
    alive = probability_alive(params, GAP_SUMMARY.iloc[[1]])[0]
    expected = (1 - alive) + alive * (1 - survives + silent)
    got = probability_no_purchase_after_gap(params, GAP_SUMMARY, 30, 90)
    assert got[1] == pytest.approx(expected, rel=1e-8)
    # a gap only adds chances to drop out before the window
    assert (got > probability_no_purchase(params, GAP_SUMMARY, 90)).all()
