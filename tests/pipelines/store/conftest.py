"""An S3-compatible server on loopback (moto's server mode) for the remote data dir tests."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_endpoint():
    """One moto server for the session, on a free loopback port."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    name: str
    url: str  # the data dir: s3://<bucket>/prefix
    fs: Any  # an s3fs filesystem on the server, for the test's own uploads and checks


@pytest.fixture
def bucket(s3_endpoint, monkeypatch, tmp_path) -> Bucket:
    """A fresh bucket, the environment pointing at the server, this machine's cache in
    `tmp_path/cache-a` (a test switches CHURN_CACHE_DIR to act as another machine)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "CHURN_S3_OPTIONS",
                 "MLFLOW_TRACKING_URI", "CHURN_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CHURN_CACHE_DIR", str(tmp_path / "cache-a"))
    from pipelines.store.remote.location import open_filesystem

    fs = open_filesystem()
    name = f"churn-{uuid.uuid4().hex[:10]}"
    fs.mkdir(name)
    return Bucket(name=name, url=f"s3://{name}/prefix", fs=fs)
