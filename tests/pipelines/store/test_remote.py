"""An s3:// data dir's working copy: pull and push against an S3 server on loopback (moto).

No flows here (tests/pipelines/store/test_remote_cli.py runs the commands): a small data dir
of every kind of file the pipeline leaves (a staged version and its link, a sealed archived
run, the MLflow SQLite store, Prefect's home and a killed run's leftovers that must not
travel) is pushed from one machine's working copy and pulled into another's.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.store.remote import RemoteDataDir, RemoteStoreError
from pipelines.store.remote.session import close_session, open_session, push_session
from pipelines.store.remote.sync import ConcurrentPushError, commit_generations

runner = CliRunner()


def _machine(monkeypatch, tmp_path: Path, name: str) -> None:
    """Act as another machine: its own cache, so its own working copy."""
    monkeypatch.setenv("CHURN_CACHE_DIR", str(tmp_path / f"cache-{name}"))


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _fill(copy: Path) -> None:
    """What ingest, train and score leave in a data dir (contents stand in for tables)."""
    for version in ("v1", "v2"):
        _write(copy / "staged.versions" / version / "purchases.parquet", f"purchases {version}")
    os.symlink("staged.versions/v2", copy / "staged")
    run = copy / "scored" / "2024-06-01" / "run1"
    os.chmod(_write(run / "risk_list.parquet", "the list"), 0o444)  # sealed (store.archive)
    os.symlink("2024-06-01/run1", copy / "scored" / "latest")
    (copy / "mlflow").mkdir()
    with sqlite3.connect(copy / "mlflow" / "mlflow.db") as db:
        db.execute("CREATE TABLE runs (id TEXT)")
        db.execute("INSERT INTO runs VALUES ('first')")
    db.close()
    _write(copy / ".prefect" / "prefect.db", "this machine's Prefect")
    _write(copy / "scored" / ".partial" / "2024-06-01" / ".run2.host-1" / "risk_list.csv", "x")
    _write(copy / ".churn-run.lock", "")


def _relative_files(copy: Path) -> dict[str, str]:
    return {p.relative_to(copy).as_posix(): ("link:" + os.readlink(p) if p.is_symlink()
                                             else p.read_bytes().hex()[:40])
            for p in copy.rglob("*") if p.is_symlink() or p.is_file()}


def _runs(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        rows = [row[0] for row in connection.execute("SELECT id FROM runs ORDER BY id")]
    connection.close()
    return rows


def _pushed_from_a(bucket, monkeypatch, tmp_path) -> Path:
    """Machine A: raw exports uploaded by the user, a pipeline's outputs pushed."""
    bucket.fs.pipe_file(f"{bucket.name}/prefix/raw/purchases/orders.csv", b"customer_id\n1\n")
    _machine(monkeypatch, tmp_path, "a")
    session = open_session(bucket.url, "ingest")
    _fill(session.working_copy)
    assert push_session(session) is not None
    close_session(session)
    return session.working_copy


def test_another_machine_pulls_the_same_data_dir_and_then_only_what_changed(
        bucket, monkeypatch, tmp_path):
    a = _pushed_from_a(bucket, monkeypatch, tmp_path)
    _machine(monkeypatch, tmp_path, "b")
    session = open_session(bucket.url, "score")
    b = session.working_copy
    shared = {k: v for k, v in _relative_files(a).items()
              if not k.startswith((".", "scored/.partial", "staged.versions/v1"))}
    assert _relative_files(b) == shared  # neither Prefect's home nor leftovers travel
    assert (b / "staged" / "purchases.parquet").read_text() == "purchases v2"
    assert not os.access(b / "scored" / "latest" / "risk_list.parquet", os.W_OK) \
        or os.geteuid() == 0  # still sealed
    assert session.pulled is not None and len(session.pulled.transferred) == len(shared) - 2
    with sqlite3.connect(b / "mlflow" / "mlflow.db") as db:  # B's command writes
        db.execute("INSERT INTO runs VALUES ('second')")
    db.close()
    assert push_session(session) is not None
    close_session(session)

    killed_pull = _write(b / "scored" / ".risk_list.parquet.x1.pull.tmp", "half")
    again = open_session(bucket.url, "score")  # B again: nothing changed in between
    assert again.pulled is not None and again.pulled.transferred == []
    assert not killed_pull.exists()  # what a killed pull left
    assert push_session(again) is None  # nothing changed: no commit
    close_session(again)

    _machine(monkeypatch, tmp_path, "a")
    back = open_session(bucket.url, "score")
    assert back.pulled is not None and back.pulled.transferred == ["mlflow/mlflow.db"]
    assert _runs(a / "mlflow" / "mlflow.db") == ["first", "second"]
    close_session(back)

    export = f"{bucket.name}/prefix/raw/purchases/orders.csv"  # the user uploads a new export
    bucket.fs.pipe_file(export, b"customer_id\n1\n2\n")
    fresh = open_session(bucket.url, "ingest")
    assert fresh.pulled is not None and fresh.pulled.transferred == ["raw/purchases/orders.csv"]
    assert (a / "raw" / "purchases" / "orders.csv").read_bytes() == b"customer_id\n1\n2\n"
    close_session(fresh)


