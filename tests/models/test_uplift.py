from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.uplift import (
    TLearner,
    chosen,
    expected_saved_value,
    policy_gain,
    qini_area,
    qini_curve,
    stratum_uplift,
)


def test_qini_curve_and_area_by_hand():
    # ranked as given: a kept contacted customer, a churned held-out one, twice
    curve = qini_curve(np.array([4, 3, 2, 1]), churned=np.array([0, 1, 0, 1]),
                       holdout=np.array([False, True, False, True]), points=4)
    assert curve["qini"].tolist() == [0.0, 0.25, 0.25, 0.5, 0.5]
    # against the random line 0.5 x: gaps 0, .125, 0, .125, 0 -> 4 trapezoids of 1/64
    assert qini_area(curve) == pytest.approx(0.0625)


def test_chosen_takes_each_lists_share_with_a_positive_score():
    units = pd.DataFrame({"run_id": ["a", "a", "a", "a", "b", "b"]})
    score = pd.Series([5.0, 1.0, 3.0, -1.0, -2.0, 4.0])
    assert chosen(units, score, 0.5).tolist() == [True, False, True, False, False, True]


def test_policy_gain_by_hand():
    evaluate = pd.DataFrame({
        "run_id": ["a", "a", "b", "b"], "annual_revenue": [100.0, 100.0, 200.0, 200.0],
        "action_cost": [10.0, 10.0, 10.0, 10.0], "true_effect": [0.0, 0.5, 0.1, 0.3]})
    # true value: -10, 40, 10, 50. Risk picks rows 0 and 2; saved value picks rows 1 and 3.
    risk = pd.Series([9.0, 1.0, 9.0, 1.0])
    saved = pd.Series([1.0, 9.0, 1.0, 9.0])
    gain = policy_gain(evaluate, risk, saved, capacity=0.5)
    assert (gain.kept_risk, gain.kept_uplift, gain.gain, gain.lists) == (0.0, 90.0, 90.0, 2)
    assert gain.gain_low <= gain.gain <= gain.gain_high


def test_stratum_uplift_never_counts_a_harmful_stratum_and_saved_value_subtracts_cost():
    rows = []
    for tier, churn_h, churn_c in (("Critical", 0.5, 0.25), ("Watch", 0.25, 0.5)):
        for held, rate in ((True, churn_h), (False, churn_c)):
            rows += [{"tier": tier, "planned_action": "call", "holdout": held,
                      "churned": int(i < rate * 4), "annual_revenue": 1.0, "reached": True,
                      "cost": 0.0} for i in range(4)]
    uplift = stratum_uplift(pd.DataFrame(rows)).set_index("tier")["uplift"]
    assert uplift.to_dict() == {"Critical": 0.25, "Watch": 0.0}
    units = pd.DataFrame({"tier": ["Critical", "Watch", "Safe"], "planned_action": "call",
                          "annual_revenue": [200.0, 200.0, 200.0], "action_cost": 5.0})
    value = expected_saved_value(units, stratum_uplift(pd.DataFrame(rows)))
    assert value.tolist() == [45.0, -5.0, -5.0]


def test_the_t_learner_finds_who_the_contact_helps():
    rng = np.random.default_rng(0)
    n = 4000
    x = rng.random(n)
    held = rng.random(n) < 0.5
    p = np.where(held, 0.5, np.where(x > 0.5, 0.1, 0.5))  # the contact helps x > 0.5 only
    units = pd.DataFrame({"x": x, "holdout": held, "churned": (rng.random(n) < p).astype(int)})
    learner = TLearner.fit(units, ("x",))
    lift = learner.uplift(pd.DataFrame({"x": [0.1, 0.2, 0.8, 0.9]}))
    assert lift[2:].min() > 0.25 and np.abs(lift[:2]).max() < 0.15


def test_the_out_of_time_check_judges_the_newest_lists_once_both_arms_are_big_enough():
    from models.uplift import out_of_time_check

    rng = np.random.default_rng(1)
    rows = []
    for week in range(6):
        x = rng.random(600)
        held = rng.random(600) < 0.5
        # contacts help x > 0.5 only; the riskiest (value at risk ~ 1 - x) are the others
        p = np.where(held | (x <= 0.5), 0.6, 0.1)
        rows.append(pd.DataFrame({
            "run_id": f"R{week}", "as_of": pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=week),
            "x": x, "holdout": held, "churned": (rng.random(600) < p).astype(int),
            "annual_revenue": 1.0, "value_at_risk": 1 - x}))
    units = pd.concat(rows, ignore_index=True)
    check = out_of_time_check(units, ("x",), min_per_arm=100)
    assert check["status"] == "judged" and check["test_lists"] == 2
    assert check["uplift_beats_risk"] and check["qini_area"]["uplift"] > 0
    assert out_of_time_check(units, ("x",), min_per_arm=10_000)["status"].startswith("not")
