"""Prefect flows: the wiring between IO tasks and the pure `features` / `models` code.

Flows read like a table of contents. Each builds the `Settings` of its data dir once at its
entry and resolves its dates once (`tasks.resolve_cutoff`); tasks get both, pass paths
rather than frames, and never read the environment or the clock. Every parameter's default
is declared once, in its typed model (`TrainParams`, `TuningParams`, `PromotionMargin`,
`ScoreParams`, `SimulationConfig`); `prefect.yaml` overrides only what it changes.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

from prefect import flow, get_run_logger
from prefect.states import Failed

from models.params import TrainParams, TuningParams
from models.promotion import PromotionMargin
from pipelines import tasks
from pipelines.deliver.params import ScoreParams
from pipelines.operate.alerts import alert_on_failure
from pipelines.operate.caching import refreshed_if_missing
from pipelines.operate.failures import failure_message
from pipelines.operate.lock import one_run_at_a_time
from pipelines.operate.prefect_runs import recover_prefect_runs
from pipelines.operate.recovery import recover_after_killed_runs
from pipelines.sample.config import SimulationConfig
from pipelines.store.settings import Settings
from pipelines.store.staged import staged_path

SAMPLE = SimulationConfig()


P = ParamSpec("P")
R = TypeVar("R")


def one_sentence_failures(step: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A flow whose known failure (`operate.failures`) ends in a Failed state carrying the
    one sentence the CLI prints, so a scheduled run shows it in the Prefect UI; called
    directly, the flow still raises the error (Prefect raises a returned Failed state's
    data). Unknown errors propagate untouched: their traceback is the useful report."""
    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except Exception as error:
                message = failure_message(step, error)
                if message is None:
                    raise
                return Failed(message=message, data=error)  # type: ignore[return-value]
        return run
    return decorate


def monitoring_tasks() -> ModuleType:
    """The monitoring steps, imported when a flow first needs them (they load MLflow and the
    charts, which `churn ingest` and `churn generate` never need)."""
    from pipelines.operate import monitoring_tasks as module

    return module


def _run_name(step: str, parameter: str | None = None) -> Callable[[], str]:
    """Flow-run names for the UI: `score 2026-11-30` (the date a run is about), else the day
    it ran (`ingest 2026-12-01`)."""
    def name() -> str:
        from prefect.runtime import flow_run

        value = flow_run.parameters.get(parameter) if parameter else None
        return f"{step} {value or dt.datetime.now(dt.UTC).date()}"
    return name


@flow(name="churn-generate", flow_run_name=_run_name("generate"), log_prints=True)
def generate_flow(
    data_dir: str | None = None, customers: int = SAMPLE.customers, seed: int = SAMPLE.seed,
    end: dt.date | None = None, dialect: str = "canonical", business: str = "retail",
) -> dict[str, Any]:
    """Write a simulated business's exports into `<data-dir>/raw/` as `dialect` (a retail
    shop's CRM exports, or a subscription product's billing and product exports)."""
    settings = Settings.from_env(data_dir)
    return tasks.generate_sample_exports(settings, customers, seed, end, dialect, business)


@flow(name="churn-ingest", flow_run_name=_run_name("ingest"),
      on_failure=[alert_on_failure], log_prints=True)
@one_sentence_failures("ingest")
def ingest_flow(
    data_dir: str | None = None, skip_bad_files: bool = False, explain: bool = False
) -> dict[str, Any]:
    """Stage every raw export as typed parquet; quarantine what cannot be used. Unchanged raw
    files on the same day reuse the last staging (`cached` in the report)."""
    settings = Settings.from_env(data_dir)
    recover_after_killed_runs(settings, mlflow=False)
    stage = refreshed_if_missing(tasks.stage_raw_exports, staged_path(settings, "purchases"),
                                 settings.reports_dir / "ingest_report.json")
    state = stage(settings, skip_bad_files, explain, return_state=True)
    report = state.result()  # raises what the task raised
    if state.name == "Cached":
        report = {**report, "unchanged": True, "cached": True}
    if not explain:  # retention, and the bound on Prefect history (on by default)
        tasks.prune_expired_data(settings)
    return report


