"""`churn ingest`: raw exports in, typed staged tables and a row account out.

- `run`: one ingest (the lock, the manifest of input hashes, the report, publishing);
- `export_file`: one raw file read, mapped, converted and accounted for (streamed in chunks
  where it can be, else whole);
- `text_stream` / `chunked` / `column_rules`: a CSV export as a stream of decoded rows, its
  layout and chunks of cells, and the per-column rules decided over all chunks first;
- `discovery`: which raw files are read and which are refused by name (links out of the
  data dir, folders, `.xls`, `.zip`, pipes);
- `bounds`: the limits past which a file is refused or a row quarantined (one place);
- `suggest`: help for a missing column and `--write-mapping`'s suggested sources.yaml;
- `readers`: bytes to a table of cells (encoding, delimiter, header row, xlsx, parquet);
- `cells`: numbers and dates as exports write them (decimal comma, day-first dates, serials);
- `headers`: header folding and the en/tr/nl synonyms of every canonical column;
- `sources_file`: the optional `sources.yaml` that pins kind, preset, locale, columns;
- `staging`: rows to typed staged rows or quarantined rows with a reason, deduplication
  (`subscription_rows`: the billing periods, money and seats of subscription exports;
  `action_rows`: the team's retention log, rows nobody worked set aside);
- `keys`: customer keys (ids in an id space, e-mails, phones) normalised for matching;
- `identity`: linking every row's keys into one canonical customer id across files;
- `presets/`: one module per family of systems (shops, marketplaces, payments, helpdesks,
  ERPs, Logo, CRMs, newsletters, subscription billing) and the registry that recognises
  them. A new helpdesk preset goes in `presets/helpdesks.py` and one line of
  `presets/registry.py`.

May import `features.contracts` (the staged contracts), `models.privacy` (masked keys),
`pipelines.store` and `pipelines.privacy.ingest_filter` (erased customers and contact
columns no list shows are left out).
"""
