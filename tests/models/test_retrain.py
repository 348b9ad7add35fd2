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


# The monitoring rules: each fires past the policy's threshold and is silent below it.
import datetime as dt  # noqa: E402

import pytest  # noqa: E402

from models.monitoring import MonitoringPolicy  # noqa: E402


def _state(**fields) -> ModelState:
    return ModelState(champion_version="3", **fields)


def test_a_drifting_score_asks_for_a_retrain_at_the_policy_threshold():
    assert retrain_decision(_state(score_psi=0.19)).retrain is False
    decision = retrain_decision(_state(score_psi=0.2))
    assert decision.retrain and decision.reason.startswith("the score drifted: PSI 0.200")
    assert not retrain_decision(_state(score_psi=0.3, policy=MonitoringPolicy(psi_drift=0.5))
                                ).retrain


def test_a_share_of_drifted_features_asks_for_a_retrain():
    few = _state(drifted_features=("a",), monitored_features=8)  # 1/8 < 0.25
    assert not retrain_decision(few).retrain
    many = _state(drifted_features=("a", "b"), monitored_features=8)
    decision = retrain_decision(many)
    assert decision.retrain and "2 of 8 features drifted" in decision.reason


def test_a_track_record_below_the_floor_asks_for_a_retrain():
    seen = dict(latest_matured_as_of=dt.date(2026, 6, 1))
    assert not retrain_decision(_state(realised_roc_auc=0.65, **seen)).retrain
    decision = retrain_decision(_state(realised_roc_auc=0.61, **seen))
    assert decision.retrain and "2026-06-01" in decision.reason and "0.610 < 0.65" in \
        decision.reason


@pytest.mark.parametrize("what", ["customers", "events"])
def test_data_grown_past_what_the_model_saw_asks_for_a_retrain(what):
    seen = {"customers": 1000, "events": 10000}
    assert not retrain_decision(_state(seen_volume=seen, current_volume={
        k: int(v * 1.49) for k, v in seen.items()})).retrain
    grown = {**seen, what: int(seen[what] * 1.5)}
    decision = retrain_decision(_state(seen_volume=seen, current_volume=grown))
    assert decision.retrain and f"{what} {seen[what]} -> {grown[what]}" in decision.reason


def test_an_old_model_asks_for_a_retrain():
    trained = dt.date(2026, 1, 1)
    assert not retrain_decision(_state(trained_data_end=trained,
                                       as_of=trained + dt.timedelta(days=180))).retrain
    decision = retrain_decision(_state(trained_data_end=trained,
                                       as_of=trained + dt.timedelta(days=181)))
    assert decision.retrain and "181 days old" in decision.reason
    assert not retrain_decision(_state(trained_data_end=trained, as_of=dt.date(2026, 9, 1),
                                       policy=MonitoringPolicy(max_model_age_days=365))).retrain


def test_the_first_reason_in_rule_order_is_reported():
    decision = retrain_decision(_state(score_psi=0.5, realised_roc_auc=0.5,
                                       latest_matured_as_of=dt.date(2026, 6, 1)))
    assert decision.reason.startswith("the score drifted")


def test_a_champion_that_no_longer_fits_the_data_is_retrained_with_the_differences():
    gone = "the complaints source the model was trained with is no longer staged (22 features)"
    decision = retrain_decision(ModelState(champion_version="3", data_mismatch=gone))
    assert decision.retrain
    assert decision.reason == f"the champion no longer fits the staged data: {gone}"
