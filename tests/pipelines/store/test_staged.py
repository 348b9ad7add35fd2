"""Atomic writes: a process killed mid-write leaves the previous staged data readable."""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd

from pipelines.ingest.run import ingest_raw_exports
from pipelines.store.settings import Settings
from pipelines.store.staged import current_staged_version, load_source_tables, staged_versions_dir

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
HEADER = "customer_id,order_id,order_date,amount\n"

# Runs a real ingest whose parquet writer stops halfway through the bytes of the new file
# and waits to be killed, as a crash or `kill -9` would leave it.
CHILD = textwrap.dedent("""
    import sys, time, datetime as dt
    import pandas as pd
    from pipelines.ingest.run import ingest_raw_exports
    from pipelines.store import staged
    from pipelines.store.settings import Settings

    def half_written(frame, path, **kwargs):
        with open(path, "wb") as out:
            out.write(b"PAR1" + b"\\0" * 4096)
            out.flush()
        print("writing", flush=True)
        time.sleep(60)

    staged.write_partitioned = half_written  # publish_staged's writer of each table
    ingest_raw_exports(Settings.from_env(sys.argv[1]),
                       now=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
""")


def test_kill_mid_write_keeps_previous_staged_data_and_next_run_completes(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    raw = settings.raw_dir / "purchases"
    raw.mkdir(parents=True)
    (raw / "a.csv").write_text(HEADER + "1,A,2024-01-01,1.50\n", encoding="utf-8")
    ingest_raw_exports(settings, now=NOW)
    before = load_source_tables(settings).purchases
    (raw / "b.csv").write_text(HEADER + "2,B,2024-01-02,2.00\n", encoding="utf-8")

    repo = Path(__file__).resolve().parents[3]
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(settings.data_dir)], cwd=repo,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    pd.testing.assert_frame_equal(load_source_tables(settings).purchases, before)

    report = ingest_raw_exports(settings, now=NOW)
    assert not report.unchanged and report.staged_rows == {"purchases": 2}
    assert sorted(load_source_tables(settings).purchases["order_id"]) == ["A", "B"]


# Writes the first staged table of the new version in full, then stops before the next kind.
BETWEEN_KINDS = textwrap.dedent("""
    import sys, time, datetime as dt
    import pandas as pd
    from pipelines.ingest.run import ingest_raw_exports
    from pipelines.store import staged
    from pipelines.store.settings import Settings

    original, calls = staged.write_partitioned, []

    def first_kind_only(frame, path, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            return original(frame, path, **kwargs)
        print("between kinds", flush=True)
        time.sleep(60)

    staged.write_partitioned = first_kind_only
    ingest_raw_exports(Settings.from_env(sys.argv[1]),
                       now=dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
""")

COMPLAINTS = "customer_id,complaint_id,opened_at\n"


