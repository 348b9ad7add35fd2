"""Sample data: a simulated business and the vendor-shaped exports it is written as.

- `config`: what the simulator is asked for (size, seed, dates);
- `simulator`: the business (customers, orders, tickets, interactions, hidden state and the
  true churn probability);
- `names`: names and places, cosmetics only;
- `vendor_files`: writers of the files real systems export (Logo, Zendesk, Shopify, Excel
  CSVs, an xlsx list); their readers are `pipelines.ingest.presets`;
- `dialects`: which files each `churn generate --dialect` writes;
- `generate`: `churn generate` itself, with the ground truth beside `raw/`;
- `retention`: the loop: weekly lists with the pipeline's holdout draw, a retention team
  whose actions have per-customer true effects, and each list's outcome (`make loop`).

May import `pipelines.store`, and for `retention` the pure `features` and `models` (the loop
runs the pipeline's own holdout draw and writes lists as the archive holds them): the
pipeline never reads what this package knows.
"""
