"""The holdout of a scoring run, around `models.holdout`: what earlier lists assigned (read
from the archive), this list's assignment, and the record of it in the run's metadata.

Every archived run's risk_list.parquet carries `holdout` and `assigned_in`; the rows a run
assigned itself (`assigned_in` its run id) stand until its label window ends, so a new list
keeps those customers in their arm. Runs archived before the holdout existed assigned nobody.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from models.holdout import assign_holdout, standing_assignments, with_holdout
from models.tiers import TierPolicy
from pipelines.tracking.shipped import archived_lists, shipped_lists

ASSIGNED = ["customer_id", "holdout", "assigned_in"]


def archived_assignments(scored_dir: Path) -> pd.DataFrame:
    """`customer_id, holdout, assigned_in, as_of, window_end` of every randomisation in the
    archive (`as_of` of the list that made it); one list's rows read at a time, and only its
    own randomisations kept."""
    parts = []
    for shipped in shipped_lists(archived_lists(scored_dir), lambda names: list(ASSIGNED)):
        own = shipped.risk[shipped.risk["assigned_in"].astype(str) == shipped.run_id]
        parts.append(own.assign(as_of=pd.Timestamp(shipped.as_of), window_end=pd.Timestamp(
            shipped.label.window_end(shipped.as_of))))
    if not parts:
        return pd.DataFrame(columns=[*ASSIGNED, "as_of", "window_end"])
    return pd.concat(parts, ignore_index=True)


def list_with_holdout(scored: pd.DataFrame, policy: TierPolicy, as_of: dt.date, run_id: str,
                      scored_dir: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The scored list with its holdout (`models.holdout.with_holdout`) and the metadata
    record that reproduces it: seed, shares, counts per tier and the ids held out here."""
    standing = standing_assignments(archived_assignments(scored_dir), as_of)
    shares = policy.holdout_shares()
    assignment = assign_holdout(scored, shares, seed=policy.holdout_seed, as_of=as_of,
                                list_run_id=run_id, standing=standing)
    marked = with_holdout(scored, assignment, run_id)
    fresh = marked["assigned_in"] == run_id
    carried = marked["assigned_in"].notna() & ~fresh
    record = {
        "seed": policy.holdout_seed, "shares": shares, "draw": "sha256(seed|as_of|customer_id)",
        "randomised": int(fresh.sum()), "held_out": int((fresh & marked["holdout"]).sum()),
        "carried_over": int(carried.sum()),
        "carried_over_held_out": int((carried & marked["holdout"]).sum()),
        "held_out_by_tier": {t: int(n) for t, n in marked.loc[fresh & marked["holdout"],
                                                             "risk_tier"].value_counts().items()},
        "balanced_by": ["risk_tier", "planned_action"],
        "held_out_by_action": {a: int(n) for a, n in marked.loc[
            fresh & marked["holdout"], "planned_action"].value_counts().items()},
        "held_out_ids": marked.loc[fresh & marked["holdout"], "customer_id"].astype(str).tolist(),
    }
    return marked, record