@flow(name="churn-features", flow_run_name=_run_name("features", "as_of"), log_prints=True)
def features_flow(data_dir: str | None = None, as_of: dt.date | None = None) -> str:
    """Write the feature table of every eligible customer at `as_of` (default: data end)."""
    settings = Settings.from_env(data_dir)
    as_of = tasks.resolve_cutoff(settings, as_of)
    write = refreshed_if_missing(tasks.write_feature_table,
                                 tasks.feature_table_path(settings, as_of))
    return write(settings, as_of)


@flow(name="churn-train", flow_run_name=_run_name("train", "data_end"),
      on_failure=[alert_on_failure], log_prints=True)
@one_sentence_failures("train")
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
    recover_after_killed_runs(settings)
    # without parameters (demo, weekly chain) the definition follows the data
    params, margin, tuning = params or TrainParams(choose_definition=True), \
        margin or PromotionMargin(), tuning or TuningParams()
    data_end = tasks.resolve_cutoff(settings, data_end)
    params, billing = tasks.choose_churn_definition(settings, data_end, params)
    write = refreshed_if_missing(
        tasks.write_model_input, tasks.model_input_path(settings, data_end, params.label))
    model_input = write(settings, data_end, params)
    tuning_run_id = ""
    if tuning.trials > 0:
        params, tuning_run_id = tasks.tune_hyperparameters(settings, model_input, params, tuning)
    trained = tasks.fit_and_register(settings, model_input, params, margin, tuning_run_id,
                                     billing)
    monitoring_tasks().alert_training(settings, trained)
    return trained


@flow(name="churn-score", flow_run_name=_run_name("score", "as_of"),
      on_failure=[alert_on_failure], log_prints=True)
