"""How much memory training's model input takes, and the customer sample that fits a budget.

Training holds the model input (one row per customer eligible at each cutoff) and, while it
fits, copies of it: the out-of-time split, the float matrices LightGBM reads, the refit on all
rows. The estimate is made from cheap counts before any snapshot is built (customers x cutoffs
x columns x bytes); when it is over the budget, the snapshots are built for a stable sample of
customers only, sized to fit. The sample is `features.shards.in_key_sample`: the customers
with the lowest shard keys, the same at every cutoff (a customer's history is never cut into
pieces across cutoffs) and in every run. Being a range of keys, it is the first rows of every
staged table (they are stored in shard order), so training reads the sample's rows without
loading the rest (`pipelines.store.staged.load_sampled_tables`).

Stratification: the draw hashes the customer id and never sees the label, so churners and
stayers keep the same share in expectation (proportional allocation; at 100 k customers and a
share of 0.1 each class's share lies within about 1 % of the other's). No class is thinned
more than the other, and the churn rate the model is calibrated on is the population's; the
manifest records the sampled rows' churn rate per cutoff so a reader can check it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from features.catalog import CATEGORICAL_FEATURES
from features.shards import in_key_sample
from features.sources import SourceTables

#: The budget when `CHURN_TRAIN_MEMORY_MB` is unset: fits the 24 GiB reference machine with
#: room for the staged tables and the process beside it.
TRAIN_MEMORY_MB = 4096
#: A number in the model input: float64 features, the datetime cutoff, the 0/1 label.
BYTES_PER_NUMBER = 8
#: A short text cell (customer id, segment, region) in pandas' Arrow-backed string column:
#: offsets, bytes and validity, rounded up.
BYTES_PER_TEXT = 24
#: Columns every snapshot row carries besides the features: cutoff, last purchase, label
#: (numbers) and the customer id (text).
KEY_NUMBERS, KEY_TEXTS = 3, 1
#: Training's peak per byte of model input: the frame itself, the out-of-time split's train
#: and valid copies, the float matrices handed to LightGBM, its binned dataset and the refit's
#: matrix over all rows. Conservative: at 100 k customers (`bench.scale_pipeline`, README)
#: the peak beyond the staged tables and the process was 2.7 to 3.2 times the estimate. The
#: budget covers this, not the sample's staged rows read before it or the process itself.
PEAK_PER_INPUT_BYTE = 4.0
#: The sample share is rounded down to this step, so it reads plainly in the run's params.
SHARE_STEP = 0.001


def model_input_bytes(customers: int, cutoffs: int, features: list[str]) -> int:
    """Bytes of the model input for `customers` at each of `cutoffs` (an upper bound: every
    customer counted eligible at every cutoff)."""
    texts = KEY_TEXTS + sum(1 for name in features if name in CATEGORICAL_FEATURES)
    numbers = KEY_NUMBERS + len(features) - (texts - KEY_TEXTS)
    return customers * cutoffs * (numbers * BYTES_PER_NUMBER + texts * BYTES_PER_TEXT)


def training_peak_bytes(input_bytes: int) -> int:
    """What training holds at its peak for a model input of `input_bytes`."""
    return int(input_bytes * PEAK_PER_INPUT_BYTE)


def sample_share(peak_bytes: int, budget_bytes: int) -> float:
    """1.0 when `peak_bytes` fits `budget_bytes`; else the largest share (a multiple of
    `SHARE_STEP`, at least one step) whose peak fits."""
    if peak_bytes <= budget_bytes:
        return 1.0
    share = math.floor(budget_bytes / peak_bytes / SHARE_STEP) * SHARE_STEP
    return max(round(share, 6), SHARE_STEP)


@dataclass(frozen=True)
class TrainingSample:
    """Which customers training's snapshots cover, and why: all of them, or a share."""

    share: float
    customers: int  # customers in the data (the count the estimate was made from)
    sampled_customers: int
    estimated_peak_mb: float  # for all customers
    budget_mb: float

    @property
    def sampled(self) -> bool:
        return self.share < 1.0

    def as_params(self, rows: int) -> dict[str, float | int | str]:
        """The MLflow params of the run (and the manifest's `sample`), `rows` the snapshots'."""
        return {"train_sample": "customer_sample" if self.sampled else "all_labelled_snapshots",
                "train_sample_share": self.share, "train_sample_customers": self.sampled_customers,
                "train_customers": self.customers, "train_sample_rows": rows,
                "train_memory_budget_mb": self.budget_mb,
                "train_estimated_peak_mb": self.estimated_peak_mb}

    def note(self, rows: int) -> str:
        """One line for the log and the model card."""
        if not self.sampled:
            return (f"all labelled snapshots of {self.customers} customers ({rows} rows; "
                    f"estimated peak {self.estimated_peak_mb:.0f} MB within the "
                    f"{self.budget_mb:.0f} MB training budget)")
        return (f"a stable sample of {self.share:.1%} of customers ({self.sampled_customers} "
                f"of {self.customers}, the same at every cutoff; {rows} rows): all of them "
                f"would need about {self.estimated_peak_mb:.0f} MB, over the "
                f"{self.budget_mb:.0f} MB training budget (CHURN_TRAIN_MEMORY_MB)")


def customer_ids(tables: SourceTables) -> pd.Series:
    """Every customer the data knows of: the buyers and the master's (a snapshot row needs a
    purchase; the master may name customers who never bought, counted all the same)."""
    buyers = pd.Series(tables.purchases["customer_id"].unique())
    if tables.customers is None:
        return buyers
    return pd.Series(pd.concat([buyers, tables.customers["customer_id"]]).unique())


def plan_sample(ids: pd.Series, cutoffs: int, features: list[str],
                budget_mb: float) -> TrainingSample:
    """The share of `ids` whose snapshots at `cutoffs` fit `budget_mb`, and its size."""
    peak = training_peak_bytes(model_input_bytes(len(ids), cutoffs, features))
    share = sample_share(peak, int(budget_mb * 2**20))
    kept = len(ids) if share >= 1.0 else int(in_key_sample(ids, share).sum())
    return TrainingSample(share=share, customers=len(ids), sampled_customers=kept,
                          estimated_peak_mb=round(peak / 2**20, 1), budget_mb=budget_mb)


def sampled_tables(tables: SourceTables, share: float) -> SourceTables:
    """`tables` with only the rows of customers in the training sample (all when share 1)."""
    if share >= 1.0:
        return tables
    ids = customer_ids(tables)
    chosen = ids[in_key_sample(ids, share)]  # hashed once per customer, not per row
    kept = {kind: None if frame is None else
            frame[frame["customer_id"].isin(chosen)].reset_index(drop=True)
            for kind, frame in tables.as_dict().items()}
    return SourceTables(**kept, checked=tables.checked)
