"""Feature build at scale on synthetic staged parquet (issue 4, point 12).

Generates 1M customers, 20M purchases, 5M interactions and 1M complaints with numpy (seconds,
not the simulator), then times, each in its own process: a bare DuckDB recency/frequency/
monetary GROUP BY over the purchases parquet, and the full feature build for one cutoff over
DuckDB views of the same files. Run: `BENCH_SCALE=1 make bench` (sizes: BENCH_SCALE_CUSTOMERS,
default 1000000; the event counts scale with it).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

START = np.datetime64("2023-01-01T00:00:00", "s")
DAYS = 730
AS_OF = dt.date(2024, 12, 31)
PER_CUSTOMER = {"purchases": 20, "interactions": 5, "complaints": 1}


def _ids(index: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar("C"), pa.array(index).cast(pa.string()), "")


def _pick(rng: np.random.Generator, levels: list[str | None], n: int, p=None) -> pa.Array:
    codes = rng.choice(len(levels), n, p=p).astype(np.int32)
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(levels, pa.string()))


def _moments(rng: np.random.Generator, n: int, mask: np.ndarray | None = None) -> pa.Array:
    seconds = rng.integers(0, DAYS * 86400, n)
    return pa.array(START + seconds.astype("timedelta64[s]"), pa.timestamp("us"), mask=mask)


def _owners(rng: np.random.Generator, customers: int, n: int) -> np.ndarray:
    # Skewed activity: some customers buy far more often than others.
    weights = rng.lognormal(0, 1, customers)
    return np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(n))


def generate(folder: Path, customers: int, seed: int = 1) -> dict[str, int]:
    """Write purchases/interactions/complaints/customers parquet; return row counts."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n = {kind: customers * k for kind, k in PER_CUSTOMER.items()}
    pq.write_table(pa.table({
        "customer_id": _ids(_owners(rng, customers, n["purchases"])),
        "order_date": _moments(rng, n["purchases"]),
        "amount": rng.lognormal(4, 0.8, n["purchases"]).round(2),
        "status": _pick(rng, ["completed", "cancelled", "returned"], n["purchases"],
                        [0.96, 0.02, 0.02]),
    }), folder / "purchases.parquet")
    pq.write_table(pa.table({
        "customer_id": _ids(rng.integers(0, customers, n["interactions"])),
        "occurred_at": _moments(rng, n["interactions"]),
        "channel": _pick(rng, ["email", "web", "app", "phone"], n["interactions"]),
        "type": _pick(rng, ["email_open", "email_click", "site_visit", "app_session", "call",
                            "newsletter_unsubscribe"], n["interactions"],
                      [0.37, 0.12, 0.25, 0.17, 0.08, 0.01]),
        "direction": _pick(rng, ["inbound", "outbound"], n["interactions"]),
    }), folder / "interactions.parquet")
    opened = _moments(rng, n["complaints"])
    took = rng.exponential(5 * 86400, n["complaints"]).astype("timedelta64[s]")
    resolved = pa.array(opened.to_numpy(zero_copy_only=False) + took, pa.timestamp("us"),
                        mask=rng.random(n["complaints"]) < 0.1)
    pq.write_table(pa.table({
        "customer_id": _ids(rng.integers(0, customers, n["complaints"])),
        "opened_at": opened, "resolved_at": resolved,
        "category": _pick(rng, ["delivery", "product_quality", "billing", "service", "returns"],
                          n["complaints"]),
        "satisfaction": pa.array(rng.integers(0, 5, n["complaints"]) / 4,
                                 mask=rng.random(n["complaints"]) < 0.4),
    }), folder / "complaints.parquet")
    cancelled = _moments(rng, customers, mask=rng.random(customers) > 0.05)
    pq.write_table(pa.table({
        "customer_id": _ids(np.arange(customers)),
        "signup_date": _moments(rng, customers),
        "segment": _pick(rng, ["Consumer", "SMB", "Corporate"], customers),
        "region": _pick(rng, ["Istanbul", "Ankara", "Izmir", "Amsterdam"], customers),
        "cancelled_at": cancelled,
    }), folder / "customers.parquet")
    return {**n, "customers": customers}


def bare_rfm(folder: Path) -> dict:
    import duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    source = folder / "purchases.parquet"
    con.execute(f"CREATE VIEW purchases AS SELECT * FROM read_parquet('{source}')")
    frame = con.execute(_bare_rfm_sql()).df()
    return {"compute_seconds": round(time.perf_counter() - start, 2), "customers": len(frame)}


def full_features(folder: Path) -> dict:
    import duckdb

    from features.build import customer_features_from_duckdb

    start = time.perf_counter()
    con = duckdb.connect()
    kinds = ("purchases", "complaints", "interactions", "customers")
    for kind in kinds:  # the IO side: views over the files, as pipelines/ would create them
        con.execute(f"CREATE VIEW {kind} AS SELECT * FROM read_parquet('{folder / kind}.parquet')")
    frame = customer_features_from_duckdb(con, AS_OF, kinds)
    seconds = round(time.perf_counter() - start, 2)
    return {"compute_seconds": seconds, "customers": len(frame), "columns": frame.shape[1],
            "per_source_seconds": _per_source_seconds(con)}


def _per_source_seconds(con) -> dict[str, float]:
    """Where the time goes: each source's query materialised on its own (not in the total)."""
    from features import sql

    queries = {"purchases (RFM, cadence)": sql.rfm_sql(AS_OF),
               "complaints": sql.complaint_sql(AS_OF), "interactions": sql.engagement_sql(AS_OF),
               "purchases, bare RFM columns only": _bare_rfm_sql(),
               "purchases, windowed counts and sums only": _windowed_rfm_sql()}
    seconds = {}
    for name, query in queries.items():
        start = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TEMP TABLE timing AS {query}")
        seconds[name] = round(time.perf_counter() - start, 2)
    return seconds


def _windowed_rfm_sql() -> str:
    """The floor of the RFM group: its 30/90/180/365-day and lifetime counts and sums, without
    the cadence (gap) statistics, the trends or any other source."""
    day, cut = f"DATE '{AS_OF}'", f"TIMESTAMP '{AS_OF}' + INTERVAL 1 DAY"
    windows = ", ".join(f"count(*) FILTER (WHERE ok AND age < {n}), "
                        f"sum(amount) FILTER (WHERE ok AND age < {n})"
                        for n in (30, 90, 180, 365, 100_000))
    return (f"SELECT customer_id, min(age) FILTER (WHERE ok), max(age) FILTER (WHERE ok), "
            f"{windows}, count(*) FILTER (WHERE status = 'returned') FROM ("
            f"SELECT customer_id, amount, status, status = 'completed' AS ok, "
            f"date_diff('day', CAST(order_date AS DATE), {day}) AS age "
            f"FROM purchases WHERE order_date < {cut}) GROUP BY customer_id")


def _bare_rfm_sql() -> str:
    return (f"SELECT customer_id, max(order_date) AS last, count(*) AS n, sum(amount) AS m "
            f"FROM purchases WHERE order_date < TIMESTAMP '{AS_OF}' + INTERVAL 1 DAY "
            f"GROUP BY customer_id")
