"""Shared fixtures. The public datasets live in ../shared/data beside the repository (never copied into it)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# The property tests draw the same examples on every run of the test command, so a red run always replays and CI
# judges the code, not the draw; `HYPOTHESIS_PROFILE=explore pytest …` draws fresh examples to hunt for new cases.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the public CRM and company datasets; the test is skipped where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("public datasets (../shared/data) not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def pg_conn() -> Iterator[Any]:
    """A connection to a real PostgreSQL server: ``ICPKIT_PG_DSN``, or one started by ``scripts/postgres.sh``."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg not installed: pip install 'icpkit[postgres]'")
    dsn = os.environ.get("ICPKIT_PG_DSN")
    if not dsn:
        proc = subprocess.run([str(REPO / "scripts" / "postgres.sh")], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            pytest.skip(f"PostgreSQL could not start: {proc.stderr.strip()[-400:]}")
        dsn = proc.stdout.strip().splitlines()[-1]
    conn = psycopg.connect(dsn, autocommit=True)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local Spark session for the whole test session."""
    pytest.importorskip("pyspark", reason="pyspark not installed: pip install 'icpkit[spark]'")
    from icpkit.score.spark import get_session

    session = get_session("local[2]")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


_SERVICE_WORDS = ("postgresql", "pyspark", "chromium", "spark")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # type: ignore[no-untyped-def]
    """Under ``ICPKIT_REQUIRE_SERVICES=1`` (the test command, CI) a test skipped for a missing service fails.

    Locally a developer without PostgreSQL, Spark or Chromium still gets a green run with clear skips; the
    README's test command and CI install and start them, so there a skip would hide a broken setup.
    """
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or os.environ.get("ICPKIT_REQUIRE_SERVICES") != "1":
        return
    reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr).lower()
    if any(word in reason for word in _SERVICE_WORDS) and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"required service missing (ICPKIT_REQUIRE_SERVICES=1): {reason}"
