"""Fixtures of the segment tests: the engine runners of tests/engines, PostgreSQL and Spark sessions."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ENGINES_DIR = Path(__file__).resolve().parents[1] / "engines"
if str(ENGINES_DIR) not in sys.path:
    sys.path.insert(0, str(ENGINES_DIR))

from engine_support import REPO  # noqa: E402


@pytest.fixture(scope="session")
def pg_conn() -> Iterator[Any]:
    psycopg = pytest.importorskip("psycopg", reason="psycopg not installed: pip install 'icpkit[postgres]'")
    dsn = os.environ.get("ICPKIT_PG_DSN")
    if not dsn:
        proc = subprocess.run([str(REPO / "scripts" / "postgres.sh")], capture_output=True, text=True)
        if proc.returncode != 0:
            pytest.skip(f"PostgreSQL could not start: {proc.stderr.strip()[-400:]}")
        dsn = proc.stdout.strip().splitlines()[-1]
    conn = psycopg.connect(dsn, autocommit=True)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="pyspark not installed: pip install 'icpkit[spark]'")
    from icpkit.score.spark import get_session

    session = get_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
