from __future__ import annotations

import pandas as pd

from features.labels import LabelSpec
from models.card import lead_over_baselines, model_card
from models.train import TrainParams


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
