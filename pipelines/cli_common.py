"""What every `churn` command shares: its options, its environment, its error handling.

Nothing here imports Prefect or MLflow at import time (`churn --help` stays instant).
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, get_args

import typer
from pydantic import BaseModel
from rich.text import Text

from models.params import SortKey, TuningObjective
from pipelines.console import console, err
from pipelines.deliver.i18n import Lang
from pipelines.deliver.params import ReasonsForKey, ScoreParams
from pipelines.store.permissions import owner_only, store_paths
from pipelines.store.remote import is_remote
from pipelines.store.settings import data_directory, protect_new_files

if TYPE_CHECKING:
    from pipelines.operate.local_api import ApiChoice

DataDir = Annotated[
    str | None,
    typer.Option(
        "--data-dir", envvar="CHURN_DATA_DIR", show_default="./data",
        help="Data directory (raw/, staged/, features/, scored/, mlflow/): a folder, or "
             "s3://bucket/prefix (worked on through a local copy; README 'Object storage'). "
             "Env: CHURN_DATA_DIR.",
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


# The allowed values of the enum-like options, read from the types that declare them.
SORTS: tuple[str, ...] = get_args(SortKey)
LANGS: tuple[str, ...] = get_args(Lang)
TUNE_OBJECTIVES: tuple[str, ...] = get_args(TuningObjective)
REASONS_FOR: tuple[str, ...] = get_args(ReasonsForKey)


def one_of(allowed: Sequence[str]) -> str:
    """`a, b or c`: how a sentence lists allowed values."""
    return ", ".join(allowed[:-1]) + f" or {allowed[-1]}" if len(allowed) > 1 else allowed[0]


def choices(allowed: Sequence[str]) -> str:
    """`a|b|c`: how `--help` shows an option's allowed values (its metavar)."""
    return "|".join(allowed)


# The ordering options `churn score` and `churn run` share, declared once; their defaults
# are the `ScoreParams` fields' (`SORT_DEFAULT`, `COOLDOWN_DAYS_DEFAULT`,
# `REASONS_FOR_DEFAULT`, read below).
Sort = Annotated[
    str,
    typer.Option(metavar=choices(SORTS),
                 help="Rank by 'tier' (the most urgent tier first, largest value at risk first "
                      "within it), 'value' (value at risk alone), 'probability' or "
                      "'saved_value' (expected saved value: the measured uplift of the "
                      "customer's tier and action x revenue - cost; README 'Closing the "
                      "loop')."),
]
ContactCapacity = Annotated[
    int | None,
    typer.Option(min=1, help="Flag the N customers with the highest positive expected saved "
                             "value contact_this_week (holdout and cooldown left out), "
                             "whatever the sort."),
]
ReasonsFor = Annotated[
    str,
    typer.Option("--reasons-for", metavar=choices(REASONS_FOR),
                 help="Whose reasons (and SHAP contributions) are computed: 'listed', every "
                      "customer outside the Safe tier (the ones a retention team reads), or "
                      "'all'. Explaining is most of a run's time."),
]
CooldownDays = Annotated[
    int,
    typer.Option(min=0, help="Nobody is flagged for contact within this many days after a "
                             "recorded action."),
]


def refuse(step: str, why: str) -> NoReturn:
    """End the command with `<step> failed: <why>` and exit code 1."""
    err.print(Text(f"{step} failed", style="red") + Text(f": {why}"), highlight=False,
              soft_wrap=True)
    raise typer.Exit(1)


def require_choice(step: str, option: str, value: str, allowed: Sequence[str]) -> str:
    """`value` when it is one of `allowed`, else the command ends with one sentence."""
    if value not in allowed:
        refuse(step, f"{option} must be {one_of(allowed)}, not {value!r}")
    return value


def default(model: type[BaseModel], field: str) -> Any:
    """A typed parameter model's default for `field`: declared there, only shown here."""
    return model.model_fields[field].get_default(call_default_factory=True)


SORT_DEFAULT: str = default(ScoreParams, "sort")
COOLDOWN_DAYS_DEFAULT: int = default(ScoreParams, "cooldown_days")
REASONS_FOR_DEFAULT: str = default(ScoreParams, "reasons_for")

VERBOSE = {"on": False}
# The Prefect API this command chose (None until a command that runs flows prepared it).
API: dict[str, ApiChoice | None] = {"choice": None}


