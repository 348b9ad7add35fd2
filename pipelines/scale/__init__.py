"""Where shard work runs: in this process, or on a Dask cluster the settings name."""
