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


def expected_purchases(params: BgNbdParams, summary: pd.DataFrame, days: float) -> np.ndarray:
    """E[purchases in (T, T + days] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10).

    The unconditional expectation for a customer who is alive, weighted by P(alive). The Gauss
    hypergeometric argument t / (alpha + T + t) stays in [0, 1), so `hyp2f1` converges.
    """
    x, t_x, big_t = (summary[c].to_numpy(float) for c in ("x", "t_x", "T"))
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = days / DAYS_PER_UNIT
    ratio = (alpha + big_t) / (alpha + big_t + t)
    numerator = (a + b + x - 1) / (a - 1) * (
        1 - ratio ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t)))
    with np.errstate(divide="ignore", invalid="ignore"):
        odds_dead = np.where(x > 0, a / np.maximum(b + x - 1, 1e-12)
                             * ((alpha + big_t) / (alpha + t_x)) ** (r + x), 0.0)
    return numerator / (1 + odds_dead)


@dataclass(frozen=True)
class GammaGammaParams:
    """Spend per purchase z ~ Gamma(p, nu), nu ~ Gamma(q, gamma) across customers."""

    p: float
    q: float
    gamma: float

    @property
    def population_mean(self) -> float:
        """E[M]: the mean spend per purchase of a customer drawn at random (needs q > 1)."""
        return self.p * self.gamma / (self.q - 1)


def gamma_gamma_log_likelihood(params: GammaGammaParams, x: np.ndarray,
                               mean_spend: np.ndarray) -> np.ndarray:
    """Per-customer log-likelihood of x repeat purchases averaging `mean_spend` (x > 0 only).

    Fader & Hardie, "The Gamma-Gamma model of monetary value" (2013), eq. 3: the average of
    x Gamma(p, nu) spends is Gamma(p x, nu x); integrating nu ~ Gamma(q, gamma) out gives this.
    """
    p, q, g = params.p, params.q, params.gamma
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(g)
            + (p * x - 1) * np.log(mean_spend) + p * x * np.log(x)
            - (p * x + q) * np.log(g + x * mean_spend))


def fit_gamma_gamma(x: np.ndarray, mean_spend: np.ndarray) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters from customers with x > 0 and spend > 0.

    Starts from moment-like values (p = 1, q = 2, gamma = the mean spend) on the log scale.
    """
    x, mean_spend = np.asarray(x, float), np.asarray(mean_spend, float)
    keep = (x > 0) & (mean_spend > 0)
    if keep.sum() < 3:
        raise ValueError("the Gamma-Gamma model needs at least 3 repeat buyers with spend")
    x, mean_spend = x[keep], mean_spend[keep]

    def negative(log_params: np.ndarray) -> float:
        return -float(gamma_gamma_log_likelihood(GammaGammaParams(*np.exp(log_params)), x,
                                                 mean_spend).sum())

    start = np.log([1.0, 2.0, float(np.mean(mean_spend))])
    result = minimize(negative, x0=start, method="L-BFGS-B", bounds=[(-10, 15)] * 3)
    return GammaGammaParams(*np.exp(result.x))


def expected_spend_per_purchase(params: GammaGammaParams, x: np.ndarray,
                                mean_spend: np.ndarray) -> np.ndarray:
    """E[M | x, mean spend] (eq. 5): a weighted mean of the population mean and the
    customer's own average, the weight on their own growing with x. x = 0: the population
    mean."""
    x = np.asarray(x, float)
    own = np.where(x > 0, np.nan_to_num(np.asarray(mean_spend, float)), 0.0)
    p, q, g = params.p, params.q, params.gamma
    return (p * (g + x * own)) / (p * x + q - 1)
