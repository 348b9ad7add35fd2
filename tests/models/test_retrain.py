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


# After a challenger the gate turned down, the data rules back off (models.retrain).
import dataclasses  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from models.retrain import RetrainAttempt  # noqa: E402

TRIED = dt.date(2026, 3, 2)  # the data end the turned-down version was trained at
SEEN = {"customers": 1000, "events": 10000}
DATA_RULE_FIELDS = {  # one firing data rule each, measured a week after the try
    "drift": dict(score_psi=0.5),
    "track record": dict(realised_roc_auc=0.5, latest_matured_as_of=dt.date(2026, 1, 1)),
    "growth": dict(seen_volume={"customers": 500, "events": 5000}, current_volume=SEEN),
    "age": dict(trained_data_end=dt.date(2025, 6, 1)),
}


def _after_a_try(days: int, attempt_volume=SEEN, current=SEEN, **fields) -> ModelState:
    attempt = RetrainAttempt("4", TRIED, attempt_volume, "the score drifted: PSI 0.500 >= 0.2")
    fields.setdefault("current_volume", current)
    return _state(as_of=TRIED + dt.timedelta(days=days), rejected_attempt=attempt, **fields)


@pytest.mark.parametrize("rule", list(DATA_RULE_FIELDS))
def test_a_data_rule_waits_after_a_turned_down_try_and_says_why(rule):
    fields = DATA_RULE_FIELDS[rule]
    assert retrain_decision(_state(as_of=TRIED + dt.timedelta(days=7), **fields)).retrain
    decision = retrain_decision(_after_a_try(7, **fields))
    assert not decision.retrain
    assert retrain_decision(_state(as_of=TRIED + dt.timedelta(days=7), **fields)).reason \
        in decision.reason  # the rule's own reason first, then the wait
    assert ("not retrained again yet: version 4, trained on the data to 2026-03-02 (trained "
            "for: the score drifted: PSI 0.500 >= 0.2), did not become champion; the rules "
            "ask again from 2026-03-30") in decision.reason


def test_the_wait_ends_retry_after_days_past_the_try():
    assert not retrain_decision(_after_a_try(27, score_psi=0.5)).retrain
    assert retrain_decision(_after_a_try(28, score_psi=0.5)).retrain
    shorter = MonitoringPolicy(retry_after_days=7)
    assert retrain_decision(_after_a_try(7, score_psi=0.5, policy=shorter)).retrain


@pytest.mark.parametrize("what", ["customers", "events"])
def test_the_wait_ends_when_the_data_grow_past_what_the_try_saw(what):
    grown = {**SEEN, what: int(SEEN[what] * 1.5)}
    assert not retrain_decision(_after_a_try(7, current={
        k: int(v * 1.49) for k, v in SEEN.items()}, score_psi=0.5)).retrain
    assert retrain_decision(_after_a_try(7, current=grown, score_psi=0.5)).retrain


def test_no_champion_forced_and_unscorable_data_never_wait():
    attempt = RetrainAttempt("4", TRIED, SEEN)
    as_of = TRIED + dt.timedelta(days=1)
    assert retrain_decision(ModelState(None, as_of=as_of, rejected_attempt=attempt)).retrain
    assert retrain_decision(_state(forced=True, as_of=as_of, rejected_attempt=attempt)).retrain
    assert retrain_decision(_state(data_mismatch="a source is gone", as_of=as_of,
                                   rejected_attempt=attempt)).retrain


def test_a_try_of_unknown_date_or_a_state_without_one_does_not_hold_anything_back():
    unknown = RetrainAttempt("4", None, SEEN)
    assert retrain_decision(_state(score_psi=0.5, as_of=TRIED, rejected_attempt=unknown)
                            ).retrain
    dated = RetrainAttempt("4", TRIED, SEEN)
    assert retrain_decision(_state(score_psi=0.5, rejected_attempt=dated)).retrain  # no as-of


_days = st.integers(min_value=-30, max_value=400)
_volume = st.fixed_dictionaries({"customers": st.integers(1, 10_000),
                                 "events": st.integers(1, 100_000)})


@settings(max_examples=200, deadline=None)
@given(days=_days, since_training=_days, psi=st.none() | st.floats(0, 1),
       auc=st.none() | st.floats(0, 1), seen=_volume, tried=_volume, now=_volume,
       forced=st.booleans(), retry=st.integers(1, 90))
def test_a_turned_down_try_only_ever_holds_a_retrain_back_and_only_for_a_while(
        days, since_training, psi, auc, seen, tried, now, forced, retry):
    policy = MonitoringPolicy(retry_after_days=retry)
    as_of = TRIED + dt.timedelta(days=days)
    state = ModelState("3", forced=forced, policy=policy, score_psi=psi, realised_roc_auc=auc,
                       latest_matured_as_of=dt.date(2026, 1, 1), seen_volume=seen,
                       current_volume=now, as_of=as_of,
                       trained_data_end=TRIED - dt.timedelta(days=since_training))
    alone = retrain_decision(state)
    waited = retrain_decision(dataclasses.replace(
        state, rejected_attempt=RetrainAttempt("4", TRIED, tried)))
    assert waited.retrain <= alone.retrain  # never a retrain the rules did not ask for
    if days >= retry or forced:
        assert waited == alone  # the wait is over (or was never allowed)
