"""When the weekly chain retrains: a pure decision over what is known about the champion.

Each rule looks at `ModelState` and returns a reason in words, or None. The first rule with
a reason decides, so the order is the priority. A later reason (drift, a track record below a
floor, a model older than N days, data that has grown) is one more field on `ModelState` and
one more function in `RETRAIN_RULES`. Retraining only makes a challenger: the registry's
promotion gate still decides whether it becomes champion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ModelState:
    """What the decision may look at (filled by the IO layer, pure here)."""

    champion_version: str | None  # None: no version carries the champion alias
    forced: bool = False  # the operator asked for a retrain (`churn run --retrain`)


@dataclass(frozen=True)
class RetrainDecision:
    retrain: bool
    reason: str


def _no_champion(state: ModelState) -> str | None:
    return "no champion model yet" if state.champion_version is None else None


def _forced(state: ModelState) -> str | None:
    return "forced by --retrain" if state.forced else None


RETRAIN_RULES: tuple[Callable[[ModelState], str | None], ...] = (_no_champion, _forced)


def retrain_decision(state: ModelState) -> RetrainDecision:
    """Retrain if any rule gives a reason (the first one is reported); otherwise keep serving
    the champion."""
    for rule in RETRAIN_RULES:
        reason = rule(state)
        if reason is not None:
            return RetrainDecision(True, reason)
    return RetrainDecision(False, f"champion version {state.champion_version} is kept: no rule "
                                  "asks for a retrain")
