"""Personal data: what reaches the outputs, what leaves the data dir, erasure and retention.

- `columns`: the settings (`CHURN_PERSONAL_COLUMNS`, `CHURN_PSEUDONYMIZE`,
  `CHURN_RETENTION_DAYS`) and the personal columns of the risk list they allow;
- `pseudonymize`: keyed hashes of customer ids (`CHURN_PSEUDONYM_KEY`), masked contact keys;
- `erasure_log`: the record of erased customers (keyed hashes, never the ids);
- `ingest_filter`: what ingest drops for privacy (erased customers, unused contact columns);
- `erase`: `churn erase`, removing customers from every store derived from raw/;
- `retention`: pruning archived runs and quarantine files past the retention period.

SECURITY.md describes what is stored where, and for how long.
"""
