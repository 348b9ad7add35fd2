"""Stores made before owner-only files (or by another tool) are closed to other users."""

from __future__ import annotations

import stat

from pipelines.store.permissions import owner_only, store_paths
from pipelines.store.settings import Settings


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_open_data_dir_prefect_home_and_databases_are_closed(tmp_path, monkeypatch):
    monkeypatch.delenv("CHURN_SHARED_FILES", raising=False)
    data, home = tmp_path / "data", tmp_path / "prefect-home"
    (data / "mlflow").mkdir(parents=True)
    home.mkdir()
    for path in (data / "mlflow" / "mlflow.db", home / "prefect.db", home / "prefect.db-wal"):
        path.write_bytes(b"")
        path.chmod(0o644)
    for folder in (data, data / "mlflow", home):
        folder.chmod(0o755)
    monkeypatch.setenv("PREFECT_HOME", str(home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    Settings.from_env(data)
    for path in (data, data / "mlflow", data / "mlflow" / "mlflow.db", home,
                 home / "prefect.db", home / "prefect.db-wal"):
        assert _mode(path) & 0o077 == 0, path


def test_shared_files_leave_modes_alone(tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_SHARED_FILES", "1")
    tmp_path.chmod(0o750)
    assert owner_only(store_paths(tmp_path, None, None)) == []
    assert _mode(tmp_path) == 0o750
