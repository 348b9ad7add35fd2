"""The action-specific part of staging: the team's retention log (`actions` exports).

Called by `staging.stage_rows` for `actions` exports: a CRM call log, a campaign export, or
the risk list itself with its `action_taken` / `action_date` columns filled in. A row names
a customer, when the action happened and what it was; a row whose `action` is empty is no
action (a list row nobody worked yet) and is set aside with that reason, as is a negative
cost. Exports without an id of their own get one from the row's content, the same in every
re-export of the same row, so overlapping exports deduplicate.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pandas as pd

from pipelines.ingest.cells import cell_text, parse_numbers

NO_ACTION = "no action recorded on this row (action / action_taken is empty)"


def content_action_ids(frame: pd.DataFrame) -> pd.Series:
    """`action_id` where the export has one, else `auto-` + a hash of the row's content."""
    existing = frame.get("action_id", pd.Series(None, index=frame.index, dtype=object))
    parts = [frame[c].astype(str).fillna("None")
             for c in ("customer_id", "action_at", "action", "channel", "campaign",
                       "list_run_id", "row_id", "email", "phone") if c in frame]
    content = parts[0].str.cat(parts[1:], sep="|")
    hashed = content.map(lambda s: "auto-" + hashlib.sha1(s.encode()).hexdigest()[:16])
    return existing.where(existing.notna(), hashed)


def unworked_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows that record no action (empty `action`): a list row nobody worked yet."""
    return cell_text(frame["action"]).isna()


def stage_action_columns(frame: pd.DataFrame, locale: str, flag: Callable,
                         converted: Callable) -> None:
    """Convert an actions frame's text, cost and id columns in place; `flag` sets rows aside
    (see `stage_rows`), `converted` wraps a column-level conversion."""
    for column in ("action", "outcome", "campaign", "channel", "owner"):
        if column in frame:
            frame[column] = cell_text(frame[column])
    if "cost" in frame:
        frame["cost"] = converted("cost", lambda: (*parse_numbers(frame["cost"], locale), None),
                                  "cost is not a number")
        flag(frame["cost"] < 0, "negative cost")
    frame["action_id"] = content_action_ids(frame)
