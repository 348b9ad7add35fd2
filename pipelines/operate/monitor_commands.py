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


def track_record(data_dir: DataDir = None, data_end: DataEnd = None) -> None:
    """Grade every archived list whose label window has ended by --data-end: realised churn
    by tier, ROC-AUC, PR-AUC, precision/recall of the top tiers, calibration and value lost,
    against the model's out-of-time promise. Writes reports/track_record.{csv,parquet}."""
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
    for name, path in result["files"].items():
        console.print(f"{name:>9}: {path}", soft_wrap=True)
    console.print(f"MLflow run: {result['mlflow_run_id']}")