def prepare_environment(data_dir: str | Path | None, prefect: bool = True, *,
                        step: str | None = None) -> str:
    """Embedded-default settings for Prefect, unless the user set them; the data dir to use.

    With `prefect`, also the Prefect API the command's flows use (`operate.local_api`: the
    data dir's long-lived local server, unless the user configured one). Runs before Prefect
    is imported, because Prefect reads its settings once, at import. With `step` (a command
    that reads a data dir rather than making one), a data dir that does not exist ends the
    command at once with one sentence, before anything is created in it. An s3:// data dir
    is first pulled into its local working copy, which the command then works on (and which
    is pushed back when the command succeeded: `push_remote_data_dir`)."""
    chosen = data_dir or os.environ.get("CHURN_DATA_DIR")
    if is_remote(chosen):
        data_dir = _open_remote(str(chosen), step)
    root = data_directory(data_dir)
    if step is not None and not root.is_dir():
        refuse(step, f"the data dir {root} does not exist; check --data-dir (or "
                     f"$CHURN_DATA_DIR), or create it with `churn generate` or by putting "
                     f"exports under {root}/raw/ and running `churn ingest`")
    # A cold ephemeral server on 2 cores needs more than Prefect's 20 s default to start.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_HOME", str(root / ".prefect"))
    # Owner-only from here on, the Prefect home and the local server it starts included: they
    # hold customers' personal data (pipelines.store.permissions).
    protect_new_files()
    # Prefect creates its home without parents and fails later on a fresh data dir.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    owner_only(store_paths(root, Path(os.environ["PREFECT_HOME"]).expanduser(), None))
    # Run logs still reach the Prefect API (and UI) in full; the terminal shows our own
    # summaries, and Prefect's console output only with --verbose.
    if not VERBOSE["on"]:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "CRITICAL")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # MLflow's own default retries a server that went away for about 4 minutes (7 retries,
    # doubling); three retries (about 14 s) ride out a restart and no more.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(MLFLOW_HTTP_RETRIES))
    from pipelines.tracking.problems import (
        ServiceUnavailableError,
        require_mlflow_server,
        require_prefect_api,
    )

    try:
        if step is not None:  # a command that reads the tracking store
            require_mlflow_server(os.environ.get("MLFLOW_TRACKING_URI", ""))
        if prefect:
            from pipelines.operate.local_api import refresh_prefect_settings, use_local_api

            choice = use_local_api(Path(os.environ["PREFECT_HOME"]).expanduser())
            API["choice"] = choice
            refresh_prefect_settings()
            if choice.source == "configured" and choice.url:
                require_prefect_api(choice.url)
    except ServiceUnavailableError as error:
        refuse(step or "command", str(error))
    return str(root)


MLFLOW_HTTP_RETRIES = 3
# The remote data dir this command pulled (None for a local one), pushed when it succeeds.
REMOTE: dict[str, Any] = {"session": None}


def _open_remote(url: str, step: str | None) -> Path:
    """Lock and pull this machine's working copy of `url`; its folder. The lock is held
    until the push (`push_remote_data_dir`), else until the process ends (or, in a process
    that runs several commands, until the next one opens a data dir)."""
    from pipelines.store.remote.session import describe, open_session

    _close_remote()
    name = step or "command"
    session = run_step(name, lambda: open_session(url, name), status=f"pulling {url}")
    REMOTE["session"] = session
    atexit.unregister(_close_remote)  # once, however many commands this process runs
    atexit.register(_close_remote)
    err.print(describe(session.pulled, "pulled", session.remote.url), style="dim",
              markup=False, highlight=False, soft_wrap=True)
    return session.working_copy


def _close_remote() -> None:
    session, REMOTE["session"] = REMOTE["session"], None
    if session is not None:
        from pipelines.store.remote.session import close_session

        close_session(session)


def push_remote_data_dir(*_: Any, **__: Any) -> None:
    """After a command succeeded: push what it changed in the remote data dir's working
    copy (the app's result callback; a command that failed never gets here)."""
    session = REMOTE["session"]
    if session is None:
        return
    from pipelines.store.remote.session import describe, push_session

    try:
        report = run_step(session.step, lambda: push_session(session),
                          status=f"pushing to {session.remote.url}")
    finally:
        _close_remote()
    err.print(describe(report, "pushed", session.remote.url), style="dim", markup=False,
              highlight=False, soft_wrap=True)


