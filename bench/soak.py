"""`make soak`: months of weekly operation of one simulated business, then its figures.

Every week an incremental export lands in `raw/` (`bench.weekly_exports`: new rows only,
some late, some corrected, one week missing, one with its columns reordered) and the weekly
chain (`churn-weekly`, what `churn run` and the `weekly-run` deployment call) runs on the data
dir. The soak reads what each run decided (retrain or not, and why; alerts, if the chain
reports any) instead of assuming it, then checks what months of operation must not change:

- every run finishes;
- the staged tables equal a one-shot ingest of the same business's full export, and the final
  risk list equals the one-shot data scored with the same champion (rows lost: 0);
- disk grows by what the archive explains (scored runs, model versions, the raw exports
  themselves, Prefect's run history); the working set (staged tables and their one previous
  version, snapshots, reports) grows only as the data does; memory does not climb week after
  week.

    python -m bench.soak                 # 26 weeks (SOAK_WEEKS, SOAK_CUSTOMERS to change)

Figures are printed and written to `bench/results/<date>-soak.json`. The CI test
(`tests/pipelines/test_soak.py`) runs the same code over 6 weeks of a smaller business.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from bench.weekly_exports import SOURCE_FILES, ExportPlan, weekly_exports, write_week

# Kept on purpose: one folder per scoring run, one model version per training (MLflow's
# database grows with every run it logs).
ARCHIVE = ("scored", "mlflow")
INPUT = ("raw",)
PREFECT = (".prefect",)  # run history and cached task results (Prefect's, not ours)
KEYS = {"purchases": "order_id", "complaints": "complaint_id",
        "interactions": "interaction_id", "customers": "customer_id"}


@dataclass
class WeekFigures:
    week: int
    export_end: str
    export_missing: bool
    rows_sent: int
    as_of: str
    retrained: bool
    retrain_reason: str
    promoted: bool | None
    model_version: str
    customers_scored: int
    alerts: list[str]
    seconds: float
    step_seconds: dict[str, float]
    disk_bytes: dict[str, int]
    rss_bytes: int


@dataclass
class SoakFigures:
    weeks: int
    customers: int
    runs_finished: int = 0
    retrains: int = 0
    retrain_reasons: dict[str, int] = field(default_factory=dict)
    alerts: int = 0
    rows_lost: dict[str, int] = field(default_factory=dict)
    staged_equal: bool = False
    risk_list_equal: bool = False
    disk_per_week_bytes: dict[str, int] = field(default_factory=dict)
    working_growth_bytes: int = 0
    input_growth_bytes: int = 0
    rss_growth_bytes: int = 0
    peak_rss_bytes: int = 0
    seconds: float = 0.0
    per_week: list[WeekFigures] = field(default_factory=list)


def folder_sizes(data_dir: Path) -> dict[str, int]:
    """Bytes on disk per category: archive, input, prefect, working (everything else)."""
    sizes = {"archive": 0, "input": 0, "prefect": 0, "working": 0}
    for path in data_dir.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        top = path.relative_to(data_dir).parts[0]
        category = ("archive" if top in ARCHIVE else "input" if top in INPUT
                    else "prefect" if top in PREFECT else "working")
        sizes[category] += path.stat().st_size
    return sizes


def current_rss_bytes() -> int:
    """This process's resident memory now (Linux), 0 where /proc is not there."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) * (1 if sys.platform == "darwin" else 1024)


def _alerts(result: dict[str, Any]) -> list[str]:
    """Alerts the chain reported, wherever its monitoring step puts them (none without one)."""
    monitored = (result.get("scored") or {}).get("monitored") or result.get("monitor") or {}
    return [str(a) for a in result.get("alerts") or monitored.get("alerts") or []]