@one_sentence_failures("score")
def score_flow(
    data_dir: str | None = None,
    as_of: dt.date | None = None,
    params: ScoreParams | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Score every eligible customer at `as_of`; archive list, workbook and report; publish.
    An `as_of` after the last event in the staged data needs `force`."""
    settings = Settings.from_env(data_dir)
    recover_after_killed_runs(settings)
    as_of = tasks.resolve_cutoff(settings, as_of, force)
    params = params or ScoreParams()
    scored = tasks.score_and_archive(settings, as_of, params)
    tasks.publish_scoring_artifacts(settings, scored)
    tasks.prune_expired_data(settings)  # retention, and the bound on Prefect history
    return {**scored, "monitored": monitoring_tasks().monitor_scoring_run(
        settings, scored, params.monitoring)}


@flow(name="churn-demo", flow_run_name=_run_name("demo"), log_prints=True)
def demo_flow(
    data_dir: str | None = None,
    customers: int = SAMPLE.customers,
    seed: int = SAMPLE.seed,
    params: TrainParams | None = None,
    score_params: ScoreParams | None = None,
    business: str = "retail",
) -> dict[str, Any]:
    """Generate sample exports, then ingest → train → score → analyze, and grade against the
    truth. Analytics come after scoring so that their value concentration can say how much of
    the top customers' revenue sits in the risk tiers just assigned."""
    logger = get_run_logger()
    settings = Settings.from_env(data_dir)
    root = str(settings.data_dir)  # every step works on the same, resolved data dir
    recover_prefect_runs()
    generated = generate_flow(root, customers, seed,
                              dialect="mixed" if business == "retail" else "canonical",
                              business=business)
    ingested = ingest_flow(root)
    trained = train_flow(root, None, params)
    scored = score_flow(root, None, score_params)
    graded = tasks.grade_against_ground_truth(settings, scored, trained)
    analyzed = analyze_flow(root, None, None, (score_params or ScoreParams()).lang)
    logger.info("demo finished: %s", scored["risk_list_csv"])
    return {"generated": generated, "ingested": ingested, "trained": trained,
            "scored": scored, "graded": graded, "analyzed": analyzed}


@flow(name="churn-weekly", flow_run_name=_run_name("weekly"),
      on_failure=[alert_on_failure], log_prints=True)
@one_sentence_failures("run")
def weekly_flow(
    data_dir: str | None = None,
    retrain: bool = False,
    skip_bad_files: bool = False,
    params: TrainParams | None = None,
    margin: PromotionMargin | None = None,
    score_params: ScoreParams | None = None,
) -> dict[str, Any]:
    """Ingest, retrain if due (`models.retrain`), score: one run per data dir at a time.

    Ingest, training and scoring are subflows of this run; the as-of date is resolved once,
    after ingest, so training and scoring see the same data end. A known failure ends the
    run Failed with the one sentence `churn run` prints (`one_sentence_failures`)."""
    return _weekly_chain(data_dir, retrain, skip_bad_files, params, margin, score_params)


def _weekly_chain(
    data_dir: str | None, retrain: bool, skip_bad_files: bool, params: TrainParams | None,
    margin: PromotionMargin | None, score_params: ScoreParams | None,
) -> dict[str, Any]:
    logger = get_run_logger()
    settings = Settings.from_env(data_dir)
    root = str(settings.data_dir)
    seconds: dict[str, float] = {}
    recover_prefect_runs()  # its subflows recover the rest
    with one_run_at_a_time(settings.data_dir):
        start = time.perf_counter()
        ingested = ingest_flow(root, skip_bad_files)
        seconds["ingest"] = time.perf_counter() - start
        as_of = tasks.resolve_cutoff(settings, None)
        decision = tasks.decide_retraining(settings, retrain, as_of,
                                           (score_params or ScoreParams()).monitoring)
        logger.info("train: %s (%s)", "due" if decision.retrain else "not due", decision.reason)
        trained = None
        if decision.retrain:
            start = time.perf_counter()
            trained = train_flow(root, as_of, params, margin)
            seconds["train"] = time.perf_counter() - start
        monitoring_tasks().record_retrain_reason(settings, decision, trained)
        start = time.perf_counter()
        scored = score_flow(root, as_of, score_params)
        seconds["score"] = time.perf_counter() - start
    return {"as_of": str(as_of), "ingested": ingested, "trained": trained, "scored": scored,
            "retrain": {"due": decision.retrain, "reason": decision.reason},
            "seconds": seconds}


@flow(name="churn-analyze", log_prints=True)
def analyze_flow(
    data_dir: str | None = None, as_of: dt.date | None = None, policy: Any = None,
    lang: str = "en",
) -> dict[str, Any]:
    """Retention analytics at `as_of` (default: data end): rates, cohorts, complaint KPIs,
    CLV and value concentration, written to `analytics/<as-of>/` (`AnalyticsPolicy`)."""
    from models.analytics.policy import AnalyticsPolicy

    settings = Settings.from_env(data_dir)
    recover_prefect_runs()
    as_of = tasks.resolve_cutoff(settings, as_of)
    return tasks.write_analytics_folder(settings, as_of, policy or AnalyticsPolicy(), lang)


@flow(name="churn-monitor", flow_run_name=_run_name("monitor", "data_end"),
      on_failure=[alert_on_failure], log_prints=True)
def monitor_flow(data_dir: str | None = None, data_end: dt.date | None = None) -> dict[str, Any]:
    """Grade every archived list whose label window has ended by `data_end` (default: the
    last event date): reports/track_record.{csv,parquet}, a chart, an MLflow run."""
    settings = Settings.from_env(data_dir)
    recover_prefect_runs()
    return monitoring_tasks().grade_shipped_lists(settings,
                                                  tasks.resolve_cutoff(settings, data_end))
