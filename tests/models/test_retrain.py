"""The weekly chain's retrain decision: reasons in words, the first rule wins."""

from __future__ import annotations

from models.retrain import RETRAIN_RULES, ModelState, retrain_decision


def test_no_champion_means_retrain_with_that_reason():
    decision = retrain_decision(ModelState(champion_version=None))
    assert decision.retrain and decision.reason == "no champion model yet"


def test_forced_retrain_with_a_champion():
    decision = retrain_decision(ModelState(champion_version="3", forced=True))
    assert decision.retrain and decision.reason == "forced by --retrain"


def test_no_champion_is_reported_before_forced():
    decision = retrain_decision(ModelState(champion_version=None, forced=True))
    assert decision.reason == "no champion model yet"


def test_a_current_champion_is_kept_and_named():
    decision = retrain_decision(ModelState(champion_version="3"))
    assert not decision.retrain
    assert "champion version 3 is kept" in decision.reason


def test_every_rule_is_silent_on_a_current_champion():
    """A new rule must say nothing when nothing is wrong, or every run would retrain."""
    assert [rule(ModelState(champion_version="1")) for rule in RETRAIN_RULES] == [None] * len(
        RETRAIN_RULES)
