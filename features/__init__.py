"""Point-in-time features: pure functions over staged tables and an explicit cutoff."""

from features import pandera_without_dask  # noqa: F401 (before any pandera schema is built)
