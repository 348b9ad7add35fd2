"""`churn track-record`'s lines: realised against promised, or when a list matures."""

from __future__ import annotations

from pipelines.operate.monitor_commands import track_record_lines


def test_graded_and_not_matured_lists_each_get_one_line():
    graded = {"as_of": "2026-07-03", "model_version": "2", "customers": 1486,
              "status": "graded", "churned": 360.0, "churn_rate": 0.2423, "roc_auc": 0.8612,
              "promised_roc_auc": 0.8487, "pr_auc": 0.7482, "promised_pr_auc": 0.706,
              "precision_top_tiers": 0.759, "recall_top_tiers": 0.35, "ece": 0.0152,
              "value_lost": 233932.66}
    waiting = {"as_of": "2026-10-31", "model_version": "1", "customers": 1809,
               "status": "not matured", "matures_on": "2027-01-29T00:00:00.000"}
    lines = track_record_lines([graded, waiting])
    assert lines[0] == ("2026-07-03  version 2  1486 customers  churned 360 (24.2%)  "
                        "ROC-AUC 0.861 (promised 0.849)  PR-AUC 0.748 (promised 0.706)  "
                        "top tiers: precision 0.759, recall 0.350  ECE 0.015  "
                        "value lost 233,933")
    assert lines[1] == ("2026-10-31  version 1  1809 customers  "
                        "not matured yet (matures on 2027-01-29)")
