"""Prefect flows: the wiring between IO tasks and the pure `features` / `models` code.

Flows read like a table of contents; tasks do the IO and pass paths, not frames.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger

from models.promotion import PromotionMargin
from models.train import TrainParams
from pipelines import tasks
from pipelines.deliver.scoring_run import ScoreParams


@flow(name="churn-generate", log_prints=True)
def generate_flow(
    data_dir: str | None = None, customers: int = 5_000, seed: int = 42,
    end: dt.date | None = None, dialect: str = "canonical",
) -> dict[str, Any]:
    """Write a simulated retail business's CRM exports into `<data-dir>/raw/` as `dialect`."""
    return tasks.generate_sample_exports(data_dir, customers, seed, end, dialect)


@flow(name="churn-ingest", log_prints=True)
def ingest_flow(
    data_dir: str | None = None, skip_bad_files: bool = False, explain: bool = False
) -> dict[str, Any]:
    """Stage every raw export as typed parquet; quarantine what cannot be used."""
    return tasks.stage_raw_exports(data_dir, skip_bad_files, explain)


@flow(name="churn-features", log_prints=True)
def features_flow(data_dir: str | None = None, as_of: dt.date | None = None) -> str:
    """Write the feature table of every eligible customer at `as_of` (default: data end)."""
    return tasks.write_feature_table(data_dir, as_of)


@flow(name="churn-train", log_prints=True)
def train_flow(
    data_dir: str | None = None,
    as_of: dt.date | None = None,
    params: TrainParams | None = None,
    margin: PromotionMargin | None = None,
    tune_trials: int = 0,
    tune_objective: str = "pr_auc",
) -> dict[str, Any]:
    """Fit on monthly snapshots whose label windows end by `as_of`; register a version and
    make it champion if it beats the current one on the same out-of-time cutoff. With
    `tune_trials`, first search LightGBM parameters on the temporal backtest."""
    params = params or TrainParams()
    model_input = tasks.write_model_input(data_dir, as_of, params)
    tuning_run_id = ""
    if tune_trials > 0:
        params, tuning_run_id = tasks.tune_hyperparameters(data_dir, model_input, params,
                                                           tune_trials, tune_objective)
    return tasks.fit_and_register(data_dir, model_input, params, margin, tuning_run_id)


@flow(name="churn-score", log_prints=True)
def score_flow(
    data_dir: str | None = None,
    as_of: dt.date | None = None,
    params: ScoreParams | None = None,
) -> dict[str, Any]:
    """Score every eligible customer at `as_of`; archive list, workbook and report; publish."""
    scored = tasks.score_and_archive(data_dir, as_of, params or ScoreParams())
    tasks.publish_scoring_artifacts(scored)
    return scored


@flow(name="churn-demo", log_prints=True)
def demo_flow(
    data_dir: str | None = None,
    customers: int = 5_000,
    seed: int = 42,
    params: TrainParams | None = None,
    score_params: ScoreParams | None = None,
) -> dict[str, Any]:
    """Generate sample exports, then ingest → train → score, and grade against the truth."""
    logger = get_run_logger()
    generated = generate_flow(data_dir, customers, seed, dialect="mixed")
    ingested = ingest_flow(data_dir)
    trained = train_flow(data_dir, None, params)
    scored = score_flow(data_dir, None, score_params)
    graded = tasks.grade_against_ground_truth(data_dir, scored, trained)
    logger.info("demo finished: %s", scored["risk_list_csv"])
    return {"generated": generated, "ingested": ingested, "trained": trained,
            "scored": scored, "graded": graded}
