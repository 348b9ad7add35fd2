"""`churn ingest`: raw exports in, typed staged tables and a row account out.

- `run`: one ingest (the lock, the manifest of input hashes, the report, publishing);
- `readers`: bytes to a table of cells (encoding, delimiter, header row, xlsx, parquet);
- `cells`: numbers and dates as exports write them (decimal comma, day-first dates, serials);
- `headers`: header folding and the en/tr/nl synonyms of every canonical column;
- `sources_file`: the optional `sources.yaml` that pins kind, preset, locale, columns;
- `staging`: rows to typed staged rows or quarantined rows with a reason, deduplication;
- `presets/`: one module per family of systems (shops, helpdesks, ERPs, CRMs) and the
  registry that recognises them. A new helpdesk preset goes in `presets/helpdesks.py` and
  one line of `presets/registry.py`.

May import `features.contracts` (the staged contracts) and `pipelines.store`.
"""