def _killed_at(child_code: str, line: str, settings: Settings) -> None:
    repo = Path(__file__).resolve().parents[3]
    child = subprocess.Popen([sys.executable, "-c", child_code, str(settings.data_dir)],
                             cwd=repo, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == line
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


def test_kill_between_kinds_leaves_the_whole_previous_set(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    for kind, text in (("purchases", HEADER + "1,A,2024-01-01,1.50\n"),
                       ("complaints", COMPLAINTS + "1,T1,2024-01-02\n")):
        (settings.raw_dir / kind).mkdir(parents=True)
        (settings.raw_dir / kind / "old.csv").write_text(text, encoding="utf-8")
    ingest_raw_exports(settings, now=NOW)
    before = load_source_tables(settings)
    (settings.raw_dir / "purchases" / "new.csv").write_text(
        HEADER + "2,B,2024-01-03,2.00\n", encoding="utf-8")
    (settings.raw_dir / "complaints" / "new.csv").write_text(
        COMPLAINTS + "2,T2,2024-01-04\n", encoding="utf-8")

    _killed_at(BETWEEN_KINDS, "between kinds", settings)
    after_kill = load_source_tables(settings)  # new purchases exist, but not readable
    pd.testing.assert_frame_equal(after_kill.purchases, before.purchases)
    pd.testing.assert_frame_equal(after_kill.complaints, before.complaints)

    report = ingest_raw_exports(settings, now=NOW)
    assert not report.unchanged and report.staged_rows == {"purchases": 2, "complaints": 2}
    tables = load_source_tables(settings)
    assert sorted(tables.purchases["order_id"]) == ["A", "B"]
    assert sorted(tables.complaints["complaint_id"]) == ["T1", "T2"]


def test_versions_beyond_the_last_two_are_pruned(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    raw = settings.raw_dir / "purchases"
    raw.mkdir(parents=True)
    seen = []
    for order in ("A", "B", "C"):
        (raw / f"{order}.csv").write_text(HEADER + f"1,{order},2024-01-01,1\n",
                                         encoding="utf-8")
        ingest_raw_exports(settings, now=NOW)
        seen.append(current_staged_version(settings))
    assert settings.staged_dir.is_symlink() and len(set(seen)) == 3
    assert sorted(p.name for p in staged_versions_dir(settings).iterdir()) == sorted(seen[1:])
    assert load_source_tables(settings).purchases["order_id"].tolist() == ["A", "B", "C"]


def test_a_staged_directory_from_before_versioning_is_adopted(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    settings.staged_dir.mkdir(parents=True)
    pd.DataFrame({"customer_id": ["9"], "order_id": ["OLD"],
                  "order_date": [pd.Timestamp("2024-01-01")], "amount": [3.0],
                  "status": ["completed"]}).to_parquet(settings.staged_dir / "purchases.parquet")
    raw = settings.raw_dir / "purchases"
    raw.mkdir(parents=True)
    (raw / "a.csv").write_text(HEADER + "1,A,2024-01-01,1\n", encoding="utf-8")
    ingest_raw_exports(settings, now=NOW)
    assert settings.staged_dir.is_symlink()
    assert load_source_tables(settings).purchases["order_id"].tolist() == ["A"]
    kept = sorted(p.name for p in staged_versions_dir(settings).iterdir())
    assert len(kept) == 2 and "-unversioned-" in kept[0]  # the old set, until the next run
    old = pd.read_parquet(staged_versions_dir(settings) / kept[0] / "purchases.parquet")
    assert old["order_id"].tolist() == ["OLD"]


def test_data_end_from_timestamps_alone_equals_the_loaded_tables_and_loads_check_once(tmp_path):
    settings = Settings.from_env(tmp_path / "data")
    for kind, text in {
        "purchases": HEADER + "1,A,2024-01-01,1.50\n1,B,2024-02-03T23:30:00+01:00,2\n",
        "complaints": "customer_id,complaint_id,opened_at,resolved_at\n1,T1,2024-01-05,2024-02-10\n",
    }.items():
        (settings.raw_dir / kind).mkdir(parents=True)
        (settings.raw_dir / kind / "a.csv").write_text(text, encoding="utf-8")
    ingest_raw_exports(settings, now=NOW)
    from pipelines.store.staged import staged_data_end

    tables = load_source_tables(settings)
    assert staged_data_end(settings) == tables.last_event_date().date() == dt.date(2024, 2, 10)
    # the bundle was checked where it was loaded; checking it again is a no-op
    assert tables.checked and tables.validated() is tables


def test_each_shard_of_a_published_version_is_its_customers_rows_of_every_table(tmp_path):
    """Staged tables are stored in shard order: a shard read from the version folder gives
    exactly the rows cutting the whole loaded tables gives, for any shard count."""
    from features.sharded import tables_by_shard
    from pipelines.store.partitioned import key_ranges
    from pipelines.store.staged import (
        load_shard_tables,
        publish_staged,
        staged_customers,
        staged_fingerprint,
        staged_version_dir,
    )
    from tests.simulated import staged_from_simulation

    settings = Settings.from_env(tmp_path / "data")
    simulated = staged_from_simulation(customers=300, seed=3)
    frames = {kind: frame for kind, frame in simulated.as_dict().items() if frame is not None}
    publish_staged(settings, frames, {"manifest.json": {"a": "1"}})
    folder = staged_version_dir(settings)
    assert folder.parent == staged_versions_dir(settings)  # the version, not the link
    assert all(key_ranges(folder / f"{kind}.parquet") for kind in frames)
    whole = load_source_tables(settings)
    assert staged_customers(folder) == whole.customers["customer_id"].nunique()
    for shards in (1, 3, 5):
        expected = tables_by_shard(whole, shards)
        read = [load_shard_tables(folder, shard, shards) for shard in range(shards)]
        read = [tables for tables in read if len(tables.purchases)]
        assert len(read) == len(expected)
        for mine, theirs in zip(read, expected, strict=True):
            for kind, frame in theirs.as_dict().items():
                if frame is None:
                    assert mine.as_dict()[kind] is None
                else:
                    pd.testing.assert_frame_equal(mine.as_dict()[kind],
                                                  frame.reset_index(drop=True))
    # the fingerprint names the version: another ingest's tables give another one
    first = staged_fingerprint(str(folder))
    assert first and first == staged_fingerprint(str(folder))
    publish_staged(settings, {"purchases": frames["purchases"].iloc[:10]}, {})
    assert staged_fingerprint(str(staged_version_dir(settings))) != first
    assert staged_fingerprint(str(tmp_path / "nowhere")) is None


def test_the_training_sample_is_read_from_the_first_row_groups_alone(tmp_path):
    """The sample (`in_key_sample`) is the lowest shard keys: read from the staged version
    it is exactly what `sampled_tables` keeps of the whole tables, and the overview training
    plans it with has every table's customers."""
    from features.budget import customer_ids, sampled_tables
    from pipelines.store.partitioned import key_ranges
    from pipelines.store.staged import (
        load_sampled_tables,
        publish_staged,
        staged_overview,
        staged_version_dir,
    )
    from tests.simulated import staged_from_simulation

    settings = Settings.from_env(tmp_path / "data")
    simulated = staged_from_simulation(customers=400, seed=4)
    frames = {kind: frame for kind, frame in simulated.as_dict().items() if frame is not None}
    stranger = frames["complaints"].iloc[:3].assign(customer_id=["X1", "X2", "X3"],
                                                    complaint_id=["XK1", "XK2", "XK3"])
    frames["complaints"] = pd.concat([frames["complaints"], stranger], ignore_index=True)
    publish_staged(settings, frames, {})
    folder = staged_version_dir(settings)
    whole = load_source_tables(settings)
    overview = staged_overview(folder)
    assert overview.available == whole.available
    assert set(customer_ids(overview)) == set(customer_ids(whole))
    assert overview.purchases["order_date"].min() == whole.purchases["order_date"].min()
    for share in (0.05, 0.3, 0.7, 1.0):
        expected = sampled_tables(whole, share)
        read = load_sampled_tables(folder, share)
        for kind, frame in expected.as_dict().items():
            mine = read.as_dict()[kind]
            assert (frame is None) == (mine is None)
            if frame is not None:
                pd.testing.assert_frame_equal(mine, frame.reset_index(drop=True))
    assert "X1" in set(load_sampled_tables(folder, 1.0).complaints["customer_id"])
    # a small sample opens few of the row groups (written small here to have many)
    from features.shards import sample_key_limit
    from pipelines.store.partitioned import key_row_groups, write_partitioned

    small = tmp_path / "p.parquet"
    write_partitioned(frames["purchases"], small, rows_per_group=200)
    groups = key_ranges(small)
    assert len(key_row_groups(groups, 0, sample_key_limit(0.1))) <= 0.1 * len(groups) + 1


def test_the_columns_training_reads_give_the_whole_tables_verdict_and_volume(tmp_path):
    """The billing verdict and the source volume from the few columns they read equal those
    of the whole loaded tables (training no longer loads every byte for them)."""
    from features.billing import detect_billing
    from pipelines.store.staged import publish_staged, staged_columns, staged_version_dir
    from pipelines.tasks.training import BILLING_COLUMNS, VOLUME_COLUMNS
    from pipelines.tracking.monitoring import source_volume
    from tests.simulated import staged_from_simulation

    settings = Settings.from_env(tmp_path / "data")
    simulated = staged_from_simulation(customers=300, seed=6)
    publish_staged(settings, {k: f for k, f in simulated.as_dict().items() if f is not None}, {})
    folder, whole = staged_version_dir(settings), load_source_tables(settings)
    end = whole.purchases["order_date"].max().date()
    for as_of in (end, end - dt.timedelta(days=120)):
        assert detect_billing(staged_columns(folder, BILLING_COLUMNS), as_of) == \
            detect_billing(whole, as_of)
        assert source_volume(staged_columns(folder, VOLUME_COLUMNS), as_of) == \
            source_volume(whole, as_of)
    narrow = staged_columns(folder, {"purchases": ["customer_id", "not_there"]})
    assert list(narrow.purchases.columns) == ["customer_id"]
    assert list(narrow.complaints.columns) == ["customer_id"]
