"""What the `churn` commands print: rich tables and summaries of flow results (no IO)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from pipelines.deliver.i18n import (
    column_label,
    format_number,
    segment_label,
    summary_label,
    tier_label,
)
from pipelines.deliver.summary import run_summary_lines

if TYPE_CHECKING:  # pandas is imported where a table is read: `churn --help` stays instant
    import pandas as pd

console = Console()
err = Console(stderr=True)

TRAINING_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "top_decile_lift",
                    "precision_top5", "recall_top5", "precision_top10", "recall_top10",
                    "precision_top20", "recall_top20", "retained_value_top_decile")


def print_accounts(files: list[dict[str, Any]]) -> None:
    """The ingest row account: per file, read = staged + merged + duplicates + quarantined
    (+ erased: rows of customers erased with `churn erase`, shown once there are any)."""
    counts = ["rows_read", "staged", "merged", "duplicates", "quarantined"]
    if any(account.get("erased") for account in files):
        counts.append("erased")
    table = Table(*(c.removeprefix("rows_") for c in counts), "reasons")
    table.add_column("file", overflow="fold")
    for account in files:
        table.add_row(*(str(account.get(k, 0)) for k in counts),
                      escape(", ".join(f"{k}: {v}" for k, v in account["reasons"].items())),
                      account["file"])
    console.print(table)


def print_readings(readings: list[dict[str, Any]]) -> None:
    """One block per file: what `churn ingest --explain` detected."""
    for r in readings:
        console.print(f"[bold]{escape(r['file'])}[/bold] -> {r['kind']}"
                      f"{' (preset ' + r['preset'] + ')' if r['preset'] else ''}")
        console.print(f"  {r['file_type']}, encoding {r['encoding'] or '-'}, delimiter "
                      f"{r['delimiter']!r}, locale {r['locale']}, naive times in "
                      f"{r['timezone']}, header on line {r['header_line']}, {r['rows']} rows"
                      + "".join(f", {n} {what}" for what, n in r["skipped_lines"].items()))
        console.print("  columns: " + escape(", ".join(f"{s} -> {t}"
                                                       for s, t in r["columns"].items())))
        notes = r.get("notes") or {}
        if notes:
            console.print("  units/notes: " + escape("; ".join(
                f"{h}: {', '.join(n)}" for h, n in notes.items())))
        by_column = {t: s for s, t in r["columns"].items()}
        for column, others in (r.get("runners_up") or {}).items():
            console.print(f"  chose {escape(by_column.get(column, '?'))} for {column} over "
                          + escape(", ".join(others)) + " (see PRIORITIES in "
                          "pipelines/ingest/headers.py)")
        if r["formats"]:
            console.print("  formats: " + ", ".join(f"{c}: {f}" for c, f in r["formats"].items()))
        if r.get("keys"):
            space = r.get("id_space") or ""
            matched = (f"; {r['with_purchases']} of its {r['customers']} customers "
                       f"({r['with_purchases'] / r['customers']:.0%}) have purchases"
                       if r["kind"] != "purchases" and r.get("customers") else "")
            console.print("  customer key: " + escape(", ".join(r["keys"]))
                          + (f" (ids are {space}'s own numbers)" if space else "") + matched)


def print_identity(identity: dict[str, Any]) -> None:
    """One line on how customers were linked across files, and what could not be."""
    if not identity or not identity.get("customers"):
        return
    sources = identity.get("sources", [])
    line = (f"customers: {identity['customers']:,}, {identity['in_several_sources']:,} of them "
            f"in more than one file, {identity['source_only']:,} in one file only")
    if identity.get("linked_by_key"):
        line += (f"; {identity['linked_by_key']:,} linked through a second key (e-mail, phone "
                 "or another system's id)")
    console.print(line, soft_wrap=True)
    for source in sources:
        if source["ambiguous_rows"]:
            err.print(f"[yellow]warning[/yellow] {escape(source['file'])}: "
                      f"{source['ambiguous_rows']} rows quarantined: their only key is an "
                      "e-mail or phone shared by several customers", soft_wrap=True)
    if identity.get("shared_keys"):
        examples = ", ".join(identity.get("shared_examples", []))
        console.print(f"{identity['shared_keys']} e-mail(s)/phone(s) belong to several "
                      f"customers and link nothing (e.g. {escape(examples)})", soft_wrap=True)


def print_grading(graded: dict[str, float], tracking_uri: str) -> None:
    """The demo's grade against the simulator's ground truth, and where its MLflow store is."""
    if graded:
        console.print(
            "[bold]Against the simulator's ground truth[/bold] (final horizon, "
            f"{int(graded['truth_customers'])} customers): model ROC-AUC "
            f"{graded['truth_model_roc_auc']:.3f}, "
            f"recency-only {graded['truth_recency_roc_auc']:.3f}, "
            f"ceiling (true probabilities) {graded['truth_ceiling_roc_auc']:.3f}"
        )
    console.print(f"MLflow store: {tracking_uri}", soft_wrap=True)  # paths stay whole
    if tracking_uri.startswith("sqlite:///"):
        console.print(f"  open it with: mlflow ui --backend-store-uri {tracking_uri} --workers 1",
                      soft_wrap=True)


def print_history(history: list[dict[str, str]]) -> None:
    table = Table("since (UTC)", "version", "how", "reason", title="Champion history")
    for entry in history[-10:]:
        table.add_row(entry["since"], entry["version"], entry["how"], entry["reason"])
    console.print(table)


def print_training(result: dict[str, Any]) -> None:
    v = result["validation"]
    billing = result.get("billing") or {}
    if billing:
        how = "chosen from the data" if billing.get("definition_chosen") else "as given"
        console.print(f"business: {billing['summary']}", highlight=False)
        console.print(f"churn definition: {result.get('churn_definition')} ({how})",
                      highlight=False)
    baselines = result.get("baselines") or {"recency": result["baseline_recency"]}
    table = Table("metric", "model", *baselines,
                  title=f"Out-of-time validation on cutoff {result['valid_cutoff']} "
                        f"(calibration: {result.get('calibration', 'none')})")
    # Money (retained value) in whole units, so the table fits 80 columns untruncated.
    fmt = lambda key, x: f"{x:,.0f}" if key.startswith("retained_value") else f"{x:.4f}"  # noqa: E731
    for key in TRAINING_METRICS:
        if key in v:
            table.add_row(key, fmt(key, v[key]), *(fmt(key, b[key]) for b in baselines.values()))
    console.print(table)
    for name, b in baselines.items():
        console.print(f"ahead of {name}: ROC-AUC {v['roc_auc'] - b['roc_auc']:+.4f}, "
                      f"PR-AUC {v['pr_auc'] - b['pr_auc']:+.4f}")
    backtest = result.get("backtest") or {}
    if backtest:
        console.print(
            f"backtest over {int(backtest['backtest_origins'])} origins: ROC-AUC "
            f"{backtest['backtest_roc_auc_mean']:.3f} ± {backtest['backtest_roc_auc_std']:.3f}, "
            f"PR-AUC {backtest['backtest_pr_auc_mean']:.3f} ± "
            f"{backtest['backtest_pr_auc_std']:.3f}, ECE {backtest['backtest_ece_mean']:.3f}")
    if result.get("cutoffs_note"):
        console.print(result["cutoffs_note"], highlight=False)
    if result.get("sample_note"):
        console.print(f"figures above from {result['sample_note']}", highlight=False)
    if result.get("fit_note"):
        console.print(f"final model: {result['fit_note']}", highlight=False)
    role = "champion" if result.get("promoted", True) else "challenger"
    console.print(f"registered churn-model version {result['model_version']} as {role}")
    console.print(f"  MLflow run {result['run_id']}", highlight=False)
    if "promotion_reason" in result:
        console.print(f"promotion gate: {result['promotion_reason']}")
        if result.get("promotion_basis"):
            console.print(f"  champion's figures: {result['promotion_basis']}", highlight=False)


TOP_N = 10
# Below this width the full table squeezes reasons into ~10-character columns (20+ lines per
# customer); the compact layout keeps every customer to three lines at 80 columns.
FULL_TABLE_MIN_WIDTH = 140
GAP = "  "
MIN_CUSTOMER_WIDTH = 12
# By position in the tier policy: most urgent first, the default tier last; the lapsed
# (win-back) tier, ranked after every other, is grey as in the report.
TIER_STYLES = ("bold red", "yellow", "cyan", "green")
LAPSED_STYLE = "bright_black"


def tier_styles(tiers: list[str], lapsed: str | None = None) -> dict[str, str]:
    """A colour per tier by its position in the policy (the default tier is always green)."""
    ranked = [t for t in tiers if t != lapsed]
    styles = {t: TIER_STYLES[min(i, len(TIER_STYLES) - 2)] for i, t in enumerate(ranked[:-1])}
    styles.update({ranked[-1]: TIER_STYLES[-1]} if ranked else {})
    return {**styles, **({lapsed: LAPSED_STYLE} if lapsed in tiers else {})}


def _customer(row: Any) -> Text:
    name = row.customer_name if isinstance(row.customer_name, str) else ""
    return Text.assemble((row.customer_id, "bold"), f" {name}" if name else "")


def full_top_table(top: pd.DataFrame, lang: str, title: str, styles: dict[str, str]) -> Table:
    """Every reason and the segment: readable from about 140 columns."""
    table = Table(title=title)
    table.add_column(column_label("rank", lang), justify="right", no_wrap=True)
    table.add_column(summary_label("customer", lang), ratio=2)
    table.add_column(summary_label("tier", lang), no_wrap=True)
    for key in ("probability", "value"):
        table.add_column(summary_label(key, lang), justify="right", no_wrap=True)
    table.add_column(summary_label("reasons", lang), ratio=4)
    table.add_column(column_label("suggested_action", lang), ratio=2)
    for row in top.itertuples():
        reasons = "\n".join(r for r in (row.reason_1, row.reason_2, row.reason_3) if r)
        who = _customer(row)
        who.append(f"\n{segment_label(row.segment, lang)}", style="dim")
        table.add_row(str(row.rank), who,
                      Text(tier_label(row.risk_tier, lang), style=styles.get(row.risk_tier, "")),
                      format_number(row.churn_probability, lang, 2),
                      format_number(row.value_at_risk, lang), Text(reasons),
                      Text(row.suggested_action))
    return table


def _cell(text: str | Text, width: int, align: str = "left") -> Text:
    """`text` in exactly `width` cells: cut with an ellipsis, never wrapped."""
    cell = Text(text) if isinstance(text, str) else text.copy()
    cell.truncate(width, overflow="ellipsis")
    cell.align(align, width)  # type: ignore[arg-type]  # "left" or "right"
    return cell


def compact_top_lines(top: pd.DataFrame, lang: str, title: str, width: int,
                      styles: dict[str, str]) -> list[Text]:
    """Per customer one row (rank, id and name, tier, probability, value at risk) and under it
    the top reason and the action, each on one line cut to `width`."""
    headers = ["#"] + [summary_label(key, lang) for key in ("customer", "tier", "probability",
                                                           "value")]
    cells = [[str(r.rank), _customer(r), Text(tier_label(r.risk_tier, lang),
                                              style=styles.get(r.risk_tier, "")),
              format_number(r.churn_probability, lang, 2), format_number(r.value_at_risk, lang)]
             for r in top.itertuples()]
    widths = [max(cell_len(str(c)) for c in column) for column in zip(headers, *cells, strict=True)]
    widths[1] = max(width - sum(widths) + widths[1] - len(GAP) * (len(widths) - 1),
                    MIN_CUSTOMER_WIDTH)
    aligns = ("right", "left", "left", "right", "right")

    def row_line(values: list, style: str = "") -> Text:
        line = Text(GAP).join(_cell(value, size, align) for value, size, align
                              in zip(values, widths, aligns, strict=True))
        line.stylize(style)
        return line

    labels = [summary_label("reason", lang), summary_label("action", lang)]
    label_width = max(cell_len(label) for label in labels)
    indent = " " * widths[0] + GAP
    lines = [Text(title, style="bold"), row_line(headers, "bold"), Text("─" * width, "dim")]
    for row, values in zip(top.itertuples(), cells, strict=True):
        lines.append(row_line(values))
        for label, detail in zip(labels, (row.reason_1, row.suggested_action), strict=True):
            lines.append(Text.assemble(indent, _cell(Text(label, "dim"), label_width), GAP,
                                       Text(detail or "")))
    for line in lines:
        line.truncate(width, overflow="ellipsis")
    return lines


def print_top_customers(out: Console, risk: pd.DataFrame, lang: str, as_of: str,
                        tiers: list[str], lapsed: str | None = None) -> None:
    """The top customers as the full table on a wide console, else the compact layout."""
    title = summary_label("top", lang, n=min(TOP_N, len(risk)), total=len(risk), as_of=as_of)
    top, styles = risk.head(TOP_N), tier_styles(tiers, lapsed)
    if out.width >= FULL_TABLE_MIN_WIDTH:
        out.print(full_top_table(top, lang, title, styles))
        return
    for line in compact_top_lines(top, lang, title, out.width, styles):
        out.print(line, no_wrap=True, overflow="ellipsis")


def print_scoring(result: dict[str, Any], out: Console | None = None) -> None:
    """Top customers, the run summary and where the files are, in the run's language."""
    import pandas as pd

    out = out or console
    lang = result.get("lang", "en")
    risk = pd.read_parquet(result["risk_list_parquet"])
    print_top_customers(out, risk, lang, result["as_of"], list(result["tiers"]),
                        (result.get("changes") or {}).get("lapsed_tier"))
    for line in run_summary_lines(result, lang):
        out.print(line, markup=False)
    # Paths are never wrapped: a path cut by a newline cannot be copied.
    labels = [summary_label("risk_list", lang) + ":", summary_label("report", lang) + ":"]
    pad = max(cell_len(label) for label in labels)
    for label, path in ((labels[0], result["risk_list_xlsx"]), ("", result["risk_list_csv"]),
                        (labels[1], result["report"])):
        out.print(label + " " * (pad - cell_len(label) + 1) + path, soft_wrap=True,
                  markup=False, highlight=False)
    if result.get("data_compatibility"):  # scored although the data differs from training
        err.print(f"[yellow]warning[/yellow] {escape(result['data_compatibility'])}",
                  highlight=False, soft_wrap=True)


