from __future__ import annotations

import dataclasses

import pandas as pd

from features.labels import LabelSpec
from models.card import definition_of_churn, lead_over_baselines, model_card
from models.params import TrainParams


def test_model_card_states_data_definition_baselines_and_decision(fitted):
    backtest = pd.DataFrame([{"origin": "2024-05-30", "train_cutoffs": 3, "best_iteration": 9,
                              "roc_auc": 0.7, "pr_auc": 0.6, "brier": 0.2, "log_loss": 0.6,
                              "ece": 0.02, "top_decile_lift": 1.5, "n": 600.0, "extra": 1.0}])
    card = model_card(fitted, TrainParams(label=LabelSpec(horizon_days=60)),
                      {"data_start": "2023-01-01", "data_end": "2024-08-01",
                       "cutoffs": ["2024-01-31", "2024-03-01"], "sha256": "ab" * 32},
                      backtest, pd.DataFrame(), "version 4: no champion yet")
    assert "No completed purchase in the 60 days after the cutoff" in card
    assert "Cutoffs: 2024-01-31, 2024-03-01" in card
    assert "| metric | model | recency | rfm_lightgbm | bgnbd |" in card
    assert "version 4: no champion yet" in card
    assert "| extra" not in card  # the backtest table keeps the headline metrics only
    lead = lead_over_baselines(fitted)
    assert lead["lead_over_bgnbd_roc_auc"] == (fitted.validation["roc_auc"]
                                               - fitted.baselines["bgnbd"]["roc_auc"])


def test_the_card_states_the_models_own_definition(fitted):
    contractual = LabelSpec(definition="cancellation", horizon_days=60, gap_days=30)
    card = model_card(dataclasses.replace(fitted, label=contractual), TrainParams(label=contractual),
                      {}, pd.DataFrame(), pd.DataFrame(), "version 5")
    assert ("- A cancellation in the customer master in the 90 days after the cutoff (a 30-day "
            "gap, then a 60-day window; a cancellation during the gap counts too); purchases do "
            "not matter. Features see") in card
    assert "No completed purchase" not in card


def test_definition_of_churn_for_each_definition_with_and_without_a_gap():
    assert definition_of_churn(LabelSpec()) == (
        "No completed purchase in the 90 days after the cutoff, or a cancellation in that "
        "window.")
    assert definition_of_churn(LabelSpec(horizon_days=60, gap_days=14)) == (
        "No completed purchase in the 60 days that start 14 days after the cutoff (days 15 to "
        "74; the 14-day gap is left out), or a cancellation in the 74 days after the cutoff.")
    assert definition_of_churn(LabelSpec(definition="cancellation")) == (
        "A cancellation in the customer master in the 90 days after the cutoff; purchases do "
        "not matter.")
    assert definition_of_churn(LabelSpec(definition="cancellation", gap_days=30)) == (
        "A cancellation in the customer master in the 120 days after the cutoff (a 30-day gap, "
        "then a 90-day window; a cancellation during the gap counts too); purchases do not "
        "matter.")


def test_the_card_states_the_business_and_the_renewal_definition(fitted):
    renewal = LabelSpec(definition="renewal")
    billing = {"business": "contractual", "definition_chosen": True,
               "evidence": ["a subscriptions export with 9 subscriptions of 9 customers"]}
    card = model_card(dataclasses.replace(fitted, label=renewal), TrainParams(label=renewal),
                      {}, pd.DataFrame(), pd.DataFrame(), "version 6", billing=billing)
    assert ("## Business\n- Contractual: a subscriptions export with 9 subscriptions of 9 "
            "customers. Churn definition chosen from this verdict.") in card
    assert ("Cancelled in the 90 days after the cutoff (the customer master, or every "
            "subscription stopped), or a renewal due in that window not paid") in card
    assert "the 90-day window holds 3.0 monthly billing periods" in card
