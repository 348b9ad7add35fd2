"""What ingest leaves out for privacy, after identity resolution and before deduplication.

- Rows of erased customers (`erasure_log`), staged or quarantined, leave every file and are
  counted as `erased` in its row account (read = staged + merged + duplicates + quarantined +
  erased); their keys leave the key map. Raw files are never changed.
- The customer master keeps e-mail and phone values only when a risk list may show them
  (`CHURN_PERSONAL_COLUMNS`): identity resolution has used them by then, and
  `customer_keys.parquet` keeps the keys that link a customer's rows across systems.

`ingest_fingerprint` goes into ingest's manifest so that an erasure or a changed setting
restages the data even when no raw file changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pandas as pd

from models.privacy import CONTACT_COLUMNS, staged_contact_columns
from pipelines.privacy.erasure_log import erased_hashes, erased_mask, erasure_key, log_digest
from pipelines.store.settings import Settings

if TYPE_CHECKING:
    from pipelines.ingest.staging import FileAccount


class StagedRows(Protocol):
    """One file's rows as ingest holds them (`pipelines.ingest.run.StagedFile`)."""

    staged: pd.DataFrame
    quarantined: pd.DataFrame
    account: FileAccount


def ingest_fingerprint(settings: Settings) -> dict[str, str]:
    return {"erasures": log_digest(settings),
            "contact_columns": ",".join(staged_contact_columns(settings.personal_columns))}


def leave_out_for_privacy(settings: Settings, files: list[StagedRows],
                          key_map: pd.DataFrame) -> pd.DataFrame:
    """Drop erased customers' rows from `files` (counted) and unused contact columns from the
    customer master, in place; the key map without erased customers' keys."""
    hashes, key = erased_hashes(settings), erasure_key(settings)
    keep_contacts = staged_contact_columns(settings.personal_columns)
    for rows in files:
        if rows.account.kind == "customers":
            unused = [c for c in CONTACT_COLUMNS if c not in keep_contacts and c in rows.staged]
            rows.staged = rows.staged.assign(**{c: pd.NA for c in unused})  # contract keeps it
        if not hashes:
            continue
        erased = erased_mask(rows.staged["customer_id"], hashes, key)
        rows.staged = rows.staged.loc[~erased]
        erased_quarantine = pd.Series(False, index=rows.quarantined.index)
        if "customer_id" in rows.quarantined:
            erased_quarantine = erased_mask(rows.quarantined["customer_id"], hashes, key)
        rows.quarantined = rows.quarantined.loc[~erased_quarantine]
        account = rows.account
        account.erased += int(erased.sum()) + int(erased_quarantine.sum())
        account.quarantined = len(rows.quarantined)
        account.reasons = (rows.quarantined["reason"].value_counts().to_dict()
                           if len(rows.quarantined) else {})
    if not hashes or key_map.empty:
        return key_map
    return key_map.loc[~erased_mask(key_map["customer_id"], hashes, key)].reset_index(drop=True)
