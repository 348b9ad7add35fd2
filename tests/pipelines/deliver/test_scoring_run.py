"""The tier policy line a scoring run records and shows, in the run's language."""

from __future__ import annotations

from models.tiers import TierPolicy
from pipelines.deliver.scoring_run import tier_policy_text


def _metadata(policy: TierPolicy, base_rate: float, lang: str) -> dict:
    return {"lang": lang, "tier_policy": policy.record(), "tier_base_rate": base_rate,
            "tier_cutoffs": policy.cutoffs(base_rate)}


def test_lift_tiers_state_the_cutoff_in_force_its_sources_and_the_base_rate():
    text = tier_policy_text(_metadata(TierPolicy(), 0.017, "en"))
    assert text.startswith("2026-12-lift-v1: Critical ≥ 0.068 (lift 4.0× or p 0.70)")
    assert "base rate 0.017 (mean churn probability)" in text
    assert "Lapsed: more than 365 days" in text
    dutch = tier_policy_text(_metadata(TierPolicy(), 0.017, "nl"))
    assert "0,068" in dutch and "basisniveau 0,017" in dutch


def test_probability_tiers_state_only_their_cutoffs():
    text = tier_policy_text(_metadata(TierPolicy.probability_based(), 0.017, "en"))
    assert text.startswith("2026-11-probability-v3: Critical ≥ 0.700; At risk ≥ 0.500")
    assert "lift" not in text and "base rate" not in text
