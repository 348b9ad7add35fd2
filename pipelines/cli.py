"""`churn`: the command line. Each command runs the matching Prefect flow.

Prefect and MLflow are imported only inside commands, so `churn --help` is instant and the
environment defaults (`cli_common.prepare_environment`) are in place before Prefect reads its
settings. Option defaults are read from the typed parameter models (declared once there),
never repeated here. `churn run` and `churn server` live in `pipelines.operate.commands`.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from rich.text import Text

from features.labels import CHURN_DEFINITIONS, LabelSpec
from models.analytics.policy import AnalyticsPolicy, Period
from models.params import TrainParams, TuningParams
from models.promotion import PromotionMargin
from pipelines.cli_common import (
    COOLDOWN_DAYS_DEFAULT,
    LANGS,
    REASONS_FOR_DEFAULT,
    SORT_DEFAULT,
    TUNE_OBJECTIVES,
    VERBOSE,
    AsOf,
    ContactCapacity,
    CooldownDays,
    DataDir,
    DataEnd,
    ReasonsFor,
    Sort,
    choices,
    default,
    prepare_environment,
    push_remote_data_dir,
    refuse,
    require_choice,
    usage_sentence,
)
from pipelines.cli_common import run_step as _run
from pipelines.cli_common import score_params as _score_params
from pipelines.console import (
    console,
    err,
    print_accounts,
    print_grading,
    print_history,
    print_identity,
    print_readings,
    print_scoring,
    print_training,
)
from pipelines.deliver.params import ScoreParams
from pipelines.operate import commands as operate_commands
from pipelines.operate import monitor_commands
from pipelines.privacy import commands as privacy_commands
from pipelines.sample.config import SimulationConfig

app = typer.Typer(
    help="Churn-risk pipeline: CRM exports in, a ranked risk list with reasons out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    result_callback=push_remote_data_dir,  # an s3:// data dir: push what the command changed
)

SAMPLE = SimulationConfig()
PERIODS: tuple[str, ...] = get_args(Period)

@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's run logs.")
    ] = False,
    pseudonymize: Annotated[bool, typer.Option(
        "--pseudonymize", help="Customer ids in Prefect artifacts become keyed hashes (key: "
                               "$CHURN_PSEUDONYM_KEY); see SECURITY.md.")] = False,
) -> None:
    VERBOSE["on"] = verbose
    if pseudonymize:
        privacy_commands.use_pseudonyms()


class Dialect(StrEnum):
    """What `churn generate` writes (pipelines.sample.dialects)."""

    canonical = "canonical"
    tr = "tr"
    nl = "nl"
    shopify = "shopify"
    zendesk = "zendesk"
    mixed = "mixed"


class Business(StrEnum):
    """Which business `churn generate` simulates (pipelines.sample.config.BUSINESSES)."""

    retail = "retail"
    subscription = "subscription"


BUSINESS_HELP = ("retail (orders, tickets, interactions, customer master) or subscription "
                 "(monthly and annual plans: payments, product events, customer master and a "
                 "subscriptions export; canonical dialect only).")


@app.command()
def generate(
    data_dir: DataDir = None,
    customers: Annotated[int, typer.Option(min=50, help="Customers to simulate.")
                         ] = SAMPLE.customers,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = SAMPLE.seed,
    dialect: Annotated[Dialect, typer.Option(
        help="How the exports look: canonical CSVs, tr (Logo ERP, cp1254, `;`, 1.234,56), "
             "nl (Dutch Excel CSVs), shopify (orders export), zendesk (overlapping ticket "
             "exports) or mixed (Logo + Zendesk + gzip log + xlsx customer list; stages to "
             "the same tables as canonical).",
    )] = Dialect.canonical,
    business: Annotated[Business, typer.Option(help=BUSINESS_HELP)] = Business.retail,
) -> None:
    """Write simulated CRM exports (orders, tickets, interactions, customers) into raw/."""
    root = prepare_environment(data_dir)
    from pipelines.flows import generate_flow

    written = _run("generate", lambda: generate_flow(root, customers, seed,
                                                            dialect=dialect.value,
                                                            business=business.value))
    for kind, path in written.items():
        console.print(f"{kind:>13}: {path}")


@app.command()
def ingest(
    data_dir: DataDir = None,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Print what was detected for every file (kind, preset, encoding, "
                          "delimiter, locale, column mapping, date formats, row counts) and "
                          "write nothing.")] = False,
    skip_bad_files: Annotated[bool, typer.Option(
        "--skip-bad-files", help="Stage the readable files and list the unreadable ones "
                                 "instead of failing the whole run.")] = False,
    write_mapping: Annotated[bool, typer.Option(
        "--write-mapping", help="Write <data-dir>/sources.yaml.suggested with the detected "
                                "and suggested column mapping of every file, commented, and "
                                "stage nothing (sources.yaml itself is never written).")] = False,
) -> None:
    """Stage raw/ exports (CSV, gzip, xlsx, parquet) as parquet, with a row account.

    Files under raw/<kind>/ or directly under raw/ (kind from a preset or sources.yaml).
    """
    root = prepare_environment(data_dir, prefect=not write_mapping, step="ingest")
    if write_mapping:
        from pipelines.ingest.suggest import write_suggested_mapping
        from pipelines.store.settings import Settings

        try:
            written = write_suggested_mapping(Settings.from_env(root))
        except ValueError as error:  # sources.yaml that cannot be read
            err.print(f"ingest --write-mapping failed: {error}", markup=False)
            raise typer.Exit(1) from None
        console.print(f"suggested mapping: {written} (check it, then copy what you need into "
                      "sources.yaml)", soft_wrap=True)
        return
    from pipelines.flows import ingest_flow

    report = _run("ingest", lambda: ingest_flow(root, skip_bad_files, explain))
    if explain:
        print_readings(report["readings"])
    if report["unchanged"]:
        console.print("raw files unchanged since the last ingest: staged data left as it was")
    print_accounts(report["files"])
    print_identity(report.get("identity", {}))
    for problem in report["skipped_files"]:
        err.print(f"[yellow]skipped[/yellow] {problem}")
    for warning in report.get("warnings", []):
        err.print(f"[yellow]warning[/yellow] {warning}")
    if not explain:
        console.print(f"report: {Path(root) / 'reports' / 'ingest_report.json'}")


@app.command()
def features(data_dir: DataDir = None, as_of: AsOf = None) -> None:
    """Write the point-in-time feature table of every eligible customer at --as-of."""
    root = prepare_environment(data_dir, step="features")
    from pipelines.flows import features_flow

    path = _run("features", lambda: features_flow(root, as_of.date() if as_of else None))
    console.print(f"features: {path}")


AUTO_DEFINITION = "auto"  # `--churn-definition` left out: the data decides (features.billing)


@app.command()
def train(
    data_dir: DataDir = None,
    data_end: DataEnd = None,
    horizon_days: Annotated[
        int, typer.Option(min=7, help="Days of the label window after a cutoff (and its gap).")
    ] = default(LabelSpec, "horizon_days"),
    n_cutoffs: Annotated[
        int, typer.Option(min=2, help="Monthly cutoffs in the training snapshots.")
    ] = default(TrainParams, "n_cutoffs"),
    gap_days: Annotated[
        int, typer.Option(min=0, help="Days between a cutoff and its label window (time the "
                          "retention team needs to act).")
    ] = default(LabelSpec, "gap_days"),
    churn_definition: Annotated[
        str, typer.Option(metavar=choices((AUTO_DEFINITION, *CHURN_DEFINITIONS)),
                          help="auto (from the data: renewal for a contractual business, "
                          "else no_purchase), no_purchase (no completed order in the window, "
                          "or a cancellation), cancellation (contractual: cancellations only) "
                          "or renewal (subscriptions: cancelled, or a renewal due in the "
                          "window not paid).")
    ] = AUTO_DEFINITION,
    force: Annotated[
        bool, typer.Option("--force", help="Train even when the labels contradict the data "
                           "(churners who kept paying).")
    ] = default(TrainParams, "force"),
    min_history_days: Annotated[
        int | None, typer.Option(
            min=0, show_default="derived: the longer of 90 days (the 90-day feature windows) "
                                "and gap + horizon",
            help="Days of data a cutoff needs behind it (from the first purchase). Short "
                 "data trains on fewer cutoffs and says so.")
    ] = default(TrainParams, "min_history_days"),
    event_types: Annotated[
        int, typer.Option(min=0, help="Interaction types learned from the data as engagement "
                          "features: the N most frequent (rarer ones pooled into 'other'), each "
                          "counted over 30/90 days with a trend and days since the last; the "
                          "list travels with the model. 0 = off.")
    ] = default(TrainParams, "event_types_top_n"),
    min_positives: Annotated[
        int, typer.Option(min=1, help="Refuse to train with fewer churners in the snapshots.")
    ] = default(TrainParams, "min_positives"),
    min_negatives: Annotated[
        int, typer.Option(min=1, help="Refuse to train with fewer stayers in the snapshots.")
    ] = default(TrainParams, "min_negatives"),
    min_roc_auc_gain: Annotated[
        float, typer.Option(help="Promotion gate: ROC-AUC the new model must add over the "
                            "champion on the same out-of-time cutoff.")
    ] = default(PromotionMargin, "min_roc_auc_gain"),
    max_pr_auc_loss: Annotated[
        float, typer.Option(min=0, help="Promotion gate: PR-AUC the new model may lose.")
    ] = default(PromotionMargin, "max_pr_auc_loss"),
    backtest_origins: Annotated[
        int, typer.Option(min=1, help="Latest cutoffs used as rolling-origin backtest origins.")
    ] = default(TrainParams, "backtest_origins"),
    tune: Annotated[
        int, typer.Option("--tune", min=0, help="Run N Optuna trials on the temporal backtest "
                          "first (each a nested MLflow run); 0 = use the default parameters.")
    ] = default(TuningParams, "trials"),
    tune_objective: Annotated[
        str, typer.Option(metavar=choices(TUNE_OBJECTIVES),
                          help="What tuning optimises: pr_auc (out-of-time PR-AUC, maximised) "
                          "or log_loss (minimised).")
    ] = default(TuningParams, "objective"),
) -> None:
    """Train LightGBM on snapshots whose label windows end by --data-end, calibrate it out of
    time, log it to MLflow and register a version; it becomes champion only if it beats the
    current champion on the same out-of-time cutoff (or there is none).

    Scale: CHURN_TRAIN_MEMORY_MB bounds the snapshots this process holds (over it, a stable
    sample of customers); CHURN_TRAIN_ENGINE=dask with CHURN_DASK_SCHEDULER fits the final
    model by lightgbm.dask on every customer's snapshots (README, "Training on the cluster").
    """
    require_choice("train", "--churn-definition", churn_definition,
                   (AUTO_DEFINITION, *CHURN_DEFINITIONS))
    require_choice("train", "--tune-objective", tune_objective, TUNE_OBJECTIVES)
    auto = churn_definition == AUTO_DEFINITION
    chosen = {} if auto else {"definition": churn_definition}
    try:
        label = LabelSpec.model_validate(chosen | {"horizon_days": horizon_days,
                                                   "gap_days": gap_days})
    except ValueError as error:
        refuse("train", str(error).splitlines()[-1])
    params = TrainParams(label=label, n_cutoffs=n_cutoffs, backtest_origins=backtest_origins,
                         min_positives=min_positives, min_negatives=min_negatives,
                         min_history_days=min_history_days, event_types_top_n=event_types,
                         choose_definition=auto, force=force)
    margin = PromotionMargin(min_roc_auc_gain=min_roc_auc_gain, max_pr_auc_loss=max_pr_auc_loss)
    tuning = TuningParams.model_validate({"trials": tune, "objective": tune_objective})
    end = data_end.date() if data_end else None
    root = prepare_environment(data_dir, step="train")  # the options were checked first
    from pipelines.flows import train_flow

    result = _run("train", lambda: train_flow(root, end, params, margin, tuning))
    print_training(result)


def _registry_settings(data_dir: str | None, step: str):
    """Settings with MLflow pointed at the data dir's store (no Prefect flow needed)."""
    from pipelines.store.settings import Settings
    from pipelines.tracking.connect import configure_mlflow

    settings = Settings.from_env(prepare_environment(data_dir, step=step, prefect=False))
    _run(step, lambda: configure_mlflow(settings), status="opening the MLflow store")
    return settings


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="Registered version of churn-model to serve.")],
    data_dir: DataDir = None,
    reason: Annotated[str, typer.Option(help="Why (kept in the champion history).")] = "manual",
) -> None:
    """Make VERSION the champion (scoring uses it from now on); recorded in the history."""
    from pipelines.tracking.registry import champion_history
    from pipelines.tracking.registry import promote as promote_version

    settings = _registry_settings(data_dir, "promote")
    _run("promote", lambda: promote_version(settings, version, reason))
    print_history(champion_history(settings))


