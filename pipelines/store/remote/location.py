"""Where a remote data dir lives (bucket, prefix), where its working copy lives (the cache),
how to reach it (credentials from the standard places), and its failures as one sentence.

Nothing here imports s3fs or botocore at import time: `churn --help` stays instant and a
local data dir never loads them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEME = "s3"
CACHE_VARIABLE = "CHURN_CACHE_DIR"
OPTIONS_VARIABLE = "CHURN_S3_OPTIONS"
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
# Seconds to wait for the endpoint, and attempts per request: a network that is down ends
# the command in seconds, not after botocore's minutes of retries.
CONNECT_TIMEOUT_SECONDS = 10
MAX_ATTEMPTS = 3


class RemoteStoreError(RuntimeError):
    """A remote data dir that cannot be used; the message is the one sentence to print."""


def is_remote(data_dir: str | Path | None) -> bool:
    """Whether `data_dir` is a URL (`scheme://...`) rather than a local folder."""
    return data_dir is not None and _URL.match(str(data_dir)) is not None


@dataclass(frozen=True)
class RemoteDataDir:
    """`s3://bucket/prefix`, parsed; `key` names an object under the prefix."""

    url: str
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> RemoteDataDir:
        match = _URL.match(url)
        if match is None:
            raise RemoteStoreError(f"{url!r} is no URL")
        if match["scheme"].lower() != SCHEME:
            raise RemoteStoreError(
                f"the data dir {url} uses {match['scheme']}://, and only s3:// (AWS S3 or an "
                "S3-compatible server) is supported; give a local folder or an s3:// URL")
        bucket, _, prefix = match["rest"].strip("/").partition("/")
        prefix = prefix.strip("/")
        parts = prefix.split("/") if prefix else []
        if not bucket or any(part in ("", ".", "..") for part in parts):
            raise RemoteStoreError(f"the data dir {url} names no bucket and folder; write it "
                                   "as s3://bucket or s3://bucket/some/prefix")
        return cls(url=f"s3://{bucket}" + (f"/{prefix}" if prefix else ""), bucket=bucket,
                   prefix=prefix)

    def key(self, relative: str) -> str:
        """`bucket/prefix/relative`, as s3fs names an object."""
        return "/".join(part for part in (self.bucket, self.prefix, relative) if part)


def cache_root() -> Path:
    """`$CHURN_CACHE_DIR`, else `$XDG_CACHE_HOME/churn`, else `~/.cache/churn`."""
    configured = os.environ.get(CACHE_VARIABLE)
    if configured:
        return Path(configured).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return (Path(base).expanduser() / "churn").resolve()


def sync_root(remote: RemoteDataDir) -> Path:
    """The folder that holds the working copy (`data/`), its sync record and its lock; one
    per bucket and prefix, so two data dirs never share a copy."""
    return cache_root() / SCHEME / remote.bucket / (remote.prefix or "_bucket")


def storage_options() -> dict[str, Any]:
    """Extra s3fs options from `CHURN_S3_OPTIONS` (a JSON object: endpoint_url, key, secret,
    client_kwargs, ...); credentials and the endpoint otherwise come from where botocore and
    fsspec look (AWS_* variables, ~/.aws, AWS_ENDPOINT_URL, fsspec's config). The value is
    never shown: it may hold a secret."""
    text = os.environ.get(OPTIONS_VARIABLE, "").strip()
    if not text:
        return {}
    try:
        options = json.loads(text)
    except ValueError:
        options = None
    if not isinstance(options, dict):
        raise RemoteStoreError(f"{OPTIONS_VARIABLE} must be a JSON object of s3fs options "
                               '(e.g. {"endpoint_url": "http://127.0.0.1:9000"}); its value '
                               "is not shown, as it may hold a secret")
    return options


def open_filesystem() -> Any:
    """A fresh s3fs filesystem (no cached instance or listing: every pull sees the bucket as
    it is now)."""
    import fsspec

    options = storage_options()
    config = {"connect_timeout": CONNECT_TIMEOUT_SECONDS,
              "retries": {"max_attempts": MAX_ATTEMPTS, "mode": "standard"}}
    options["config_kwargs"] = config | dict(options.get("config_kwargs") or {})
    return fsspec.filesystem(SCHEME, skip_instance_cache=True, use_listings_cache=False,
                             **options)


def endpoint() -> str:
    """The endpoint requests go to, as far as the settings say (no secret in it)."""
    configured = storage_options().get("endpoint_url") or os.environ.get("AWS_ENDPOINT_URL_S3")
    return str(configured or os.environ.get("AWS_ENDPOINT_URL") or "AWS S3")


@contextmanager
def remote_errors(remote: RemoteDataDir, doing: str) -> Iterator[None]:
    """Turn what s3fs and botocore raise into a RemoteStoreError with one sentence."""
    try:
        yield
    except RemoteStoreError:
        raise
    except OSError as error:
        if error.filename and str(error.filename).startswith(os.sep):
            raise  # the working copy's disk, not the bucket: `operate.failures` says it
        raise RemoteStoreError(problem_sentence(remote, doing, error)) from None
    except Exception as error:
        raise RemoteStoreError(problem_sentence(remote, doing, error)) from None


def problem_sentence(remote: RemoteDataDir, doing: str, error: BaseException) -> str:
    """What went wrong `doing` something with `remote`, and what to do, in one sentence."""
    name = type(error).__name__
    text = " ".join(str(error).split())
    lowered = text.lower()
    if "bucket does not exist" in lowered or "nosuchbucket" in lowered:
        return (f"the bucket {remote.bucket} does not exist (or these credentials cannot see "
                f"it) at {endpoint()}; create it (e.g. `aws s3 mb s3://{remote.bucket}`) or "
                "check --data-dir (or $CHURN_DATA_DIR)")
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return (f"no AWS credentials for {remote.url}; set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or put them in "
                f"{OPTIONS_VARIABLE}")
    if isinstance(error, PermissionError) or any(
            word in lowered for word in ("accessdenied", "access denied", "invalidaccesskeyid",
                                         "signaturedoesnotmatch", "forbidden")):
        return (f"{endpoint()} refused access to {remote.url} while {doing}; check the "
                "credentials (AWS_ACCESS_KEY_ID, AWS_PROFILE) and the bucket's policy")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError",
                "ReadTimeoutError", "ClientConnectorError", "ServerTimeoutError") \
            or isinstance(error, ConnectionError | TimeoutError):
        return (f"cannot reach the object store at {endpoint()} while {doing} {remote.url}; "
                "check the network, and AWS_ENDPOINT_URL for an S3-compatible server")
    detail = text[:200] or name
    return f"{doing} {remote.url} failed ({name}: {detail}); run the command again"
