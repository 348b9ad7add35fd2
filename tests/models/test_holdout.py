from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.holdout import (
    HOLDOUT_ACTION,
    assign_holdout,
    draw,
    standing_assignments,
    with_holdout,
)
from models.tiers import TierPolicy, TierRule

DAY = dt.date(2026, 6, 1)


def _risk(tiers: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"C{i:03d}" for i in range(len(tiers))],
                         "risk_tier": tiers})


def test_each_tier_holds_out_its_share_of_the_smallest_draws():
    risk = _risk(["Critical"] * 10 + ["Watch"] * 20 + ["Safe"] * 5)
    out = assign_holdout(risk, {"Critical": 0.2, "Watch": 0.1}, seed=3, as_of=DAY,
                         list_run_id="R1")
    u = pd.Series(draw(3, DAY, risk["customer_id"]), index=risk.index)
    for tier, n_held in (("Critical", 2), ("Watch", 2)):
        rows = risk.index[risk["risk_tier"] == tier]
        expected = set(u[rows].nsmallest(n_held).index)
        assert set(out.index[out["holdout"] & (risk["risk_tier"] == tier)]) == expected
    safe = risk["risk_tier"] == "Safe"
    assert not out.loc[safe, "holdout"].any() and out.loc[safe, "assigned_in"].isna().all()
    assert (out.loc[~safe, "assigned_in"] == "R1").all()


def test_the_same_seed_and_date_reproduce_the_draw_and_another_seed_changes_it():
    risk = _risk(["Critical"] * 200)
    first = assign_holdout(risk, {"Critical": 0.1}, seed=1, as_of=DAY, list_run_id="A")
    again = assign_holdout(risk, {"Critical": 0.1}, seed=1, as_of=DAY, list_run_id="B")
    other = assign_holdout(risk, {"Critical": 0.1}, seed=2, as_of=DAY, list_run_id="A")
    assert first["holdout"].tolist() == again["holdout"].tolist()
    assert first["holdout"].tolist() != other["holdout"].tolist()
    assert int(first["holdout"].sum()) == 20


def test_standing_assignments_keep_their_arm_and_list_whatever_the_tier_now():
    risk = _risk(["Safe", "Critical", "Critical"])
    standing = pd.DataFrame({"customer_id": ["C000", "C001"], "holdout": [True, False],
                             "assigned_in": ["OLD", "OLD"]})
    out = assign_holdout(risk, {"Critical": 0.99}, seed=0, as_of=DAY, list_run_id="NEW",
                         standing=standing)
    assert out["holdout"].tolist() == [True, False, True]  # C002: the only fresh draw, 1 of 1
    assert out["assigned_in"].tolist() == ["OLD", "OLD", "NEW"]


def test_an_assignment_stands_until_the_window_end_and_the_latest_wins():
    past = pd.DataFrame({
        "customer_id": ["A", "B", "B"], "holdout": [True, True, False],
        "assigned_in": ["R1", "R1", "R2"],
        "window_end": pd.to_datetime(["2026-06-01", "2026-06-30", "2026-08-30"])})
    # A's window ends on the new as-of: a list of that day has its window after it
    standing = standing_assignments(past, DAY)
    assert standing.to_dict("records") == [
        {"customer_id": "B", "holdout": False, "assigned_in": "R2"}]


def test_a_later_list_is_unknown_to_a_backfill_at_an_earlier_date():
    past = pd.DataFrame({"customer_id": ["A"], "holdout": [True], "assigned_in": ["LATER"],
                         "as_of": pd.to_datetime(["2026-06-08"]),
                         "window_end": pd.to_datetime(["2026-09-06"])})
    assert standing_assignments(past, DAY).empty
    assert standing_assignments(past, dt.date(2026, 6, 8))["assigned_in"].tolist() == ["LATER"]


def test_held_out_rows_get_the_do_not_contact_action_and_keep_the_planned_one():
    scored = _risk(["Critical", "Critical"]).assign(
        action_key=["personal_call", "personal_call"],
        action_params=[{}, {"x": 1}])
    assignment = pd.DataFrame({"holdout": [False, True], "assigned_in": ["R", "R"]})
    out = with_holdout(scored, assignment, "R")
    assert out["action_key"].tolist() == ["personal_call", HOLDOUT_ACTION]
    assert out["planned_action"].tolist() == ["personal_call", "personal_call"]
    assert out["row_id"].tolist() == ["R-00001", "R-00002"]
    assert out["action_params"].tolist() == [{}, {}]


