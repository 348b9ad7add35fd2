"""What can be wrong with the stores a command relies on, each said as one sentence.

`ModelStoreError`: a registered model that cannot serve (files missing, damaged or not ours,
no champion alias). `ServiceUnavailableError`: an MLflow or Prefect server that does not
answer. Both are known failures (`pipelines.operate.failures`), never retried as transient.
"""

from __future__ import annotations

import urllib.error
import urllib.request

# A server that answers at all answers within this; a closed port is refused at once.
PROBE_TIMEOUT_SECONDS = 3.0


class ModelStoreError(LookupError):
    """A registered model version that cannot be loaded or served, with what to run."""


class ServiceUnavailableError(RuntimeError):
    """An MLflow or Prefect server that does not answer; not an OSError, so tasks fail at
    once instead of retrying against a server that is not there."""


def answers(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
    """Whether an HTTP server answers at `url` (any status counts: it is there)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - http(s) only
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def require_mlflow_server(tracking_uri: str) -> None:
    """Refuse at once a remote MLflow tracking server that does not answer (MLflow itself
    would retry for minutes, then raise)."""
    if not tracking_uri.startswith(("http://", "https://")):
        return
    if not answers(tracking_uri.rstrip("/") + "/health"):
        raise ServiceUnavailableError(
            f"the MLflow server at {tracking_uri} (MLFLOW_TRACKING_URI) does not answer; "
            "start it, or unset MLFLOW_TRACKING_URI to use the data dir's own store")


def require_prefect_api(api_url: str) -> None:
    """Refuse at once a configured Prefect API that does not answer."""
    if not answers(api_url.rstrip("/") + "/health"):
        raise ServiceUnavailableError(
            f"the Prefect API at {api_url} (PREFECT_API_URL) does not answer; start it "
            "(`prefect server start`), or unset PREFECT_API_URL to use the data dir's own")
