"""The random holdout of a risk list: who is left uncontacted so a list's effect can be measured.

Each customer in a tier with a holdout share is *randomised* once: to the holdout ("do not
contact") or to the contact arm. The draw is a pure function of the policy's seed, the list's
as-of date and the customer id (a SHA-256 of the three mapped to [0, 1)), so the same seed
reproduces the same list, and it is exact per stratum: tier x planned action (the playbook's
`action_key`; the tier alone for a list without one). Of the n customers a stratum randomises,
the tier's share x n (rounded half up) with the smallest draws are held out. Effects are
measured within one planned action (`models.effects`), so each action's arms are balanced by
construction: a tier-only draw could, by chance, leave one action's holdout nearly empty. Each
stratum's held-out count is within one customer of its share (the rounding), so a tier's total
is within one customer per action of its share.

A randomisation stands until its list's label window has ended. While it stands, later lists
keep the customer in the same arm (a holdout customer is never silently contacted because a
weekly list moved on, and a contacted one is not drawn into a later holdout, which would
compare contacted customers against contacted customers). Every assignment therefore names
the list that made it (`assigned_in`), and a list's effect is measured on the customers it
randomised itself, over its own window: one customer's assignments never overlap in time.

Customers in tiers without a share (the default and lapsed tiers, a share of 0) are not
randomised: `holdout` False, `assigned_in` missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

import numpy as np
import pandas as pd

from features.membership import is_in

HOLDOUT_ACTION = "holdout_do_not_contact"  # the action key a held-out customer gets
PLANNED_ACTION = "action_key"  # the column of `risk` whose values stratify the draw in a tier
ASSIGNMENT_COLUMNS = ("customer_id", "holdout", "assigned_in")


def draw(seed: int, as_of: dt.date, customer_ids: pd.Series) -> np.ndarray:
    """The holdout draw in [0, 1) of each customer: the same seed, date and id, the same draw."""
    prefix = f"{seed}|{as_of.isoformat()}|"
    return np.array([int.from_bytes(hashlib.sha256((prefix + str(c)).encode()).digest()[:8],
                                    "big") / 2.0**64 for c in customer_ids], dtype=float)


def held_out_count(share: float, customers: int) -> int:
    """share x customers rounded half up (5 customers at 10 % hold out 1; half of 1 is 1)."""
    return math.floor(share * customers + 0.5)


def assign_holdout(
    risk: pd.DataFrame, shares: dict[str, float], *, seed: int, as_of: dt.date,
    list_run_id: str, standing: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`customer_id, holdout, assigned_in` for every row of `risk` (same index and order).

    `risk` needs `customer_id, risk_tier` and, to balance the draw by planned action, the
    playbook's `action_key` (`PLANNED_ACTION`); `shares` maps a tier to its holdout share
    (tiers absent or at 0 are not randomised) and applies to each of its actions. `standing`
    holds the unexpired assignments of earlier lists (`customer_id, holdout, assigned_in`):
    those customers keep their arm and the list that assigned it, whatever their tier or
    action is now, and do not count in this list's strata.
    """
    ids = risk["customer_id"].astype(str)
    holdout = pd.Series(False, index=risk.index, dtype=bool)
    assigned = pd.Series(None, index=risk.index, dtype=object)
    kept = pd.Series(False, index=risk.index, dtype=bool)
    if standing is not None and len(standing):
        earlier = standing.assign(customer_id=standing["customer_id"].astype(str)) \
            .drop_duplicates("customer_id", keep="last").set_index("customer_id")
        kept = pd.Series(is_in(ids, earlier.index), index=risk.index)  # Arrow's, not isin
        holdout[kept] = earlier.loc[ids[kept], "holdout"].astype(bool).to_numpy()
        assigned[kept] = earlier.loc[ids[kept], "assigned_in"].astype(str).to_numpy()
    u = pd.Series(draw(seed, as_of, ids), index=risk.index)
    planned = (risk[PLANNED_ACTION].astype(str) if PLANNED_ACTION in risk
               else pd.Series("", index=risk.index))
    for tier, share in shares.items():
        if not share:
            continue
        in_tier = (risk["risk_tier"] == tier) & ~kept
        for action in sorted(planned[in_tier].unique()):
            fresh = in_tier & (planned == action)
            n_held = held_out_count(share, int(fresh.sum()))
            # the smallest draws are held out; the id breaks a (practically impossible) tie
            order = pd.DataFrame({"u": u[fresh], "id": ids[fresh]}).sort_values(["u", "id"])
            holdout[order.index[:n_held]] = True
        assigned[in_tier] = list_run_id
    return pd.DataFrame({"customer_id": ids, "holdout": holdout, "assigned_in": assigned},
                        index=risk.index)


def standing_assignments(past: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The assignments of earlier lists that still stand at `as_of`.

    `past` holds `customer_id, holdout, assigned_in, window_end` of archived lists (the
    assignment rows a list made itself, `assigned_in` equal to its own run id) and, where
    known, the `as_of` of the list that made them; one stands while `as_of` is before its
    window end (a list scored on that day or later has a window after it). A list of a later
    as-of is ignored (a backfill at an earlier date knows nothing of it). Where a customer has
    several (a re-draw after an earlier window ended), the latest window wins.
    """
    columns = list(ASSIGNMENT_COLUMNS)
    if past is None or past.empty:
        return pd.DataFrame(columns=columns)
    if "as_of" in past:
        past = past[pd.to_datetime(past["as_of"]).dt.date <= as_of]
    end = pd.to_datetime(past["window_end"]).dt.date
    live = past[end > as_of].assign(_end=end[end > as_of])
    return (live.sort_values("_end").drop_duplicates("customer_id", keep="last")[columns]
            .reset_index(drop=True))


def with_holdout(scored: pd.DataFrame, assignment: pd.DataFrame,
                 list_run_id: str) -> pd.DataFrame:
    """The scored list with what the loop needs: `list_run_id`, a `row_id` per row
    (`<list_run_id>-<position>`, unique across lists, so a logged action can name its row),
    `holdout`, `assigned_in` and `planned_action` (the playbook's action, kept for holdout
    customers too: the comparison is within one planned action). A held-out row's action is
    `HOLDOUT_ACTION`."""
    out = scored.copy()
    out["list_run_id"] = list_run_id
    out["row_id"] = [f"{list_run_id}-{i:05d}" for i in range(1, len(out) + 1)]
    out["holdout"] = assignment["holdout"].reindex(out.index).fillna(False).astype(bool)
    out["assigned_in"] = assignment["assigned_in"].reindex(out.index)
    out["planned_action"] = out["action_key"].astype(str)
    held = out["holdout"].to_numpy()
    if held.any():
        out.loc[held, "action_key"] = HOLDOUT_ACTION
        out.loc[held, "action_params"] = pd.Series([{}] * int(held.sum()),
                                                   index=out.index[held], dtype=object)
    return out
