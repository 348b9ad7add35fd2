"""Where shard work runs: in this process, or on the Dask cluster the settings name.

Owns `CHURN_DASK_SCHEDULER` / `CHURN_SHARDS` (`settings`), the shard runner (`runner`: a pure
function over shards, results in order, one Dask client per command) and scoring's feature
build and model outputs by shard (`scoring`). May import `features`, `models`, `pipelines.store`
and the one-sentence errors of `pipelines.tracking.problems`; the pure splitting and joining
live in `features.sharded` and `models.outputs`.
"""