@app.command()
def rollback(data_dir: DataDir = None) -> None:
    """Make the previous champion the champion again; recorded in the history."""
    from pipelines.tracking.registry import champion_history
    from pipelines.tracking.registry import rollback as rollback_champion

    settings = _registry_settings(data_dir, "rollback")
    version = _run("rollback", lambda: rollback_champion(settings))
    console.print(f"champion is now version {version}")
    print_history(champion_history(settings))


@app.command()
def score(
    data_dir: DataDir = None,
    as_of: AsOf = None,
    sort: Sort = SORT_DEFAULT,
    lang: Annotated[
        str, typer.Option(metavar=choices(LANGS),
                          help="Language of reasons, tiers, segments, actions and headers: "
                               "en, tr or nl.")
    ] = default(ScoreParams, "lang"),
    csv_delimiter: Annotated[
        str | None, typer.Option(help="CSV delimiter. Default: ';' for tr/nl, ',' for en.")
    ] = None,
    tier_policy: Annotated[
        Path | None, typer.Option(help="Default: tiers by lift over the base rate (the mean "
                                       "churn probability): Critical at 4x or p >= 0.70, At "
                                       "risk 2.5x or 0.50, Watch 1.5x or 0.30. 'probability': "
                                       "the fixed cut-offs 0.70/0.50/0.30 alone. Or a JSON "
                                       "file (version, tiers with name/min_probability/"
                                       "min_lift/capacity, default, top_tiers, "
                                       "lapsed_after_days).")
    ] = None,
    critical_top: Annotated[
        int | None, typer.Option(min=1, help="Capacity-based tiers: the N largest values at "
                                             "risk (probability >= 0.30) are Critical.")
    ] = None,
    lapsed_after_days: Annotated[
        int | None, typer.Option(min=0, show_default="365, or the --tier-policy file's",
                                 help="Customers with no completed order for more than N days "
                                      "are Lapsed: a win-back audience ranked after every other "
                                      "tier, taking no Critical/At risk seat. 0 = off.")
    ] = None,
    holdout_share: Annotated[
        float | None, typer.Option(show_default="0.10, or the --tier-policy file's",
                                   help="Share of each tier randomised to the holdout (do not "
                                        "contact), to measure what contacts change. 0 = off.")
    ] = None,
    contact_capacity: ContactCapacity = None,
    cooldown_days: CooldownDays = COOLDOWN_DAYS_DEFAULT,
    reasons_for: ReasonsFor = REASONS_FOR_DEFAULT,
    force: Annotated[
        bool, typer.Option("--force", help="Score at an --as-of after the last event in the "
                                           "staged data (refused otherwise: nothing later is "
                                           "known, so every customer would look inactive).")
    ] = False,
) -> None:
    """Score every eligible customer with the champion: risk list (CSV, xlsx) and HTML report."""
    params = _score_params(sort, lang, csv_delimiter, tier_policy, critical_top,
                           lapsed_after_days, holdout_share=holdout_share,
                           contact_capacity=contact_capacity,
                           cooldown_days=cooldown_days,
                           reasons_for=reasons_for)  # options first
    root = prepare_environment(data_dir, step="score")
    from pipelines.flows import score_flow

    result = _run("score", lambda: score_flow(root, as_of.date() if as_of else None, params,
                                              force))
    print_scoring(result)


