"""The whole pipeline per stage at scale, each stage in its own process (issue 15).

`make bench-scale` (BENCH_SCALE_CUSTOMERS=100000 by default; 1000000 for the 1 M run). The data
is `bench.scale`'s synthetic business (numpy, seconds), written as raw exports twice: CSV and
parquet. Stages, each a child process reporting its own peak RSS (VmHWM) and wall time:

- ingest from CSV, ingest from parquet (`churn ingest` on each copy of the exports);
- features for one cutoff (the staged tables loaded, then `build_customer_features`);
- the floor: a bare DuckDB recency/frequency/monetary GROUP BY over the staged purchases;
- our RFM summary (x, t_x, T from the feature build's RFM query) vs `lifetimes`'
  `summary_data_from_transaction_data` on the same completed purchases;
- training on 8 cutoffs (`write_model_input` + `fit_and_register`, under
  `CHURN_TRAIN_MEMORY_MB`);
- scoring with reasons (`score_and_archive`: the risk list with every customer's reasons);
- not run unless named: `train_judged` and `train_judged_dask`, training in this process
  against on a local Dask cluster, each judged on a later cutoff (`bench.judged_training`).

Rows per second: rows read (ingest), staged purchases (features, floor, RFM summaries),
model-input rows (training), customers scored (scoring), over the stage's own compute time
(the feature build's excludes loading the staged tables, reported apart as wall time).
BENCH_SCALE_STAGES=train,score runs only those; BENCH_SCALE_DATA=<folder> reuses the csv/
and parquet/ data dirs of an earlier run instead of generating (its stages' outputs kept).
A stage past BENCH_SCALE_MAX_RSS_MB (default 20480) is stopped and reported as such.
Printed as a table; written to bench/results/<date>-scale-pipeline-<customers>.json with the
machine (cores, RAM) and its load (`uptime`) before and after.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from bench import scale
from bench.run import machine, write_results

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("ingest_csv", "ingest_parquet", "features", "floor", "rfm_ours", "rfm_lifetimes",
          "train", "score")
JUDGED = ("train_judged", "train_judged_dask")  # run only when BENCH_SCALE_STAGES names them
ID_PREFIX = {"purchases": ("order_id", "O"), "complaints": ("complaint_id", "K"),
             "interactions": ("interaction_id", "I")}
MAX_RSS_MB = int(os.environ.get("BENCH_SCALE_MAX_RSS_MB", "20480"))


def write_raw_exports(folder: Path, customers: int) -> dict[str, int]:
    """`bench.scale`'s tables as raw exports under csv/raw/<kind>/ and parquet/raw/<kind>/."""
    synthetic = folder / "synthetic"
    rows = scale.generate(synthetic, customers)
    for kind in ("purchases", "complaints", "interactions", "customers"):
        table = pq.read_table(synthetic / f"{kind}.parquet")
        table = table.cast(pa.schema([
            pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f
            for f in table.schema]))
        if kind in ID_PREFIX:
            name, prefix = ID_PREFIX[kind]
            ids = pc.binary_join_element_wise(
                pa.scalar(prefix), pa.array(range(len(table))).cast(pa.string()), "")
            table = table.add_column(0, name, ids)
        for fmt in ("csv", "parquet"):
            target = folder / fmt / "raw" / kind
            target.mkdir(parents=True, exist_ok=True)
            if fmt == "csv":
                pacsv.write_csv(table, target / f"{kind}.csv")
            else:
                pq.write_table(table, target / f"{kind}.parquet")
    return rows


# --- the stages, run in a child process: `python -m bench.scale_pipeline STAGE DATA_DIR` ----

