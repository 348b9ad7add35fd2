"""BG/NBD ("buy till you die") by maximum likelihood: a churn baseline from purchases alone.

Fader, Hardie & Lee (2005): while alive a customer buys as a Poisson process with rate
lambda ~ Gamma(r, alpha); after each purchase they drop out with probability p ~ Beta(a, b).
Per customer it needs x (repeat purchases), t_x (time of the last purchase) and T (time since
the first purchase), all known at the cutoff, so fitting uses no label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1

DAYS_PER_UNIT = 7.0  # weeks keep the rate parameters near 1, which helps the optimiser


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float


def summary_from_features(frame: pd.DataFrame) -> pd.DataFrame:
    """x, t_x, T (in weeks) from the RFM features: orders, tenure and recency at the cutoff."""
    orders = frame["orders_lifetime"].fillna(1).clip(lower=1).to_numpy(float)
    tenure = frame["tenure_days"].fillna(0).clip(lower=0).to_numpy(float)
    recency = np.minimum(frame["recency_days"].fillna(0).to_numpy(float), tenure)
    return pd.DataFrame({"x": orders - 1, "t_x": (tenure - recency) / DAYS_PER_UNIT,
                         "T": tenure / DAYS_PER_UNIT})


def _terms(params: BgNbdParams, x, t_x, big_t):
    """log of the 'still alive at T' and 'dropped out after t_x' parts of the likelihood."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    shared = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
    alive = shared - (r + x) * np.log(alpha + big_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        dead = np.where(x > 0, shared + np.log(a) - np.log(np.maximum(b + x - 1, 1e-12))
                        - (r + x) * np.log(alpha + t_x), -np.inf)
    return alive, dead


def log_likelihood(params: BgNbdParams, summary: pd.DataFrame) -> np.ndarray:
    alive, dead = _terms(params, summary["x"].to_numpy(), summary["t_x"].to_numpy(),
                         summary["T"].to_numpy())
    return np.logaddexp(alive, dead)


def fit_bgnbd(summary: pd.DataFrame) -> BgNbdParams:
    """Maximum-likelihood parameters (optimised on the log scale so they stay positive)."""
    def negative(log_params: np.ndarray) -> float:
        params = BgNbdParams(*np.exp(log_params))
        return -float(log_likelihood(params, summary).sum())

    result = minimize(negative, x0=np.zeros(4), method="L-BFGS-B",
                      bounds=[(-10, 10)] * 4)
    return BgNbdParams(*np.exp(result.x))


def probability_alive(params: BgNbdParams, summary: pd.DataFrame) -> np.ndarray:
    """P(still alive at T | x, t_x, T): the "alive" share of each customer's likelihood."""
    alive, dead = _terms(params, summary["x"].to_numpy(), summary["t_x"].to_numpy(),
                         summary["T"].to_numpy())
    return np.exp(alive - np.logaddexp(alive, dead))


def probability_no_purchase(params: BgNbdParams, summary: pd.DataFrame,
                            horizon_days: float) -> np.ndarray:
    """P(no purchase in (T, T + horizon] | x, t_x, T): the model's churn probability.

    A customer buys nothing in the window if they had already dropped out, or if they are
    alive and the Poisson clock does not tick in the window (drop-out only follows a purchase).
    """
    x, t_x, big_t = (summary[c].to_numpy() for c in ("x", "t_x", "T"))
    alive_now, dead = _terms(params, x, t_x, big_t)
    alive_later, _ = _terms(params, x, t_x, big_t + horizon_days / DAYS_PER_UNIT)
    return np.exp(np.logaddexp(alive_later, dead) - np.logaddexp(alive_now, dead))


def probability_no_purchase_after_gap(params: BgNbdParams, summary: pd.DataFrame,
                                      gap_days: float, horizon_days: float) -> np.ndarray:
    """P(no purchase in (T + gap, T + gap + horizon] | x, t_x, T); purchases in the gap allowed.

    Alive at T with rate lambda and drop-out p, a customer is still alive after the gap with
    probability exp(-lambda p g) (each gap purchase is a drop-out chance: a thinned Poisson
    process), and then buys nothing for H with probability exp(-lambda H). So
    P(none | alive at T) = 1 - E[exp(-lambda p g)] + E[exp(-lambda (p g + H))], under the
    posterior lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x). Integrating lambda out
    leaves E_p[(1 + p s)^-(r + x)], a Gauss hypergeometric function (Euler's integral), taken
    through Pfaff's transformation so that its argument stays in [0, 1). With gap 0 this is
    `probability_no_purchase`.
    """
    x, t_x, big_t = (summary[c].to_numpy() for c in ("x", "t_x", "T"))
    alive, dead = _terms(params, x, t_x, big_t)
    gap, horizon = gap_days / DAYS_PER_UNIT, horizon_days / DAYS_PER_UNIT
    shape, rate = params.r + x, params.alpha + big_t

    def mean_beta_power(s: np.ndarray) -> np.ndarray:
        # E[(1 + p s)^-shape] for p ~ Beta(a, b + x): 2F1(shape, a; a + b + x; -s), Pfaff form
        w = s / (1 + s)
        return (1 + s) ** -params.a * hyp2f1(params.a + params.b - params.r, params.a,
                                             params.a + params.b + x, w)

    still_alive = mean_beta_power(gap / rate)
    alive_and_silent = (rate / (rate + horizon)) ** shape * mean_beta_power(gap / (rate + horizon))
    p_alive = np.exp(alive - np.logaddexp(alive, dead))
    return (1 - p_alive) + p_alive * (1 - still_alive + alive_and_silent)
