"""A planted history built, validated and sized once for the report tests."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from icpkit.discover import BuildResult, ICPBuilder
from icpkit.ingest.schema import Dataset
from icpkit.size import Sizing, size_universe
from icpkit.synth import generate
from icpkit.validate import ValidationReport, validate

EVIL = '<script>alert("x")</script> & Co'


@dataclass
class Built:
    dataset: Dataset
    build: BuildResult
    validation: ValidationReport
    sizing: Sizing


def _built(industry_rename: str | None = None, seed: int = 31) -> Built:
    h = generate(5000, seed=seed)
    accounts = h.accounts
    if industry_rename is not None:  # a hostile value that discovery will pick as a criterion
        ind = accounts.column("industry")
        renamed = pc.if_else(pc.equal(ind, "Software"), pa.scalar(industry_rename), ind)
        accounts = accounts.set_column(accounts.schema.get_field_index("industry"), "industry", renamed)
    ds = Dataset(accounts=accounts, deals=h.deals, kinds=h.kinds)
    build = ICPBuilder(name="acme-icp").fit(ds)
    validation = validate(ds, full_build=build)
    sizing = size_universe(build.spec, accounts, accounts=accounts, deals=h.deals)
    return Built(ds, build, validation, sizing)


@pytest.fixture(scope="session")
def built() -> Built:
    return _built()


@pytest.fixture(scope="session")
def evil() -> str:
    return EVIL


@pytest.fixture(scope="session")
def hostile() -> Built:
    return _built(EVIL)
