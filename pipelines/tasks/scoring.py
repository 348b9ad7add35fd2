"""Tasks that score: whether to retrain first, scoring and archiving with the champion,
the Prefect artifacts of a run, and grading the demo against the simulator's truth."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import task

from models.evaluate import classification_metrics
from models.monitoring import MonitoringPolicy
from models.retrain import ModelState, RetrainDecision, retrain_decision
from pipelines.deliver.i18n import summary_label
from pipelines.deliver.params import ScoreParams
from pipelines.deliver.scoring_run import run_scoring
from pipelines.deliver.shard_pass import data_now
from pipelines.operate.caching import (
    IO_BACKOFF_SECONDS,
    IO_RETRIES,
    is_transient,
)
from pipelines.sample import generate as sample_data
from pipelines.scale.runner import shard_runner
from pipelines.scale.scoring import pass_shards
from pipelines.store.atomic import write_json_atomic
from pipelines.store.settings import Settings
from pipelines.store.staged import staged_version_dir
from pipelines.tasks.common import task_logger
from pipelines.tracking import monitoring
from pipelines.tracking.connect import configure_mlflow
from pipelines.tracking.registry import champion_version, load_champion
from pipelines.tracking.runs import (
    log_metrics_to_run,
)


@task(name="decide-retraining", task_run_name="decide retraining", tags=["mlflow"],
      retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def decide_retraining(
    settings: Settings, forced: bool, as_of: dt.date | None = None,
    policy: MonitoringPolicy | None = None,
) -> RetrainDecision:
    """Whether the chain retrains before scoring, and why (the registry gate still decides
    whether the new version becomes champion). With `as_of`, the champion's drift, track
    record, data growth and age at that date are measured for the rules."""
    configure_mlflow(settings)
    version = champion_version(settings)
    state = ModelState(champion_version=version, forced=forced)
    if as_of is not None and version is not None and not forced:  # forced: nothing to weigh
        champion = load_champion(settings)
        staged = staged_version_dir(settings)  # read one customer shard at a time
        data = data_now(settings, staged, as_of, champion.model.event_types,
                        pass_shards(staged))
        state = monitoring.model_state(settings, data, champion, as_of, forced,
                                       policy or MonitoringPolicy())
    decision = retrain_decision(state)
    task_logger().info("%s: %s", "retrain" if decision.retrain else "no retrain", decision.reason)
    return decision


@task(name="score-and-archive", task_run_name="score {as_of}", tags=["io", "mlflow"],
      retries=IO_RETRIES,
      retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def score_and_archive(settings: Settings, as_of: dt.date, params: ScoreParams) -> dict[str, Any]:
    """Score with the champion; archive list, workbook, report and metadata as a new run."""
    configure_mlflow(settings)  # this data dir's store, not whatever the process used last
    champion = load_champion(settings)
    # the command's Dask cluster when the CLI holds one; a scheduled run opens one here, for
    # both the feature build and the explanations, and stops it when scoring ends
    with shard_runner():
        # one version for the whole run: the Dask workers read their shards from this folder
        # while an ingest may publish the next one
        # and read by customer shard, never loaded whole
        result = run_scoring(settings, staged_version_dir(settings), as_of, champion, params)
    task_logger().info("scored %d customers -> %s", result["customers_scored"], result["run_dir"])
    return result


@task(name="publish-scoring-artifacts")
def publish_scoring_artifacts(settings: Settings, scored: dict[str, Any],
                              top_n: int = 25) -> None:
    """A table artifact with the top customers and a markdown one with headline numbers.

    The Prefect database keeps artifacts for ever and may sit on a shared server: no names,
    owners or contact details go there, and with `settings.pseudonymize` (`--pseudonymize`)
    customer ids become keyed hashes (`models.privacy`)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    from models.privacy import outbound_top_customers, pseudonymized_text

    key = settings.pseudonym_key if settings.pseudonymize else None
    risk = pd.read_parquet(scored["risk_list_parquet"])
    top = outbound_top_customers(risk.head(top_n), key)
    records = json.loads(top.to_json(orient="records", date_format="iso"))
    create_table_artifact(records, key="churn-top-customers",
                          description=f"Top {top_n} customers, data as of {scored['as_of']}")
    run_dir = Path(scored["run_dir"])
    markdown = (run_dir / "report.md").read_text(encoding="utf-8")
    if key is not None:
        markdown = pseudonymized_text(markdown, risk["customer_id"].astype(str), key)
    links = "\n".join(f"- {name}: `{run_dir / name}`" for name in
                      ("risk_list.xlsx", "risk_list.csv", "report.html", "metadata.json"))
    files = summary_label("files", scored.get("lang", "en"))
    create_markdown_artifact(markdown + f"\n## {files}\n\n" + links + "\n",
                             key="churn-scoring-summary",
                             description=f"Scoring run {run_dir.name}")


@task(name="grade-against-ground-truth")
def grade_against_ground_truth(
    settings: Settings, scored: dict[str, Any], trained: dict[str, Any]
) -> dict[str, float]:
    """Sample data only: compare the risk list with the simulator's true probabilities.

    The simulator knows each customer's true churn probability after the final cutoff and
    what really happened; the AUC of the true probabilities is the best any model could do.
    """
    truth_path = sample_data.ground_truth_path(settings)
    if not truth_path.exists():
        return {}
    truth = pd.read_csv(truth_path, dtype={"customer_id": str})
    risk = pd.read_parquet(scored["risk_list_parquet"])
    joined = risk.merge(truth, on="customer_id", how="inner", validate="one_to_one")
    outcome = joined["churned"].astype(int).to_numpy()
    graded = {
        "truth_customers": float(len(joined)),
        "truth_model_roc_auc": classification_metrics(
            outcome, joined["churn_probability"]
        )["roc_auc"],
        "truth_recency_roc_auc": classification_metrics(
            outcome, joined["days_since_last_purchase"].rank(pct=True)
        )["roc_auc"],
        "truth_ceiling_roc_auc": classification_metrics(
            outcome, joined["true_churn_probability"]
        )["roc_auc"],
    }
    log_metrics_to_run(settings, trained["run_id"], graded)
    write_json_atomic(graded, Path(scored["run_dir"]) / "ground_truth_grading.json")
    return graded
