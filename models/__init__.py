"""The churn model, its evaluation and explanations: pure functions, no IO."""

from features import pandera_without_dask  # noqa: F401 (before any pandera schema is built)
