"""`churn ingest`, `train` and `score` with `--data-dir s3://bucket/prefix` (an S3 server on
loopback, moto) give what the same commands give on a local folder of the same exports;
another machine pulls only what changed; a push killed halfway leaves the bucket's previous
state and the next run completes.

Ten commands, two of them trainings: about 110 s on 2 shared cores (flow).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.deliver.risk_list import same_scored_list
from pipelines.store import archive
from pipelines.store.remote import RemoteDataDir
from pipelines.store.remote.sync import commit_generations, read_commit
from pipelines.store.staged import STAGED_KINDS

pytestmark = pytest.mark.flow

runner = CliRunner()
# Small enough for a test, large enough for the promotion gate's out-of-time cutoff.
TRAIN = ["--n-cutoffs", "4", "--backtest-origins", "1", "--min-positives", "10",
         "--min-negatives", "10"]


def _churn(*args: str) -> str:
    result = runner.invoke(app, list(args))
    output = " ".join(result.output.split())
    assert result.exit_code == 0, output[-2000:]
    return output


def _machine(monkeypatch, tmp_path: Path, name: str) -> Path:
    """Act as another machine (its own cache); its working copy of the bucket."""
    monkeypatch.setenv("CHURN_CACHE_DIR", str(tmp_path / f"cache-{name}"))
    return tmp_path / f"cache-{name}"


def _pulled(cache: Path, url: str):
    """A reader's pull alone (no command): the bucket's newest state in `cache`."""
    from pipelines.store.remote.session import close_session, open_session

    session = open_session(url, "read")
    close_session(session)
    assert session.working_copy.is_relative_to(cache)
    return session


def _staged(data_dir: Path) -> dict[str, pd.DataFrame]:
    return {kind: pd.read_parquet(data_dir / "staged" / f"{kind}.parquet")
            for kind in STAGED_KINDS if (data_dir / "staged" / f"{kind}.parquet").exists()}


def _latest_list(data_dir: Path) -> pd.DataFrame:
    run = archive.latest_run_dir(data_dir / "scored")
    assert run is not None
    return pd.read_parquet(run / "risk_list.parquet")


def _newest(bucket) -> int:
    return commit_generations(bucket.fs, RemoteDataDir.parse(bucket.url))[-1]


def _changed_between(bucket, older: int, newer: int) -> set[str]:
    remote = RemoteDataDir.parse(bucket.url)
    before = read_commit(bucket.fs, remote, older)["files"]
    after = read_commit(bucket.fs, remote, newer)["files"]
    return {path for path, entry in after.items()
            if before.get(path, {}).get("sha256") != entry["sha256"]}


@pytest.fixture
def exports(tmp_path) -> Path:
    """A local data dir holding the simulated exports (raw/, and sources.yaml if any)."""
    from pipelines.sample.generate import generate_and_write
    from pipelines.store.settings import Settings

    local = tmp_path / "local"
    generate_and_write(Settings.from_env(local), customers=200, seed=11)
    return local


def test_remote_data_dir_gives_the_local_results_and_syncs_only_changes(
        prefect_api, bucket, exports, monkeypatch, tmp_path):
    for path in [exports / "raw", exports / "sources.yaml"]:
        if path.exists():  # the user uploads the exports under their own names
            bucket.fs.put(str(path), f"{bucket.name}/prefix/{path.name}", recursive=True)
    local = str(exports)
    for command in (["ingest"], ["train", *TRAIN], ["score"]):
        _churn(*command, "--data-dir", local)
    _machine(monkeypatch, tmp_path, "a")
    for command in (["ingest"], ["train", *TRAIN], ["score"]):
        _churn(*command, "--data-dir", bucket.url)

    copy_b = _pulled(_machine(monkeypatch, tmp_path, "b"), bucket.url).working_copy
    local_tables, remote_tables = _staged(exports), _staged(copy_b)
    assert set(local_tables) == set(remote_tables) and "purchases" in remote_tables
    for kind, frame in local_tables.items():
        pd.testing.assert_frame_equal(frame, remote_tables[kind])
    local_list = _latest_list(exports)
    assert same_scored_list(local_list, _latest_list(copy_b))
    assert local_list["churn_probability"].tolist() == \
        _latest_list(copy_b)["churn_probability"].tolist()
    assert len(list((copy_b / "staged.versions").iterdir())) == 1  # the current version only

    _machine(monkeypatch, tmp_path, "a")  # A changes a little: a feature table
    before = _newest(bucket)
    _churn("features", "--data-dir", bucket.url)
    changed = _changed_between(bucket, before, before + 1)
    assert changed and all(path.startswith(("features/", "reports/", "mlflow/"))
                           for path in changed)

    from pipelines.store.remote import session as sessions
    from pipelines.store.remote import sync

    opened: list[sessions.RemoteSession] = []
    real_open, real_upload = sessions.open_session, sync._upload
    monkeypatch.setattr(sessions, "open_session",
                        lambda url, step: opened.append(real_open(url, step)) or opened[-1])
    uploads: list[str] = []

    def killed_after_two(fs, key, source):
        if len(uploads) == 2:
            raise ConnectionResetError("push killed")
        real_upload(fs, key, source)
        uploads.append(key)

    monkeypatch.setattr(sync, "_upload", killed_after_two)
    _machine(monkeypatch, tmp_path, "b")  # B scores: pulls what A changed; its push dies
    newest = _newest(bucket)
    result = runner.invoke(app, ["score", "--data-dir", bucket.url])
    said = " ".join(result.output.split())
    assert set(opened[0].pulled.transferred) == changed  # only what changed
    assert result.exit_code == 1 and "Traceback" not in said
    assert said.count("score failed:") == 1 and len(uploads) == 2
    assert _newest(bucket) == newest  # nothing of the killed push is listed
    monkeypatch.setattr(sync, "_upload", real_upload)

    reader = _pulled(_machine(monkeypatch, tmp_path, "c"), bucket.url)  # the previous state
    pulled_run = archive.latest_run_dir(reader.working_copy / "scored")
    assert pulled_run is not None and archive.is_complete_run(pulled_run)
    assert same_scored_list(_latest_list(reader.working_copy), local_list)

    _machine(monkeypatch, tmp_path, "b")  # B's next run completes
    _churn("score", "--data-dir", bucket.url)
    remote = RemoteDataDir.parse(bucket.url)
    assert _newest(bucket) == newest + 1
    assert read_commit(bucket.fs, remote, newest + 1)["links"]["scored/latest"] != \
        read_commit(bucket.fs, remote, newest)["links"]["scored/latest"]
    assert not os.environ.get("MLFLOW_TRACKING_URI")
