"""Contacted against holdout on hand-made archived lists with known outcomes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from features.labels import LabelSpec
from models.track_record import ShippedList, loop_record, randomised_outcomes
from tests import factories as f

SPEC = LabelSpec(horizon_days=30)
AS_OF = dt.date(2026, 3, 1)  # window (03-01, 03-31]


def _list(rows: list[tuple], run_id: str = "r1", as_of: dt.date = AS_OF) -> ShippedList:
    """rows: (customer_id, tier, planned_action, holdout, assigned_in, annual_revenue)."""
    risk = pd.DataFrame(rows, columns=["customer_id", "risk_tier", "planned_action", "holdout",
                                       "assigned_in", "annual_revenue"])
    risk["churn_probability"] = 0.5
    risk["value_at_risk"] = risk["annual_revenue"] / 2
    return ShippedList(as_of=as_of, run_id=run_id, model_version="1", label=SPEC, risk=risk,
                       top_tiers=("Critical",))


# c1..c4 contacted, h1..h2 held out, all Critical + personal_call; x was assigned by an
# earlier list (not this one's to measure). c1, c2 and h1 buy in the window; c3, c4, h2 and x
# do not. So contacted churn 2/4, holdout churn 1/2.
ROWS = [("c1", "Critical", "personal_call", False, "r1", 100.0),
        ("c2", "Critical", "personal_call", False, "r1", 100.0),
        ("c3", "Critical", "personal_call", False, "r1", 100.0),
        ("c4", "Critical", "personal_call", False, "r1", 300.0),
        ("h1", "Critical", "personal_call", True, "r1", 100.0),
        ("h2", "Critical", "personal_call", True, "r1", 200.0),
        ("x", "Critical", "personal_call", True, "r0", 100.0)]


def _purchases() -> pd.DataFrame:
    before = [(c, "2026-02-01", 10.0) for c in ("c1", "c2", "c3", "c4", "h1", "h2", "x")]
    return f.purchases([*before, ("c1", "2026-03-10", 10.0), ("c2", "2026-03-31", 10.0),
                        ("h1", "2026-03-02", 10.0), ("c3", "2026-04-02", 10.0)])


def test_only_the_lists_own_randomisations_count_with_their_window_actions():
    logged = f.actions([("c1", "2026-03-02", "called", 5.0),
                        ("c2", "2026-03-01", "called", 5.0),  # on the as-of: before the window
                        ("c3", "2026-03-31", "called", 7.0), ("c3", "2026-03-20", "offer", 3.0),
                        ("h1", "2026-04-05", "called", 5.0)])  # after the window
    units = randomised_outcomes(_list(ROWS), _purchases(), dt.date(2026, 5, 1), actions=logged)
    by_id = units.set_index("customer_id")
    assert sorted(by_id.index) == ["c1", "c2", "c3", "c4", "h1", "h2"]
    assert by_id["churned"].to_dict() == {"c1": 0, "c2": 0, "c3": 1, "c4": 1, "h1": 0, "h2": 1}
    assert by_id["reached"].to_dict() == {"c1": True, "c2": False, "c3": True, "c4": False,
                                          "h1": False, "h2": False}
    assert by_id.loc["c3", "cost"] == 10.0 and by_id.loc["c2", "cost"] == 0.0


def test_the_loop_record_by_hand():
    record = loop_record([_list(ROWS)], _purchases(), dt.date(2026, 5, 1))
    pooled = record.pooled.set_index(["tier", "planned_action"])
    row = pooled.loc[("Critical", "personal_call")]
    assert (row["contacted"], row["holdout"]) == (4, 2)
    assert row["churn_rate_contacted"] == 0.5 and row["churn_rate_holdout"] == 0.5
    assert row["effect"] == 0.0 and row["includes_zero"]
    # revenue lost per customer: held out 200 / 2 = 100, contacted (100 + 300) / 4 = 100
    assert row["revenue_kept"] == pytest.approx(0.0)
    assert pooled.loc[("*", "*"), "contacted"] == 4
    assert set(record.by_list["run_id"]) == {"r1"}


def test_a_list_not_matured_or_from_before_the_holdout_adds_nothing():
    old = _list(ROWS, run_id="r-old")
    old_risk = old.risk.drop(columns=["holdout", "assigned_in"])
    before_holdout = ShippedList(**{**old.__dict__, "risk": old_risk})
    not_matured = loop_record([_list(ROWS)], _purchases(), dt.date(2026, 3, 20))
    assert not_matured.pooled.empty and not_matured.randomised.empty
    matured = loop_record([before_holdout], _purchases(), dt.date(2026, 5, 1))
    assert matured.pooled.empty and matured.randomised.empty
