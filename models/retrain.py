"""When the weekly chain retrains: a pure decision over what is known about the champion.

Each rule looks at `ModelState` and returns a reason in words, or None. The first rule with
a reason decides, so the order is the priority. Retraining only makes a challenger: the
registry's promotion gate still decides whether it becomes champion. The thresholds are the
monitoring policy's (`models.monitoring.MonitoringPolicy`); a field left at None (not
measured) never asks for a retrain.

The rules that measure the champion against the data (drift, track record, growth, age) stay
true while the champion serves on, so after a challenger the gate turned down they would ask
again every week for a model of the same data that loses the same way. They back off: once a
version trained after the champion did not become champion, they ask again only when the
data end has moved `retry_after_days` past that version's, or customers or events grew
`max_data_growth` past what it saw. No champion, `--retrain` and data the champion cannot
score never wait.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from models.monitoring import MonitoringPolicy


@dataclass(frozen=True)
class RetrainAttempt:
    """The newest version trained after the champion that did not become champion (the gate
    turned it down, or a person rolled it back): what it saw."""

    version: str
    data_end: dt.date | None  # the data end it was trained at
    volume: dict[str, int] = field(default_factory=dict)  # customers/events it saw
    reason: str | None = None  # why it was trained (its run's `retrain_reason` tag)


@dataclass(frozen=True)
class ModelState:
    """What the decision may look at (filled by the IO layer, pure here)."""

    champion_version: str | None  # None: no version carries the champion alias
    forced: bool = False  # the operator asked for a retrain (`churn run --retrain`)
    policy: MonitoringPolicy = field(default_factory=MonitoringPolicy)
    score_psi: float | None = None  # the champion's score now against its training reference
    drifted_features: tuple[str, ...] = ()
    monitored_features: int = 0  # features compared (the denominator of the drifted share)
    # the champion's latest list whose label window has ended: its as-of and realised ROC-AUC
    latest_matured_as_of: dt.date | None = None
    realised_roc_auc: float | None = None
    seen_volume: dict[str, int] = field(default_factory=dict)  # customers/events at training
    current_volume: dict[str, int] = field(default_factory=dict)  # the same, now
    trained_data_end: dt.date | None = None  # the last day the champion's labels looked at
    as_of: dt.date | None = None  # the date the chain scores at
    # how the staged data no longer matches the champion (a source or feature gone, a type
    # changed; models.compatibility), None when it does
    data_mismatch: str | None = None
    rejected_attempt: RetrainAttempt | None = None  # see the module docstring


@dataclass(frozen=True)
class RetrainDecision:
    retrain: bool
    reason: str


def _no_champion(state: ModelState) -> str | None:
    return "no champion model yet" if state.champion_version is None else None


def _forced(state: ModelState) -> str | None:
    return "forced by --retrain" if state.forced else None


def _data_mismatch(state: ModelState) -> str | None:
    return (f"the champion no longer fits the staged data: {state.data_mismatch}"
            if state.data_mismatch else None)


def _drift(state: ModelState) -> str | None:
    threshold = state.policy.psi_drift
    if state.score_psi is not None and state.score_psi >= threshold:
        return f"the score drifted: PSI {state.score_psi:.3f} >= {threshold:g}"
    if not state.monitored_features:
        return None
    share = len(state.drifted_features) / state.monitored_features
    if share >= state.policy.drifted_feature_share:
        names = ", ".join(state.drifted_features[:5])
        return (f"{len(state.drifted_features)} of {state.monitored_features} features "
                f"drifted (PSI >= {threshold:g}): {names}")
    return None


def _track_record(state: ModelState) -> str | None:
    floor = state.policy.min_realised_roc_auc
    if state.realised_roc_auc is None or state.realised_roc_auc >= floor:
        return None
    return (f"the list of {state.latest_matured_as_of} ranked below the floor: realised "
            f"ROC-AUC {state.realised_roc_auc:.3f} < {floor:g}")


def _data_growth(state: ModelState) -> str | None:
    factor = state.policy.max_data_growth
    for what in ("customers", "events"):
        seen, now = state.seen_volume.get(what), state.current_volume.get(what)
        if seen and now is not None and now >= factor * seen:
            return f"the data grew past what the model saw: {what} {seen} -> {now} (x{factor:g})"
    return None


def _model_age(state: ModelState) -> str | None:
    if state.trained_data_end is None or state.as_of is None:
        return None
    age = (state.as_of - state.trained_data_end).days
    limit = state.policy.max_model_age_days
    return (f"the model is {age} days old (its data ended {state.trained_data_end}; "
            f"limit {limit})" if age > limit else None)


Rule = Callable[[ModelState], str | None]
#: rules that measure the champion against the data: they back off after a turned-down try
DATA_RULES: tuple[Rule, ...] = (_drift, _track_record, _data_growth, _model_age)
RETRAIN_RULES: tuple[Rule, ...] = (_no_champion, _forced, _data_mismatch, *DATA_RULES)


def _waiting_for(state: ModelState) -> str | None:
    """Why the data rules hold off: the last try saw data like these and did not become
    champion. None when there is no such try, or the data have moved on since it."""
    attempt, policy = state.rejected_attempt, state.policy
    if attempt is None or attempt.data_end is None or state.as_of is None:
        return None
    due = attempt.data_end + dt.timedelta(days=policy.retry_after_days)
    if state.as_of >= due:
        return None
    factor = policy.max_data_growth
    for what in ("customers", "events"):
        seen, now = attempt.volume.get(what), state.current_volume.get(what)
        if seen and now is not None and now >= factor * seen:
            return None
    why = f" (trained for: {attempt.reason})" if attempt.reason else ""
    return (f"not retrained again yet: version {attempt.version}, trained on the data to "
            f"{attempt.data_end}{why}, did not become champion; the rules ask again from {due} "
            f"or when customers or events grow x{factor:g} past what it saw")


def retrain_decision(state: ModelState) -> RetrainDecision:
    """Retrain if any rule gives a reason (the first one is reported), unless it is a data
    rule backing off after a turned-down try (the reason says so); otherwise keep serving
    the champion."""
    for rule in RETRAIN_RULES:
        reason = rule(state)
        if reason is None:
            continue
        if rule in DATA_RULES and (waiting := _waiting_for(state)) is not None:
            return RetrainDecision(False, f"{reason}; {waiting}")
        return RetrainDecision(True, reason)
    return RetrainDecision(False, f"champion version {state.champion_version} is kept: no rule "
                                  "asks for a retrain")
