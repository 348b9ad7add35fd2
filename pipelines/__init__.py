"""The pipeline's only IO layer: Prefect flows and tasks, the CLI, and one sub-package per
subsystem.

- `cli` (and `cli_common`), `console` (and `console_analytics`), `flows`, `tasks/`:
  orchestration only (commands, terminal output, the flows' table of contents, the tasks
  that read, call pure code and write: one module per stage, loaded on first use so that a
  command imports only what it runs);
- `operate/`: running it unattended (the reused local Prefect API, locks, caching, alerts,
  monitoring steps, `churn serve`);
- `store/`: settings, atomic writes, staged tables, the scoring archive;
- `ingest/`: raw exports to staged tables (readers, cell parsing, header mapping, presets);
- `tracking/`: MLflow runs, the registry and the champion history;
- `deliver/`: the risk list, report, charts, summaries and their translations;
- `sample/`: the simulator and the vendor-shaped exports it writes.

The pure core lives beside this package: `features/` (contracts, point-in-time features,
labels) and `models/` (training, evaluation, explanations, scoring).
"""
