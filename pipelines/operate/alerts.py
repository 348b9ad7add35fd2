"""Alerts: one JSON POST per event to the webhook in `CHURN_ALERT_WEBHOOK` (`Settings`).

What is alerted (`kind`): `run_failed` (a flow of the chain failed), `drift` (the scored
population moved past the monitoring policy's threshold), `retrain_recommended`,
`challenger_promoted`, `challenger_rejected`, `list_empty` and `list_small` (a list with
fewer customers than the policy's share of the training population). The body is
`{"source": "churn-pipeline", "kind", "severity", "message", "data_dir", "details"}`, which
Slack/Teams-style incoming webhooks and Prefect webhooks accept as text + JSON.

An alert never fails a run: without a webhook it is only logged, and a post that fails
(unreachable, refused, a non-2xx answer, a timeout) is a logged warning.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any, Literal

from pipelines.store.settings import Settings

Severity = Literal["info", "warning", "error"]
TIMEOUT_SECONDS = 5.0
SEVERITY: dict[str, Severity] = {
    "run_failed": "error", "drift": "warning", "retrain_recommended": "info",
    "challenger_promoted": "info", "challenger_rejected": "warning", "list_empty": "error",
    "list_small": "warning",
}
_log = logging.getLogger("churn.alerts")


def alert_payload(settings: Settings, kind: str, message: str,
                  details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"source": "churn-pipeline", "kind": kind, "severity": SEVERITY.get(kind, "info"),
            "message": message, "text": f"[churn] {message}", "data_dir": str(settings.data_dir),
            "details": details or {}}


def send_alert(settings: Settings, kind: str, message: str,
               details: dict[str, Any] | None = None,
               logger: logging.Logger | logging.LoggerAdapter | None = None) -> bool:
    """Log the alert and post it to the configured webhook; whether the post succeeded."""
    log = logger or _log
    payload = alert_payload(settings, kind, message, details)
    level = logging.INFO if payload["severity"] == "info" else logging.WARNING
    log.log(level, "alert %s: %s", kind, message)
    if not settings.alert_webhook:
        return False
    request = urllib.request.Request(
        settings.alert_webhook, data=json.dumps(payload, default=str).encode("utf-8"),
        headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError, ValueError) as error:
        log.warning("alert %s could not be posted to the webhook: %s", kind, error)
        return False


def scoring_alerts(scored: dict[str, Any], monitoring: dict[str, Any] | None
                   ) -> list[tuple[str, str, dict[str, Any]]]:
    """`(kind, message, details)` of what a scoring run should alert about."""
    alerts: list[tuple[str, str, dict[str, Any]]] = []
    where = {"as_of": scored.get("as_of"), "run_dir": scored.get("run_dir"),
             "model_version": scored.get("model_version")}
    count = int(scored.get("customers_scored", 0))
    if count == 0:
        alerts.append(("list_empty", f"the risk list of {scored.get('as_of')} is empty", where))
    if monitoring is None:
        return alerts
    if count and monitoring.get("small_list"):
        alerts.append(("list_small", f"the risk list of {scored.get('as_of')} has {count} "
                       f"customers, {monitoring['population_ratio']:.0%} of the "
                       f"{monitoring['population_training']} at training", where))
    if monitoring.get("drift"):
        drifted = monitoring.get("drifted_features", [])
        alerts.append(("drift", f"drift at {scored.get('as_of')}: score PSI "
                       f"{monitoring['score_psi']:.3f}, {len(drifted)} feature(s) past PSI "
                       f"{monitoring['psi_threshold']:g}"
                       + (f" ({', '.join(drifted[:5])})" if drifted else ""),
                       {**where, "score_psi": monitoring["score_psi"],
                        "drifted_features": drifted}))
    retrain = monitoring.get("retrain") or {}
    if retrain.get("due"):
        alerts.append(("retrain_recommended", f"retraining recommended: {retrain['reason']}",
                       where))
    return alerts


def training_alert(trained: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """The alert of a training run's gate decision."""
    version = trained.get("model_version")
    details = {"model_version": version, "run_id": trained.get("run_id"),
               "reason": trained.get("promotion_reason"),
               "roc_auc": (trained.get("validation") or {}).get("roc_auc")}
    if trained.get("promoted"):
        return ("challenger_promoted", f"version {version} is the new champion: "
                f"{trained.get('promotion_reason')}", details)
    return ("challenger_rejected", f"challenger version {version} was not promoted: "
            f"{trained.get('promotion_reason')}", details)

def alert_on_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect `on_failure` hook: a failed flow run becomes a `run_failed` alert."""
    try:
        settings = Settings.from_env((flow_run.parameters or {}).get("data_dir"))
        send_alert(settings, "run_failed",
                          f"{flow.name} run {flow_run.name} failed: {state.message}",
                          {"flow": flow.name, "flow_run": flow_run.name,
                           "flow_run_id": str(flow_run.id)})
    except Exception as error:  # noqa: BLE001 - a hook must never mask the failure itself
        logging.getLogger("churn.alerts").warning("failure alert not sent: %s", error)
