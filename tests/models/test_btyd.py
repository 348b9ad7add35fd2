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


# Published CDNOW values (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
# r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 (weeks), and for a customer with x = 2,
# t_x = 30.43, T = 38.86 the expected purchases in the next 39 weeks are 1.226.
CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_expected_purchases_reproduce_the_published_cdnow_example():
    from models.btyd import expected_purchases

    summary = pd.DataFrame({"x": [2.0], "t_x": [30.43], "T": [38.86]})
    assert expected_purchases(CDNOW, summary, 39 * DAYS_PER_UNIT)[0] == pytest.approx(
        1.226, abs=5e-4)


def test_expected_purchases_of_a_new_customer_match_the_nbd_mean_for_short_horizons():
    from models.btyd import expected_purchases

    # x = 0, T = 0: E[Y(t)] ~ r t / alpha while few customers can have dropped out yet
    summary = pd.DataFrame({"x": [0.0], "t_x": [0.0], "T": [0.0]})
    t = 0.01
    assert expected_purchases(CDNOW, summary, t * DAYS_PER_UNIT)[0] == pytest.approx(
        CDNOW.r * t / CDNOW.alpha, rel=1e-2)


def test_gamma_gamma_formulas_and_the_published_cdnow_population_mean():
    from models.btyd import GammaGammaParams, expected_spend_per_purchase

    # Fader & Hardie (2013): p = 6.25, q = 3.74, gamma = 15.44 on CDNOW
    params = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    assert params.population_mean == pytest.approx(6.25 * 15.44 / 2.74)
    # E[M | x, m] = (q - 1) / (p x + q - 1) * population mean + p x / (p x + q - 1) * m
    x, m = 3.0, 50.0
    weight = 6.25 * x / (6.25 * x + 2.74)
    expected = (1 - weight) * params.population_mean + weight * m
    assert expected_spend_per_purchase(params, [x], [m])[0] == pytest.approx(expected)
    assert expected_spend_per_purchase(params, [0.0], [0.0])[0] == pytest.approx(
        params.population_mean)


def test_gamma_gamma_fit_recovers_the_parameters_it_was_simulated_with():
    from models.btyd import GammaGammaParams, fit_gamma_gamma

    truth = GammaGammaParams(p=6.25, q=3.74, gamma=15.44)
    rng = np.random.default_rng(3)
    n = 4000
    nu = rng.gamma(truth.q, 1 / truth.gamma, n)
    x = rng.integers(1, 8, n)
    mean_spend = np.array([rng.gamma(truth.p, 1 / v, k).mean() for v, k in zip(nu, x,
                                                                               strict=True)])
    fitted = fit_gamma_gamma(x, mean_spend)
    assert fitted.population_mean == pytest.approx(truth.population_mean, rel=0.05)
    assert fitted.p == pytest.approx(truth.p, rel=0.15)
    assert fitted.q == pytest.approx(truth.q, rel=0.15)
    with pytest.raises(ValueError, match="at least 3"):
        fit_gamma_gamma(np.array([0, 1]), np.array([0.0, 5.0]))
