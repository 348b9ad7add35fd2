"""The loop on the simulator that knows the truth: lists with holdouts, actions, outcomes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from models.effects import effects_by
from pipelines.sample.retention import (
    CALL,
    OFFER,
    LoopConfig,
    RetentionEffects,
    list_of_the_week,
    run_loop,
)


@pytest.fixture(scope="module")
def loop():
    return run_loop(LoopConfig(customers=3000, weeks=26, truth_replicates=60))


def test_save_probabilities_follow_the_hidden_reason():
    effects = RetentionEffects(call_save_complaint=0.6, call_save_other=0.05,
                               offer_save_sensitive=0.5, offer_save_other=0.0)
    got = effects.save_probability(np.array([CALL, CALL, OFFER, OFFER]),
                                   np.array([True, False, True, True]),
                                   np.array([False, True, True, False]))
    assert got.tolist() == [0.6, 0.05, 0.5, 0.0]


def test_the_weekly_list_from_what_the_crm_shows():
    # day 100: last orders 10, 55, 70, 95 days in with a 10-day rhythm; the last has a complaint
    listed, tier, action = list_of_the_week(np.array([0.0, 55.0, 70.0, 95.0]),
                                            np.full(4, 10.0),
                                            np.array([False, False, False, True]), 100)
    # overdue 10x, 4.5x -> Critical; 3x is not more than 3 -> At risk; 0.5x + complaint
    assert listed.tolist() == [0, 1, 2, 3]
    assert tier.tolist() == ["Critical", "Critical", "At risk", "Critical"]
    assert action.tolist() == [OFFER, OFFER, OFFER, CALL]


def test_no_held_out_customer_is_contacted_while_their_assignment_stands(loop):
    units = loop.randomised
    held = units[units["holdout"]]
    start = pd.to_datetime(held["as_of"]).dt.tz_localize("UTC")
    window = held.assign(start=start, end=start + pd.Timedelta(days=LoopConfig().horizon_days))
    contacted = loop.actions.merge(window[["customer_id", "start", "end"]], on="customer_id")
    # the window is (as-of, as-of + horizon]: an action inside it would contaminate the holdout
    inside = (contacted["action_at"] > contacted["start"]) & \
             (contacted["action_at"] <= contacted["end"])
    assert len(contacted) > 0 and not inside.any()  # contacted later, after their window
    assert len(loop.actions) == int((~units["holdout"]).sum())  # every contact-arm unit, once


def test_each_list_holds_out_its_share_of_every_tier_and_planned_action(loop):
    units = loop.randomised
    for _, group in units.groupby(["run_id", "tier", "planned_action"]):
        assert group["holdout"].sum() == math.floor(0.2 * len(group) + 0.5)


def test_the_measured_effects_recover_the_true_ones_within_their_intervals(loop):
    units = loop.randomised
    measured = effects_by(units.assign(tier="*"), ["planned_action"]).set_index(
        "planned_action")
    truth = units.groupby("planned_action")["true_effect"].mean()
    for action in (CALL, OFFER):
        row = measured.loc[action]
        assert row["effect_low"] <= truth[action] <= row["effect_high"], action
    # the offer stratum is large enough for its effect to be told from zero
    assert not measured.loc[OFFER, "includes_zero"]
    # nothing saves the already-gone
    gone = units["hidden_state"] == "churned"
    assert gone.any() and (units.loc[gone, "true_effect"] == 0).all()


def test_the_bench_reports_recovery_save_rates_and_the_uplift_gain_with_its_interval():
    from bench.loop import loop_figures, summary_lines

    figures = loop_figures(LoopConfig(customers=3000, weeks=26, truth_replicates=60))
    overall = next(r for r in figures["recovery"]
                   if r["tier"] == "*" and r["planned_action"] == "*")
    assert overall["effect_low"] <= overall["true_effect"] <= overall["effect_high"]
    assert set(figures["save_rate"]) == {CALL, OFFER}
    oot = figures["out_of_time"]
    assert oot["gain_low"] <= oot["gain"] <= oot["gain_high"]
    assert oot["gain"] == pytest.approx(oot["kept_uplift"] - oot["kept_risk"])
    assert oot["test_lists"] == 13 and len(summary_lines(figures)) == len(
        figures["recovery"]) + 5


def test_the_track_record_on_the_simulated_archive_sees_what_the_simulator_did(loop):
    from models.track_record import loop_record

    record = loop_record(loop.lists, loop.purchases, loop.data_end, actions=loop.actions)
    joined = record.randomised.merge(loop.randomised, on=["run_id", "customer_id"],
                                     suffixes=("", "_sim"), validate="one_to_one")
    assert len(joined) == len(loop.randomised) == len(record.randomised)
    for column in ("churned", "holdout", "reached", "cost", "tier", "planned_action"):
        assert (joined[column] == joined[f"{column}_sim"]).all(), column
