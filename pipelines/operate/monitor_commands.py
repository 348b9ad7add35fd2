"""`churn track-record`: grade every shipped list whose label window has ended."""

from __future__ import annotations

from typing import Any

from pipelines.cli_common import DataDir, DataEnd, prepare_environment, run_step
from pipelines.console import console


def _number(value: Any, digits: int = 3) -> str:
    return "" if value is None or value != value else f"{value:.{digits}f}"  # NaN != NaN


def track_record_lines(lists: list[dict[str, Any]]) -> list[str]:
    """One line per archived list: realised against promised, or when it matures."""
    lines = []
    for row in lists:
        head = f"{str(row['as_of'])[:10]}  version {row['model_version']}  " \
               f"{row['customers']} customers  "
        if row["status"] != "graded":
            lines.append(head + f"not matured yet (matures on {str(row['matures_on'])[:10]})")
            continue
        lines.append(
            head + f"churned {int(row['churned'])} ({_number(row['churn_rate'] * 100, 1)}%)  "
            f"ROC-AUC {_number(row['roc_auc'])} (promised {_number(row['promised_roc_auc'])})  "
            f"PR-AUC {_number(row['pr_auc'])} (promised {_number(row['promised_pr_auc'])})  "
            f"top tiers: precision {_number(row['precision_top_tiers'])}, recall "
            f"{_number(row['recall_top_tiers'])}  ECE {_number(row['ece'])}  "
            f"value lost {row['value_lost']:,.0f}")
    return lines


def _loop(root: str, result: dict[str, Any]) -> dict[str, str]:
    """Contacted against holdout on the matured lists (README "Closing the loop"), printed
    and written under reports/."""
    import datetime as dt

    from pipelines.deliver.loop_report import (
        archive_loop_record,
        loop_lines,
        save_rate_lines,
        save_rates_in_force,
        uplift_check,
        uplift_line,
        write_loop_record,
    )
    from pipelines.store.settings import Settings
    from pipelines.store.staged import load_source_tables, load_staged_actions

    settings = Settings.from_env(root)
    record = archive_loop_record(settings, load_source_tables(settings),
                                 dt.date.fromisoformat(result["data_end"]),
                                 load_staged_actions(settings))
    uplift = uplift_check(record)
    console.print("[bold]Contacted against holdout[/bold] (pooled over matured lists)")
    files = write_loop_record(settings, record, uplift=uplift)
    rates = save_rate_lines(save_rates_in_force(settings) or {})
    for line in [*loop_lines(record), *rates, uplift_line(uplift)]:
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    return files


def track_record(data_dir: DataDir = None, data_end: DataEnd = None) -> None:
    """Grade every archived list whose label window has ended by --data-end: realised churn
    by tier, ROC-AUC, PR-AUC, precision/recall of the top tiers, calibration and value lost,
    against the model's out-of-time promise; and, for lists with a holdout, churn of contacted
    against held-out customers per tier and per planned action. Writes
    reports/track_record.{csv,parquet}, track_record_effects*.csv and save_rates.json."""
    root = prepare_environment(data_dir, step="track-record")
    from pipelines.flows import monitor_flow

    result = run_step("track-record",
                      lambda: monitor_flow(root, data_end.date() if data_end else None))
    if not result["lists"]:
        console.print("no archived risk list yet: run `churn score` first")
    else:
        console.print("[bold]Track record of shipped lists[/bold] (realised, at the data end)")
        for line in track_record_lines(result["lists"]):
            console.print(line, soft_wrap=True, markup=False, highlight=False)
    files = {**result["files"], **run_step("track-record", lambda: _loop(root, result))}
    for name, path in files.items():
        console.print(f"{name:>10}: {path}", soft_wrap=True)
    console.print(f"MLflow run: {result['mlflow_run_id']}")
