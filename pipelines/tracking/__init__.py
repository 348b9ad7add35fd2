"""MLflow: the tracking store, training runs, the model registry and its champion history.

- `connect`: point MLflow at the data dir's store (or `MLFLOW_TRACKING_URI`), create the
  experiment; `relocate`: a moved or copied data dir's store rewritten to its own files;
- `problems`: broken stores and servers that do not answer, as exceptions with one sentence;
- `loading`: a registered version rebuilt from its files, naming what is missing or damaged;
- `compatibility`: whether the champion still fits the staged data (`models.compatibility`);
- `runs`: everything a training or tuning run logs (parameters, metrics, tables, the model
  and its `churn_model_meta.json`); a new MLflow metric goes in `run_metrics` there;
- `registry`: loading a version, the champion/challenger gate, promote, rollback, what the
  champion was trained and validated on;
- `figures`: the training figures logged with a run;
- `monitoring`: the training reference stored with a model, a scoring run's drift check,
  the track record of the archive (files and runs) and the state the retrain rules read.

May import `features`, `models` and `pipelines.store`; never `pipelines.deliver`.
"""
