"""Operating the pipeline: the weekly chain's pieces that are not business logic.

- `local_api`: one local Prefect API per Prefect home, started once and reused;
- `caching`: cache keys from file contents, refresh when outputs vanished, retry conditions;
- `lock`: one chain at a time per data dir;
- `commands`: the `churn run` and `churn server` commands.
"""
