"""The model's outputs for a scoring run, computed by customer shard where the settings say.

TreeSHAP is most of a scoring run's time; its shards run on the command's runner
(`pipelines.scale.runner`): in this process, or on the Dask cluster `CHURN_DASK_SCHEDULER`
names, with the model sent to each worker once. The values are the unsharded ones
(`models.outputs`), so the risk list is the same file either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from models.outputs import ModelOutputs, joined_outputs, model_outputs, shard_jobs, shard_outputs
from models.train import FittedChurnModel
from pipelines.scale.runner import shard_runner


def sharded_model_outputs(
    model: FittedChurnModel, features: pd.DataFrame, no_data_features: Sequence[str] = (),
) -> ModelOutputs:
    """`models.outputs.model_outputs` of every row of `features`, by customer shard."""
    with shard_runner() as runner:
        shards = runner.shard_count(len(features))
        if shards == 1 and not runner.settings.distributed:
            return model_outputs(model, features, no_data_features=no_data_features)
        parts = runner.map(shard_outputs, shard_jobs(features, shards, no_data_features),
                           shared=model, label="explaining customers")
    return joined_outputs(parts, features.index)
