"""The retention playbook: which action follows from a customer's leading reason and tier.

The table (`models/playbook.csv`, or `<data-dir>/playbook.csv` when a team keeps its own) has
columns `reason_group, tier, min_value_at_risk, action`; `*` matches any group or tier, and the
first matching row wins, so specific rows go above general ones. `action` is a catalog key
(e.g. `resolve_complaint`, rendered in the list's language by `pipelines.deliver.wording`) or
free text, which is shown as written.
"""

from __future__ import annotations

import io
from importlib import resources

import pandas as pd

PLAYBOOK_COLUMNS = ("reason_group", "tier", "min_value_at_risk", "action")
# An action that needs a fact the customer lacks falls back to one that does not.
FALLBACK = {"resolve_complaint": "follow_up_complaints"}
NEEDS = {"resolve_complaint": ("complaint_id", "days")}


class PlaybookError(ValueError):
    """The playbook table cannot be used (the message names the row and the problem)."""


def default_playbook_text() -> str:
    return resources.files("models").joinpath("playbook.csv").read_text(encoding="utf-8")


def parse_playbook(text: str, *, groups: list[str], tiers: list[str],
                   source: str = "playbook.csv", drop_unknown_tiers: bool = False) -> pd.DataFrame:
    """The validated playbook; unknown groups or tiers and a missing catch-all are errors.

    `drop_unknown_tiers` is for the shipped table under a custom tier policy: its rows for
    tiers the policy does not have are skipped instead of rejected.
    """
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                        skipinitialspace=True, sep=None, engine="python")
    frame.columns = [c.strip().lower() for c in frame.columns]
    missing = [c for c in ("reason_group", "tier", "action") if c not in frame.columns]
    if missing:
        raise PlaybookError(f"{source}: missing column(s) {', '.join(missing)}; "
                            f"expected {', '.join(PLAYBOOK_COLUMNS)}")
    if "min_value_at_risk" not in frame.columns:
        frame["min_value_at_risk"] = "0"
    frame = frame[list(PLAYBOOK_COLUMNS)].apply(lambda c: c.str.strip())
    if drop_unknown_tiers:
        frame = frame[frame["tier"].isin(("*", *tiers))].reset_index(drop=True)
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        if row.reason_group not in ("*", *groups):
            raise PlaybookError(f"{source} line {i}: unknown reason group {row.reason_group!r} "
                                f"(known: {', '.join(groups)})")
        if row.tier not in ("*", *tiers):
            raise PlaybookError(f"{source} line {i}: unknown tier {row.tier!r} "
                                f"(known: {', '.join(tiers)})")
        if not row.action:
            raise PlaybookError(f"{source} line {i}: empty action")
    value = pd.to_numeric(frame["min_value_at_risk"].replace("", "0"), errors="coerce")
    if value.isna().any():
        line = int(value.isna().to_numpy().argmax()) + 2
        raise PlaybookError(f"{source} line {line}: min_value_at_risk is not a number")
    frame["min_value_at_risk"] = value.astype(float)
    if not ((frame["reason_group"] == "*") & (frame["tier"] == "*")).any():
        raise PlaybookError(f"{source}: add a last row `*,*,0,<action>` so every customer "
                            "gets an action")
    return frame


def playbook_actions(text: str) -> list[str]:
    """The actions a playbook table names, in its order, each once (no validation: what the
    save rates are listed for; `parse_playbook` judges the table)."""
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                        skipinitialspace=True, sep=None, engine="python")
    column = next((c for c in frame.columns if c.strip().lower() == "action"), None)
    if column is None:
        return []
    return list(dict.fromkeys(a.strip() for a in frame[column] if a.strip()))


def action_key(playbook: pd.DataFrame, group: str, tier: str, value: float) -> str:
    """The first row matching the leading reason group, the tier and the value at risk."""
    return _first_match(_rules(playbook), group, tier, value)


def _rules(playbook: pd.DataFrame) -> list[tuple[str, str, float, str]]:
    return list(playbook[list(PLAYBOOK_COLUMNS)].itertuples(index=False, name=None))


def _first_match(rules: list[tuple[str, str, float, str]], group: str, tier: str,
                 value: float) -> str:
    # plain tuples: a pandas filter per customer took over a minute for 36k customers
    for rule_group, rule_tier, floor, action in rules:
        if rule_group in ("*", group) and rule_tier in ("*", tier) and floor <= value:
            return str(action)
    return "no_action"


def suggested_actions(playbook: pd.DataFrame, risk: pd.DataFrame) -> pd.DataFrame:
    """`action_key` and `action_params` (the facts its sentence quotes) per row of `risk`.

    Uses `reason_group_1, risk_tier, value_at_risk` and, for complaint actions,
    `open_complaint_id, open_complaint_days` when present.
    """
    keys, all_params = [], []
    rules = _rules(playbook)
    used = [c for c in ("reason_group_1", "risk_tier", "value_at_risk", "open_complaint_id",
                        "open_complaint_days") if c in risk.columns]
    for row in risk[used].to_dict("records"):
        key = _first_match(rules, row.get("reason_group_1") or "none", row["risk_tier"],
                           float(row.get("value_at_risk") or 0.0))
        params = {"complaint_id": row.get("open_complaint_id"),
                  "days": row.get("open_complaint_days")}
        params = {k: v for k, v in params.items() if v is not None and not pd.isna(v)}
        if "days" in params:
            params["days"] = int(params["days"])
        if not all(p in params for p in NEEDS.get(key, ())):
            key = FALLBACK.get(key, key)
        keys.append(key)
        all_params.append(params)
    return pd.DataFrame({"action_key": pd.Series(keys, index=risk.index, dtype="str"),
                         "action_params": pd.Series(all_params, index=risk.index,
                                                    dtype=object)})


def oldest_open_complaints(complaints: pd.DataFrame | None, as_of) -> pd.DataFrame:
    """Per customer, the oldest complaint open at the end of `as_of`: id and age in days.

    Open at as_of: opened on or before that day and not resolved by its end (a later
    resolution is unknown at the cutoff).
    """
    columns = ["customer_id", "open_complaint_id", "open_complaint_days"]
    if complaints is None or complaints.empty:
        return pd.DataFrame(columns=columns)
    day = pd.Timestamp(as_of).normalize()
    cut = (day + pd.Timedelta(days=1)).tz_localize("UTC")
    opened = complaints["opened_at"]
    resolved = complaints["resolved_at"]
    open_now = complaints[(opened < cut) & (resolved.isna() | (resolved >= cut))]
    oldest = open_now.sort_values(["opened_at", "complaint_id"]).groupby("customer_id").head(1)
    opened_day = oldest["opened_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.normalize()
    return pd.DataFrame({
        "customer_id": oldest["customer_id"].astype(str).to_numpy(),
        "open_complaint_id": oldest["complaint_id"].astype(str).to_numpy(),
        "open_complaint_days": (day - opened_day).dt.days.to_numpy(),
    })
