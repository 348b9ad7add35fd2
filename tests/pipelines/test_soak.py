"""A shortened soak (`bench.soak`, in full: `make soak`): 6 weekly runs of a small business
with incremental exports, then the same data staged and scored in one go."""

from __future__ import annotations

import pandas as pd
import pytest

pytestmark = pytest.mark.flow

WEEKS = 6
CUSTOMERS = 250


@pytest.fixture(scope="module")
def soak(prefect_api, tmp_path_factory):
    from bench.soak import run_soak, summary_lines
    from models.params import TrainParams

    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        data_dir = tmp_path_factory.mktemp("soak") / "data"
        params = TrainParams(n_cutoffs=4, max_boost_rounds=60, min_positives=20,
                             min_negatives=20)
        figures = run_soak(data_dir, WEEKS, CUSTOMERS, params=params, report=lambda _: None)
        print("\n".join(summary_lines(figures)))
        yield figures


def test_every_weekly_run_finishes_and_scores(soak):
    assert soak.runs_finished == WEEKS
    assert all(w.customers_scored > 0 for w in soak.per_week)
    missing = [w for w in soak.per_week if w.export_missing]
    assert len(missing) == 1  # that week still ran, on the data it had


def test_retraining_follows_the_decisions_the_runs_reported(soak):
    first = soak.per_week[0]
    assert first.retrained and first.retrain_reason == "no champion model yet"
    assert soak.retrains == sum(w.retrained for w in soak.per_week) >= 1
    assert sum(soak.retrain_reasons.values()) == soak.retrains
    for before, week in zip(soak.per_week, soak.per_week[1:], strict=False):
        if not week.retrained:  # the champion serves on
            assert week.model_version == before.model_version


def test_incremental_operation_ends_where_a_one_shot_run_does(soak):
    assert soak.rows_lost == {"purchases": 0, "complaints": 0, "interactions": 0,
                              "customers": 0}
    assert soak.staged_equal
    assert soak.risk_list_equal


def test_as_of_moves_with_the_exports_and_stalls_only_on_the_missing_week(soak):
    dates = [pd.Timestamp(w.as_of) for w in soak.per_week]
    assert dates == sorted(dates)
    for before, week in zip(soak.per_week, soak.per_week[1:], strict=False):
        if week.export_missing:
            assert week.as_of == before.as_of


def test_disk_grows_by_what_the_archive_explains_and_memory_stays_flat(soak):
    # Staging keeps the current and one previous version: the working set grows as the
    # data does (parquet, smaller than the CSV exports), never by a copy per week.
    assert soak.working_growth_bytes <= 2 * soak.input_growth_bytes + 64 * 1024
    assert soak.disk_per_week_bytes["archive"] > soak.disk_per_week_bytes["working"]
    assert soak.rss_growth_bytes < 150 * (1 << 20)
