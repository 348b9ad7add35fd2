from __future__ import annotations

import numpy as np
import pandas as pd
import shap

from features.catalog import FEATURES
from models.explain import (
    MIN_CONTRIBUTION,
    NO_CLEAR_REASON,
    REASON_GROUPS,
    group_contributions,
    reason_columns,
    shap_contributions,
)


def test_native_contributions_match_shap_tree_explainer(fitted, model_input):
    matrix = fitted.matrix(model_input.head(50))
    ours = shap_contributions(fitted.classifier, matrix)
    explanation = shap.TreeExplainer(fitted.classifier)(matrix)
    np.testing.assert_allclose(ours.drop(columns="bias").to_numpy(), explanation.values, atol=1e-6)
    np.testing.assert_allclose(ours["bias"].to_numpy(), explanation.base_values, atol=1e-6)
    raw = fitted.classifier.predict(matrix, raw_score=True)
    np.testing.assert_allclose(ours.sum(axis=1).to_numpy(), raw, atol=1e-6)


def test_every_feature_has_exactly_one_reason_group():
    grouped = [f for fs in REASON_GROUPS.values() for f in fs]
    assert sorted(grouped) == sorted(spec.name for spec in FEATURES)


def test_reasons_come_only_from_risk_raising_groups_in_order():
    features = pd.DataFrame({
        "recency_days": [74.0, 5.0], "median_interval_days": [21.0, 20.0],
        "is_one_time_buyer": [0.0, 0.0], "open_complaints": [1.0, 0.0],
        "oldest_open_complaint_days": [12.0, np.nan], "complaints_90d": [2.0, 0.0],
        "last_satisfaction": [0.25, 1.0], "rated_bad_not_recovered": [1.0, 0.0],
    })
    contributions = pd.DataFrame({
        "recency_days": [0.9, -0.5], "median_interval_days": [0.1, 0.0],
        "is_one_time_buyer": [0.0, 0.0], "open_complaints": [0.2, -0.1],
        "oldest_open_complaint_days": [0.1, 0.0], "complaints_90d": [0.05, 0.0],
        "last_satisfaction": [-0.3, -0.2], "rated_bad_not_recovered": [0.0, 0.0],
        "bias": [-1.0, -1.0],
    })
    reasons = reason_columns(features, contributions)
    first = reasons.iloc[0]
    assert first["reason_group_1"] == "overdue"
    assert first["reason_key_1"] == "overdue.interval"
    assert first["reason_params_1"] == {"days": 74, "interval": 21}
    assert first["reason_group_2"] == "complaints"
    assert first["reason_key_2"] == "complaints.recent_open_single"
    assert first["reason_params_2"]["days"] == 12
    # satisfaction lowers this customer's risk, so it is not a reason
    assert first["reason_key_3"] == "" and first["reason_group_3"] == ""
    assert first["reason_params_3"] == {}
    second = reasons.iloc[1]
    assert second["reason_key_1"] == NO_CLEAR_REASON and second["reason_group_1"] == ""
    assert second["reason_key_2"] == ""


def test_reason_groups_agree_with_the_sign_of_their_contribution(fitted, model_input):
    frame = model_input.head(300)
    contributions = shap_contributions(fitted.classifier, fitted.matrix(frame))
    grouped = group_contributions(contributions)
    reasons = reason_columns(frame, contributions)
    for i in range(len(frame)):
        for k in (1, 2, 3):
            group = reasons.iloc[i][f"reason_group_{k}"]
            if group:
                assert grouped.iloc[i][group] >= MIN_CONTRIBUTION
        chosen = [reasons.iloc[i][f"reason_group_{k}"] for k in (1, 2, 3)]
        chosen = [g for g in chosen if g]
        values = [grouped.iloc[i][g] for g in chosen]
        assert values == sorted(values, reverse=True)


def test_reasons_compare_with_the_typical_customer_when_no_own_history():
    features = pd.DataFrame({
        "recency_days": [40.0, 10.0, 12.0], "median_interval_days": [np.nan, 20.0, 30.0],
        "is_one_time_buyer": [1.0, 0.0, 0.0], "return_share": [0.5, 0.0, 0.1],
    })
    contributions = pd.DataFrame({
        "recency_days": [0.5, 0.0, 0.0], "median_interval_days": [0.0, 0.0, 0.0],
        "is_one_time_buyer": [0.0, 0.0, 0.0], "return_share": [0.3, 0.0, 0.0],
        "bias": [-1.0, -1.0, -1.0],
    })
    first = reason_columns(features, contributions).iloc[0]
    # median interval of the scored customers: (20 + 30) / 2 = 25; mean return share 20 %
    assert (first["reason_key_1"], first["reason_params_1"]) == (
        "overdue.one_time", {"days": 40, "typical": 25})
    assert (first["reason_key_2"], first["reason_params_2"]) == (
        "returns.share", {"pct": 50, "typical": 20})
