"""Shared fixtures. The public datasets live in ../shared/data beside the repository (never copied into it)."""

from __future__ import annotations

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
