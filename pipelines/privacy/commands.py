"""`churn erase` and the global `--pseudonymize` option (registered in `pipelines.cli`)."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.markup import escape
from rich.text import Text

from pipelines.cli_common import DataDir, prepare_environment
from pipelines.console import console, err

PSEUDONYMIZE_VARIABLE = "CHURN_PSEUDONYMIZE"


def use_pseudonyms() -> None:
    """`churn --pseudonymize …`: customer ids in what leaves the data dir become keyed hashes
    for this command (its flows read `CHURN_PSEUDONYMIZE`); without a key, one sentence."""
    from pipelines.store.settings import PseudonymKeyError, pseudonym_key

    try:
        pseudonym_key()
    except PseudonymKeyError as error:
        err.print(Text("pseudonymize failed", style="red") + Text(f": {error}"),
                  highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    os.environ[PSEUDONYMIZE_VARIABLE] = "1"


def _use_prefect_api() -> None:
    """The data dir's Prefect API (started when it is not running) or the configured one:
    its artifacts of past runs may name the customers. Unlike the flows' commands, an API
    that does not answer does not stop the erasure: `erase_customers` records it."""
    from pathlib import Path

    from pipelines.operate.local_api import refresh_prefect_settings, use_local_api

    use_local_api(Path(os.environ["PREFECT_HOME"]).expanduser())
    refresh_prefect_settings()


def erase(
    customer_ids: Annotated[list[str], typer.Argument(
        help="Customer ids (or an e-mail, phone or system id that identity resolution links "
             "to one) to erase.", show_default=False, metavar="CUSTOMER_ID")],
    data_dir: DataDir = None,
) -> None:
    """Remove customers from every store derived from raw/ (staged, features, model inputs,
    quarantine, archived lists and reports, analytics, Prefect artifacts) and record it, so a
    re-ingest of old raw files does not bring them back; lists the models trained on data
    that held them."""
    root = prepare_environment(data_dir, prefect=False, step="erase")
    _use_prefect_api()
    from pipelines.privacy.erase import EraseError, erase_customers
    from pipelines.store.settings import Settings

    try:
        done = erase_customers(Settings.from_env(root), customer_ids)
    except (EraseError, ValueError, OSError) as error:
        err.print(Text("erase failed", style="red") + Text(f": {error}"), highlight=False,
                  soft_wrap=True)
        raise typer.Exit(1) from None
    console.print(f"erased {len(done.customers)} customer(s); recorded in {escape(done.log)}")
    if done.not_found:
        console.print(f"not found in any store (recorded, so no later ingest stages them): "
                      f"{escape(', '.join(done.not_found))}")
    for store, rows in done.touched.items():
        console.print(f"  {escape(store)}: {rows} row(s) removed")
    for path in done.rebuilt:
        console.print(f"  {escape(path)}: rebuilt without them")
    for path in done.removed:
        console.print(f"  {escape(path)}: removed (it named an erased customer)")
    if any(p.startswith("analytics/") for p in done.removed):
        console.print("  rebuild analytics without them with `churn analyze --as-of <date>`")
    for artifact in done.prefect_artifacts:
        console.print(f"  Prefect artifact {escape(artifact)}: deleted (it named an erased "
                      "customer)")
    if done.prefect_not_cleaned:
        err.print(Text("warning", style="yellow") + Text(
            f": the Prefect run history was not cleaned (its API did not answer: "
            f"{done.prefect_not_cleaned}), as the erasure record says; run `churn erase` with "
            "the same ids again once it is reachable"), highlight=False,
            soft_wrap=True)
    if done.models_to_retrain:
        console.print("[yellow]trained on data that held them[/yellow]: version(s) "
                      f"{', '.join(done.models_to_retrain)}; retrain with `churn train` (or "
                      "`churn run --retrain`) and promote the new version")
