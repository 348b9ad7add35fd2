"""The track record on hand-made lists with known outcomes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from features.labels import LabelSpec
from models.track_record import GRADED, NOT_MATURED, ShippedList, track_record
from tests import factories as f

SPEC = LabelSpec(horizon_days=30)
AS_OF = dt.date(2026, 3, 1)  # window (03-01, 03-31]
TOP = ("Critical", "At risk")


def _list(rows: list[tuple[str, float, str, float]], as_of: dt.date = AS_OF,
          run_id: str = "r1", spec: LabelSpec = SPEC) -> ShippedList:
    risk = pd.DataFrame(rows, columns=["customer_id", "churn_probability", "risk_tier",
                                       "annual_revenue"])
    risk["value_at_risk"] = risk["churn_probability"] * risk["annual_revenue"]
    return ShippedList(as_of=as_of, run_id=run_id, model_version="1", label=spec, risk=risk,
                       top_tiers=TOP, promised={"roc_auc": 0.8, "pr_auc": 0.6,
                                                "positive_rate": 0.4})


# a..e on the list; b, d and e buy inside the window, a and c do not (they churn)
RISK = [("a", 0.9, "Critical", 100.0), ("b", 0.8, "Critical", 50.0),
        ("c", 0.6, "At risk", 30.0), ("d", 0.2, "Safe", 80.0), ("e", 0.1, "Safe", 10.0)]


def _purchases(extra: list[tuple] = ()) -> pd.DataFrame:
    rows = [("a", "2026-02-10", 10.0), ("b", "2026-02-10", 10.0),
            ("c", "2026-02-10", 10.0), ("d", "2026-02-10", 10.0),
            ("e", "2026-02-10", 10.0),
            ("b", "2026-03-05", 10.0), ("d", "2026-03-31", 10.0),
            ("e", "2026-03-15", 10.0), *extra]
    return f.purchases(rows)


def test_a_matured_list_is_graded_against_outcomes_computed_by_hand():
    record = track_record([_list(RISK)], _purchases(), dt.date(2026, 4, 30))
    row = record.lists.iloc[0]
    assert row["status"] == GRADED and row["matures_on"] == dt.date(2026, 3, 31)
    assert row["customers"] == 5 and row["churned"] == 2 and row["churn_rate"] == 0.4
    # churners a (0.9), c (0.6) vs stayers b (0.8), d (0.2), e (0.1): pairs won 5 of 6
    assert row["roc_auc"] == pytest.approx(5 / 6)
    # ranked a+, b-, c+: precision 1 at a, 2/3 at c -> AP = (1 + 2/3) / 2
    assert row["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    # top tiers a, b, c: 2 churners of 3; both churners caught
    assert row["top_tier_customers"] == 3
    assert row["precision_top_tiers"] == pytest.approx(2 / 3)
    assert row["recall_top_tiers"] == 1.0
    assert row["value_lost"] == 130.0 and row["value_lost_top_tiers"] == 130.0
    assert row["mean_predicted"] == pytest.approx(0.52)
    y, p = np.array([1, 0, 1, 0, 0]), np.array([0.9, 0.8, 0.6, 0.2, 0.1])
    assert row["brier"] == pytest.approx(float(np.mean((p - y) ** 2)))
    assert row["roc_auc_vs_promised"] == pytest.approx(5 / 6 - 0.8)
    assert row["promised_churn_rate"] == 0.4
    tiers = record.tiers.set_index("tier")
    assert tiers.loc["Critical", "churn_rate"] == 0.5 and tiers.loc["At risk", "churned"] == 1
    assert tiers.loc["Safe", "churned"] == 0 and tiers.loc["Safe", "customers"] == 2


def test_a_list_whose_window_has_not_ended_is_not_graded():
    record = track_record([_list(RISK)], _purchases(), dt.date(2026, 3, 30))
    row = record.lists.iloc[0]
    assert row["status"] == NOT_MATURED and row["matures_on"] == dt.date(2026, 3, 31)
    assert pd.isna(row["roc_auc"]) and record.graded.empty and record.tiers.empty


def test_only_events_after_the_as_of_and_up_to_the_window_end_count():
    # a buys on the as-of day itself (a feature, not an outcome) and c the day after the
    # window: both still churned; b's purchase inside the window is what keeps b
    later = [("a", "2026-03-01", 10.0), ("c", "2026-04-01", 10.0)]
    record = track_record([_list(RISK)], _purchases(later), dt.date(2026, 6, 30))
    assert record.lists.iloc[0]["churned"] == 2
    assert record.lists.iloc[0]["roc_auc"] == pytest.approx(5 / 6)


def test_lists_are_ordered_and_each_uses_its_own_label_spec():
    long = LabelSpec(horizon_days=60)  # window (03-01, 04-30]: not ended on 04-15
    record = track_record([_list(RISK, run_id="r2", spec=long), _list(RISK, run_id="r1"),
                           _list(RISK, as_of=dt.date(2026, 2, 15), run_id="r0")],
                          _purchases(), dt.date(2026, 4, 15))
    assert record.lists["run_id"].tolist() == ["r0", "r1", "r2"]
    assert record.lists["status"].tolist() == [GRADED, GRADED, NOT_MATURED]
    assert record.lists.iloc[2]["matures_on"] == dt.date(2026, 4, 30)


def test_one_class_outcomes_give_no_auc_but_still_a_churn_rate():
    everyone_buys = [("a", "2026-03-02", 1.0), ("c", "2026-03-02", 1.0)]
    row = track_record([_list(RISK)], _purchases(everyone_buys), dt.date(2026, 4, 30)
                       ).lists.iloc[0]
    assert row["churned"] == 0 and pd.isna(row["roc_auc"]) and pd.isna(row["recall_top_tiers"])