def run_soak(data_dir: Path, weeks: int, customers: int, seed: int = 5,
             params: Any = None, plan: ExportPlan | None = None,
             report=print) -> SoakFigures:
    """`weeks` weekly chains on `data_dir` (a fresh folder), then the one-shot comparison."""
    from pipelines.flows import weekly_flow
    from pipelines.sample.config import SimulationConfig
    from pipelines.sample.generate import export_frames
    from pipelines.sample.simulator import simulate_business
    from pipelines.store.settings import Settings

    started = time.perf_counter()
    config = SimulationConfig(customers=customers, seed=seed)
    frames = export_frames(simulate_business(config))
    plan = plan or ExportPlan(weeks=weeks)
    exports = weekly_exports(frames, config.end, plan)
    settings = Settings.from_env(data_dir)
    figures = SoakFigures(weeks=weeks, customers=customers)
    for export in exports:
        write_week(settings.raw_dir, export)
        start = time.perf_counter()
        result = weekly_flow(str(data_dir), params=params)
        trained = result["trained"] or {}
        week = WeekFigures(
            week=export.week, export_end=str(export.end), export_missing=export.missing,
            rows_sent=sum(len(f) for f in export.frames.values()), as_of=result["as_of"],
            retrained=result["retrain"]["due"], retrain_reason=result["retrain"]["reason"],
            promoted=trained.get("promoted"),
            model_version=str(result["scored"].get("model_version", "")),
            customers_scored=int(result["scored"]["customers_scored"]),
            alerts=_alerts(result), seconds=round(time.perf_counter() - start, 2),
            step_seconds={k: round(v, 2) for k, v in result.get("seconds", {}).items()},
            disk_bytes=folder_sizes(data_dir), rss_bytes=current_rss_bytes())
        figures.per_week.append(week)
        figures.runs_finished += 1
        report(f"week {export.week:>2} export {export.end}"
               f"{' (missing)' if export.missing else ''}: {week.rows_sent} rows sent "
               f"({export.late} late, {export.corrected} corrected, {export.updated} updated); "
               f"as of {week.as_of}, {'retrained' if week.retrained else 'no retrain'} "
               f"({week.retrain_reason}), {week.customers_scored} scored with version "
               f"{week.model_version} in {week.seconds:.1f} s {week.step_seconds}")
    figures.retrains = sum(w.retrained for w in figures.per_week)
    for w in figures.per_week:
        if w.retrained:
            figures.retrain_reasons[w.retrain_reason] = \
                figures.retrain_reasons.get(w.retrain_reason, 0) + 1
    figures.alerts = sum(len(w.alerts) for w in figures.per_week)
    _compare_with_one_shot(figures, settings, frames, data_dir.parent / "one-shot")
    _growth(figures)
    figures.seconds = round(time.perf_counter() - started, 1)
    return figures


def _compare_with_one_shot(figures: SoakFigures, settings: Any,
                           frames: dict[str, pd.DataFrame], one_shot_dir: Path) -> None:
    """Stage the full export once; compare tables, then score it with the soak's champion."""
    from pipelines.deliver.params import ScoreParams
    from pipelines.deliver.risk_list import same_scored_list
    from pipelines.deliver.scoring_run import run_scoring
    from pipelines.ingest.run import ingest_raw_exports
    from pipelines.store.atomic import write_text_atomic
    from pipelines.store.settings import Settings
    from pipelines.store.staged import load_source_tables
    from pipelines.tracking.connect import configure_mlflow
    from pipelines.tracking.registry import load_champion

    one_shot = Settings.from_env(one_shot_dir)
    for kind, frame in frames.items():
        write_text_atomic(frame.to_csv(index=False),
                          one_shot.raw_dir / kind / SOURCE_FILES[kind])
    ingest_raw_exports(one_shot)
    soak_tables, once_tables = load_source_tables(settings), load_source_tables(one_shot)
    equal = True
    for kind, key in KEYS.items():
        soak, once = (_sorted(getattr(t, kind), key) for t in (soak_tables, once_tables))
        same = once.merge(soak, how="inner", on=list(once.columns))
        figures.rows_lost[kind] = len(once) - len(same)
        equal = equal and soak.equals(once)
    figures.staged_equal = equal
    last = figures.per_week[-1]
    configure_mlflow(settings)
    champion = load_champion(settings)
    scored = run_scoring(one_shot, once_tables, dt.date.fromisoformat(last.as_of), champion,
                         ScoreParams())
    soak_list = pd.read_parquet(settings.scored_dir / "latest" / "risk_list.parquet")
    once_list = pd.read_parquet(scored["risk_list_parquet"])
    figures.risk_list_equal = same_scored_list(soak_list, once_list)



