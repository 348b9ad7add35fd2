"""The monitoring steps of the flows: log a scoring run's drift check, grade the shipped
lists, record why the chain retrained, and alert (`alerts`) on what an operator must know.

None of these steps may fail the run it belongs to for a monitoring reason: a check that
cannot be made is logged; only real IO errors surface (and are retried like other IO).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.exceptions import MissingContextError

from models.monitoring import MonitoringPolicy
from models.retrain import RetrainDecision
from pipelines.deliver.monitoring_section import track_record_chart
from pipelines.deliver.shard_pass import track_record_of
from pipelines.operate import alerts
from pipelines.operate.caching import IO_BACKOFF_SECONDS, IO_RETRIES, is_transient
from pipelines.scale.scoring import pass_shards
from pipelines.store.atomic import write_bytes_atomic
from pipelines.store.settings import Settings
from pipelines.store.staged import staged_version_dir
from pipelines.tracking import monitoring


def _logger() -> logging.Logger | logging.LoggerAdapter:
    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("churn")


@task(name="monitor-scoring-run", task_run_name="monitor {scored[as_of]}", tags=["mlflow"],
      retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def monitor_scoring_run(settings: Settings, scored: dict[str, Any],
                        policy: MonitoringPolicy) -> dict[str, Any]:
    """Log the run's monitoring to MLflow (linked to model version and scoring run); alert on
    drift, a recommended retrain, an empty or a suspiciously small list."""
    path = scored.get("monitoring")
    record = json.loads(Path(path).read_text()) if path else None
    run_id = None
    if record is not None:
        run_id = monitoring.log_monitoring_run(settings, record, Path(scored["run_dir"]).name,
                                               policy)
        _logger().info("monitoring run %s: %s, score PSI %.3f, drifted %s", run_id,
                       "drift" if record["drift"] else "stable", record["score_psi"],
                       record["drifted_features"] or "none")
    else:
        _logger().warning("no training reference for version %s: drift not checked",
                          scored.get("model_version"))
    raised = []
    for kind, message, details in alerts.scoring_alerts(scored, record):
        alerts.send_alert(settings, kind, message, details, _logger())
        raised.append(kind)
    return {"monitoring_run_id": run_id, "alerts": raised,
            "drift": bool(record and record["drift"]),
            "retrain": (record or {}).get("retrain")}


@task(name="alert-training", task_run_name="alert training")
def alert_training(settings: Settings, trained: dict[str, Any]) -> str:
    kind, message, details = alerts.training_alert(trained)
    alerts.send_alert(settings, kind, message, details, _logger())
    return kind


@task(name="record-retrain-reason", task_run_name="record retrain reason", tags=["mlflow"],
      retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF_SECONDS, retry_condition_fn=is_transient)
def record_retrain_reason(settings: Settings, decision: RetrainDecision,
                          trained: dict[str, Any] | None) -> None:
    """The reason as a tag of the training run and as a Prefect artifact of the chain."""
    from prefect.artifacts import create_markdown_artifact

    if trained is not None:
        monitoring.tag_training_run(settings, trained["run_id"],
                                    {"retrain_reason": decision.reason})
    verdict = "retrained" if decision.retrain else "not retrained"
    create_markdown_artifact(f"# Retraining\n\n**{verdict}**: {decision.reason}\n",
                             key="churn-retrain-decision", description=verdict)


@task(name="grade-shipped-lists", task_run_name="track record {data_end}",
      tags=["io", "mlflow"], retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF_SECONDS,
      retry_condition_fn=is_transient)
def grade_shipped_lists(settings: Settings, data_end: dt.date) -> dict[str, Any]:
    """The track record of every archived list at `data_end`: files, chart, MLflow run."""
    staged = staged_version_dir(settings)  # each list labelled one customer shard at a time
    record = track_record_of(settings, staged, data_end, pass_shards(staged))
    files = monitoring.write_track_record(settings, record)
    chart = track_record_chart(record, "en")
    png = base64.b64decode(chart.split(",", 1)[1]) if chart else None
    if png:
        files["chart"] = str(write_bytes_atomic(png, Path(files["csv"]).with_suffix(".png")))
    run_id = monitoring.log_track_record_run(settings, record, data_end, png)
    _logger().info("track record at %s: %d list(s), %d graded -> %s (MLflow run %s)",
                   data_end, len(record.lists), len(record.graded), files["csv"], run_id)
    lists = json.loads(record.lists.to_json(orient="records", date_format="iso"))
    return {"data_end": str(data_end), "files": files, "mlflow_run_id": run_id,
            "lists": lists, "graded": len(record.graded)}


