"""`churn`: the command line. Each command runs the matching Prefect flow.

Prefect and MLflow are imported only inside commands, so `churn --help` is instant and the
environment defaults below are in place before Prefect reads its settings. Option defaults
are read from the typed parameter models (declared once there), never repeated here.
"""

from __future__ import annotations

import datetime as dt
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from features.labels import CHURN_DEFINITIONS, LabelSpec
from models.params import TrainParams, TuningParams
from models.promotion import PromotionMargin
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
from pipelines.sample.config import SimulationConfig
from pipelines.store.settings import data_directory

app = typer.Typer(
    help="Churn-risk pipeline: CRM exports in, a ranked risk list with reasons out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

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


SAMPLE = SimulationConfig()

VERBOSE = {"on": False}


@app.callback()
def _options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Prefect's run logs.")
    ] = False,
) -> None:
    VERBOSE["on"] = verbose


def prepare_environment(data_dir: Path | None) -> str:
    """Embedded-default settings for Prefect, unless the user set them; the data dir to use."""
    root = data_directory(data_dir)
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
    return str(root)


def _run(step: str, call) -> Any:
    """Run a flow; known failures become one clear message and exit code 1, not a traceback."""
    from features.labels import CensoredCutoffError
    from models.train import TemporalSplitError
    from pipelines.ingest.run import IngestError
    from pipelines.tracking.registry import NoChampionError

    try:
        with console.status(f"[bold]{step}[/bold] (Prefect flow running)…"):
            return call()
    except IngestError as error:
        err.print(f"[red]ingest failed[/red]: {len(error.problems)} problem(s)")
        for problem in error.problems:  # headers such as `Bedrag [€]` are not markup
            err.print(f"  - {problem}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    except (FileNotFoundError, NoChampionError, TemporalSplitError, CensoredCutoffError,
            ValueError) as error:
        err.print(f"[red]{step} failed[/red]: {error}")
        raise typer.Exit(1) from None


class Dialect(StrEnum):
    """What `churn generate` writes (pipelines.sample.dialects)."""

    canonical = "canonical"
    tr = "tr"
    nl = "nl"
    shopify = "shopify"
    zendesk = "zendesk"
    mixed = "mixed"


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
) -> None:
    """Write simulated CRM exports (orders, tickets, interactions, customers) into raw/."""
    root = prepare_environment(data_dir)
    from pipelines.flows import generate_flow

    written = _run("generate", lambda: generate_flow(root, customers, seed,
                                                            dialect=dialect.value))
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
    root = prepare_environment(data_dir)
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
    root = prepare_environment(data_dir)
    from pipelines.flows import features_flow

    path = _run("features", lambda: features_flow(root, as_of.date() if as_of else None))
    console.print(f"features: {path}")


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
        str, typer.Option(help="no_purchase (no completed order in the window, or a "
                          "cancellation) or cancellation (contractual: cancellations only).")
    ] = default(LabelSpec, "definition"),
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
        str, typer.Option(help="What tuning optimises: pr_auc (out-of-time PR-AUC, maximised) "
                          "or log_loss (minimised).")
    ] = default(TuningParams, "objective"),
) -> None:
    """Train LightGBM on snapshots whose label windows end by --data-end, calibrate it out of
    time, log it to MLflow and register a version; it becomes champion only if it beats the
    current champion on the same out-of-time cutoff (or there is none)."""
    root = prepare_environment(data_dir)
    from pipelines.flows import train_flow

    if churn_definition not in CHURN_DEFINITIONS:
        err.print(f"[red]train failed[/red]: --churn-definition must be "
                  f"{' or '.join(CHURN_DEFINITIONS)}, not {churn_definition!r}")
        raise typer.Exit(1)
    if tune_objective not in ("pr_auc", "log_loss"):
        err.print(f"[red]train failed[/red]: --tune-objective must be pr_auc or log_loss, "
                  f"not {tune_objective!r}")
        raise typer.Exit(1)
    label = LabelSpec.model_validate({"definition": churn_definition,
                                      "horizon_days": horizon_days, "gap_days": gap_days})
    params = TrainParams(label=label, n_cutoffs=n_cutoffs, backtest_origins=backtest_origins,
                         min_positives=min_positives, min_negatives=min_negatives)
    margin = PromotionMargin(min_roc_auc_gain=min_roc_auc_gain, max_pr_auc_loss=max_pr_auc_loss)
    tuning = TuningParams.model_validate({"trials": tune, "objective": tune_objective})
    end = data_end.date() if data_end else None
    result = _run("train", lambda: train_flow(root, end, params, margin, tuning))
    print_training(result)


def _registry_settings(data_dir: Path | None):
    """Settings with MLflow pointed at the data dir's store (no Prefect flow needed)."""
    from pipelines.store.settings import Settings
    from pipelines.tracking.connect import configure_mlflow

    settings = Settings.from_env(prepare_environment(data_dir))
    configure_mlflow(settings)
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

    settings = _registry_settings(data_dir)
    _run("promote", lambda: promote_version(settings, version, reason))
    print_history(champion_history(settings))


