"""What every `churn` command shares: its options, its environment, its error handling.

Nothing here imports Prefect or MLflow at import time (`churn --help` stays instant).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel
from rich.text import Text

from pipelines.console import console, err
from pipelines.deliver.params import ScoreParams
from pipelines.store.settings import data_directory

if TYPE_CHECKING:
    from pipelines.operate.local_api import ApiChoice

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", envvar="CHURN_DATA_DIR", show_default="./data",
        help="Data directory (raw/, staged/, features/, scored/, mlflow/). Env: CHURN_DATA_DIR.",
    ),
]
AsOf = Annotated[
    dt.datetime | None,
    typer.Option(
        "--as-of", formats=["%Y-%m-%d"],
        help="Cutoff date YYYY-MM-DD (UTC): features see events up to the end of this day. "
             "Default: the last event date in the staged data.",
    ),
]
DataEnd = Annotated[
    dt.datetime | None,
    typer.Option(
        "--data-end", "--as-of", formats=["%Y-%m-%d"],
        help="Last day YYYY-MM-DD (UTC) the labels may look at: snapshots are taken at cutoffs "
             "whose label windows end by it. Default: the last event date in the staged "
             "data. (--as-of is an older name for this option.)",
    ),
]


def default(model: type[BaseModel], field: str) -> Any:
    """A typed parameter model's default for `field`: declared there, only shown here."""
    return model.model_fields[field].get_default(call_default_factory=True)


VERBOSE = {"on": False}
# The Prefect API this command chose (None until a command that runs flows prepared it).
API: dict[str, ApiChoice | None] = {"choice": None}


def prepare_environment(data_dir: Path | None, prefect: bool = True, *,
                        step: str | None = None) -> str:
    """Embedded-default settings for Prefect, unless the user set them; the data dir to use.

    With `prefect`, also the Prefect API the command's flows use (`operate.local_api`: the
    data dir's long-lived local server, unless the user configured one). Runs before Prefect
    is imported, because Prefect reads its settings once, at import. With `step` (a command
    that reads a data dir rather than making one), a data dir that does not exist ends the
    command at once with one sentence, before anything is created in it."""
    root = data_directory(data_dir)
    if step is not None and not root.is_dir():
        err.print(Text(f"{step} failed", style="red") + Text(
            f": the data dir {root} does not exist; check --data-dir (or $CHURN_DATA_DIR), "
            f"or create it with `churn generate` or by putting exports under {root}/raw/ "
            "and running `churn ingest`"), highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    # A cold ephemeral server on 2 cores needs more than Prefect's 20 s default to start.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(root / ".prefect"))
    # Prefect creates its home without parents and fails later on a fresh data dir.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    # Run logs still reach the Prefect API (and UI) in full; the terminal shows our own
    # summaries, and Prefect's console output only with --verbose.
    if not VERBOSE["on"]:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if prefect:
        from pipelines.operate.local_api import use_local_api

        API["choice"] = use_local_api(Path(os.environ["PREFECT_HOME"]).expanduser())
    return str(root)


def run_step(step: str, call) -> Any:
    """Run a flow; a known failure becomes its one sentence (`operate.failures`, the same
    one a scheduled run's Failed state carries) and exit code 1, not a traceback."""
    from pipelines.operate.failures import failure_message

    try:
        with console.status(f"[bold]{step}[/bold] (Prefect flow running)…"):
            return call()
    except Exception as error:
        message = failure_message(step, error)
        if message is None:  # not a known failure: its traceback is the useful report
            raise
        failed, _, why = message.partition(": ")
        # headers such as `Bedrag [€]` in a reason are not markup
        err.print(Text(failed, style="red") + Text(f": {why}"), highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


# `--tier-policy probability`: the fixed probability cut-offs instead of the lift-based default.
PROBABILITY_TIERS = "probability"


def score_params(sort, lang, csv_delimiter, tier_policy, critical_top, lapsed_after_days=None,
                  step="score", holdout_share=None):
    """Validated scoring parameters, or one clear error line and exit code 1."""
    from pydantic import ValidationError

    from models.tiers import TierPolicy

    try:
        if tier_policy is not None and critical_top is not None:
            raise ValueError("use either --tier-policy or --critical-top, not both")
        policy = TierPolicy()
        if tier_policy is not None and str(tier_policy) == PROBABILITY_TIERS \
                and not tier_policy.exists():
            policy = TierPolicy.probability_based()
        elif tier_policy is not None:
            policy = TierPolicy.from_json(tier_policy.read_text(encoding="utf-8"))
        elif critical_top is not None:
            policy = TierPolicy.capacity_based(critical=critical_top)
        if lapsed_after_days is not None:
            policy = policy.with_lapsed_after(lapsed_after_days)
        if holdout_share is not None:  # every tier's share; a tier's own share still wins
            policy = TierPolicy.model_validate({**policy.model_dump(),
                                                "holdout_share": holdout_share})
        return ScoreParams(tier_policy=policy, sort=sort, lang=lang, csv_delimiter=csv_delimiter)
    except (ValidationError, ValueError, OSError) as error:
        first = str(error).splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        err.print(f"[red]{step} failed[/red]: invalid option: {detail}")
        raise typer.Exit(1) from None
