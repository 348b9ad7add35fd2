"""prefect.yaml must name real flows, pass parameters they accept, and use valid crons."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
import yaml
from prefect.client.schemas.schedules import CronSchedule
from prefect.flows import Flow

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENTS = yaml.safe_load((ROOT / "prefect.yaml").read_text())["deployments"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_deployment_points_at_a_flow_with_matching_parameters(deployment):
    path, name = deployment["entrypoint"].split(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, name)
    assert isinstance(flow, Flow)
    accepted = set(inspect.signature(flow.fn).parameters)
    assert set(deployment["parameters"]) <= accepted
    flow.validate_parameters(deployment["parameters"])


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_schedules_are_valid_crons(deployment):
    assert deployment["schedules"]
    for schedule in deployment["schedules"]:
        CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])


def test_every_scheduled_job_is_deployed():
    names = {d["name"]: d["entrypoint"] for d in DEPLOYMENTS}
    assert names == {"nightly-ingest": "pipelines/flows.py:ingest_flow",
                     "monthly-training": "pipelines/flows.py:train_flow",
                     "weekly-run": "pipelines/flows.py:weekly_flow",
                     "weekly-monitoring": "pipelines/flows.py:monitor_flow"}


def test_every_schedule_uses_the_one_declared_time_zone():
    from zoneinfo import ZoneInfo

    zone = yaml.safe_load((ROOT / "prefect.yaml").read_text())["definitions"][
        "schedule_timezone"]
    ZoneInfo(zone)
    assert {s["timezone"] for d in DEPLOYMENTS for s in d["schedules"]} == {zone}


def test_churn_serve_reads_the_same_deployments_and_can_override_the_time_zone():
    from pipelines.operate.serve import runner_deployments, scheduled_deployments

    served = scheduled_deployments(timezone="Europe/Amsterdam")
    assert [d.name for d in served] == [d["name"] for d in DEPLOYMENTS]
    assert [d.parameters for d in served] == [d["parameters"] for d in DEPLOYMENTS]
    assert {zone for d in served for _, zone in d.crons} == {"Europe/Amsterdam"}
    runners = runner_deployments(served)
    assert [r.entrypoint for r in runners] == [
        "pipelines.flows.ingest_flow", "pipelines.flows.train_flow",
        "pipelines.flows.weekly_flow", "pipelines.flows.monitor_flow"]
    assert runners[2].schedules[0].schedule.timezone == "Europe/Amsterdam"


def _defaults(flow: Flow) -> dict:
    """Every default of a flow's parameters, typed parameter models expanded to their fields."""
    from pydantic import BaseModel

    out = {}
    for name, parameter in inspect.signature(flow.fn).parameters.items():
        annotation = flow.fn.__annotations__.get(name, "")
        model = next((m for m in _parameter_models() if m.__name__ in str(annotation)), None)
        out[name] = model().model_dump() if model is not None and issubclass(model, BaseModel) \
            else parameter.default
    return out


def _parameter_models():
    from models.params import TrainParams, TuningParams
    from models.promotion import PromotionMargin
    from pipelines.deliver.params import ScoreParams

    return [TrainParams, TuningParams, PromotionMargin, ScoreParams]


def _restated(given, default) -> list:
    """The leaves of `given` equal to the default they would get anyway."""
    if isinstance(given, dict) and isinstance(default, dict):
        return [k for key, value in given.items()
                for k in (f"{key}.{leaf}" for leaf in _restated(value, default.get(key)))]
    return [""] if given == default and given is not None else []


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=lambda d: d["name"])
def test_deployments_override_only_what_differs_from_the_typed_defaults(deployment):
    """Defaults are declared once, in the typed parameter models; a deployment that restated
    one would silently keep an old value when the model's default changes."""
    path, name = deployment["entrypoint"].split(":")
    flow = getattr(importlib.import_module(path.removesuffix(".py").replace("/", ".")), name)
    defaults = _defaults(flow)
    restated = [f"{key}{('.' + leaf) if leaf else ''}".rstrip(".")
                for key, value in deployment["parameters"].items()
                for leaf in _restated(value, defaults.get(key))]
    assert restated == []


def test_a_stale_parameter_name_is_refused_not_ignored():
    from pipelines.flows import train_flow

    with pytest.raises(Exception, match="horizon_days"):
        train_flow.validate_parameters({"params": {"horizon_days": 60}})
