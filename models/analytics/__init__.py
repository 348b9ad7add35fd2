"""Retention analytics a manager runs the business on: pure functions over staged frames.

Every function takes the as-of date explicitly and first cuts its inputs to what was known at
the end of that day (`point_in_time`), so adding rows dated later changes nothing; none reads
the clock, a file or a language (the deliverables in `pipelines/deliver/analytics_*` render
the tables). Defaults are declared once, in `AnalyticsPolicy`.

- `policy`: `AnalyticsPolicy` (period, SLA, bands, horizons) and the point-in-time cut;
- `rates`: Wilson intervals and small shared helpers (periods, active customers);
- `retention`: churn and retention rates per period, whole base and by dimension, by the
  model's own churn definition (`LabelSpec`);
- `cohorts`: first-purchase-month cohorts, customer and revenue retention;
- `service`: complaint KPIs, the churn of complainers by resolution-time band, engagement KPIs;
- `value`: CLV from BG/NBD + Gamma-Gamma with a predictive interval, its out-of-time
  comparison with the run-rate, and value concentration (Pareto curve, share in risk tiers);
- `bundle`: every table of one as-of date together (what `churn analyze` writes).

May import `features` and `models`.
"""
