"""`churn run` (the weekly chain in one process) and `churn server` (its local Prefect API)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli_common import (
    API,
    COOLDOWN_DAYS_DEFAULT,
    LANGS,
    REASONS_FOR_DEFAULT,
    SORT_DEFAULT,
    ContactCapacity,
    CooldownDays,
    DataDir,
    ReasonsFor,
    Sort,
    choices,
    default,
    prepare_environment,
    run_step,
    score_params,
)
from pipelines.console import console, print_chain
from pipelines.deliver.params import ScoreParams
from pipelines.store.remote import is_remote


def run(
    data_dir: DataDir = None,
    retrain: Annotated[bool, typer.Option(
        "--retrain", help="Train a new version even when no rule asks for it (the promotion "
                          "gate still decides whether it becomes champion).")] = False,
    skip_bad_files: Annotated[bool, typer.Option(
        "--skip-bad-files", help="Stage the readable files and list the unreadable ones "
                                 "instead of failing the whole run.")] = False,
    lang: Annotated[str, typer.Option(
        metavar=choices(LANGS), help="Language of the risk list and report: en, tr or nl.")
    ] = default(ScoreParams, "lang"),
    sort: Sort = SORT_DEFAULT,
    contact_capacity: ContactCapacity = None,
    cooldown_days: CooldownDays = COOLDOWN_DAYS_DEFAULT,
    reasons_for: ReasonsFor = REASONS_FOR_DEFAULT,
) -> None:
    """The weekly chain in one process: ingest → train if due → score, one line per step.

    Training is due when there is no champion model yet, or with --retrain (reason printed).

    Unchanged raw files and staged tables reuse the last staging and snapshots (cached).

    One Prefect flow run, churn-weekly, with the steps as subflows; one run per data dir.

    --sort, --contact-capacity, --cooldown-days and --reasons-for order, flag and explain
    the list as `churn score` does; other options (label window, tier policy) take their
    defaults: see train and score.
    """
    params = score_params(sort, lang, None, None, None, step="run",
                          contact_capacity=contact_capacity, cooldown_days=cooldown_days,
                          reasons_for=reasons_for)
    root = prepare_environment(data_dir, step="run")
    from pipelines.flows import weekly_flow

    result = run_step("run", lambda: weekly_flow(root, retrain, skip_bad_files,
                                                 score_params=params))
    print_chain(result)


def serve(
    data_dir: DataDir = None,
    timezone: Annotated[str | None, typer.Option(
        help="IANA time zone of every schedule (e.g. Europe/Amsterdam), instead of the one "
             "each schedule declares in prefect.yaml.")] = None,
) -> None:
    """Run prefect.yaml's deployments on their schedules for the data dir, until Ctrl-C.

    Starts (or reuses) the data dir's local Prefect API and serves every deployment from this
    process: each scheduled or triggered run executes in a child process. Ctrl-C stops
    serving, and the local API too when this command started it.
    """
    from pipelines.operate.local_api import stop_local_api
    from pipelines.operate.serve import scheduled_deployments, serve_until_stopped

    try:
        deployments = scheduled_deployments(timezone=timezone)
        if timezone is not None:
            from zoneinfo import ZoneInfo

            ZoneInfo(timezone)
    except (OSError, ValueError, KeyError) as error:
        console.print(f"[red]serve failed[/red]: {error}", soft_wrap=True)
        raise typer.Exit(1) from None
    if is_remote(data_dir):  # its flow runs would each need their own pull and push
        console.print("[red]serve failed[/red]: serve needs a local data dir; run the "
                      "commands on a schedule instead (cron, CI) with the s3:// data dir",
                      soft_wrap=True)
        raise typer.Exit(1)
    root = prepare_environment(data_dir)
    choice = API["choice"]
    if choice is None or choice.url is None:
        console.print("[red]serve failed[/red]: no Prefect server could be started, and "
                      "schedules never fire without one (see the local API log under "
                      f"{os.environ['PREFECT_HOME']})", soft_wrap=True)
        raise typer.Exit(1)
    os.environ["CHURN_DATA_DIR"] = root  # flow runs are child processes: they read it
    console.print(f"Prefect API: {choice.url} (UI: {choice.url.removesuffix('/api')}); "
                  f"data dir: {root}", soft_wrap=True)
    for deployment in deployments:
        when = ", ".join(f"{cron} ({zone})" for cron, zone in deployment.crons)
        console.print(f"  {deployment.name:<18} {when}", soft_wrap=True)
    console.print("serving; Ctrl-C stops", soft_wrap=True)
    try:
        serve_until_stopped(deployments)
    finally:
        if choice.source == "started":
            pid = stop_local_api(Path(os.environ["PREFECT_HOME"]).expanduser())
            console.print(f"stopped the local Prefect API (pid {pid})")


server_app = typer.Typer(
    help="The data dir's local Prefect API, which `churn` commands start once and reuse.",
    no_args_is_help=True,
)


def _prefect_home(data_dir: str | None) -> Path:
    prepare_environment(data_dir, prefect=False)
    return Path(os.environ["PREFECT_HOME"]).expanduser()


@server_app.command()
def status(data_dir: DataDir = None) -> None:
    """Print the URL of the data dir's local Prefect API (and its UI) if it is running."""
    from pipelines.operate.local_api import configured_api_url, recorded_api_url

    home = _prefect_home(data_dir)
    configured = configured_api_url(home)
    if configured:
        console.print(f"configured Prefect API (used by every command): {configured}",
                      soft_wrap=True)
        return
    url = recorded_api_url(home)
    if url is None:
        console.print("no local Prefect API running; the next command starts one")
        return
    console.print(f"local Prefect API: {url} (UI: {url.removesuffix('/api')})", soft_wrap=True)


@server_app.command()
def stop(data_dir: DataDir = None) -> None:
    """Stop the data dir's local Prefect API and its warm workers (the next command starts
    them again)."""
    from pipelines.operate.local_api import stop_local_api
    from pipelines.operate.warm_worker import stop_workers
    from pipelines.store.settings import data_directory

    pid = stop_local_api(_prefect_home(data_dir))
    console.print("no local Prefect API was running" if pid is None
                  else f"stopped the local Prefect API (pid {pid})")
    # a warm worker never serves an s3:// data dir (pipelines.operate.warm_worker)
    workers = 0 if is_remote(data_dir) else stop_workers(data_directory(data_dir))
    if workers:
        console.print(f"stopped {workers} warm worker(s)")


__all__ = ["API", "run", "serve", "server_app"]
