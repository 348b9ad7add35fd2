from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.tiers import TierPolicy, TierRule, tier_changes


def test_probability_cutoffs_assign_highest_first():
    tiers = TierPolicy().assign(pd.Series([0.95, 0.7, 0.69, 0.3, 0.1]))
    assert tiers.tolist() == ["Critical", "Critical", "At risk", "Watch", "Safe"]


def test_unordered_cutoffs_and_unknown_top_tiers_are_rejected():
    with pytest.raises(ValueError, match="highest first"):
        TierPolicy(tiers=[TierRule(name="Watch", min_probability=0.3),
                          TierRule(name="Critical", min_probability=0.7)])
    with pytest.raises(ValueError, match="top_tiers"):
        TierPolicy(top_tiers=["Urgent"])


def test_capacity_tier_takes_the_largest_values_at_risk_above_its_floor():
    policy = TierPolicy.capacity_based(critical=2, floor=0.3)
    probability = pd.Series([0.9, 0.4, 0.35, 0.2, 0.5])
    value = pd.Series([100.0, 900.0, 50.0, 5000.0, 300.0])
    # 5000 is below the floor; the two largest above it are 900 (row 1) and 300 (row 4)
    assert policy.assign(probability, value).tolist() == ["Watch", "Critical", "Watch", "Safe",
                                                          "Critical"]
    assert policy.version.startswith("2026-11-capacity")


def test_policy_round_trips_through_json():
    policy = TierPolicy.capacity_based(critical=200, at_risk=500)
    assert TierPolicy.from_json(policy.model_dump_json()) == policy


def test_tier_changes_name_entries_exits_and_new_critical():
    policy = TierPolicy()
    before = pd.DataFrame({"customer_id": ["a", "b", "c"], "risk_tier": ["Critical", "At risk", "Safe"]})
    now = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                        "risk_tier": ["Watch", "Critical", "At risk", "Critical"]})
    changes = tier_changes(before, now, policy)
    assert changes["entered_top"] == ["c", "d"]
    assert changes["left_top"] == ["a"]
    assert changes["new_critical"] == ["b", "d"]
    first = tier_changes(None, now, policy)
    assert first["left_top"] == [] and first["new_critical"] == ["b", "d"]


def test_a_lapsed_customer_is_lapsed_not_critical_and_the_boundary_is_strict():
    policy = TierPolicy(lapsed_after_days=365)
    probability = pd.Series([0.99, 0.99, 0.95, 0.1])
    recency = pd.Series([366, 365, 10, 400])
    # 365 days exactly is not lapsed, one more day is; lapsed wins over any probability
    assert policy.assign(probability, recency_days=recency).tolist() == [
        "Lapsed", "Critical", "Critical", "Lapsed"]
    assert policy.names == ["Critical", "At risk", "Watch", "Safe", "Lapsed"]


def test_without_a_threshold_or_recency_nobody_is_lapsed():
    probability = pd.Series([0.99, 0.2])
    recency = pd.Series([900, 900])
    off = TierPolicy(lapsed_after_days=None)
    assert off.assign(probability, recency_days=recency).tolist() == ["Critical", "Safe"]
    assert "Lapsed" not in off.names and off.lapsed_tier is None
    assert TierPolicy().assign(probability).tolist() == ["Critical", "Safe"]


def test_capacity_tiers_skip_lapsed_customers():
    policy = TierPolicy.capacity_based(critical=2, floor=0.3)
    probability = pd.Series([0.9, 0.4, 0.35, 0.95, 0.5])
    value = pd.Series([100.0, 900.0, 50.0, 5000.0, 300.0])
    recency = pd.Series([30, 30, 30, 500, 30])
    # row 3 has the largest value but is lapsed: the two seats go to 900 (row 1) and 300 (row 4)
    assert policy.assign(probability, value, recency).tolist() == [
        "Watch", "Critical", "Watch", "Lapsed", "Critical"]


@pytest.mark.parametrize("changes, message", [
    ({"lapsed_after_days": 0}, "greater than or equal to 1"),
    ({"lapsed_after_days": -30}, "greater than or equal to 1"),
    ({"top_tiers": ["Critical", "Lapsed"]}, "cannot be a top tier"),
    ({"lapsed": "Safe"}, "unique"),
])
def test_bad_lapsed_settings_are_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        TierPolicy(**changes)


def test_changing_the_lapsed_threshold_changes_the_version():
    policy = TierPolicy()
    assert policy.with_lapsed_after(policy.lapsed_after_days) is policy
    shorter = policy.with_lapsed_after(180)
    assert shorter.lapsed_after_days == 180 and shorter.version == f"{policy.version}+lapsed180"
    off = TierPolicy.capacity_based(critical=5).with_lapsed_after(0)
    assert off.lapsed_after_days is None and off.version.endswith("+lapsed-off")
    assert off.tiers[0].capacity == 5
    assert TierPolicy.from_json(shorter.model_dump_json()) == shorter