def _stage(stage: str, data_dir: Path) -> dict:
    from pipelines.store.settings import Settings

    settings = Settings.from_env(data_dir)
    if stage.startswith("ingest"):
        from pipelines.ingest.run import ingest_raw_exports

        report = ingest_raw_exports(settings)
        return {"rows": sum(a.rows_read for a in report.accounts)}
    if stage == "floor":
        import duckdb

        end = _data_end(settings)
        frame = duckdb.sql(
            "SELECT customer_id, max(order_date) AS last, count(*) AS n, sum(amount) AS m "
            f"FROM read_parquet('{settings.staged_dir / 'purchases.parquet'}') "
            f"WHERE order_date < TIMESTAMP '{end}' + INTERVAL 1 DAY GROUP BY customer_id").df()
        return {"rows": _purchase_rows(settings), "customers": len(frame)}
    if stage == "features":
        from features.build import build_customer_features
        from pipelines.store.staged import load_source_tables

        tables = load_source_tables(settings)
        start = time.perf_counter()
        features = build_customer_features(tables, _data_end(settings))
        return {"rows": len(tables.purchases), "customers": len(features),
                "columns": features.shape[1],
                "compute_seconds": round(time.perf_counter() - start, 2)}
    if stage == "rfm_ours":
        import duckdb

        from features.sql import rfm_sql
        from models.btyd import summary_from_features

        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        staged = settings.staged_dir / "purchases.parquet"
        con.execute("CREATE VIEW purchases AS SELECT * REPLACE (CAST(order_date AS TIMESTAMP) "
                    f"AS order_date) FROM read_parquet('{staged}')")
        summary = summary_from_features(con.sql(rfm_sql(_data_end(settings))).df())
        return {"rows": _purchase_rows(settings), "customers": len(summary)}
    if stage == "rfm_lifetimes":
        import pandas as pd
        from lifetimes.utils import summary_data_from_transaction_data

        end = _data_end(settings)
        purchases = pd.read_parquet(settings.staged_dir / "purchases.parquet",
                                    columns=["customer_id", "order_date", "status"])
        done = purchases[(purchases["status"] == "completed")
                         & (purchases["order_date"] < pd.Timestamp(end, tz="UTC")
                            + pd.Timedelta(days=1))]
        done = done.assign(order_date=done["order_date"].dt.tz_localize(None))
        summary = summary_data_from_transaction_data(
            done, "customer_id", "order_date", observation_period_end=pd.Timestamp(end),
            freq="D")
        return {"rows": len(purchases), "customers": len(summary)}
    if stage == "train":
        from models.params import TrainParams
        from models.promotion import PromotionMargin
        from pipelines.tasks import fit_and_register, resolve_cutoff, write_model_input

        params = TrainParams()
        model_input = write_model_input.fn(settings, resolve_cutoff.fn(settings, None), params)
        trained = fit_and_register.fn(settings, model_input, params, PromotionMargin())
        sample = model_input.get("sample", {})
        return {"rows": sample.get("train_sample_rows"), "cutoffs": len(model_input["cutoffs"]),
                "oot_roc_auc": round(trained["validation"]["roc_auc"], 4), **sample}
    if stage in JUDGED:
        from bench.judged_training import judged_training

        return judged_training(settings, on_cluster=stage.endswith("dask"))
    if stage == "score":
        from pipelines.deliver.params import ScoreParams
        from pipelines.tasks import resolve_cutoff, score_and_archive

        scored = score_and_archive.fn(settings, resolve_cutoff.fn(settings, None), ScoreParams())
        return {"rows": scored["customers_scored"], "customers": scored["customers_scored"]}
    raise SystemExit(f"unknown stage {stage}")


def _purchase_rows(settings) -> int:
    return pq.ParquetFile(settings.staged_dir / "purchases.parquet").metadata.num_rows


def _data_end(settings) -> dt.date:
    from pipelines.store.staged import staged_data_end

    return staged_data_end(settings)


def _peak_rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return round(int(status.split("VmHWM:")[1].split()[0]) / 1024, 1)


# --- the parent: one child per stage, a watchdog on its memory ------------------------------

