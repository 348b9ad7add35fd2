"""A known failure is one sentence, the same in the terminal and in a Failed run's state."""

from __future__ import annotations

import pytest
import typer

from pipelines.cli_common import run_step
from pipelines.ingest.run import IngestError
from pipelines.operate.failures import failure_message


def _printed(capsys, error: BaseException) -> str:
    def fail():
        raise error

    with pytest.raises(typer.Exit):
        run_step("run", fail)
    return capsys.readouterr().err.strip()


@pytest.mark.parametrize("error", [
    IngestError(["purchases: no files in /data/raw/purchases (CSV, xlsx or parquet exports)"]),
    IngestError(["a.csv: unreadable", "b.csv: no header row [Bedrag]"]),
    FileNotFoundError("no staged purchases under /data/staged; run `churn ingest` first"),
    ValueError("only 1 cutoff(s) between 2026-01-01 and 2026-03-01; training needs at least 2"),
], ids=["one-ingest-problem", "two-ingest-problems", "missing-file", "refused-input"])
def test_the_cli_prints_exactly_the_failure_message(capsys, error):
    assert _printed(capsys, error) == failure_message("run", error)


def test_messages_are_one_line_and_name_the_step():
    assert failure_message("run", IngestError(["a.csv: unreadable", "b.csv: empty"])) == \
        "ingest failed: 2 problems: a.csv: unreadable; b.csv: empty"
    assert failure_message("score", ValueError("bad")) == "score failed: bad"
    assert failure_message("run", RuntimeError("a bug")) is None  # a traceback is better


def _disk_error(code: int, path: str) -> OSError:
    import os

    return OSError(code, os.strerror(code), path)


def test_a_full_disk_is_one_sentence_naming_the_path_and_the_fix():
    import errno

    error = _disk_error(errno.ENOSPC, "/data/scored/2026-10-31/run/risk_list.csv")
    assert failure_message("score", error) == (
        "score failed: no space left on the disk holding /data/scored/2026-10-31/run/"
        "risk_list.csv; free some space (old runs under scored/ can be archived elsewhere) and "
        "run `churn score` again")


@pytest.mark.parametrize("code", ["EROFS", "EACCES", "EPERM"])
def test_a_folder_that_cannot_be_written_is_one_sentence(code):
    import errno

    error = _disk_error(getattr(errno, code), "/data/staged.versions/x")
    if code != "EROFS":
        error = PermissionError(*error.args, error.filename)
    assert failure_message("ingest", error) == (
        "ingest failed: cannot write /data/staged.versions/x: the data dir is read-only or not "
        "yours; make it writable (chmod -R u+w on the data dir) or give another --data-dir")


def test_an_os_error_with_a_path_never_shows_its_errno():
    import errno

    message = failure_message("score", FileNotFoundError(errno.ENOENT, "No such file", "/d/x"))
    assert message is not None and "[Errno" not in message and "/d/x does not exist" in message


def test_a_read_only_or_full_mlflow_store_is_one_sentence():
    from mlflow.exceptions import MlflowException

    readonly = MlflowException("(sqlite3.OperationalError) attempt to write a readonly database")
    assert "cannot write the MLflow store (mlflow/mlflow.db)" in failure_message("train", readonly)
    full = MlflowException("(sqlite3.OperationalError) database or disk is full")
    assert "no space left on the disk holding the MLflow store" in failure_message("train", full)


def test_a_full_disk_while_scoring_files_ends_the_command_with_exit_1(tmp_path, monkeypatch,
                                                                       capsys):
    """Injected where every archive file is born (the temp file beside its final name)."""
    import errno
    import tempfile

    from pipelines.store.atomic import write_text_atomic

    def full(*args, dir=None, **kwargs):
        raise _disk_error(errno.ENOSPC, str(dir))

    monkeypatch.setattr(tempfile, "mkstemp", full)
    with pytest.raises(typer.Exit) as done:
        run_step("score", lambda: write_text_atomic("x", tmp_path / "scored" / "report.html"))
    assert done.value.exit_code == 1
    printed = " ".join(capsys.readouterr().err.split())
    assert printed.startswith(f"score failed: no space left on the disk holding "
                              f"{tmp_path / 'scored'}")


def test_full_disks_and_read_only_folders_are_not_retried():
    import errno

    from pipelines.operate.caching import is_transient

    class State:
        def __init__(self, error):
            self.error = error

        def result(self, raise_on_failure=True):
            raise self.error

    for code in (errno.ENOSPC, errno.EROFS):
        assert not is_transient(None, None, State(_disk_error(code, "/d")))
    assert is_transient(None, None, State(_disk_error(errno.EIO, "/d")))  # may pass
