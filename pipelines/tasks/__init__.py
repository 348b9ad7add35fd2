"""Prefect tasks: every read and write of the pipeline, calling pure code in between.

Each task takes the command's `Settings` (built once, at the flow's entry) and dates already
resolved to `datetime.date` (`resolve_cutoff`); none reads the environment or the clock.

The tasks live in one module per stage (`common`, `ingest`, `training`, `scoring`,
`analytics`, `privacy`) and are loaded when first used: `tasks.stage_raw_exports` imports the ingest
tasks only, so a command pays for the libraries of what it runs (`churn ingest` never loads
MLflow, LightGBM or scikit-learn).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names, for type checkers and readers; loaded lazily at run time
    from pipelines.tasks.analytics import (
        write_analytics_folder,
    )
    from pipelines.tasks.common import (
        feature_table_path,
        model_input_path,
        resolve_cutoff,
        task_logger,
    )
    from pipelines.tasks.ingest import (
        generate_sample_exports,
        stage_raw_exports,
    )
    from pipelines.tasks.privacy import (
        prune_expired_data,
    )
    from pipelines.tasks.scoring import (
        decide_retraining,
        grade_against_ground_truth,
        publish_scoring_artifacts,
        score_and_archive,
    )
    from pipelines.tasks.training import (
        choose_churn_definition,
        fit_and_register,
        tune_hyperparameters,
        write_feature_table,
        write_model_input,
    )

#: task or helper name -> the module of this package that defines it
HOMES: dict[str, str] = {
    "choose_churn_definition": "training",
    "decide_retraining": "scoring",
    "feature_table_path": "common",
    "fit_and_register": "training",
    "generate_sample_exports": "ingest",
    "grade_against_ground_truth": "scoring",
    "model_input_path": "common",
    "prune_expired_data": "privacy",
    "publish_scoring_artifacts": "scoring",
    "resolve_cutoff": "common",
    "score_and_archive": "scoring",
    "stage_raw_exports": "ingest",
    "task_logger": "common",
    "tune_hyperparameters": "training",
    "write_analytics_folder": "analytics",
    "write_feature_table": "training",
    "write_model_input": "training",
}
__all__ = [
    "choose_churn_definition",
    "decide_retraining",
    "feature_table_path",
    "fit_and_register",
    "generate_sample_exports",
    "grade_against_ground_truth",
    "model_input_path",
    "prune_expired_data",
    "publish_scoring_artifacts",
    "resolve_cutoff",
    "score_and_archive",
    "stage_raw_exports",
    "task_logger",
    "tune_hyperparameters",
    "write_analytics_folder",
    "write_feature_table",
    "write_model_input",
]


def __getattr__(name: str) -> Any:
    """`tasks.<name>`: import the stage module that defines it, on first use."""
    if name not in HOMES:
        raise AttributeError(f"module 'pipelines.tasks' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pipelines.tasks.{HOMES[name]}"), name)
    globals()[name] = value  # later lookups skip this function
    return value
