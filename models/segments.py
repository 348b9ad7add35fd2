"""RFM segments and the money at stake, from each customer's own purchase history.

RFM scoring scheme (documented in the README):
- R, F and M are quintile scores 1-5 among the customers of one scoring run: R from
  `recency_days` (most recent = 5), F from `orders_365d`, M from `spend_365d` (most = 5).
  Ties share the average rank, so equal customers always get equal scores.
- FM = the mean of F and M, rounded half up.
- Segment (first match): Champions R>=4, FM>=4 · Loyal R>=3, FM>=3 · Promising R>=4 ·
  Needs attention R=3 · At risk R<=2, FM>=3 · Hibernating R=2 · Lost R=1.

Value at risk = churn probability x expected 12-month revenue. The scoring run chooses the
estimate that predicted the past year better out of time
(`models.analytics.value.chosen_revenue_estimate`): the BG/NBD + Gamma-Gamma expectation
given per customer, or, by default and for customers it does not cover, the customer's own
run-rate: their spend in the last 365 days when they have been buying for
a year or more; otherwise their lifetime spend scaled to a year over their tenure, with the
tenure counted as at least 90 days so one recent order is not multiplied twelvefold. A
subscriber (a subscriptions export gives the features an `mrr`) is worth twelve months of
their current MRR instead: the past year's spend mixes intro discounts and earlier plans, and
a yearly payer's last payment may fall outside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEGMENT_NAMES = ("Champions", "Loyal", "Promising", "Needs attention", "At risk",
                 "Hibernating", "Lost")
MIN_TENURE_FOR_RUN_RATE = 90


def quintile_score(values: pd.Series, *, higher_is_better: bool = True) -> pd.Series:
    """1-5 by percentile rank (ties share their average rank); missing values score 1."""
    ranked = values.rank(method="average", pct=True, ascending=higher_is_better)
    score = np.ceil(ranked * 5).clip(1, 5)
    return score.fillna(1).astype(int)


def rfm_scores(features: pd.DataFrame) -> pd.DataFrame:
    """Columns `r, f, m` (1-5) aligned with `features`."""
    return pd.DataFrame({
        "r": quintile_score(features["recency_days"], higher_is_better=False),
        "f": quintile_score(features["orders_365d"]),
        "m": quintile_score(features["spend_365d"]),
    }, index=features.index)


def rfm_segment(scores: pd.DataFrame) -> pd.Series:
    """The segment name of each row of `rfm_scores` output (see the module docstring)."""
    r = scores["r"]
    fm = np.floor((scores["f"] + scores["m"]) / 2 + 0.5)
    conditions = [
        (r >= 4) & (fm >= 4), (r >= 3) & (fm >= 3), r >= 4, r == 3, fm >= 3, r == 2,
    ]
    names = list(SEGMENT_NAMES[:-1])
    return pd.Series(np.select(conditions, names, default="Lost"), index=scores.index,
                     dtype="str")


def expected_revenue_12m(features: pd.DataFrame, estimate: pd.Series | None = None
                         ) -> pd.Series:
    """The customer's expected revenue of the next 12 months: `estimate` (by customer id)
    where it has the customer, else their own yearly spend run-rate; a subscriber's MRR wins
    over both (see the module docstring)."""
    tenure = features["tenure_days"].astype(float)
    scaled = features["spend_lifetime"] * 365.0 / tenure.clip(lower=MIN_TENURE_FOR_RUN_RATE)
    out = features["spend_365d"].where(tenure >= 365, scaled)
    if estimate is not None:
        given = features["customer_id"].astype(str).map(estimate).astype(float)
        out = given.where(given.notna(), out)
    if "mrr" in features:
        out = (12.0 * features["mrr"]).where(features["mrr"] > 0, out)
    return out.fillna(0.0).clip(lower=0.0)


def value_at_risk(probability: pd.Series, features: pd.DataFrame,
                  estimate: pd.Series | None = None) -> pd.Series:
    return (probability * expected_revenue_12m(features, estimate)).round(2)
