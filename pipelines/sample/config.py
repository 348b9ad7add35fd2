"""What the simulator is asked for: the size, seed and dates of the simulated business.

Light on purpose (no numpy or pandas): the CLI takes its `generate` and `demo` defaults
from here at import time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class SimulationConfig:
    customers: int = 5_000
    seed: int = 42
    start: dt.date = dt.date(2024, 11, 1)  # first day of recorded history
    end: dt.date = dt.date(2026, 10, 31)  # last day of exported data (inclusive)
    horizon_days: int = 90  # horizon of the ground truth after `end`
    truth_replicates: int = 200  # Monte Carlo replicates for the true probability
    business: str = "retail"  # one of BUSINESSES: which simulator runs


#: `churn generate --business`: a retail shop (orders, tickets) or a subscription product.
BUSINESSES = ("retail", "subscription")
