from __future__ import annotations

import pandas as pd
import pytest

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
