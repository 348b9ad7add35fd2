"""Prefect flows: the wiring between IO tasks and the pure `features` / `models` code.

Flows read like a table of contents. Each builds the `Settings` of its data dir once at its
entry and resolves its dates once (`tasks.resolve_cutoff`); tasks get both, pass paths
rather than frames, and never read the environment or the clock. Every parameter's default
is declared once, in its typed model (`TrainParams`, `TuningParams`, `PromotionMargin`,
`ScoreParams`, `SimulationConfig`); `prefect.yaml` overrides only what it changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import flow, get_run_logger

from models.params import TrainParams, TuningParams
from models.promotion import PromotionMargin
from pipelines import tasks
from pipelines.deliver.params import ScoreParams
from pipelines.sample.config import SimulationConfig
from pipelines.store.settings import Settings

SAMPLE = SimulationConfig()


@flow(name="churn-generate", log_prints=True)
def generate_flow(
    data_dir: str | None = None, customers: int = SAMPLE.customers, seed: int = SAMPLE.seed,
    end: dt.date | None = None, dialect: str = "canonical",
) -> dict[str, Any]:
    """Write a simulated retail business's CRM exports into `<data-dir>/raw/` as `dialect`."""
    settings = Settings.from_env(data_dir)
    return tasks.generate_sample_exports(settings, customers, seed, end, dialect)


@flow(name="churn-ingest", log_prints=True)
def ingest_flow(
    data_dir: str | None = None, skip_bad_files: bool = False, explain: bool = False
) -> dict[str, Any]:
    """Stage every raw export as typed parquet; quarantine what cannot be used."""
    settings = Settings.from_env(data_dir)
    return tasks.stage_raw_exports(settings, skip_bad_files, explain)


@flow(name="churn-features", log_prints=True)
def features_flow(data_dir: str | None = None, as_of: dt.date | None = None) -> str:
    """Write the feature table of every eligible customer at `as_of` (default: data end)."""
    settings = Settings.from_env(data_dir)
    as_of = tasks.resolve_cutoff(settings, as_of)
    return tasks.write_feature_table(settings, as_of)


@flow(name="churn-train", log_prints=True)
def train_flow(
    data_dir: str | None = None,
    data_end: dt.date | None = None,
    params: TrainParams | None = None,
    margin: PromotionMargin | None = None,
    tuning: TuningParams | None = None,
) -> dict[str, Any]:
    """Fit on monthly snapshots whose label windows end by `data_end` (default: the last
    event date); register a version and make it champion if it beats the current one on the
    same out-of-time cutoff. With `tuning.trials`, first search LightGBM parameters on the
    temporal backtest."""
    settings = Settings.from_env(data_dir)
    params, margin, tuning = params or TrainParams(), margin or PromotionMargin(), \
        tuning or TuningParams()
    data_end = tasks.resolve_cutoff(settings, data_end)
    model_input = tasks.write_model_input(settings, data_end, params)
    tuning_run_id = ""
    if tuning.trials > 0:
        params, tuning_run_id = tasks.tune_hyperparameters(settings, model_input, params, tuning)
    return tasks.fit_and_register(settings, model_input, params, margin, tuning_run_id)


@flow(name="churn-score", log_prints=True)
def score_flow(
    data_dir: str | None = None,
    as_of: dt.date | None = None,
    params: ScoreParams | None = None,
) -> dict[str, Any]:
    """Score every eligible customer at `as_of`; archive list, workbook and report; publish."""
    settings = Settings.from_env(data_dir)
    as_of = tasks.resolve_cutoff(settings, as_of)
    scored = tasks.score_and_archive(settings, as_of, params or ScoreParams())
    tasks.publish_scoring_artifacts(scored)
    return scored


@flow(name="churn-demo", log_prints=True)
def demo_flow(
    data_dir: str | None = None,
    customers: int = SAMPLE.customers,
    seed: int = SAMPLE.seed,
    params: TrainParams | None = None,
    score_params: ScoreParams | None = None,
) -> dict[str, Any]:
    """Generate sample exports, then ingest → train → score, and grade against the truth."""
    logger = get_run_logger()
    settings = Settings.from_env(data_dir)
    root = str(settings.data_dir)  # every step works on the same, resolved data dir
    generated = generate_flow(root, customers, seed, dialect="mixed")
    ingested = ingest_flow(root)
    trained = train_flow(root, None, params)
    scored = score_flow(root, None, score_params)
    graded = tasks.grade_against_ground_truth(settings, scored, trained)
    logger.info("demo finished: %s", scored["risk_list_csv"])
    return {"generated": generated, "ingested": ingested, "trained": trained,
            "scored": scored, "graded": graded}


@flow(name="churn-analyze", log_prints=True)
def analyze_flow(
    data_dir: str | None = None, as_of: dt.date | None = None, policy: Any = None,
    lang: str = "en",
) -> dict[str, Any]:
    """Retention analytics at `as_of` (default: data end): rates, cohorts, complaint KPIs,
    CLV and value concentration, written to `analytics/<as-of>/` (`AnalyticsPolicy`)."""
    from models.analytics.policy import AnalyticsPolicy

    settings = Settings.from_env(data_dir)
    as_of = tasks.resolve_cutoff(settings, as_of)
    return tasks.write_analytics_folder(settings, as_of, policy or AnalyticsPolicy(), lang)