@app.command()
def demo(
    data_dir: DataDir = None,
    customers: Annotated[int, typer.Option(min=500, help="Customers to simulate.")
                         ] = SAMPLE.customers,
    seed: Annotated[int, typer.Option(help="Random seed.")] = SAMPLE.seed,
    lang: Annotated[str, typer.Option(metavar=choices(LANGS),
                                      help="Language of the risk list, report and summary: "
                                           "en, tr or nl.")] = default(ScoreParams, "lang"),
    business: Annotated[Business, typer.Option(help=BUSINESS_HELP)] = Business.retail,
) -> None:
    """Generate sample exports, then ingest → train → score → analyze, and show the riskiest
    customers and the retention analytics."""
    score_params = _score_params(SORT_DEFAULT, lang, None, None, None,
                                 step="demo")  # options first: nothing is made before
    root = prepare_environment(data_dir)
    from pipelines.flows import demo_flow

    result = _run("demo", lambda: demo_flow(root, customers, seed, score_params=score_params,
                                            business=business.value))
    print_training(result["trained"])
    print_scoring(result["scored"])
    from pipelines.console_analytics import print_analytics

    print_analytics(result["analyzed"], console, lang)
    print_grading(result["graded"], result["trained"]["tracking_uri"])


app.command("run")(operate_commands.run)
app.command("track-record")(monitor_commands.track_record)
app.command("erase")(privacy_commands.erase)
app.add_typer(operate_commands.server_app, name="server")
app.command("serve")(operate_commands.serve)


