"""Staged tables from a small simulated business, for tests that need realistic volumes."""

from __future__ import annotations

import pandas as pd

from features.sources import SourceTables
from pipelines.sample.config import SimulationConfig
from pipelines.sample.simulator import simulate_business


def staged_from_simulation(customers: int = 1500, seed: int = 42) -> SourceTables:
    """The simulator's frames with staged dtypes (UTC stamps, CSAT 1-5 on the 0-1 scale)."""
    business = simulate_business(SimulationConfig(customers=customers, seed=seed,
                                                  truth_replicates=10))

    def utc(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for column in out.columns:
            if "date" in column or column.endswith("_at"):
                out[column] = pd.to_datetime(out[column]).dt.tz_localize("UTC")
        return out

    complaints = utc(business.complaints)
    complaints["satisfaction"] = (complaints["satisfaction"] - 1) / 4
    return SourceTables(utc(business.purchases), complaints, utc(business.interactions),
                        utc(business.customers)).validated()