def test_a_top_tier_customer_who_lapsed_left_the_top_and_is_newly_lapsed():
    policy = TierPolicy()
    before = pd.DataFrame({"customer_id": ["a", "b", "c"],
                           "risk_tier": ["Critical", "Lapsed", "Safe"]})
    now = pd.DataFrame({"customer_id": ["a", "b", "c"],
                        "risk_tier": ["Lapsed", "Lapsed", "Critical"]})
    changes = tier_changes(before, now, policy)
    assert changes["left_top"] == ["a"] and changes["entered_top"] == ["c"]
    assert changes["new_lapsed"] == ["a"] and changes["lapsed_tier"] == "Lapsed"
    # a run archived before the lapsed rule existed compares the same way
    old = before.assign(risk_tier=["Critical", "Critical", "Safe"])
    assert tier_changes(old, now, policy)["new_lapsed"] == ["a", "b"]
    off = tier_changes(before, now, TierPolicy(lapsed_after_days=None))
    assert off["new_lapsed"] == [] and off["lapsed_tier"] is None


def _low_base_rate_probabilities(n: int = 5000, seed: int = 3) -> pd.Series:
    """Calibrated-looking probabilities of a business churning ~1.7 % a month: most customers
    near 1 %, a small head of customers several times riskier, none above 0.35."""
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 90.0, n)
    head = rng.choice(n, 60, replace=False)
    p[head] = rng.uniform(0.06, 0.35, len(head))
    return pd.Series(p)


def test_low_base_rate_gets_a_short_critical_list_of_its_highest_lift_customers():
    probability = _low_base_rate_probabilities()
    base = float(probability.mean())
    assert 0.01 < base < 0.025 and probability.max() < 0.70
    old = TierPolicy.probability_based().assign(probability)
    assert (old == "Critical").sum() == 0 and (old == "At risk").sum() == 0
    tiers = TierPolicy().assign(probability)
    critical = tiers == "Critical"
    lift = probability / base
    assert 0 < critical.sum() <= 0.05 * len(probability)  # a short list, not nobody
    assert lift[critical].min() >= 4.0
    # the Critical customers are exactly the highest-lift ones
    assert set(lift.nlargest(int(critical.sum())).index) == set(critical[critical].index)
    order = ["Critical", "At risk", "Watch", "Safe"]
    by_tier = [lift[tiers == t].mean() for t in order]
    assert by_tier == sorted(by_tier, reverse=True)


def test_high_base_rate_falls_back_to_the_probability_cutoffs():
    # base rate 0.4: lift 4 would need p 1.6, so the probability cut-offs decide
    probability = pd.Series([0.95, 0.72, 0.55, 0.31, 0.2, 0.1, 0.05, 0.3, 0.4, 0.42])
    assert TierPolicy().assign(probability).tolist() == \
        TierPolicy.probability_based().assign(probability).tolist()
    assert TierPolicy().cutoffs(0.4) == {"Critical": 0.70, "At risk": 0.50, "Watch": 0.30}


def test_an_explicit_base_rate_is_what_lift_is_measured_against():
    probability = pd.Series([0.09, 0.05, 0.02, 0.01])
    tiers = TierPolicy().assign(probability, base_rate=0.02)  # cut-offs 0.08 / 0.05 / 0.03
    assert tiers.tolist() == ["Critical", "At risk", "Safe", "Safe"]


def test_lift_cutoffs_must_fall_and_cannot_follow_a_probability_only_tier():
    with pytest.raises(ValueError, match="lift"):
        TierPolicy(tiers=[TierRule(name="Critical", min_probability=0.7, min_lift=2),
                          TierRule(name="Watch", min_probability=0.3, min_lift=3)],
                   top_tiers=["Critical"])
    with pytest.raises(ValueError, match="lift"):
        # at a base rate of 0.1 Critical would take from 0.2 and Watch only from 0.3
        TierPolicy(tiers=[TierRule(name="Critical", min_probability=0.7, min_lift=2),
                          TierRule(name="Watch", min_probability=0.3)],
                   top_tiers=["Critical"])
    TierPolicy(tiers=[TierRule(name="Critical", min_probability=0.7),  # fine: never crosses
                      TierRule(name="Watch", min_probability=0.3, min_lift=3)],
               top_tiers=["Critical"])


def test_the_description_states_the_basis_and_the_cutoffs_in_force():
    text = TierPolicy().describe(0.017)
    assert "lift over a base rate of 0.017" in text and "Critical p >= 0.068" in text
    assert "probability cut-offs" in TierPolicy.probability_based().describe(0.017)
    assert TierPolicy.from_json(TierPolicy().model_dump_json()) == TierPolicy()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=60),
       st.one_of(st.none(), st.floats(0.001, 0.9)))
def test_every_customer_gets_one_tier_and_tiers_are_monotone_in_lift(probs, base_rate):
    policy = TierPolicy(lapsed_after_days=None)
    probability = pd.Series(probs)
    tiers = policy.assign(probability, base_rate=base_rate)
    assert len(tiers) == len(probability) and tiers.isin(policy.names).all()
    rank = tiers.map({name: i for i, name in enumerate(policy.names)})
    # a customer with a higher probability (so a higher lift) is never in a less urgent tier
    ordered = rank.iloc[np.argsort(-probability.to_numpy(), kind="stable")].to_numpy()
    assert (np.diff(ordered) >= 0).all()
