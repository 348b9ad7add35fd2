"""Expected saved value at scoring time: the measured uplift, the ordering, capacity, cooldown."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.score import score_customers
from models.uplift import (
    contact_flags,
    cooldown_ends,
    measured_uplift,
    out_of_time_check,
    with_saved_value,
)


def _arm(tier: str, action: str, held: bool, n: int, churners: int, cost: float) -> list[dict]:
    return [{"tier": tier, "planned_action": action, "holdout": held, "churned": int(i < churners),
             "annual_revenue": 100.0, "reached": not held, "cost": 0.0 if held else cost}
            for i in range(n)]


def test_measured_uplift_counts_only_strata_with_enough_customers_and_no_harm():
    rows = (_arm("Critical", "call", True, 100, 50, 0) + _arm("Critical", "call", False, 100, 30, 8)
            + _arm("Watch", "mail", True, 100, 20, 0) + _arm("Watch", "mail", False, 100, 40, 2)
            + _arm("Safe", "mail", True, 10, 5, 0) + _arm("Safe", "mail", False, 10, 0, 1))
    table = measured_uplift(pd.DataFrame(rows), min_per_arm=100).set_index("tier")
    # Critical: 50 % held-out churn - 30 % contacted = 0.2; Watch harms (0); Safe: 10 per arm
    assert table["uplift"].to_dict() == pytest.approx({"Critical": 0.2, "Safe": 0.0,
                                                       "Watch": 0.0})
    assert table.loc["Critical", "action_cost"] == 8.0  # mean over the contacted arm
    assert measured_uplift(pd.DataFrame(rows), min_per_arm=10).loc[lambda t: t.tier == "Safe",
                                                                  "uplift"].item() == 0.5


UPLIFT = pd.DataFrame({"tier": ["Critical", "Watch"], "planned_action": ["call", "call"],
                       "uplift": [0.2, 0.05], "action_cost": [10.0, 10.0]})


def _scored() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e"],
        "risk_tier": ["Critical", "Critical", "Watch", "Watch", "Safe"],
        "action_key": ["call", "call", "call", "mail", "call"],
        "expected_revenue_12m": [100.0, 1000.0, 1000.0, 5000.0, 5000.0],
        "holdout": [False, False, False, False, False]})


def test_saved_value_is_uplift_times_revenue_minus_cost_and_zero_without_a_measure():
    out = with_saved_value(_scored(), UPLIFT)
    # a: .2 x 100 - 10; b: .2 x 1000 - 10; c: .05 x 1000 - 10; d, e: no measured stratum
    assert out["expected_saved_value"].tolist() == [10.0, 190.0, 40.0, 0.0, 0.0]
    assert out["uplift"].tolist() == [0.2, 0.2, 0.05, 0.0, 0.0]


def test_capacity_takes_the_best_positive_saved_values_leaving_out_holdout_and_cooldown():
    scored = with_saved_value(_scored(), UPLIFT)
    flagged = contact_flags(scored, capacity=2, cooldown=pd.Series(dtype="datetime64[ns]"))
    assert flagged["contact_this_week"].tolist() == [0, 1, 1, 0, 0]  # b (190), c (40)
    # b held out, c in cooldown: a (10) is next; d and e have nothing positive to offer
    scored.loc[1, "holdout"] = True
    cooling = pd.Series([pd.Timestamp("2026-03-20")], index=["c"])
    flagged = contact_flags(scored, capacity=2, cooldown=cooling)
    assert flagged["contact_this_week"].tolist() == [1, 0, 0, 0, 0]
    assert flagged["cooldown_until"].tolist() == ["", "", "2026-03-20", "", ""]


def test_cooldown_covers_actions_in_the_days_up_to_the_as_of_only():
    actions = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "d"],
        "action_at": pd.to_datetime(["2026-02-20", "2026-02-25", "2026-01-30", "2026-03-02",
                                     "2026-02-01"], utc=True)})
    ends = cooldown_ends(actions, pd.Timestamp("2026-03-01"), days=28)
    # a: last action 25 Feb + 28 days; b and d: more than 28 days ago; c: after the as-of
    # (d: 1 Feb is exactly 28 days before the as-of, outside the window)
    assert ends.to_dict() == {"a": pd.Timestamp("2026-03-25")}
    assert cooldown_ends(actions, pd.Timestamp("2026-03-01"), days=0).empty
    assert cooldown_ends(None, pd.Timestamp("2026-03-01"), days=28).empty


def test_saved_value_sort_puts_measured_strata_first_and_the_rest_by_tier(fitted, model_input):
    latest = model_input[model_input["cutoff"] == model_input["cutoff"].max()].copy()
    latest["as_of"] = latest["cutoff"]
    latest = latest.reset_index(drop=True)
    by_tier, _ = score_customers(fitted, latest, model_version="1")
    stratum = by_tier[["risk_tier", "action_key"]].value_counts().index[0]
    uplift = pd.DataFrame({"tier": [stratum[0]], "planned_action": [stratum[1]],
                           "uplift": [0.3], "action_cost": [1.0]})
    ranked, _ = score_customers(fitted, latest, model_version="1", sort="saved_value",
                                uplift=uplift)
    live = ranked[~ranked["lapsed"]]
    measured = live["uplift"] > 0
    n = int(measured.sum())
    assert n > 0 and measured.iloc[:n].all()  # every measured customer comes first
    head = live.iloc[:n]
    expected = (0.3 * head["expected_revenue_12m"] - 1.0).round(2)
    assert np.allclose(head["expected_saved_value"], expected)
    assert head["expected_saved_value"].is_monotonic_decreasing
    # the others keep the tier ordering's relative order
    rest = live.iloc[n:]["customer_id"].tolist()
    assert rest == [c for c in by_tier.loc[~by_tier["lapsed"], "customer_id"] if c in set(rest)]
    # no uplift measured at all: the saved-value sort is the tier sort
    none, _ = score_customers(fitted, latest, model_version="1", sort="saved_value")
    assert none["customer_id"].tolist() == by_tier["customer_id"].tolist()
    assert (none["expected_saved_value"] == 0).all()


def test_the_out_of_time_check_judges_the_stratum_ordering_with_an_interval():
    rng = np.random.default_rng(3)
    rows = []
    for week in range(6):
        tier = np.where(rng.random(600) < 0.5, "Critical", "Watch")
        held = rng.random(600) < 0.5
        # contacts help Watch only, while Critical are the riskiest
        p = np.where(held | (tier == "Critical"), 0.6, 0.1)
        rows.append(pd.DataFrame({
            "run_id": f"R{week}", "as_of": pd.Timestamp("2026-01-05") + pd.Timedelta(weeks=week),
            "tier": tier, "planned_action": "call", "holdout": held, "cost": 0.0, "reached": ~held,
            "churned": (rng.random(600) < p).astype(int), "annual_revenue": 1.0,
            "value_at_risk": np.where(tier == "Critical", 0.9, 0.4), "x": rng.random(600)}))
    check = out_of_time_check(pd.concat(rows, ignore_index=True), ("x",), min_per_arm=100)
    gain = check["stratum_gain_over_risk"]
    assert gain["low"] <= gain["gain"] <= gain["high"]
    assert check["stratum_beats_risk"] and gain["low"] > 0


def test_the_holdout_drawn_does_not_depend_on_the_lists_order():
    import datetime as dt

    from models.holdout import assign_holdout

    risk = pd.DataFrame({"customer_id": [f"c{i}" for i in range(300)],
                         "risk_tier": ["Critical"] * 150 + ["Watch"] * 150})

    def held(frame: pd.DataFrame) -> set[str]:
        out = assign_holdout(frame, {"Critical": 0.1, "Watch": 0.1}, seed=1,
                             as_of=dt.date(2026, 3, 1), list_run_id="r")
        return set(frame.loc[out["holdout"].astype(bool).reindex(frame.index), "customer_id"])

    by_tier = held(risk)
    assert len(by_tier) == 30 and held(risk.iloc[::-1]) == by_tier
