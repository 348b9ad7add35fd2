"""Newsletter audience exports as interactions: Mailchimp.

- Mailchimp audience export (a zip of `subscribed`, `unsubscribed` and `cleaned` CSVs; the
  file a member is in is their status): each member row becomes one interaction on channel
  `email`, keyed to the customer by `Email Address` (lower-cased), with no direction (list
  membership is not a contact in either direction). The interaction is the row's latest
  membership event, each with its own timestamp: `CLEAN_TIME` → type `newsletter_cleaned`
  (Mailchimp removed a bouncing address), else `UNSUB_TIME` → `newsletter_unsubscribe` (the
  type the `unsubscribed` feature reads), else `CONFIRM_TIME` (double opt-in), else
  `OPTIN_TIME` → `newsletter_subscribe`. Its id is `mailchimp:<email>:<type>:<time>`, the
  same in overlapping exports. One event per row keeps the account (rows read =
  staged + quarantined): an unsubscribed member's earlier subscribe is staged from the
  subscribed file of an earlier export, not from this row. A member with none of these times
  (imported without opt-in) is set aside with that reason. Times carry no zone: they are read
  in the file's timezone (Mailchimp writes UTC, so set `timezone: UTC` for these files).
- Export-time, never read: `MEMBER_RATING`, `TAGS`, `LAST_CHANGED`, `NOTES`; nor are the
  location guesses (`LATITUDE`, `LONGITUDE`, `CC`, `REGION`, …) or campaign titles.
"""

from __future__ import annotations

import pandas as pd

from pipelines.ingest.cells import cell_text
from pipelines.ingest.presets.base import PresetResult, find_column, require_column
from pipelines.ingest.staging import PRESET_REASON, SOURCE_LINE

# the event columns, latest first: the first non-empty one on a row is its interaction
_MAILCHIMP_EVENTS = (("CLEAN_TIME", "newsletter_cleaned"),
                     ("UNSUB_TIME", "newsletter_unsubscribe"),
                     ("CONFIRM_TIME", "newsletter_subscribe"),
                     ("OPTIN_TIME", "newsletter_subscribe"))


def mailchimp_audience(frame: pd.DataFrame, lines: list[int], locale: str) -> PresetResult:
    """One membership event (subscribe, unsubscribe or cleaned) per member row."""
    email_col = require_column(frame, "Email Address", preset="mailchimp")
    occurred = pd.Series(None, index=frame.index, dtype=object)
    kind = pd.Series(None, index=frame.index, dtype=object)
    mapping = {email_col: "customer_id"}
    for header, event in _MAILCHIMP_EVENTS:
        column = find_column(frame, header)
        if column is None:
            continue
        stamp = cell_text(frame[column])
        take = occurred.isna() & stamp.notna()
        occurred[take] = frame.loc[take, column]
        kind[take] = event
        mapping[column] = f"occurred_at ({event})"
    out = pd.DataFrame({
        "customer_id": cell_text(frame[email_col]).str.lower(),
        "occurred_at": occurred,
        "channel": "email",
        "type": kind,
        "direction": None,
    }, index=frame.index)
    # stable across overlapping exports: the same member, event and time give the same id
    parts = [out["customer_id"].fillna(""), kind.fillna("none"),
             cell_text(occurred.astype(object)).fillna("")]
    out["interaction_id"] = "mailchimp:" + parts[0].str.cat(parts[1:], sep=":")
    out[SOURCE_LINE] = lines
    reason = pd.Series(None, index=frame.index, dtype=object)
    reason[kind.isna()] = "no OPTIN_TIME, CONFIRM_TIME, UNSUB_TIME or CLEAN_TIME (no event)"
    out[PRESET_REASON] = reason
    return PresetResult(out, 0, mapping)
