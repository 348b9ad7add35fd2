from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.btyd import (
    DAYS_PER_UNIT,
    BgNbdParams,
    fit_bgnbd,
    probability_alive,
    probability_no_purchase,
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
