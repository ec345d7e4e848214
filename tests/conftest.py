"""Shared fixtures. The public datasets live in ../shared/data beside the repository (never copied into it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the public CRM and company datasets; the test is skipped where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("public datasets (../shared/data) not present")
    return SHARED_DATA


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
