"""The model's reason and action keys rendered as the retention team's sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.explain import REASON_GROUPS, reason_columns
from models.playbook import default_playbook_text, parse_playbook, suggested_actions
from models.score import SCORED_COLUMNS, score_customers
from models.tiers import TierPolicy
from pipelines.deliver.wording import RISK_LIST_COLUMNS, worded_risk_list

FEATURES = pd.DataFrame({
    "recency_days": [74.0, 5.0], "median_interval_days": [21.0, 20.0],
    "is_one_time_buyer": [0.0, 0.0], "open_complaints": [1.0, 0.0],
    "oldest_open_complaint_days": [12.0, np.nan], "complaints_90d": [2.0, 0.0],
})
CONTRIBUTIONS = pd.DataFrame({
    "recency_days": [0.9, -0.5], "median_interval_days": [0.1, 0.0],
    "is_one_time_buyer": [0.0, 0.0], "open_complaints": [0.2, -0.1],
    "oldest_open_complaint_days": [0.1, 0.0], "complaints_90d": [0.05, 0.0], "bias": [-1.0, -1.0],
})


def _listed(reasons: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """A minimal scored list around the given reason and action columns."""
    n = len(reasons)
    base = pd.DataFrame({
        "rank": range(1, n + 1), "customer_id": [f"C{i}" for i in range(n)],
        "customer_name": None, "segment": "Loyal", "master_segment": None, "owner": None,
        "risk_tier": "Critical", "churn_probability": 0.9, "value_at_risk": 10.0,
        "annual_revenue": 100.0, "lifetime_spend": 200.0,
        "last_purchase_date": pd.Timestamp("2024-05-01"), "days_since_last_purchase": 30.0,
        "usual_interval_days": 20.0, "open_complaints": 1.0, "last_satisfaction": np.nan,
        "data_as_of": pd.Timestamp("2024-06-01"), "model_version": "1",
    }, index=reasons.index)
    return base.join(reasons).join(actions)


@pytest.mark.parametrize("lang, first, second, none", [
    ("en", "No purchase for 74 days; usually buys every 21 days.",
     "2 complaints in the last 90 days; one still open for 12 days.",
     "No single driver stands out; the risk comes from the overall pattern."),
    ("tr", "Son siparişten bu yana 74 gün geçti; normalde 21 günde bir sipariş veriyor.", None,
     None),
    ("nl", "Al 74 dagen geen bestelling; bestelt normaal elke 21 dagen.",
     "2 klachten in de afgelopen 90 dagen, waarvan één al 12 dagen openstaat.", None),
])
def test_reason_keys_become_sentences_in_each_language(lang, first, second, none):
    reasons = reason_columns(FEATURES, CONTRIBUTIONS)
    actions = pd.DataFrame({"action_key": ["personal_call", "no_action"],
                            "action_params": [{}, {}]}, index=reasons.index)
    worded = worded_risk_list(_listed(reasons, actions), lang)
    assert worded.loc[0, "reason_1"] == first
    if second:
        assert worded.loc[0, "reason_2"] == second
    assert worded.loc[0, "reason_3"] == ""  # an empty slot stays empty
    if none:
        assert worded.loc[1, "reason_1"] == none
    assert worded.loc[1, "reason_2"] == ""
    assert list(worded.columns[:len(RISK_LIST_COLUMNS)]) == RISK_LIST_COLUMNS
    # keys stay beside the sentences (language-neutral); their parameters do not
    assert worded.loc[0, "reason_key_1"] == "overdue.interval"
    assert not any(c.endswith("_params") or "_params_" in c for c in worded.columns)


def test_actions_quote_their_facts_fall_back_and_keep_free_text():
    groups, tiers = ["complaints", "overdue"], ["Critical", "Lapsed"]
    book = parse_playbook("reason_group,tier,action\n*,Lapsed,winback_campaign\n"
                          "complaints,*,resolve_complaint\noverdue,*,Ring Deniz first\n"
                          "*,*,no_action\n", groups=groups, tiers=tiers)
    risk = pd.DataFrame({"reason_group_1": ["complaints", "complaints", "overdue", "overdue"],
                         "risk_tier": ["Critical", "Critical", "Critical", "Lapsed"],
                         "value_at_risk": [1.0] * 4, "open_complaint_id": ["T-9", None, None, None],
                         "open_complaint_days": [12.0, None, None, None]})
    actions = suggested_actions(book, risk)
    reasons = pd.DataFrame({f"{c}_{i}": [""] * 4 if c != "reason_params" else [{}] * 4
                            for i in (1, 2, 3) for c in ("reason_group", "reason_key",
                                                          "reason_params")})
    listed = _listed(reasons, actions)
    en = worded_risk_list(listed, "en")["suggested_action"].tolist()
    assert en[0] == "Call today and resolve complaint #T-9 (open 12 days)."
    assert en[1].startswith("Call to follow up on the recent complaints")
    assert en[2] == "Ring Deniz first"  # free text is shown as written, in every language
    assert en[3].startswith("Win-back audience")
    tr = worded_risk_list(listed, "tr")["suggested_action"].tolist()
    nl = worded_risk_list(listed, "nl")["suggested_action"].tolist()
    assert tr[0].startswith("Bugün arayın, #T-9") and tr[2] == nl[2] == "Ring Deniz first"
    assert len({en[3], tr[3], nl[3]}) == 3


def test_one_scored_list_is_written_in_several_languages(fitted, model_input):
    latest = model_input[model_input["cutoff"] == model_input["cutoff"].max()].head(60)
    latest = latest.assign(as_of=latest["cutoff"]).reset_index(drop=True)
    book = parse_playbook(default_playbook_text(), groups=list(REASON_GROUPS),
                          tiers=TierPolicy().names)
    scored, _ = score_customers(fitted, latest, model_version="3", playbook=book)
    assert list(scored.columns[:len(SCORED_COLUMNS)]) == SCORED_COLUMNS
    lists = {lang: worded_risk_list(scored, lang) for lang in ("en", "tr", "nl")}
    overdue = scored["reason_group_1"] == "overdue"
    assert overdue.any()
    assert lists["tr"].loc[overdue, "reason_1"].str.contains("gün").all()
    assert not lists["tr"]["suggested_action"].str.contains("Call").any()
    assert lists["nl"].loc[overdue, "reason_1"].str.contains("dagen").all()
    # the same customers, ranks and numbers in every language
    for lang in ("tr", "nl"):
        pd.testing.assert_frame_equal(lists[lang][SCORED_COLUMNS], lists["en"][SCORED_COLUMNS])