@app.command()
def rollback(data_dir: DataDir = None) -> None:
    """Make the previous champion the champion again; recorded in the history."""
    from pipelines.tracking.registry import champion_history
    from pipelines.tracking.registry import rollback as rollback_champion

    settings = _registry_settings(data_dir)
    version = _run("rollback", lambda: rollback_champion(settings))
    console.print(f"champion is now version {version}")
    print_history(champion_history(settings))


@app.command()
def score(
    data_dir: DataDir = None,
    as_of: AsOf = None,
    sort: Annotated[
        str, typer.Option(help="Rank by 'tier' (the most urgent tier first, largest value at "
                               "risk first within it), 'value' (value at risk alone) or "
                               "'probability'.")
    ] = default(ScoreParams, "sort"),
    lang: Annotated[
        str, typer.Option(help="Language of reasons, tiers, segments, actions and headers: "
                               "en, tr or nl.")
    ] = default(ScoreParams, "lang"),
    csv_delimiter: Annotated[
        str | None, typer.Option(help="CSV delimiter. Default: ';' for tr/nl, ',' for en.")
    ] = None,
    tier_policy: Annotated[
        Path | None, typer.Option(help="JSON file with a tier policy (version, tiers with "
                                       "name/min_probability/capacity, default, top_tiers, "
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
) -> None:
    """Score every eligible customer with the champion: risk list (CSV, xlsx) and HTML report."""
    root = prepare_environment(data_dir)
    params = _score_params(sort, lang, csv_delimiter, tier_policy, critical_top,
                           lapsed_after_days)
    from pipelines.flows import score_flow

    result = _run("score", lambda: score_flow(root, as_of.date() if as_of else None, params))
    print_scoring(result)


def _score_params(sort, lang, csv_delimiter, tier_policy, critical_top, lapsed_after_days=None,
                  step="score"):
    """Validated scoring parameters, or one clear error line and exit code 1."""
    from pydantic import ValidationError

    from models.tiers import TierPolicy

    try:
        if tier_policy is not None and critical_top is not None:
            raise ValueError("use either --tier-policy or --critical-top, not both")
        policy = TierPolicy()
        if tier_policy is not None:
            policy = TierPolicy.from_json(tier_policy.read_text(encoding="utf-8"))
        elif critical_top is not None:
            policy = TierPolicy.capacity_based(critical=critical_top)
        if lapsed_after_days is not None:
            policy = policy.with_lapsed_after(lapsed_after_days)
        return ScoreParams(tier_policy=policy, sort=sort, lang=lang, csv_delimiter=csv_delimiter)
    except (ValidationError, ValueError, OSError) as error:
        first = str(error).splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        err.print(f"[red]{step} failed[/red]: invalid option: {detail}")
        raise typer.Exit(1) from None


@app.command()
def demo(
    data_dir: DataDir = None,
    customers: Annotated[int, typer.Option(min=500, help="Customers to simulate.")
                         ] = SAMPLE.customers,
    seed: Annotated[int, typer.Option(help="Random seed.")] = SAMPLE.seed,
    lang: Annotated[str, typer.Option(help="Language of the risk list, report and summary: "
                                           "en, tr or nl.")] = default(ScoreParams, "lang"),
) -> None:
    """Generate sample exports, then ingest → train → score, and show the riskiest customers."""
    root = prepare_environment(data_dir)
    score_params = _score_params(default(ScoreParams, "sort"), lang, None, None, None,
                                 step="demo")
    from pipelines.flows import demo_flow

    result = _run("demo", lambda: demo_flow(root, customers, seed, score_params=score_params))
    print_training(result["trained"])
    print_scoring(result["scored"])
    print_grading(result["graded"], result["trained"]["tracking_uri"])


@app.command()
def analyze(
    data_dir: DataDir = None,
    as_of: AsOf = None,
    lang: Annotated[str, typer.Option(help="Language of the page and workbook: en, tr or nl.")
                    ] = default(ScoreParams, "lang"),
    period: Annotated[str, typer.Option(help="Period of the rates and KPIs: month or quarter.")
                      ] = "month",
    sla_hours: Annotated[float | None, typer.Option(
        min=0.1, show_default="48", help="Complaints resolved within this many hours meet the "
                                         "SLA.")] = None,
) -> None:
    """Retention analytics at --as-of: retention and churn rates, cohorts, complaint handling
    and its link to churn, CLV against the run-rate, value concentration; writes
    analytics/<as-of>/ (analytics.html, analytics.xlsx)."""
    root = prepare_environment(data_dir)
    from pydantic import ValidationError

    from models.analytics.policy import AnalyticsPolicy
    from pipelines.console_analytics import print_analytics
    from pipelines.deliver.i18n import catalog
    from pipelines.flows import analyze_flow

    try:
        catalog(lang)
        overrides: dict[str, Any] = {"period": period}
        if sla_hours is not None:
            overrides["sla_hours"] = sla_hours
        policy = AnalyticsPolicy.model_validate(overrides)
    except (ValidationError, ValueError) as error:
        detail = " ".join(line.strip() for line in str(error).splitlines()[:3])
        err.print(f"[red]analyze failed[/red]: invalid option: {detail}")
        raise typer.Exit(1) from None
    result = _run("analyze", lambda: analyze_flow(root, as_of.date() if as_of else None,
                                                  policy, lang))
    print_analytics(result, console, lang)


def main() -> None:
    app(prog_name="churn")


if __name__ == "__main__":
    main()
