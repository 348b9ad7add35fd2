"""The archive's lists are read one at a time: grading a long archive holds one list's rows,
the record is the one the lists would give all at once, and unreadable folders are passed
over."""

from __future__ import annotations

import datetime as dt
import gc
import json
import weakref

import numpy as np
import pandas as pd

from features.labels import LabelSpec
from models.track_record import track_record
from pipelines.tracking.shipped import archived_lists, shipped_lists, track_columns

SPEC = LabelSpec(horizon_days=30)
START = dt.date(2025, 1, 6)


def _archive(scored, weeks: int, customers: int = 300) -> pd.DataFrame:
    """`weeks` archived lists a week apart (written newest first, so order is not given by
    the writing) and purchases to grade them against."""
    rng = np.random.default_rng(3)
    ids = [f"C{i:04d}" for i in range(customers)]
    for week in reversed(range(weeks)):
        as_of = START + dt.timedelta(days=7 * week)
        run = scored / str(as_of) / f"2025{week:04d}T000000Z-{week:06x}"
        run.mkdir(parents=True)
        pd.DataFrame({"customer_id": ids, "churn_probability": rng.random(customers),
                      "risk_tier": rng.choice(["Critical", "High", "Safe"], customers),
                      "value_at_risk": rng.random(customers) * 100,
                      "annual_revenue": rng.random(customers) * 500,
                      "days_since_last_purchase": 1.0}).to_parquet(run / "risk_list.parquet")
        (run / "metadata.json").write_text(json.dumps({
            "as_of": str(as_of), "run_id": run.name, "model_version": "1",
            "label": SPEC.model_dump(), "tier_policy": {"top_tiers": ["Critical"]},
            "model_validation": {"roc_auc": 0.8}}))
        (run / "report.html").write_text("<html></html>")
    days = pd.to_datetime(START) + pd.to_timedelta(rng.integers(-60, 7 * weeks + 40, 4000),
                                                    unit="D")
    return pd.DataFrame({"customer_id": rng.choice(ids, 4000), "order_id": range(4000),
                         "order_date": days, "amount": 10.0, "status": "completed"})


def test_grading_a_long_archive_holds_one_list_at_a_time(tmp_path):
    purchases = _archive(tmp_path, weeks=8)
    data_end = START + dt.timedelta(days=7 * 8 + 35)
    archived = archived_lists(tmp_path, data_end)
    assert [a.as_of for a in archived] == sorted(a.as_of for a in archived)
    assert len(archived) == 8
    alive: list[weakref.ref] = []

    def watched():
        for shipped in shipped_lists(archived, track_columns):
            gc.collect()
            # the grader's loop still names the list before this one, none older
            assert sum(ref() is not None for ref in alive) <= 1
            alive.append(weakref.ref(shipped.risk))
            yield shipped

    lazily = track_record(watched(), purchases, data_end)
    at_once = track_record(list(shipped_lists(archived, track_columns)), purchases, data_end)
    assert len(alive) == 8
    pd.testing.assert_frame_equal(lazily.lists, at_once.lists)
    pd.testing.assert_frame_equal(lazily.tiers, at_once.tiers)
    assert (lazily.lists["status"] == "graded").sum() >= 7
    assert lazily.lists["as_of"].tolist() == sorted(lazily.lists["as_of"])


def test_the_record_is_oldest_first_whatever_order_the_lists_come_in(tmp_path):
    purchases = _archive(tmp_path, weeks=4)
    data_end = START + dt.timedelta(days=7 * 4 + 35)
    lists = list(shipped_lists(archived_lists(tmp_path, data_end), track_columns))
    forward = track_record(lists, purchases, data_end)
    backward = track_record(lists[::-1], purchases, data_end)
    pd.testing.assert_frame_equal(forward.lists, backward.lists)
    pd.testing.assert_frame_equal(forward.tiers, backward.tiers)


def test_what_cannot_be_read_is_passed_over(tmp_path):
    _archive(tmp_path, weeks=4)
    runs = sorted(p for p in tmp_path.glob("*/*") if p.is_dir())
    (runs[0] / "metadata.json").write_text("{not json")
    (runs[1] / "risk_list.parquet").write_bytes(b"not parquet")
    meta = json.loads((runs[3] / "metadata.json").read_text())
    meta["label"] = LabelSpec(horizon_days=30, definition="cancellation").model_dump()
    (runs[3] / "metadata.json").write_text(json.dumps(meta))
    later = START + dt.timedelta(days=365)
    archived = archived_lists(tmp_path, later)
    assert len(archived) == 3  # the unreadable metadata
    assert len(list(shipped_lists(archived, track_columns))) == 2  # the unreadable rows
    # a chosen column the list lacks: archived before it existed
    assert list(shipped_lists(archived, lambda names: ["customer_id", "holdout"])) == []
    # scored after the data end, or under a definition the caller cannot grade
    assert [a.as_of for a in archived_lists(tmp_path, START + dt.timedelta(days=8))] == [
        START + dt.timedelta(days=7)]
    assert len(archived_lists(tmp_path, later, with_cancellation=False)) == 2
