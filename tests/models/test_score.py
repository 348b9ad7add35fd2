from __future__ import annotations

import pandas as pd
import pytest

from models.score import RISK_LIST_COLUMNS, TierPolicy, score_customers


@pytest.fixture(scope="module")
def scored(fitted, model_input):
    latest = model_input[model_input["cutoff"] == model_input["cutoff"].max()].copy()
    latest["as_of"] = latest["cutoff"]
    return score_customers(fitted, latest, model_version="3")


def test_risk_list_columns_and_invariants(scored):
    risk, _ = scored
    assert list(risk.columns[: len(RISK_LIST_COLUMNS)]) == RISK_LIST_COLUMNS
    assert risk["churn_probability"].between(0, 1).all()
    assert risk["rank"].tolist() == list(range(1, len(risk) + 1))
    assert risk["churn_probability"].is_monotonic_decreasing
    assert risk["customer_id"].is_unique
    assert (risk["model_version"] == "3").all()


def test_top_tier_customers_all_have_a_reason(scored):
    risk, _ = scored
    critical = risk[risk["risk_tier"] == "Critical"]
    assert len(critical) > 0
    assert (critical["reason_1"].str.len() > 0).all()


def test_contributions_are_aligned_with_the_ranked_list(scored):
    risk, contributions = scored
    assert contributions["customer_id"].tolist() == risk["customer_id"].tolist()


def test_tier_policy_assigns_by_cutoff_and_rejects_unordered_cutoffs():
    policy = TierPolicy()
    tiers = policy.assign(pd.Series([0.95, 0.7, 0.69, 0.3, 0.1]))
    assert tiers.tolist() == ["Critical", "Critical", "At risk", "Watch", "Safe"]
    with pytest.raises(ValueError, match="highest first"):
        TierPolicy(tiers=[("Watch", 0.3), ("Critical", 0.7)])