def test_policy_shares_default_to_ten_percent_and_a_tier_can_switch_off():
    policy = TierPolicy(tiers=[TierRule(name="Critical", min_probability=0.7),
                               TierRule(name="Watch", min_probability=0.3, holdout_share=0)],
                        top_tiers=["Critical"])
    assert policy.holdout_shares() == {"Critical": 0.10}
    assert TierPolicy(holdout_share=0).holdout_shares() == {}


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 300), st.floats(0, 0.9), st.integers(0, 10))
def test_the_held_out_count_is_the_rounded_share_of_the_fresh_customers(n, share, seed):
    risk = _risk(["Critical"] * n)
    out = assign_holdout(risk, {"Critical": share}, seed=seed, as_of=DAY, list_run_id="R")
    assert int(out["holdout"].sum()) == math.floor(share * n + 0.5)


def _planned(tiers: list[str], actions: list[str]) -> pd.DataFrame:
    return _risk(tiers).assign(action_key=actions)


def test_each_tier_and_planned_action_holds_out_its_share_of_its_smallest_draws():
    # Critical: 10 calls and 10 offers at 20 % -> 2 of each; Watch: 10 offers at 10 % -> 1
    risk = _planned(["Critical"] * 20 + ["Watch"] * 10,
                    ["call", "offer"] * 10 + ["offer"] * 10)
    out = assign_holdout(risk, {"Critical": 0.2, "Watch": 0.1}, seed=5, as_of=DAY,
                         list_run_id="R1")
    u = pd.Series(draw(5, DAY, risk["customer_id"]), index=risk.index)
    for tier, action, n_held in (("Critical", "call", 2), ("Critical", "offer", 2),
                                 ("Watch", "offer", 1)):
        rows = risk.index[(risk["risk_tier"] == tier) & (risk["action_key"] == action)]
        assert set(out.index[out["holdout"]].intersection(rows)) == set(u[rows].nsmallest(n_held).index)
    assert int(out["holdout"].sum()) == 5 and (out["assigned_in"] == "R1").all()


@pytest.mark.parametrize("calls, offers, share, held", [
    # 5 + 5 at 10 %: each stratum's 0.5 rounds up to 1 -> 2 (a tier-only draw holds out 1)
    (5, 5, 0.1, {"call": 1, "offer": 1}),
    # 3 + 7 at 10 %: 0.3 rounds to 0, 0.7 to 1 -> 1
    (3, 7, 0.1, {"call": 0, "offer": 1}),
    # 14 + 6 at 25 %: 3.5 -> 4, 1.5 -> 2
    (14, 6, 0.25, {"call": 4, "offer": 2}),
])
def test_the_held_out_count_is_rounded_per_stratum(calls, offers, share, held):
    risk = _planned(["Critical"] * (calls + offers), ["call"] * calls + ["offer"] * offers)
    out = assign_holdout(risk, {"Critical": share}, seed=0, as_of=DAY, list_run_id="R")
    counted = risk.loc[out["holdout"], "action_key"].value_counts().to_dict()
    assert {a: counted.get(a, 0) for a in held} == held


def test_standing_customers_keep_their_arm_and_are_not_counted_in_a_stratum():
    # C000 stands (held out by an earlier list); the 4 fresh calls at 50 % hold out 2
    risk = _planned(["Critical"] * 5, ["call"] * 5)
    standing = pd.DataFrame({"customer_id": ["C000"], "holdout": [True],
                             "assigned_in": ["OLD"]})
    out = assign_holdout(risk, {"Critical": 0.5}, seed=2, as_of=DAY, list_run_id="NEW",
                         standing=standing)
    assert out.loc[0, ["holdout", "assigned_in"]].tolist() == [True, "OLD"]
    assert int(out.loc[1:, "holdout"].sum()) == 2
    assert (out.loc[1:, "assigned_in"] == "NEW").all()


def test_a_share_of_zero_randomises_no_stratum():
    risk = _planned(["Critical"] * 4, ["call", "offer"] * 2)
    out = assign_holdout(risk, {"Critical": 0.0}, seed=2, as_of=DAY, list_run_id="R")
    assert not out["holdout"].any() and out["assigned_in"].isna().all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Critical", "At risk", "Safe"]),
                          st.sampled_from(["call", "offer", "email"])), max_size=120),
       st.floats(0, 0.9), st.floats(0, 0.9), st.integers(0, 5))
def test_each_stratum_holds_out_its_share_within_one_customer(rows, critical, at_risk, seed):
    risk = _planned([t for t, _ in rows], [a for _, a in rows])
    shares = {"Critical": critical, "At risk": at_risk}
    out = assign_holdout(risk, shares, seed=seed, as_of=DAY, list_run_id="R")
    again = assign_holdout(risk.iloc[::-1], shares, seed=seed, as_of=DAY, list_run_id="R")
    assert out["holdout"].tolist() == again["holdout"].reindex(out.index).tolist()
    for (tier, _action), group in risk.groupby(["risk_tier", "action_key"]):
        held = int(out.loc[group.index, "holdout"].sum())
        target = shares.get(tier, 0) * len(group)
        assert abs(held - target) <= 0.5 + 1e-9  # rounded half up: within one customer
    assert not out.loc[risk["risk_tier"] == "Safe", "holdout"].any()
