"""What the retention team and the manager get: every file of a scoring run, in their language.

- `i18n` and `catalogs/`: rendering reason, action and label keys into en/tr/nl (a new
  language is one more catalog module);
- `wording`: the risk list's sentences (reasons, actions) from the model's keys;
- `risk_list`: the Excel-safe CSV and the xlsx workbook;
- `report` and `charts`: the one-page HTML report; a new report chart goes in `charts` and
  one section of `report`;
- `summary`: the run summary (terminal and `report.md`);
- `params`: the typed parameters of a scoring run (`ScoreParams`);
- `scoring_run`: one scoring run's folder, assembled and archived; `holdouts`: its holdout,
  with the standing assignments of archived lists; `loop_report`: `churn track-record`'s
  contacted-against-holdout figures and the save rate in force;
- `analytics_run`, `analytics_page`, `analytics_charts`, `analytics_workbook`: the retention
  analytics folder (`churn analyze`), its page, charts and workbook; `currency`: which
  currency the amounts are in.

May import `features`, `models`, `pipelines.store` and `pipelines.tracking`.
"""