@app.command()
def analyze(
    data_dir: DataDir = None,
    as_of: AsOf = None,
    lang: Annotated[str, typer.Option(metavar=choices(LANGS),
                                      help="Language of the page and workbook: en, tr or nl.")
                    ] = default(ScoreParams, "lang"),
    period: Annotated[str, typer.Option(metavar=choices(PERIODS),
                                        help="Period of the rates and KPIs: month or quarter.")
                      ] = default(AnalyticsPolicy, "period"),
    sla_hours: Annotated[float | None, typer.Option(
        min=0.1, show_default="48", help="Complaints resolved within this many hours meet the "
                                         "SLA.")] = None,
) -> None:
    """Retention analytics at --as-of: retention and churn rates, cohorts, complaint handling
    and its link to churn, CLV against the run-rate, value concentration; writes
    analytics/<as-of>/ (analytics.html, analytics.xlsx)."""
    from pydantic import ValidationError

    require_choice("analyze", "--lang", lang, LANGS)
    require_choice("analyze", "--period", period, PERIODS)
    try:
        overrides: dict[str, Any] = {"period": period}
        if sla_hours is not None:
            overrides["sla_hours"] = sla_hours
        policy = AnalyticsPolicy.model_validate(overrides)
    except (ValidationError, ValueError) as error:
        detail = " ".join(line.strip() for line in str(error).splitlines()[:3])
        refuse("analyze", f"invalid option: {detail}")
    root = prepare_environment(data_dir, step="analyze")  # the options were checked first
    from pipelines.console_analytics import print_analytics
    from pipelines.flows import analyze_flow

    result = _run("analyze", lambda: analyze_flow(root, as_of.date() if as_of else None,
                                                  policy, lang))
    print_analytics(result, console, lang)


def main() -> None:
    from typer.exceptions import Abort, TyperException

    try:
        code = app(prog_name="churn", standalone_mode=False)
    except TyperException as error:  # the command line itself was refused
        sentence = usage_sentence(error)
        if sentence is not None:
            failed, _, why = sentence.partition(": ")
            err.print(Text(failed, style="red") + Text(f": {why}"), highlight=False,
                      soft_wrap=True)
        code = 1 if sentence is not None else error.exit_code
    except Abort:
        code = 130
    except SystemExit as done:
        code = done.code
    _exit_without_teardown(code)


def _exit_without_teardown(code: object) -> None:
    """End the process as the interpreter would, minus its final sweep over every module.

    Tearing down the ~10k modules a flow command imports takes ~1.2 s on 2 cores and writes
    nothing. What does matter still runs, in the interpreter's order: non-daemon threads are
    joined (MLflow's upload pool), then the exit handlers (Prefect drains its log and event
    workers and stops a temporary server; logging flushes its handlers)."""
    if isinstance(code, str):
        err.print(code, markup=False)
    status = code if isinstance(code, int) else (0 if code is None else 1)
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    main()
