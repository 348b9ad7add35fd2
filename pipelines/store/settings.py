"""Locations and service addresses, read once from the environment at a flow's entry.

Business parameters (horizon, windows, tiers) are typed flow parameters instead; this object
only says *where* things live. Nothing here runs at import time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from models.privacy import (
    DEFAULT_PERSONAL_COLUMNS,
    personal_columns_setting,
    pseudonymize_setting,
    retention_days_setting,
)
from pipelines.store.permissions import owner_only, shares_files, store_paths
from pipelines.store.remote.location import is_remote

DEFAULT_DATA_DIR = "data"
REGISTERED_MODEL_NAME = "churn-model"
EXPERIMENT_NAME = "churn"


def data_directory(data_dir: str | Path | None = None) -> Path:
    """The data dir a command works on: the one given, else `$CHURN_DATA_DIR`, else `./data`
    (absolute, so every step of the command sees the same folder). An s3:// data dir is no
    folder: `pipelines.cli_common.prepare_environment` gives its local working copy instead."""
    chosen = data_dir or os.environ.get("CHURN_DATA_DIR") or DEFAULT_DATA_DIR
    if is_remote(chosen):
        raise ValueError(f"the data dir {chosen} is in object storage; run this through a "
                         "`churn` command, which works on its local copy")
    root = Path(chosen)
    return root.expanduser().resolve()


OWNER_ONLY_UMASK = 0o077


def protect_new_files() -> None:
    """Files and folders this process (and the servers it starts) creates from now on are
    readable by their owner only: the data dir, the MLflow and the Prefect stores hold
    customers' personal data (KVKK, GDPR/AVG). `CHURN_SHARED_FILES=1` keeps the user's umask
    for teams that share a data dir through a group."""
    if not shares_files():
        os.umask(OWNER_ONLY_UMASK)


PSEUDONYM_KEY_VARIABLE = "CHURN_PSEUDONYM_KEY"
MIN_PSEUDONYM_KEY_CHARS = 16


class PseudonymKeyError(ValueError):
    """`--pseudonymize` without a usable key."""


def pseudonym_key() -> bytes:
    """The key from `CHURN_PSEUDONYM_KEY`, never from a file in the data dir (the stores must
    not hold what reverses them); PseudonymKeyError, one sentence, when unset or short."""
    key = os.environ.get(PSEUDONYM_KEY_VARIABLE, "")
    if len(key) < MIN_PSEUDONYM_KEY_CHARS:
        raise PseudonymKeyError(
            f"--pseudonymize needs a secret key of at least {MIN_PSEUDONYM_KEY_CHARS} "
            f"characters in {PSEUDONYM_KEY_VARIABLE} (e.g. `export "
            f"{PSEUDONYM_KEY_VARIABLE}=$(openssl rand -hex 32)`); keep it outside the data dir "
            "and the same from run to run")
    return key.encode("utf-8")


def privacy_settings() -> dict:
    """`personal_columns`, `pseudonymize` (with its key) and `retention_days` from their
    variables (`models.privacy` says what each value means); ValueError, one
    sentence, for a value that means nothing or pseudonyms without a key."""
    pseudonymize = pseudonymize_setting(os.environ.get("CHURN_PSEUDONYMIZE"))
    return {"personal_columns": personal_columns_setting(os.environ.get("CHURN_PERSONAL_COLUMNS")),
            "pseudonymize": pseudonymize,
            "pseudonym_key": pseudonym_key() if pseudonymize else None,
            "retention_days": retention_days_setting(os.environ.get("CHURN_RETENTION_DAYS")),
            "prefect_history_days": prefect_history_days_setting(
                os.environ.get(PREFECT_HISTORY_VARIABLE))}


PREFECT_HISTORY_VARIABLE = "CHURN_PREFECT_HISTORY_DAYS"
PREFECT_HISTORY_OFF = 0  # `off`: no bound of its own (CHURN_RETENTION_DAYS still applies)


def prefect_history_days_setting(value: str | None) -> int | None:
    """`CHURN_PREFECT_HISTORY_DAYS`: days of Prefect run history kept (≥ 1), `off`
    (`PREFECT_HISTORY_OFF`), or unset (None: `pipelines.operate.prefect_history` decides)."""
    if value is None or not value.strip():
        return None
    if value.strip().lower() in {"off", "keep", "never"}:
        return PREFECT_HISTORY_OFF
    try:
        days = int(value.strip())
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(f"{PREFECT_HISTORY_VARIABLE}: {value!r} is neither a whole number of "
                         "days (1 or more) nor `off`")
    return days


@dataclass(frozen=True)
class Settings:
    """Where the data, the MLflow store and the Prefect home live."""

    data_dir: Path
    mlflow_tracking_uri: str
    experiment_name: str = EXPERIMENT_NAME
    registered_model_name: str = REGISTERED_MODEL_NAME
    timezone: str = "UTC"
    currency: str = ""  # the amounts' currency (e.g. EUR, TRY) when the user states it
    # Where alerts are posted as JSON (`pipelines.operate.alerts`); None: alerts are only logged.
    alert_webhook: str | None = None
    # Which personal columns reach the risk list and report (`models.privacy`).
    personal_columns: tuple[str, ...] = DEFAULT_PERSONAL_COLUMNS
    # Customer ids in what leaves the data dir become keyed hashes (`models.privacy`),
    # under this key (from CHURN_PSEUDONYM_KEY; never shown, in a repr or anywhere else).
    pseudonymize: bool = False
    pseudonym_key: bytes | None = field(default=None, repr=False)
    # Archived runs and quarantine files older than this many days are pruned (None: kept).
    retention_days: int | None = None
    # Days of Prefect run history kept, as the user set it (`pipelines.operate.prefect_history`
    # says what unset means for the local and for a configured API).
    prefect_history_days: int | None = None

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None) -> Settings:
        """Settings from an explicit data dir, else `$CHURN_DATA_DIR`, else `./data`.

        `MLFLOW_TRACKING_URI` wins when set; otherwise the embedded default is a SQLite store
        inside the data dir (absolute, because MLflow resolves relative URIs against the cwd).
        Every flow and command starts here, so this is also where the process is made to
        create its files owner-only (`protect_new_files`), and where stores made before
        (the data dir, the Prefect home, a SQLite MLflow store) are closed to other users
        (`pipelines.store.permissions`).
        """
        protect_new_files()
        root = data_directory(data_dir)
        uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{root / 'mlflow' / 'mlflow.db'}"
        home = os.environ.get("PREFECT_HOME")
        owner_only(store_paths(root, Path(home).expanduser() if home else None,
                               Path(uri.removeprefix("sqlite:///"))
                               if uri.startswith("sqlite:///") else None))
        return cls(
            data_dir=root,
            mlflow_tracking_uri=uri,
            experiment_name=os.environ.get("CHURN_EXPERIMENT", EXPERIMENT_NAME),
            registered_model_name=os.environ.get("CHURN_MODEL_NAME", REGISTERED_MODEL_NAME),
            timezone=os.environ.get("CHURN_TIMEZONE", "UTC"),
            currency=os.environ.get("CHURN_CURRENCY", "").strip(),
            alert_webhook=os.environ.get("CHURN_ALERT_WEBHOOK") or None,
            **privacy_settings(),
        )

    @property
    def uses_embedded_mlflow(self) -> bool:
        return self.mlflow_tracking_uri.startswith("sqlite:///") and str(self.data_dir) in (
            self.mlflow_tracking_uri
        )

    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    @property
    def staged_dir(self) -> Path:
        return self.data_dir / "staged"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def features_dir(self) -> Path:
        return self.data_dir / "features"

    @property
    def model_input_dir(self) -> Path:
        return self.data_dir / "model_input"

    @property
    def scored_dir(self) -> Path:
        return self.data_dir / "scored"

    @property
    def analytics_dir(self) -> Path:
        return self.data_dir / "analytics"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def ground_truth_dir(self) -> Path:
        """Written by the sample generator only; the pipeline's flows never read it."""
        return self.data_dir / "ground_truth"

    @property
    def mlflow_artifact_dir(self) -> Path:
        return self.data_dir / "mlflow" / "artifacts"
