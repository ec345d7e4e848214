"""Universes read once per session through the committed mappings."""

from __future__ import annotations

from pathlib import Path

import pytest

from icpkit.ingest import load_table

MAPPINGS = Path(__file__).resolve().parent.parent / "ingest" / "mappings"


@pytest.fixture(scope="session")
def pdl_path(shared_data):
    return shared_data / "company_universe_pdl_enterprise" / "companies_sorted_top21000.csv"


@pytest.fixture(scope="session")
def pdl_universe(pdl_path):
    return load_table(pdl_path, "universe", mapping=str(MAPPINGS / "pdl_universe.yaml")).table


@pytest.fixture(scope="session")
def fd_path(shared_data):
    return shared_data / "company_universe_financedatabase" / "equities_80_exchanges.csv.gz"
