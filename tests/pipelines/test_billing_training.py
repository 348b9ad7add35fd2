"""Training on a subscription business: the definition follows the data unless given, and
labels that contradict the data are refused unless forced."""

from __future__ import annotations

import datetime as dt

import pytest

from features.labels import LabelSpec
from features.snapshots import build_model_input
from models.params import TrainParams
from pipelines import tasks
from pipelines.ingest.run import ingest_raw_exports
from pipelines.sample.generate import generate_and_write
from pipelines.store.settings import Settings
from pipelines.store.staged import load_source_tables
from pipelines.tasks import training as training_tasks

DATA_END = dt.date(2026, 10, 31)


def staged(tmp_path, business: str) -> Settings:
    settings = Settings.from_env(tmp_path / business)
    generate_and_write(settings, customers=250, seed=11, business=business)
    ingest_raw_exports(settings, now=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    return settings


@pytest.fixture(scope="module")
def subscription(tmp_path_factory):
    return staged(tmp_path_factory.mktemp("data"), "subscription")


def test_the_definition_follows_a_contractual_business_unless_the_user_set_one(subscription):
    params, billing = tasks.choose_churn_definition.fn(
        subscription, DATA_END, TrainParams(choose_definition=True))
    assert params.label.definition == "renewal" and not params.choose_definition
    assert billing["business"] == "contractual" and billing["definition_chosen"]
    assert "subscriptions export" in billing["summary"]
    given = TrainParams(label=LabelSpec(definition="cancellation"))
    kept, billing = tasks.choose_churn_definition.fn(subscription, DATA_END, given)
    assert kept.label.definition == "cancellation" and not billing["definition_chosen"]


def test_a_window_too_short_for_renewals_is_refused_with_the_verdict(subscription):
    short = TrainParams(label=LabelSpec(horizon_days=30), choose_definition=True)
    with pytest.raises(ValueError, match="looks contractual.*at least 45 days"):
        tasks.choose_churn_definition.fn(subscription, DATA_END, short)


def test_no_purchase_labels_on_subscriptions_are_refused_unless_forced(subscription):
    tables = load_source_tables(subscription)
    cutoffs = [dt.date(2026, 3, 1), dt.date(2026, 4, 1)]
    silence = TrainParams(label=LabelSpec(horizon_days=30))
    frame = build_model_input(tables, cutoffs, silence.label, data_end=DATA_END)
    with pytest.raises(ValueError, match=r"labels contradict the data: \d+% of the churners"):
        training_tasks._check_labels_against_payments(frame, tables, silence, DATA_END)
    training_tasks._check_labels_against_payments(frame, tables, silence.model_copy(
        update={"force": True}), DATA_END)
    renewal = TrainParams(label=LabelSpec(definition="renewal"))
    frame = build_model_input(tables, cutoffs, renewal.label, data_end=DATA_END)
    training_tasks._check_labels_against_payments(frame, tables, renewal, DATA_END)


def test_a_retail_shop_keeps_no_purchase(tmp_path):
    settings = staged(tmp_path, "retail")
    params, billing = tasks.choose_churn_definition.fn(
        settings, DATA_END, TrainParams(choose_definition=True))
    assert params.label.definition == "no_purchase" and billing["business"] == "non-contractual"
