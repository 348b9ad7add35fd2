"""Alerts: JSON posts to a webhook receiver on loopback; a failed post never raises."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from pipelines.operate import alerts
from pipelines.store.settings import Settings


@pytest.fixture
def receiver():
    """A tiny webhook on 127.0.0.1: records every JSON body it is posted."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"json": json.loads(body), "type": self.headers["Content-Type"]})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()
    server.server_close()


def _settings(tmp_path, url):
    return Settings(data_dir=tmp_path, mlflow_tracking_uri="sqlite:///x.db", alert_webhook=url)


def test_the_webhook_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_ALERT_WEBHOOK", "http://127.0.0.1:9/hook")
    assert Settings.from_env(tmp_path).alert_webhook == "http://127.0.0.1:9/hook"
    monkeypatch.delenv("CHURN_ALERT_WEBHOOK")
    assert Settings.from_env(tmp_path).alert_webhook is None


def test_scoring_alerts_reach_the_webhook_as_json(tmp_path, receiver):
    url, received = receiver
    scored = {"as_of": "2026-10-31", "run_dir": "/x", "model_version": "3",
              "customers_scored": 40}
    monitoring = {"small_list": True, "population_ratio": 0.2, "population_training": 200,
                  "drift": True, "score_psi": 0.31, "psi_threshold": 0.2,
                  "drifted_features": ["tenure_days"],
                  "retrain": {"due": True, "reason": "the score drifted: PSI 0.310 >= 0.2"}}
    for kind, message, details in alerts.scoring_alerts(scored, monitoring):
        assert alerts.send_alert(_settings(tmp_path, url), kind, message, details)
    kinds = [r["json"]["kind"] for r in received]
    assert kinds == ["list_small", "drift", "retrain_recommended"]
    drift = received[1]["json"]
    assert received[1]["type"] == "application/json"
    assert drift["source"] == "churn-pipeline" and drift["severity"] == "warning"
    assert drift["details"]["score_psi"] == 0.31
    assert drift["details"]["drifted_features"] == ["tenure_days"]
    assert "PSI 0.310" in drift["message"] and drift["data_dir"] == str(tmp_path)
    assert received[0]["json"]["message"].startswith("the risk list of 2026-10-31 has 40")


def test_an_empty_list_and_a_gate_decision_are_alerted(tmp_path, receiver):
    url, received = receiver
    settings = _settings(tmp_path, url)
    for kind, message, details in alerts.scoring_alerts(
            {"as_of": "2026-10-31", "customers_scored": 0}, None):
        alerts.send_alert(settings, kind, message, details)
    for trained in ({"model_version": "4", "promoted": True, "promotion_reason": "beats 3"},
                    {"model_version": "5", "promoted": False, "promotion_reason": "worse"}):
        alerts.send_alert(settings, *alerts.training_alert(trained))
    assert [(r["json"]["kind"], r["json"]["severity"]) for r in received] == [
        ("list_empty", "error"), ("challenger_promoted", "info"),
        ("challenger_rejected", "warning")]
    assert received[2]["json"]["details"]["model_version"] == "5"


def test_a_failed_post_is_a_logged_warning_not_an_error(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="churn.alerts"):
        sent = alerts.send_alert(_settings(tmp_path, "http://127.0.0.1:9/nothing-listens"),
                                 "drift", "score PSI 0.4")
    assert sent is False
    assert "could not be posted" in caplog.text


def test_without_a_webhook_an_alert_is_only_logged(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="churn.alerts"):
        assert alerts.send_alert(_settings(tmp_path, None), "challenger_promoted", "v2") is False
    assert "alert challenger_promoted: v2" in caplog.text


def test_the_failure_hook_alerts_and_never_raises(tmp_path, receiver, monkeypatch):
    from types import SimpleNamespace

    from pipelines.operate.alerts import alert_on_failure

    url, received = receiver
    monkeypatch.setenv("CHURN_ALERT_WEBHOOK", url)
    flow = SimpleNamespace(name="churn-weekly")
    run = SimpleNamespace(name="weekly 2026-12-01", id="abc",
                          parameters={"data_dir": str(tmp_path)})
    alert_on_failure(flow, run, SimpleNamespace(message="ingest failed"))
    assert received[0]["json"]["kind"] == "run_failed"
    assert "ingest failed" in received[0]["json"]["message"]
    alert_on_failure(flow, None, None)  # a broken call is a warning, not an exception
