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
from scipy.special import betaln, gammaln

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
