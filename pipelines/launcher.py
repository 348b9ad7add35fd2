"""The `churn` script: a command runs in the data dir's warm worker when one is up
(`pipelines.operate.warm_worker`), else in this process (`pipelines.cli.main`).

Nothing but the standard library is imported before that choice: it is what a warm command
pays on top of its work."""

from __future__ import annotations

import os
import sys


def main() -> None:
    from pipelines.operate.warm_worker import run_warm

    status = run_warm(sys.argv[1:])
    if status is not None:
        os._exit(status)
    from pipelines.cli import main as run_here

    run_here()


if __name__ == "__main__":
    main()