def chain_lines(result: dict[str, Any]) -> list[str]:
    """`churn run`: one line per step (what it did, and how long it took)."""
    seconds = result.get("seconds", {})

    def took(step: str) -> str:
        return f" ({seconds[step]:.1f} s)" if step in seconds else ""

    ingested = result["ingested"]
    rows = ", ".join(f"{kind} {n}" for kind, n in ingested.get("staged_rows", {}).items())
    if ingested.get("cached") or ingested.get("unchanged"):
        ingest = f"raw files unchanged: staged data reused ({rows})"
    else:
        ingest = f"staged {len(ingested.get('files', []))} file(s): {rows}"
    retrain = result["retrain"]
    trained = result.get("trained")
    if trained is None:
        train = f"not due: {retrain['reason']}"
    else:
        role = "champion" if trained["promoted"] else "challenger"
        train = (f"due ({retrain['reason']}): version {trained['model_version']} is {role}, "
                 f"{trained['promotion_reason']}")
    scored = result["scored"]
    score = (f"{scored['customers_scored']} customers at {scored['as_of']} with version "
             f"{scored.get('model_version', '?')}: {scored['risk_list_csv']}")
    lines = [f"ingest  {ingest}{took('ingest')}", f"train   {train}{took('train')}",
             f"score   {score}{took('score')}"]
    monitored = scored.get("monitored")
    if monitored:
        lines.append(monitor_line(monitored))
    return lines


def monitor_line(monitored: dict[str, Any]) -> str:
    """`churn run`'s monitoring line: the drift verdict and the alerts raised."""
    verdict = "drift" if monitored.get("drift") else "stable"
    if monitored.get("monitoring_run_id") is None:
        verdict = "not checked (no training reference)"
    alerts = ", ".join(monitored.get("alerts") or []) or "none"
    return f"monitor {verdict}; alerts: {alerts}"


def print_chain(result: dict[str, Any]) -> None:
    for line in chain_lines(result):  # paths stay whole: soft wrap, no markup
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    scored = result.get("scored") or {}
    if scored.get("data_compatibility"):  # scored although the data differs from training
        err.print(f"[yellow]warning[/yellow] {escape(scored['data_compatibility'])}",
                  highlight=False, soft_wrap=True)
