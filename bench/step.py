"""One benchmark step in its own process, so its peak memory is its own.

Usage: python -m bench.step STEP DATA_DIR [CUSTOMERS]. Prints one JSON line with facts.
"""

from __future__ import annotations

import json
import sys
import time

import pandas as pd


def main(step: str, data_dir: str, customers: int) -> dict:
    from pipelines.store.settings import Settings

    settings = Settings.from_env(data_dir)
    facts: dict = {}
    if step.startswith("scale_"):
        from pathlib import Path

        from bench import scale

        folder = Path(data_dir) / "scale"
        if step == "scale_generate":
            return scale.generate(folder, customers)
        return scale.bare_rfm(folder) if step == "scale_duckdb_rfm" else scale.full_features(
            folder)
    if step == "generate":
        from pipelines.sample.generate import generate_and_write

        written = generate_and_write(settings, customers=customers, seed=1)
        facts = {k: str(v) for k, v in written.items()}
    elif step == "ingest":
        from pipelines.ingest.run import ingest_raw_exports

        facts = ingest_raw_exports(settings).staged_rows
    elif step in ("features", "duckdb_rfm"):
        from pipelines.store.staged import load_source_tables

        tables = load_source_tables(settings)
        as_of = tables.last_event_date().date()
        start = time.perf_counter()
        if step == "features":
            from features.build import build_customer_features

            frame = build_customer_features(tables, as_of)
            facts = {"customers": len(frame), "columns": frame.shape[1]}
        else:
            import duckdb

            path = settings.staged_dir / "purchases.parquet"
            frame = duckdb.sql(
                f"SELECT customer_id, max(order_date) AS last, count(*) AS n, sum(amount) AS m "
                f"FROM read_parquet('{path}') "
                f"WHERE order_date < TIMESTAMP '{as_of}' + INTERVAL 1 DAY "
                f"GROUP BY customer_id"
            ).df()
            facts = {"customers": len(frame)}
        facts["compute_seconds"] = round(time.perf_counter() - start, 3)
        facts["purchases"] = len(tables.purchases)
    elif step == "train":
        from models.params import TrainParams
        from models.promotion import PromotionMargin
        from pipelines.tasks import fit_and_register, resolve_cutoff, write_model_input

        params = TrainParams()
        data_end = resolve_cutoff.fn(settings, None)
        model_input = write_model_input.fn(settings, data_end, params)
        trained = fit_and_register.fn(settings, model_input, params, PromotionMargin())
        facts = {"rows": int(pd.read_parquet(model_input["path"]).shape[0]),
                 "oot_roc_auc": round(trained["validation"]["roc_auc"], 4),
                 "baseline_recency_roc_auc": round(trained["baseline_recency"]["roc_auc"], 4),
                 "best_iteration": trained["best_iteration"]}
    elif step == "score":
        from pipelines.deliver.params import ScoreParams
        from pipelines.tasks import grade_against_ground_truth, resolve_cutoff, score_and_archive

        scored = score_and_archive.fn(settings, resolve_cutoff.fn(settings, None), ScoreParams())
        graded = grade_against_ground_truth.fn(settings, scored, {"run_id": _last_run(settings)})
        facts = {"customers_scored": scored["customers_scored"],
                 **{k: round(v, 4) for k, v in graded.items()}}
    else:
        raise SystemExit(f"unknown step {step}")
    return facts


def _last_run(settings) -> str:
    import mlflow

    from pipelines.tracking.connect import configure_mlflow

    experiment = configure_mlflow(settings)
    runs = mlflow.search_runs([experiment], max_results=1, order_by=["start_time DESC"])
    return runs.iloc[0].run_id


if __name__ == "__main__":
    step, data_dir = sys.argv[1], sys.argv[2]
    customers = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    print(json.dumps(main(step, data_dir, customers)))
