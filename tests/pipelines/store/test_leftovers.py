"""Owner tokens on temporary names, and removing those of dead processes only."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from pipelines.store import leftovers
from pipelines.store.atomic import write_parquet_atomic


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_only_a_dead_process_of_this_host_owns_leftovers():
    dead = _dead_pid()
    assert leftovers.owner_is_dead(f".x.parquet.{leftovers.owner_token(dead)}.abc.tmp")
    assert not leftovers.owner_is_dead(f".x.parquet.{leftovers.owner_token()}.abc.tmp")
    assert not leftovers.owner_is_dead(f".x.parquet.otherhost-{dead}.abc.tmp")
    assert not leftovers.owner_is_dead(".2026-10-31.abc.tmp")  # no token: not ours to judge
    assert leftovers.run_owner_is_dead({leftovers.HOST_TAG: leftovers.this_host(),
                                        leftovers.PID_TAG: str(dead)})
    assert not leftovers.run_owner_is_dead(leftovers.owner_tags())
    assert not leftovers.run_owner_is_dead({})


def test_a_killed_writers_temp_file_goes_and_the_published_files_stay(tmp_path):
    write_parquet_atomic(pd.DataFrame({"a": [1]}), tmp_path / "features.parquet")
    token = leftovers.owner_token(_dead_pid())
    (tmp_path / f".features.parquet.{token}.q1w2e3.tmp").write_bytes(b"PAR1 half")
    live = tmp_path / f".other.parquet.{leftovers.owner_token(os.getppid())}.zz.tmp"
    live.write_bytes(b"")
    published = tmp_path / f".2026-10-31.{token}.abc"  # a hidden folder a link publishes
    published.mkdir()
    (tmp_path / "2026-10-31").symlink_to(published.name)
    unlinked = tmp_path / f".2026-11-30.{token}.def"
    (unlinked / "sub").mkdir(parents=True)
    (unlinked / "sub" / "page.html").write_text("half")
    (unlinked / "sub").chmod(0o500)
    removed = leftovers.remove_dead_temporaries(tmp_path)
    assert sorted(p.name for p in removed) == sorted(
        [f".features.parquet.{token}.q1w2e3.tmp", unlinked.name])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["features.parquet", live.name, published.name, "2026-10-31"])
