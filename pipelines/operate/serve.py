"""`churn serve`: the deployments of `prefect.yaml`, run on their schedules for one data dir.

Schedules never fire without a Prefect server, and a server alone runs nothing: something
must pick up the scheduled runs. `churn serve` is both in one command. It uses the data dir's
local API (`local_api`: started if none is running, or the API the user configured) and
serves every deployment of `prefect.yaml` from this process (`prefect.serve`: each flow run in
a child process, no work pool needed). Ctrl-C (or SIGTERM) stops serving, and the local
server too when this command started it. A production set-up with a shared server and a
process worker uses the same `prefect.yaml` through `prefect deploy --all` instead.

`prefect.yaml` stays the one place where schedules and parameters are declared; this module
only reads it. Entry points become module paths (`pipelines.flows.weekly_flow`), so the
flows load whatever directory `churn serve` was started from.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
PREFECT_YAML = ROOT / "prefect.yaml"


@dataclass(frozen=True)
class ScheduledDeployment:
    """One entry of `prefect.yaml`, as `churn serve` runs it."""

    name: str
    flow_module: str
    flow_function: str
    description: str
    parameters: dict[str, Any]
    crons: tuple[tuple[str, str], ...]  # (cron, time zone)


def scheduled_deployments(path: Path = PREFECT_YAML, timezone: str | None = None
                          ) -> list[ScheduledDeployment]:
    """The deployments declared in `path`; `timezone` replaces every schedule's own."""
    declared = yaml.safe_load(path.read_text(encoding="utf-8")).get("deployments") or []
    out = []
    for entry in declared:
        file, function = entry["entrypoint"].split(":")
        out.append(ScheduledDeployment(
            name=entry["name"],
            flow_module=file.removesuffix(".py").replace("/", "."),
            flow_function=function,
            description=entry.get("description", ""),
            parameters=dict(entry.get("parameters") or {}),
            crons=tuple((s["cron"], timezone or s.get("timezone", "UTC"))
                        for s in entry.get("schedules") or []),
        ))
    return out


def runner_deployments(deployments: list[ScheduledDeployment]) -> list[Any]:
    """`RunnerDeployment`s for `prefect.serve` (imports Prefect and the flows)."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    runners = []
    for deployment in deployments:
        flow = getattr(importlib.import_module(deployment.flow_module), deployment.flow_function)
        runners.append(flow.to_deployment(
            name=deployment.name, description=deployment.description,
            parameters=deployment.parameters,
            schedules=[Cron(cron, timezone=zone) for cron, zone in deployment.crons],
            entrypoint_type=EntrypointType.MODULE_PATH,
        ))
    return runners


def serve_until_stopped(deployments: list[ScheduledDeployment]) -> None:
    """Serve `deployments` until Ctrl-C or SIGTERM; schedules are paused on the way out (a
    stopped `churn serve` leaves no run waiting for a runner that is gone)."""
    from prefect import serve

    # prefect.serve returns on Ctrl-C; on SIGTERM its runner stops and raises SystemExit(0).
    serve(*runner_deployments(deployments), print_starting_message=False,
          pause_on_shutdown=True)
