"""The typed parameters: defaults declared once, misspelt names refused, cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import ValidationError

from features.labels import LabelSpec
from models.params import TrainParams, TuningParams


def test_training_parameters_carry_the_churn_definition_whole():
    params = TrainParams(label=LabelSpec(definition="cancellation", gap_days=30))
    assert params.label.span_days == 120 and params.n_cutoffs == 8
    assert TrainParams().label == LabelSpec()
    assert TuningParams().trials == 0 and TuningParams().objective == "pr_auc"


@pytest.mark.parametrize("model, values", [
    (TrainParams, {"horizon_days": 60}),  # lives on the label spec now: must not be ignored
    (TrainParams, {"label": {"horizon": 60}}),
    (TuningParams, {"objective": "auc"}),
    (TuningParams, {"trails": 3}),
])
def test_a_misspelt_or_misplaced_parameter_is_refused(model, values):
    with pytest.raises(ValidationError):
        model.model_validate(values)


def test_the_parameter_modules_import_without_the_heavy_libraries():
    """The CLI reads its defaults from them at import time; `churn --help` must stay fast."""
    code = ("import sys, models.params, models.promotion, pipelines.deliver.params, "
            "pipelines.sample.config; "
            "print(sorted(m for m in ('lightgbm', 'sklearn', 'mlflow', 'prefect', 'shap') "
            "if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
