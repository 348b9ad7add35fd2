"""Personal data: what reaches the outputs, what leaves the data dir, erasure and retention.

- `erasure_log`: the record of erased customers (keyed hashes, never the ids);
- `ingest_filter`: what ingest leaves out (erased customers, contact columns no list shows);
- `erase`, `erase_archive`: `churn erase`, a customer out of every store derived from raw/;
- `retention`: pruning archived runs, analytics and quarantine past the retention period;
- `commands`: `churn erase` and `churn --pseudonymize`.

The pure parts live in `models.privacy` (the settings' values, which personal columns a list
carries, keyed pseudonyms, masked keys), the settings and owner-only stores in
`pipelines.store` (`settings`, `permissions`). May import `models`, `pipelines.store`,
`pipelines.ingest.keys` and `pipelines.deliver` (rebuilding an archived run's files).
SECURITY.md describes what is stored where, and for how long.
"""
