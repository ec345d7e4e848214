"""Fixtures of the API tests: a spec file, a service built on it, and a client that calls it in-process."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import SPEC_YAML, TOKEN  # tests/api/api_support.py

from icpkit.api import JsonLog, Tokens, create_app

with warnings.catch_warnings():  # starlette asks for httpx2 when it finds httpx; the client works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def spec_path(tmp_path: Path) -> Path:
    p = tmp_path / "icp.yaml"
    p.write_text(SPEC_YAML)
    return p


@pytest.fixture
def log_stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def make_client(spec_path: Path, log_stream: io.StringIO) -> Iterator[Callable[..., TestClient]]:
    """A factory: ``make_client(**create_app_options)`` -> a started TestClient (closed after the test)."""
    opened: list[TestClient] = []

    def make(**options: Any) -> TestClient:
        options.setdefault("tokens", Tokens(env=TOKEN))
        options.setdefault("log", JsonLog(log_stream))
        options.setdefault("poll_seconds", 0)
        client = TestClient(create_app(options.pop("spec", spec_path), **options), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for c in opened:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()
