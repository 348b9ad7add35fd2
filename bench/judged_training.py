"""Training in this process against training on a local Dask cluster (`CHURN_TRAIN_ENGINE=
dask`), each judged on a later cutoff neither model saw (issue 15).

Both train on the snapshots whose label windows end by `judged` (the staged data's end less
one label window) and are then scored on every customer eligible at `judged`, with labels
from the data after it. In this process the booster fits the model input this process holds
(a customer sample when `CHURN_TRAIN_MEMORY_MB` is short); on the cluster it fits every
customer's snapshots, built on the workers. Reported: the fitted rows, the out-of-time AUC of
the probe (the same in both: it is fitted here) and the judged AUC of the final booster, this
process's peak memory while training and each worker's.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from sklearn.metrics import roc_auc_score

from features.snapshots import build_model_input
from models.params import TrainParams
from models.promotion import PromotionMargin
from pipelines.scale.runner import command_runner
from pipelines.scale.settings import DASK, LOCAL, ScaleSettings
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables
from pipelines.tasks import fit_and_register, resolve_cutoff, write_model_input
from pipelines.tracking.registry import load_model_version

WORKERS = int(os.environ.get("BENCH_TRAIN_WORKERS", "2"))


def peak_rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return round(int(status.split("VmHWM:")[1].split()[0]) / 1024, 1)


def judged_training(settings: Settings, on_cluster: bool) -> dict:
    params = TrainParams()
    end = resolve_cutoff.fn(settings, None)
    judged = end - dt.timedelta(days=params.label.span_days)
    scale = (ScaleSettings(scheduler=LOCAL, local_workers=WORKERS, train_engine=DASK)
             if on_cluster else ScaleSettings())
    began = time.perf_counter()
    with command_runner(scale) as runner:
        model_input = write_model_input.fn(settings, judged, params)
        trained = fit_and_register.fn(settings, model_input, params, PromotionMargin())
        workers = runner.client().run(peak_rss_mib) if on_cluster else {}
    seconds = round(time.perf_counter() - began, 2)
    train_peak = peak_rss_mib()
    model = load_model_version(settings, str(trained["model_version"])).model
    later = build_model_input(load_source_tables(settings), [judged], params.label,
                              data_end=end, event_types=model.event_types)
    sample = model_input.get("sample", {})
    return {
        "engine": scale.train_engine, "workers": WORKERS if on_cluster else 0,
        "train_seconds": seconds, "train_peak_rss_mib": train_peak,
        "worker_peak_rss_mib": sorted(workers.values()),
        "rows": trained["fit_rows"],
        "model_input_rows": sample.get("train_sample_rows"),
        "train_sample_share": sample.get("train_sample_share"),
        "trees": trained["best_iteration"],
        "oot_roc_auc_probe": round(trained["validation"]["roc_auc"], 4),
        "judged_cutoff": str(judged), "judged_customers": len(later),
        "judged_roc_auc": round(float(roc_auc_score(later["churned"],
                                                    model.predict_probability(later))), 4),
    }