def run_stage(stage: str, data_dir: Path) -> dict:
    env = {**os.environ, "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING"}
    env.pop("MLFLOW_TRACKING_URI", None)
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "bench.scale_pipeline", stage, str(data_dir)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             cwd=ROOT)
    stopped = False
    while child.poll() is None:
        if _rss_mib(child.pid) > MAX_RSS_MB:
            child.kill()
            stopped = True
        time.sleep(0.5)
    out, err = child.communicate()
    wall = round(time.perf_counter() - start, 2)
    if stopped:
        return {"stage": stage, "wall_seconds": wall, "stopped": f"RSS past {MAX_RSS_MB} MiB"}
    if child.returncode != 0:
        return {"stage": stage, "wall_seconds": wall, "failed": err.strip()[-600:]}
    facts = json.loads(out.strip().splitlines()[-1])
    seconds = facts.get("compute_seconds", wall)
    rows = facts.get("rows") or 0
    return {"stage": stage, "wall_seconds": wall, "peak_rss_mib": facts.pop("peak_rss_mib"),
            "rows_per_second": round(rows / seconds) if seconds else None, **facts}


def _rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        return 0.0


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def ratios(rows: dict[str, dict]) -> dict[str, float | None]:
    def seconds(stage: str) -> float | None:
        row = rows.get(stage, {})
        return row.get("compute_seconds", row.get("wall_seconds")) if "peak_rss_mib" in row \
            else None

    def ratio(a: str, b: str) -> float | None:
        top, bottom = seconds(a), seconds(b)
        return round(top / bottom, 2) if top and bottom else None

    return {"features_vs_bare_floor": ratio("features", "floor"),
            "rfm_ours_vs_lifetimes": ratio("rfm_ours", "rfm_lifetimes")}


def main() -> None:
    customers = int(os.environ.get("BENCH_SCALE_CUSTOMERS", "100000"))
    stages = [s for s in os.environ.get("BENCH_SCALE_STAGES", ",".join(STAGES)).split(",") if s]
    report = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
              "machine": {**machine(), "nproc": os.cpu_count()}, "customers": customers,
              "train_memory_mb": os.environ.get("CHURN_TRAIN_MEMORY_MB", "default"),
              "load_before": _uptime()}
    print(f"machine: {report['machine']}\nload before: {report['load_before']}")
    rows: dict[str, dict] = {}
    reused = os.environ.get("BENCH_SCALE_DATA")  # a folder of an earlier run: no generating
    with tempfile.TemporaryDirectory(prefix="churn-scale-pipeline-") as scratch:
        folder = reused or scratch
        if not reused:
            start = time.perf_counter()
            report["generated"] = write_raw_exports(Path(folder), customers)
            report["generate_seconds"] = round(time.perf_counter() - start, 2)
            print(f"generated {report['generated']} in {report['generate_seconds']} s")
        for stage in stages:
            data = Path(folder) / ("parquet" if stage == "ingest_parquet" else "csv")
            rows[stage] = run_stage(stage, data)
            row = rows[stage]
            shown = ("stage", "wall_seconds", "compute_seconds", "peak_rss_mib",
                     "rows_per_second")
            print(f"{stage:<15} {row['wall_seconds']:>8.2f} s wall "
                  f"{row.get('compute_seconds', float('nan')):>8.2f} s compute "
                  f"{row.get('peak_rss_mib', float('nan')):>9.1f} MiB "
                  f"{row.get('rows_per_second') or '':>10} rows/s  "
                  f"{ {k: v for k, v in row.items() if k not in shown} }")
    report["stages"] = list(rows.values())
    report["ratios"] = ratios(rows)
    report["load_after"] = _uptime()
    print(f"ratios: {report['ratios']}\nload after: {report['load_after']}")
    part = "-" + "-".join(stages) if "BENCH_SCALE_STAGES" in os.environ else ""
    write_results(f"scale-pipeline-{customers}{part}", report)


if __name__ == "__main__":
    if len(sys.argv) == 3:
        began = time.perf_counter()
        facts = _stage(sys.argv[1], Path(sys.argv[2]))
        facts.setdefault("compute_seconds", round(time.perf_counter() - began, 2))
        print(json.dumps({**facts, "peak_rss_mib": _peak_rss_mib()}, default=str))
    else:
        main()
