from __future__ import annotations

import pandas as pd
import pytest

from models.explain import REASON_GROUPS
from models.playbook import default_playbook_text, parse_playbook
from models.score import SCORED_COLUMNS, score_customers
from models.tiers import TierPolicy


@pytest.fixture(scope="module")
def latest(model_input):
    frame = model_input[model_input["cutoff"] == model_input["cutoff"].max()].copy()
    frame["as_of"] = frame["cutoff"]
    return frame.reset_index(drop=True)


@pytest.fixture(scope="module")
def master(latest):
    ids = latest["customer_id"].head(3).tolist()
    return pd.DataFrame({"customer_id": ids, "name": ["Ayşe Yılmaz", "Jan de Vries", "Bob"],
                         "segment": ["SMB", "Consumer", "SMB"], "owner": ["Deniz", "Eva", None]})


@pytest.fixture(scope="module")
def scored(fitted, latest, master):
    return score_customers(fitted, latest, model_version="3", master=master)


def test_risk_list_columns_and_invariants(scored, latest):
    risk, _ = scored
    assert SCORED_COLUMNS[:2] == ["rank", "customer_id"]  # full set: tests/pipelines/test_flows.py
    assert list(risk.columns[: len(SCORED_COLUMNS)]) == SCORED_COLUMNS
    # no sentences in any language: keys and their numbers only (pipelines.deliver.wording)
    assert not {"reason_1", "suggested_action"} & set(risk.columns)
    assert len(risk) == len(latest)
    assert risk["churn_probability"].between(0, 1).all()
    assert risk["rank"].tolist() == list(range(1, len(risk) + 1))
    # default sort: tier, then value at risk (test_default_order_is_tier_then_value_at_risk)
    assert risk["customer_id"].is_unique
    assert (risk["model_version"] == "3").all()
    assert risk["segment"].notna().all() and (risk["action_key"].str.len() > 0).all()


def test_value_at_risk_is_probability_times_expected_revenue(scored):
    risk, _ = scored
    expected = (risk["churn_probability"] * risk["expected_revenue_12m"]).round(2)
    assert (risk["value_at_risk"] - expected).abs().max() < 0.02


def test_master_fields_fill_name_segment_and_owner(scored, master):
    risk, _ = scored
    row = risk.set_index("customer_id").loc[master["customer_id"].iloc[0]]
    assert row["customer_name"] == "Ayşe Yılmaz"
    assert row["master_segment"] == "SMB" and row["owner"] == "Deniz"
    others = risk[~risk["customer_id"].isin(master["customer_id"])]
    assert others["customer_name"].isna().all()


def test_default_order_is_tier_then_value_at_risk(scored):
    risk, _ = scored
    order = {name: i for i, name in enumerate(TierPolicy().names)}
    tiers = risk["risk_tier"].map(order)
    assert tiers.is_monotonic_increasing and risk["risk_tier"].nunique() > 1
    for _, group in risk.groupby("risk_tier"):
        assert group["value_at_risk"].is_monotonic_decreasing


def test_sort_by_value_alone(fitted, latest):
    risk, _ = score_customers(fitted, latest, model_version="3", sort="value")
    active = risk[risk["risk_tier"] != "Lapsed"]
    assert active["value_at_risk"].is_monotonic_decreasing


def test_sort_by_probability(fitted, latest):
    risk, _ = score_customers(fitted, latest, model_version="3", sort="probability")
    assert risk["churn_probability"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="unknown sort"):
        score_customers(fitted, latest, model_version="3", sort="name")


def test_top_tier_customers_all_have_a_reason(scored):
    risk, _ = scored
    critical = risk[risk["risk_tier"] == "Critical"]
    assert len(critical) > 0
    assert (critical["reason_key_1"].str.len() > 0).all()
    assert (critical["reason_group_1"].str.len() > 0).all()


def test_contributions_are_aligned_with_the_ranked_list(scored):
    risk, contributions = scored
    assert contributions["customer_id"].tolist() == risk["customer_id"].tolist()


def test_actions_follow_leading_reason_and_tier(scored):
    risk, _ = scored
    overdue_critical = risk[(risk["reason_group_1"] == "overdue") & (risk["risk_tier"] == "Critical")]
    assert len(overdue_critical) > 0
    assert (overdue_critical["action_key"] == "personal_winback_call").all()


def test_custom_playbook_overrides_action(fitted, latest):
    text = "reason_group,tier,action\n*,*,Send the account manager\n"
    book = parse_playbook(text, groups=["overdue"], tiers=TierPolicy().names)
    risk, _ = score_customers(fitted, latest.head(20), model_version="3", playbook=book)
    assert (risk["action_key"] == "Send the account manager").all()


def test_shipped_playbook_parses():
    book = parse_playbook(default_playbook_text(), groups=list(REASON_GROUPS),
                          tiers=TierPolicy().names)
    assert book.iloc[-1][["reason_group", "tier"]].tolist() == ["*", "*"]


def test_lapsed_customers_keep_probability_and_reasons_but_rank_after_everyone(fitted, latest):
    threshold = int(latest["recency_days"].quantile(0.8))
    policy = TierPolicy(lapsed_after_days=threshold)
    for sort in ("value", "probability"):
        risk, _ = score_customers(fitted, latest, model_version="3", policy=policy, sort=sort)
        lapsed = risk["days_since_last_purchase"] > threshold
        assert lapsed.any() and (~lapsed).any()
        assert (risk.loc[lapsed, "risk_tier"] == "Lapsed").all()
        assert not (risk.loc[~lapsed, "risk_tier"] == "Lapsed").any()
        assert risk.loc[lapsed, "rank"].min() > risk.loc[~lapsed, "rank"].max()
        assert risk.loc[lapsed, "lifetime_spend"].is_monotonic_decreasing  # win-back order
        assert (risk.loc[lapsed, "reason_key_1"].str.len() > 0).all()
        assert (risk.loc[lapsed, "action_key"] == "winback_campaign").all()
    off, _ = score_customers(fitted, latest, model_version="3", sort="probability",
                             policy=TierPolicy(lapsed_after_days=None))
    same = off.set_index("customer_id")["churn_probability"]
    assert same.loc[risk["customer_id"]].tolist() == risk["churn_probability"].tolist()
    assert "Lapsed" not in set(off["risk_tier"])
