"""Scoring: churn probabilities, ranks, risk tiers and reasons for every eligible customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series
from pydantic import BaseModel, Field, model_validator

from models.explain import reason_sentences, shap_contributions
from models.train import FittedChurnModel


class TierPolicy(BaseModel):
    """Named risk tiers by probability cut-off, highest first; below the last is `default`."""

    version: str = "2026-11-probability-v1"
    tiers: list[tuple[str, float]] = Field(
        default_factory=lambda: [("Critical", 0.70), ("At risk", 0.50), ("Watch", 0.30)]
    )
    default: str = "Safe"

    @model_validator(mode="after")
    def _descending(self) -> TierPolicy:
        cuts = [cut for _, cut in self.tiers]
        if cuts != sorted(cuts, reverse=True) or any(not 0 <= c <= 1 for c in cuts):
            raise ValueError("tier cut-offs must lie in [0, 1] and be listed highest first")
        return self

    def assign(self, probability: pd.Series) -> pd.Series:
        tiers = pd.Series(self.default, index=probability.index, dtype="str")
        for name, cut in reversed(self.tiers):
            tiers[probability >= cut] = name
        return tiers


class RiskList(pa.DataFrameModel):
    """One row per customer eligible at `as_of` (key: `customer_id`), ranked by probability."""

    rank: Series[int] = pa.Field(ge=1, unique=True)
    customer_id: Series[str] = pa.Field(unique=True)
    churn_probability: Series[float] = pa.Field(ge=0, le=1)
    risk_tier: Series[str]
    reason_1: Series[str]
    reason_2: Series[str]
    reason_3: Series[str]
    last_purchase_date: Series[pd.Timestamp]
    days_since_last_purchase: Series[float] = pa.Field(ge=0)
    usual_interval_days: Series[float] = pa.Field(nullable=True)
    as_of: Series[pd.Timestamp]
    model_version: Series[str]

    @pa.dataframe_check
    def ranks_follow_probability(cls, df: pd.DataFrame) -> bool:
        ordered = df.sort_values("rank")["churn_probability"].to_numpy()
        return bool(np.all(np.diff(ordered) <= 1e-12))

    class Config:
        strict = "filter"
        coerce = True


RISK_LIST_COLUMNS = list(RiskList.to_schema().columns)


def score_customers(
    model: FittedChurnModel,
    features: pd.DataFrame,
    *,
    model_version: str,
    policy: TierPolicy | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ranked risk list and the per-customer SHAP contributions behind its reasons."""
    policy = policy or TierPolicy()
    matrix = model.matrix(features)
    probability = pd.Series(model.predict_probability(features), index=features.index)
    contributions = shap_contributions(model.classifier, matrix)
    reasons = reason_sentences(features, contributions)
    scored = pd.DataFrame(
        {
            "customer_id": features["customer_id"].astype(str),
            "churn_probability": probability.round(6),
            "risk_tier": policy.assign(probability),
            "last_purchase_date": pd.to_datetime(features["last_purchase_date"]),
            "days_since_last_purchase": features["recency_days"],
            "usual_interval_days": features.get("median_interval_days"),
            "as_of": pd.to_datetime(features["as_of"]),
            "model_version": str(model_version),
        }
    ).join(reasons)
    # Ties are broken by customer id so reruns give the same order.
    scored = scored.sort_values(
        ["churn_probability", "customer_id"], ascending=[False, True], kind="stable"
    )
    scored.insert(0, "rank", np.arange(1, len(scored) + 1))
    contributions = contributions.loc[scored.index]
    contributions.insert(0, "customer_id", scored["customer_id"].to_numpy())
    scored = scored.reset_index(drop=True)
    checked = RiskList.validate(scored)[RISK_LIST_COLUMNS]
    extra = [c for c in scored.columns if c not in RISK_LIST_COLUMNS]
    return pd.concat([checked, scored[extra]], axis=1), contributions.reset_index(drop=True)
