"""Operating the pipeline: the weekly chain's pieces that are not business logic.

- `local_api`: one local Prefect API per Prefect home, started once and reused;
- `caching`: cache keys from file contents, refresh when outputs vanished, retry conditions;
- `lock`: one chain at a time per data dir;
- `commands`: the `churn run` and `churn server` commands;
- `alerts`: the one alert channel (a JSON webhook, `CHURN_ALERT_WEBHOOK`);
- `monitoring_tasks`: the flows' monitoring steps (drift run, track record, retrain
  reason, alerts, the failure hook);
- `monitor_commands`: the `churn track-record` command.
"""
