"""What the model says of each customer: the calibrated churn probability, the TreeSHAP
contributions and the reasons they rank, computed whole or by customer shard.

Every one of them is a function of the customer's own row (and, for the reasons, of the
run's `population_reference`, computed once over all customers): LightGBM predicts and
explains row by row, and the calibrator maps each probability alone. So any split of the rows
gives the same values, bit for bit, and `joined_outputs` puts the shards back in the rows'
order. TreeSHAP is the costly part of scoring (100–300× a prediction), which is why it is
split: `pipelines.scale` runs the shards on a Dask cluster when one is configured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.shards import customer_shards
from models.explain import reason_columns, shap_contributions
from models.reason_rules import population_reference
from models.train import FittedChurnModel


@dataclass(frozen=True)
class ModelOutputs:
    """Per row of the scored features (same index): `probability` (calibrated),
    `contributions` (log-odds per feature plus `bias`; only the explained rows when a run
    explains some customers, `with_unexplained`) and `reasons` (the
    `models.explain.reason_columns` frame)."""

    probability: pd.Series
    contributions: pd.DataFrame
    reasons: pd.DataFrame


def model_outputs(
    model: FittedChurnModel, features: pd.DataFrame, *, no_data_features: Sequence[str] = (),
    reference: Mapping[str, float] | None = None, probability: np.ndarray | None = None,
) -> ModelOutputs:
    """The outputs of `model` for every row of `features`. `no_data_features`: features whose
    data is not there; they may still push the score, but naming one as a reason would cite
    data that is not there. `reference`: the typical customer the reasons compare with
    (default: the medians of `features`). `probability`: `model`'s probabilities of these
    rows when the caller has them already (a run that explains some customers predicted
    everyone's to choose them), else predicted here."""
    if probability is None:
        probability = model.predict_probability(features)
    probability = pd.Series(probability, index=features.index)
    contributions = shap_contributions(model.classifier, model.matrix(features))
    cited = contributions.drop(columns=[f for f in no_data_features if f in contributions])
    return ModelOutputs(probability, contributions,
                        reason_columns(features, cited, reference=reference))


@dataclass(frozen=True)
class ShardJob:
    """One customer shard's rows (indexed by their position in the whole frame) with what
    every shard shares: the features without data and the whole run's reference."""

    features: pd.DataFrame
    no_data_features: tuple[str, ...]
    reference: dict[str, float]
    probability: np.ndarray | None = None  # the rows' probabilities, when already predicted


def shard_jobs(
    features: pd.DataFrame, shards: int, no_data_features: Sequence[str] = (),
    reference: Mapping[str, float] | None = None, probability: np.ndarray | None = None,
) -> list[ShardJob]:
    """`features` split by `features.shards.customer_shards` into at most `shards` jobs
    (empty shards left out), each row keeping its position in `features` as its index.
    `reference`: the typical customer the reasons compare with (default: the medians of
    `features`); `probability`: the model's probabilities of `features`' rows, when known
    (`model_outputs`)."""
    reference = dict(reference) if reference is not None else population_reference(features)
    positional = features.reset_index(drop=True)
    which = customer_shards(positional["customer_id"], shards)
    rows = [np.flatnonzero(which == shard) for shard in range(shards)]
    return [ShardJob(positional.iloc[r], tuple(no_data_features), reference,
                     None if probability is None else probability[r])
            for r in rows if len(r)]


def shard_outputs(job: ShardJob, model: FittedChurnModel) -> ModelOutputs:
    """`model_outputs` of one shard (picklable: what a Dask worker runs)."""
    return model_outputs(model, job.features, no_data_features=job.no_data_features,
                         reference=job.reference, probability=job.probability)


def joined_outputs(parts: Sequence[ModelOutputs], index: pd.Index) -> ModelOutputs:
    """The shards' outputs as one, in the order of the frame they were cut from (whose
    index `index` is): parts are indexed by row position, and each row goes back to its
    position."""
    positions = np.concatenate([p.probability.index.to_numpy(np.int64) for p in parts]) \
        if parts else np.zeros(0, np.int64)
    if not parts or not np.array_equal(np.sort(positions), np.arange(len(index))):
        raise ValueError(f"the shards hold {len(positions)} rows, not the {len(index)} "
                         "scored rows once each")
    order = np.argsort(positions, kind="stable")

    def whole(frames: list[Any]) -> Any:
        first = frames[0]
        if isinstance(first, pd.DataFrame) and _one_numpy_dtype(first):
            # each shard's block written into place: a concatenation and its sorted copy were
            # two more copies of a million customers' contributions (0.7 GB each)
            values = np.empty((len(index), first.shape[1]), first.dtypes.iloc[0])
            for frame in frames:
                values[frame.index.to_numpy(np.int64)] = frame.to_numpy()
            return pd.DataFrame(values, index=index, columns=first.columns, copy=False)
        return pd.concat(frames).take(order).set_axis(index)

    return ModelOutputs(whole([p.probability for p in parts]),
                        whole([p.contributions for p in parts]),
                        whole([p.reasons for p in parts]))


def _one_numpy_dtype(frame: pd.DataFrame) -> bool:
    """Whether every column is of one NumPy numeric dtype (the contributions are)."""
    dtypes = set(frame.dtypes)
    if len(dtypes) != 1:
        return False
    (dtype,) = dtypes
    return isinstance(dtype, np.dtype) and dtype.kind in "fiub"


def with_unexplained(explained: ModelOutputs, probability: pd.Series) -> ModelOutputs:
    """Outputs for every row of `probability` (all the scored customers) from the outputs of
    the explained ones: the others keep their probability and get empty reasons; the
    contributions stay those of the explained rows (a row of missing values per customer
    would be most of a large run's memory)."""
    index = probability.index
    reasons = explained.reasons.reindex(index)
    missing = ~index.isin(explained.reasons.index)
    count = int(missing.sum())
    for column in reasons.columns:  # as `reason_columns` leaves an empty reason slot
        # a dict of its own per row, as `reason_columns` gives (never one shared by all)
        empty: list[object] = [{} for _ in range(count)] \
            if column.startswith("reason_params_") \
            else [""] * count
        reasons[column] = reasons[column].astype(object)
        reasons.loc[missing, column] = pd.Series(empty, index=index[missing], dtype=object)
    return ModelOutputs(probability, explained.contributions, reasons)