def test_a_push_killed_halfway_leaves_the_previous_state_and_the_next_push_completes(
        bucket, monkeypatch, tmp_path):
    _pushed_from_a(bucket, monkeypatch, tmp_path)
    session = open_session(bucket.url, "score")
    run = session.working_copy / "scored" / "2024-06-08" / "run2"
    for name in ("metadata.json", "risk_list.parquet", "report.html"):
        _write(run / name, f"{name} of run2")
    os.symlink("2024-06-08/run2", session.working_copy / "scored" / ".latest.tmp")
    os.replace(session.working_copy / "scored" / ".latest.tmp",
               session.working_copy / "scored" / "latest")
    uploaded = []

    def dies_after_two(fs, key, source):
        if len(uploaded) == 2:
            raise ConnectionResetError("the push was killed")
        fs.put_file(str(source), key)
        uploaded.append(key)

    with pytest.raises(RemoteStoreError):
        push_session(session, upload=dies_after_two)
    close_session(session)
    assert len(uploaded) == 2 and commit_generations(bucket.fs, RemoteDataDir.parse(
        bucket.url)) == [1]

    _machine(monkeypatch, tmp_path, "c")  # a reader sees the previous state, whole
    reader = open_session(bucket.url, "analyze")
    assert os.readlink(reader.working_copy / "scored" / "latest") == "2024-06-01/run1"
    assert not (reader.working_copy / "scored" / "2024-06-08").exists()
    close_session(reader)

    _machine(monkeypatch, tmp_path, "a")  # the next run on A starts over from that state
    rerun = open_session(bucket.url, "score")
    assert not run.exists()  # the killed push's local results were put back
    for name in ("metadata.json", "risk_list.parquet", "report.html"):
        _write(run / name, f"{name} of run2")
    os.remove(rerun.working_copy / "scored" / "latest")
    os.symlink("2024-06-08/run2", rerun.working_copy / "scored" / "latest")
    pushed = push_session(rerun)
    assert pushed is not None and pushed.generation == 2
    assert len(pushed.transferred) == 3  # the two uploaded before the kill again, and the third
    close_session(rerun)
    _machine(monkeypatch, tmp_path, "c")
    reader = open_session(bucket.url, "analyze")
    assert (reader.working_copy / "scored" / "latest" / "report.html").read_text() == \
        "report.html of run2"
    close_session(reader)


def test_a_second_writer_is_refused_with_a_sentence_not_merged(bucket, monkeypatch, tmp_path):
    _pushed_from_a(bucket, monkeypatch, tmp_path)
    first = open_session(bucket.url, "score")
    _machine(monkeypatch, tmp_path, "b")
    second = open_session(bucket.url, "score")
    _write(first.working_copy / "reports" / "a.json", "{}")
    _write(second.working_copy / "reports" / "b.json", "{}")
    assert push_session(first) is not None
    with pytest.raises(ConcurrentPushError, match="one writer at a time: run the command "
                                                  "again"):
        push_session(second)
    for session in (first, second):
        close_session(session)
    reader = open_session(bucket.url, "analyze")
    assert (reader.working_copy / "reports" / "a.json").exists()
    assert not (reader.working_copy / "reports" / "b.json").exists()
    close_session(reader)


def test_one_command_at_a_time_per_working_copy(bucket):
    session = open_session(bucket.url, "score")
    with pytest.raises(RemoteStoreError, match="another churn command is using"):
        open_session(bucket.url, "train")
    close_session(session)


def _one_sentence(args: list[str]) -> str:
    result = runner.invoke(app, args)
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "Traceback" not in said and said.count(" failed: ") == 1
    return said


def test_a_missing_bucket_is_one_sentence(bucket):
    said = _one_sentence(["features", "--data-dir", "s3://no-such-bucket-here/prefix"])
    assert said.startswith("features failed: the bucket no-such-bucket-here does not exist")
    assert "aws s3 mb s3://no-such-bucket-here" in said


