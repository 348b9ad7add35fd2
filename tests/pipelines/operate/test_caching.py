"""Content-keyed caching and the retry condition, as plain functions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from prefect.states import Failed

from pipelines.operate.caching import FilesContent, content_digest, is_transient


def test_digest_follows_content_not_timestamps(tmp_path):
    raw = tmp_path / "raw" / "purchases"
    raw.mkdir(parents=True)
    (raw / "a.csv").write_text("x\n1\n")
    first = content_digest([tmp_path / "raw"])
    (raw / "a.csv").write_text("x\n1\n")  # rewritten, same bytes
    assert content_digest([tmp_path / "raw"]) == first
    (raw / "a.csv").write_text("x\n2\n")
    assert content_digest([tmp_path / "raw"]) != first


def test_digest_sees_added_renamed_and_missing_files(tmp_path):
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "a.csv").write_text("1")
    one = content_digest([tmp_path / "raw", tmp_path / "sources.yaml"])
    (tmp_path / "raw" / "a.csv").rename(tmp_path / "raw" / "b.csv")
    renamed = content_digest([tmp_path / "raw", tmp_path / "sources.yaml"])
    (tmp_path / "sources.yaml").write_text("files: []\n")
    with_mapping = content_digest([tmp_path / "raw", tmp_path / "sources.yaml"])
    assert len({one, renamed, with_mapping}) == 3


def test_digest_follows_a_symlinked_folder(tmp_path):
    version = tmp_path / "staged.versions" / "v1"
    version.mkdir(parents=True)
    (version / "purchases.parquet").write_bytes(b"PAR1")
    (tmp_path / "staged").symlink_to(version)
    before = content_digest([tmp_path / "staged"])
    (version / "purchases.parquet").write_bytes(b"PAR2")
    assert content_digest([tmp_path / "staged"]) != before


def test_policy_keys_on_the_tasks_data_dir(tmp_path):
    (tmp_path / "raw").mkdir()
    policy = FilesContent(folders=("raw",))
    key = policy.compute_key(None, {"settings": SimpleNamespace(data_dir=tmp_path)}, {})
    assert key == content_digest([tmp_path / "raw"])
    assert policy.compute_key(None, {}, {}) is None


@pytest.mark.parametrize(("error", "retried"), [
    (OSError("stale NFS handle"), True),
    (FileNotFoundError("no staged purchases"), False),
    (PermissionError("read-only"), False),
    (ValueError("only 1 cutoff"), False),
])
def test_only_transient_io_errors_are_retried(error, retried):
    assert is_transient(None, None, Failed(data=error)) is retried
