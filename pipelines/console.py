"""What the `churn` commands print: rich tables and summaries of flow results (no IO)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
err = Console(stderr=True)

TRAINING_METRICS = ("roc_auc", "pr_auc", "brier", "log_loss", "ece", "top_decile_lift",
                    "precision_top5", "recall_top5", "precision_top10", "recall_top10",
                    "precision_top20", "recall_top20", "retained_value_top_decile")


def print_accounts(files: list[dict[str, Any]]) -> None:
    """The ingest row account: per file, read = staged + merged + duplicates + quarantined."""
    table = Table("read", "staged", "merged", "duplicates", "quarantined", "reasons")
    table.add_column("file", overflow="fold")
    for account in files:
        table.add_row(*(str(account[k]) for k in
                      ("rows_read", "staged", "merged", "duplicates", "quarantined")),
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
        if r["formats"]:
            console.print("  formats: " + ", ".join(f"{c}: {f}" for c, f in r["formats"].items()))


def print_history(history: list[dict[str, str]]) -> None:
    table = Table("since (UTC)", "version", "how", "reason", title="Champion history")
    for entry in history[-10:]:
        table.add_row(entry["since"], entry["version"], entry["how"], entry["reason"])
    console.print(table)


def print_training(result: dict[str, Any]) -> None:
    v = result["validation"]
    baselines = result.get("baselines") or {"recency": result["baseline_recency"]}
    table = Table("metric", "model", *baselines,
                  title=f"Out-of-time validation on cutoff {result['valid_cutoff']} "
                        f"(calibration: {result.get('calibration', 'none')})")
    for key in TRAINING_METRICS:
        if key in v:
            table.add_row(key, f"{v[key]:.4f}", *(f"{b[key]:.4f}" for b in baselines.values()))
    console.print(table)
    for name, b in baselines.items():
        console.print(f"ahead of {name}: ROC-AUC {v['roc_auc'] - b['roc_auc']:+.4f}, "
                      f"PR-AUC {v['pr_auc'] - b['pr_auc']:+.4f}")
    backtest = result.get("backtest") or {}
    if backtest:
        console.print(
            f"backtest over {int(backtest['backtest_origins'])} origins: ROC-AUC "
            f"{backtest['backtest_roc_auc_mean']:.4f} ± {backtest['backtest_roc_auc_std']:.4f}, "
            f"PR-AUC {backtest['backtest_pr_auc_mean']:.4f} ± "
            f"{backtest['backtest_pr_auc_std']:.4f}, ECE {backtest['backtest_ece_mean']:.4f}")
    role = "champion" if result.get("promoted", True) else "challenger"
    console.print(f"registered churn-model version {result['model_version']} as {role} "
                  f"(MLflow run {result['run_id']})")
    if "promotion_reason" in result:
        console.print(f"promotion gate: {result['promotion_reason']}")


def print_scoring(result: dict[str, Any]) -> None:
    import pandas as pd

    from models.i18n import segment_label, tier_label

    lang = result.get("lang", "en")
    risk = pd.read_parquet(result["risk_list_parquet"])
    table = Table("rank", "customer", "tier", "probability", "value at risk", "reasons",
                  "action", title=f"Top 10 of {len(risk)} customers (data as of "
                                  f"{result['as_of']})")
    for row in risk.head(10).itertuples():
        reasons = "\n".join(r for r in (row.reason_1, row.reason_2, row.reason_3) if r)
        who = row.customer_id + (f"\n{row.customer_name}" if isinstance(row.customer_name, str)
                                 else "") + f"\n{segment_label(row.segment, lang)}"
        table.add_row(str(row.rank), who, tier_label(row.risk_tier, lang),
                      f"{row.churn_probability:.2f}", f"{row.value_at_risk:,.0f}", reasons,
                      row.suggested_action)
    console.print(table)
    changes = result.get("changes") or {}
    lapsed = changes.get("lapsed_tier")
    console.print(f"tiers: {result['tiers']}; total value at risk "
                  f"{result['value_at_risk_total']:,.0f}"
                  + (f" (of which {lapsed}, the win-back audience ranked last: "
                     f"{result.get('value_at_risk_lapsed', 0):,.0f})" if lapsed else ""))
    if changes.get("previous_run"):
        console.print(
            f"since {changes['previous_run']}: {len(changes['entered_top'])} entered and "
            f"{len(changes['left_top'])} left {' / '.join(changes['top_tiers'])}; "
            f"{len(changes['new_critical'])} new {changes['critical_tier']}"
            + (f"; {len(changes['new_lapsed'])} newly {lapsed}" if lapsed else "")
        )
    else:
        console.print("first archived run: nothing to compare with yet")
    new = changes.get("new_critical") or []
    if new and changes.get("previous_run"):
        shown = ", ".join(new[:10]) + (f" (+{len(new) - 10} more)" if len(new) > 10 else "")
        console.print(f"new {changes['critical_tier']}: {shown}")
    console.print(f"risk list: {result['risk_list_xlsx']}")
    console.print(f"           {result['risk_list_csv']}")
    console.print(f"report:    {result['report']}")