def run_step(step: str, call: Callable[[], Any], status: str = "Prefect flow running") -> Any:
    """Run a flow; a known failure becomes its one sentence (`operate.failures`, the same
    one a scheduled run's Failed state carries) and exit code 1, not a traceback."""
    from prefect import tags

    from pipelines.operate.failures import failure_message
    from pipelines.operate.prefect_runs import owner_tag_list
    from pipelines.scale.runner import command_runner

    try:
        # one Dask cluster (or none) for every flow of the command, stopped at its end; its
        # flow runs carry this process from their creation (`operate.prefect_runs`)
        with command_runner(), console.status(f"[bold]{step}[/bold] ({status})…"), \
                tags(*owner_tag_list()):
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
                  step="score", holdout_share=None, contact_capacity=None, cooldown_days=None,
                  reasons_for=None):
    """Validated scoring parameters, or one clear error line and exit code 1."""
    from pydantic import ValidationError

    from models.tiers import TierPolicy

    require_choice(step, "--sort", str(sort), SORTS)
    require_choice(step, "--lang", str(lang), LANGS)
    if reasons_for is not None:
        require_choice(step, "--reasons-for", str(reasons_for), REASONS_FOR)
    if csv_delimiter is not None and len(csv_delimiter) != 1:
        refuse(step, f"--csv-delimiter must be one character, not {csv_delimiter!r}")
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
        contact = {"contact_capacity": contact_capacity,
                   **({} if cooldown_days is None else {"cooldown_days": cooldown_days}),
                   **({} if reasons_for is None else {"reasons_for": reasons_for})}
        return ScoreParams(tier_policy=policy, sort=sort, lang=lang, csv_delimiter=csv_delimiter,
                           **contact)
    except (ValidationError, ValueError, OSError) as error:
        first = str(error).splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        err.print(f"[red]{step} failed[/red]: invalid option: {detail}")
        raise typer.Exit(1) from None


# What an option's value has to be, by the pydantic error type the command line's parser
# reports (typer coerces option values with pydantic).
EXPECTED = {
    "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_parsing": "a number", "bool_parsing": "true or false",
}
BOUNDS = {"greater_than_equal": ("ge", "at least"), "greater_than": ("gt", "more than"),
          "less_than_equal": ("le", "at most"), "less_than": ("lt", "less than")}


def usage_sentence(error: Exception) -> str | None:
    """A command line the parser refused, said as the product says it: `<command> failed:
    <what> ...; see churn <command> --help`. None for a usage error that prints itself (no
    arguments at all: the help is the answer)."""
    if type(error).__name__ == "NoArgsIsHelpError":
        return None
    context = getattr(error, "ctx", None)
    path = context.command_path.split() if context is not None else ["churn"]
    command = " ".join(path[1:]) or "churn"
    see = f"see `{' '.join(path)} --help`"
    param = getattr(error, "param", None)
    if type(error).__name__ == "MissingParameter" and param is not None:
        return f"{command} failed: {str(param.name).upper()} is missing; {see}"
    if type(error).__name__ == "NoSuchOption":
        option = getattr(error, "option_name", "")
        close = list(getattr(error, "possibilities", None) or [])
        hint = f" (did you mean {one_of(close)}?)" if close else ""
        return f"{command} failed: there is no option {option}{hint}; {see}"
    if param is not None:
        name = (getattr(param, "opts", None) or [str(param.name)])[0]
        return f"{command} failed: {name} {_expected(error)}; {see}"
    message = str(getattr(error, "message", "") or error).rstrip(".")
    refused, _, guess = message.partition(". Did you mean ")
    if guess:
        message = f"{refused} (did you mean {guess.rstrip('?')}?)"
    return f"{command} failed: {message[:1].lower() + message[1:]}; {see}"


def _expected(error: Exception) -> str:
    listed = getattr(error.__cause__, "errors", None)  # a pydantic ValidationError's
    problems = listed() if callable(listed) else []
    if not problems:
        return f"is invalid ({getattr(error, 'message', error)})"
    first = problems[0]
    given = first.get("input")
    got = f", not {given!r}" if given is not None else ""
    kind = first.get("type", "")
    if kind in BOUNDS:
        key, words = BOUNDS[kind]
        plain = f", not {given}" if given is not None else ""  # a number: no quotes
        return f"must be {words} {(first.get('ctx') or {}).get(key)}{plain}"
    if kind in EXPECTED:
        return f"must be {EXPECTED[kind]}{got}"
    if kind == "value_error" and "does not match the format" in str(first.get("ctx")):
        return f"must be a date YYYY-MM-DD{got}"
    return f"is invalid: {first.get('msg', '')}{got}"