def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values(key, kind="stable").reset_index(drop=True)


def _growth(figures: SoakFigures) -> None:
    """Disk per week per category, and memory, from the third week on: the first export holds
    the whole history, and staging keeps its previous version once there is one."""
    weeks = figures.per_week
    base = weeks[min(2, len(weeks) - 1)]
    span = max(len(weeks) - 1 - base.week, 1)
    figures.disk_per_week_bytes = {
        name: round((weeks[-1].disk_bytes[name] - base.disk_bytes[name]) / span)
        for name in weeks[-1].disk_bytes}
    figures.working_growth_bytes = weeks[-1].disk_bytes["working"] - base.disk_bytes["working"]
    figures.input_growth_bytes = weeks[-1].disk_bytes["input"] - base.disk_bytes["input"]
    figures.rss_growth_bytes = weeks[-1].rss_bytes - base.rss_bytes
    figures.peak_rss_bytes = peak_rss_bytes()


def summary_lines(figures: SoakFigures) -> list[str]:
    mib = 1 << 20
    per_week = ", ".join(f"{name} {value / 1024:.0f} KiB"
                         for name, value in figures.disk_per_week_bytes.items())
    return [
        f"soak: {figures.runs_finished}/{figures.weeks} weekly runs finished, "
        f"{figures.customers} customers, {figures.seconds:.0f} s",
        f"retrains: {figures.retrains} ({figures.retrain_reasons}); alerts: {figures.alerts}",
        f"rows lost: {sum(figures.rows_lost.values())} {figures.rows_lost}; staged tables "
        f"equal one-shot: {figures.staged_equal}; final risk list equal: "
        f"{figures.risk_list_equal}",
        f"disk per week from week 2: {per_week} (working set +"
        f"{figures.working_growth_bytes / 1024:.0f} KiB while the exports grew +"
        f"{figures.input_growth_bytes / 1024:.0f} KiB)",
        f"ingest per week: {_ingest_seconds(figures)} (every run restages every export file)",
        f"memory: peak RSS {figures.peak_rss_bytes / mib:.0f} MiB, growth after week 2 "
        f"{figures.rss_growth_bytes / mib:+.0f} MiB",
    ]


def _ingest_seconds(figures: SoakFigures) -> str:
    """Ingest time of the second and the last run (the first stages the whole history)."""
    timed = [w.step_seconds.get("ingest", 0.0) for w in figures.per_week[1:]]
    return f"{timed[0]:.1f} s in week 1, {timed[-1]:.1f} s in the last week" if timed else "-"


def main() -> None:
    from bench.run import machine, write_results

    weeks = int(os.environ.get("SOAK_WEEKS", "26"))
    customers = int(os.environ.get("SOAK_CUSTOMERS", "1000"))
    # One temporary Prefect API for this process: nothing is left running afterwards.
    os.environ.setdefault("CHURN_PREFECT_SERVER", "ephemeral")
    with tempfile.TemporaryDirectory(prefix="churn-soak-") as tmp:
        data_dir = Path(tmp) / "data"
        from pipelines.cli_common import prepare_environment

        prepare_environment(data_dir)
        from models.params import TrainParams

        params = TrainParams(n_cutoffs=6, min_positives=20, min_negatives=20)
        figures = run_soak(data_dir, weeks, customers, params=params)
    for line in summary_lines(figures):
        print(line)
    write_results("soak", {"machine": machine(), **asdict(figures)})
    ok = (figures.runs_finished == weeks and figures.staged_equal and figures.risk_list_equal
          and not sum(figures.rows_lost.values()))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