def test_an_unreachable_endpoint_is_one_sentence(bucket, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # discard: nothing listens
    said = _one_sentence(["score", "--data-dir", bucket.url])
    assert "score failed: cannot reach the object store at http://127.0.0.1:9" in said


def test_missing_credentials_are_one_sentence_and_no_secret_is_shown(bucket, monkeypatch,
                                                                     tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    said = _one_sentence(["train", "--data-dir", bucket.url])
    assert "train failed: no AWS credentials for" in said
    monkeypatch.setenv("CHURN_S3_OPTIONS", '{"secret": "hunter2"')  # not JSON
    said = _one_sentence(["train", "--data-dir", bucket.url])
    assert "CHURN_S3_OPTIONS must be a JSON object" in said and "hunter2" not in said


def test_a_local_mlflow_store_beside_a_remote_data_dir_is_refused(bucket, monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    said = _one_sentence(["train", "--data-dir", bucket.url])
    assert "MLFLOW_TRACKING_URI must be an MLflow server" in said


@pytest.mark.parametrize(("url", "words"), [
    ("gs://bucket/prefix", "only s3://"), ("s3://", "names no bucket"),
    ("s3://bucket/../up", "names no bucket")])
def test_urls_that_name_no_s3_folder_are_refused(url, words):
    with pytest.raises(RemoteStoreError, match=words):
        RemoteDataDir.parse(url)


def test_a_url_names_its_bucket_and_prefix_without_stray_slashes():
    remote = RemoteDataDir.parse("s3://bucket//team/churn/")
    assert (remote.url, remote.key("commits/1.json")) == (
        "s3://bucket/team/churn", "bucket/team/churn/commits/1.json")


def test_old_commits_and_objects_nothing_lists_are_removed_after_the_grace(
        bucket, monkeypatch, tmp_path):
    from pipelines.store.remote import sync

    _pushed_from_a(bucket, monkeypatch, tmp_path)
    remote = RemoteDataDir.parse(bucket.url)
    orphan = remote.key(f"{sync.OBJECTS}/{'0' * 64}")  # what a killed push left
    bucket.fs.pipe_file(orphan, b"left by a killed push")
    session = open_session(bucket.url, "score")
    for generation in range(5):
        _write(session.working_copy / "reports" / "report.json", f"{generation}")
        push_session(session)
    assert bucket.fs.exists(orphan)  # young: it may be a push under way
    monkeypatch.setattr(sync, "ORPHAN_GRACE", sync.dt.timedelta(0))
    _write(session.working_copy / "reports" / "report.json", "last")
    push_session(session)
    close_session(session)
    assert commit_generations(bucket.fs, remote) == [5, 6, 7]
    assert not bucket.fs.exists(orphan)
    listed = set()
    for generation in (5, 6, 7):
        listed |= {entry["sha256"] for entry in sync.read_commit(bucket.fs, remote, generation)
                   ["files"].values()}
    kept = {name.rsplit("/", 1)[-1] for name in bucket.fs.ls(remote.key(sync.OBJECTS))}
    assert kept == listed  # every listed object is there, and nothing else


FOLDERS = ("reports", "features", "scored/2024-06-01/run1", "mlflow/artifacts/1")
trees = st.dictionaries(
    st.tuples(st.sampled_from(FOLDERS), st.sampled_from(("a.json", "b.parquet", "c.csv")))
    .map("/".join),
    st.binary(min_size=0, max_size=40), max_size=6)


@settings(max_examples=5, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(generations=st.lists(trees, min_size=1, max_size=2))
def test_whatever_a_writer_pushes_a_reader_pulls_exactly_and_only_once(
        bucket, monkeypatch, tmp_path, generations):
    """Invariant: after each push, a reader's pull gives the writer's travelling files
    byte for byte (removals included), and a pull right after it moves nothing."""
    example = uuid.uuid4().hex[:8]
    url = f"s3://{bucket.name}/{example}"
    for tree in generations:
        _machine(monkeypatch, tmp_path, f"{example}-writer")
        writer = open_session(url, "score")
        for path in [p for p in writer.working_copy.rglob("*") if p.is_file()]:
            path.unlink()
        for relative, data in tree.items():
            (writer.working_copy / relative).parent.mkdir(parents=True, exist_ok=True)
            (writer.working_copy / relative).write_bytes(data)
        push_session(writer)
        close_session(writer)
        _machine(monkeypatch, tmp_path, f"{example}-reader")
        reader = open_session(url, "analyze")
        close_session(reader)
        pulled = {p.relative_to(reader.working_copy).as_posix(): p.read_bytes()
                  for p in reader.working_copy.rglob("*") if p.is_file()}
        assert pulled == tree
        again = open_session(url, "analyze")
        close_session(again)
        assert again.pulled is not None and again.pulled.transferred == []


def test_a_full_local_disk_during_the_pull_is_said_as_the_disk_not_the_bucket(
        bucket, monkeypatch, tmp_path):
    import errno

    from pipelines.store.remote import sync

    _pushed_from_a(bucket, monkeypatch, tmp_path)
    _machine(monkeypatch, tmp_path, "b")

    def full(fetch, target, readonly):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(sync, "write_pulled", full)
    said = _one_sentence(["features", "--data-dir", bucket.url])
    assert said.startswith("features failed: no space left on the disk holding ")
    assert str(tmp_path / "cache-b") in said
