"""The retention world stepped a week at a time: its exports and its truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.sample import simulator as sim
from pipelines.sample.retention import run_loop
from pipelines.sample.retention_world import (
    CALL,
    OFFER,
    LoopConfig,
    RetentionEffects,
    RetentionWorld,
)

CONFIG = LoopConfig(customers=300, warmup_weeks=20, weeks=6, truth_replicates=10)


def _weekly_exports(world: RetentionWorld, weeks: int) -> list[dict[str, pd.DataFrame]]:
    sent, since = [], -np.inf
    for _ in range(weeks):
        world.advance()
        sent.append(world.export_frames(since, world.t))
        since = world.t
    return sent


def test_the_crm_rule_loop_is_reproducible_from_its_seed():
    first, again = run_loop(CONFIG), run_loop(CONFIG)
    pd.testing.assert_frame_equal(first.randomised, again.randomised)
    pd.testing.assert_frame_equal(first.actions, again.actions)
    pd.testing.assert_frame_equal(first.purchases, again.purchases)


def test_weekly_exports_send_every_order_once_and_each_tickets_latest_state_last():
    world = RetentionWorld(CONFIG, RetentionEffects())
    sent = _weekly_exports(world, 30)
    orders = pd.concat([s["purchases"] for s in sent], ignore_index=True)
    unit, _ = world.orders()
    assert len(orders) == unit.size and orders["order_id"].is_unique
    tickets = pd.concat([s["complaints"] for s in sent], ignore_index=True)
    latest = tickets.drop_duplicates("complaint_id", keep="last").sort_values("complaint_id")
    opened_before = world.complaint_open < world.t
    assert len(latest) == int(opened_before.sum())
    solved = world.complaint_resolved[opened_before] < world.t
    assert (latest["status"].eq("solved").to_numpy() == solved).all()
    customers = pd.concat([s["customers"] for s in sent], ignore_index=True)
    assert customers["customer_id"].is_unique
    assert len(customers) == int((world.signup < world.t).sum())


def test_a_treatment_records_the_truth_and_saves_only_the_contacted():
    world = RetentionWorld(CONFIG, RetentionEffects())
    for _ in range(CONFIG.warmup_weeks):
        world.advance()
    who = np.flatnonzero(world.orders_seen > 0)[:80]
    action = np.where(np.arange(who.size) % 2 == 0, CALL, OFFER)
    contacted = np.arange(who.size) % 4 < 2
    done = world.treat(who, action, contacted)
    assert not done.saved[~contacted].any()
    assert (done.true_effect[done.state == sim.CHURNED] == 0).all()  # nothing saves the gone
    # a saved offer orders at once: its effect is the save probability x P(churn) without
    offer = action == OFFER
    assert (done.true_effect[offer] >= 0).all()
