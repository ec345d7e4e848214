"""Attribute families: a date exported with its month, quarter and year columns is one attribute, so discovery
keeps one criterion (or exclusion) for it and names the columns folded into it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from icpkit.discover import BuildResult, ICPBuilder
from icpkit.discover.families import find_families, stem
from icpkit.discover.profile import profile_fields
from icpkit.ingest import load_dataset
from icpkit.ingest.schema import ColumnKind, Dataset
from icpkit.score.engines import get_engine
from icpkit.synth import generate, write_csv

FAMILY = ("last_funding_date", "last_funding_month", "last_funding_quarter", "last_funding_year")


def _with_periods(accounts: pa.Table) -> pa.Table:
    """The funding date exported three more ways, as CRM reports do: 2024-03, 2024-Q1, 2024."""
    d = accounts["last_funding_date"]
    month = pc.strftime(d, format="%Y-%m")
    quarter_no = pc.add(pc.divide(pc.subtract(pc.month(d), 1), 3), 1)
    quarter = pc.binary_join_element_wise(pc.strftime(d, format="%Y"), pc.cast(quarter_no, pa.string()), "-Q")
    year = pc.cast(pc.year(d), pa.float64())
    for name, col in (("last_funding_month", month), ("last_funding_quarter", quarter), ("last_funding_year", year)):
        accounts = accounts.append_column(name, col)
    return accounts


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    h = generate(6000, seed=1)
    h = dataclasses.replace(h, accounts=_with_periods(h.accounts))
    return write_csv(h, tmp_path_factory.mktemp("families"))


def test_period_columns_read_as_dates_and_year_as_number(exported: dict[str, Path]) -> None:
    kinds = load_dataset(exported["accounts"], exported["deals"]).dataset.kinds["accounts"]
    assert [kinds[c] for c in FAMILY] == [ColumnKind.DATE, ColumnKind.DATE, ColumnKind.DATE, ColumnKind.NUMERIC]


@pytest.fixture(scope="module")
def built(exported: dict[str, Path]) -> tuple[Dataset, BuildResult]:
    ds = load_dataset(exported["accounts"], exported["deals"]).dataset
    return ds, ICPBuilder(name="t").fit(ds)


def test_one_criterion_for_a_date_and_its_month_quarter_and_year(built: tuple[Dataset, BuildResult]) -> None:
    _, result = built
    spec = result.spec
    used = [c.field for _, c in spec.criteria()] + [e.field for e in spec.exclusions]
    assert len([f for f in used if f in FAMILY]) == 1, used
    crit = next(c for _, c in spec.criteria() if c.field in FAMILY)
    assert crit.evidence is not None and crit.evidence.folded, crit
    assert set(crit.evidence.folded) <= set(FAMILY) - {crit.field}
    rows = result.candidates.to_pylist()
    folded = {r["field"] for r in rows if r["status"] == "folded"}
    assert folded == set(crit.evidence.folded)
    assert all(f"same attribute as {crit.field}" in r["note"] for r in rows if r["status"] == "folded")
    note = next(n for n in result.notes if "hold one attribute" in n)
    assert all(name in note for name in FAMILY) and f"kept: {crit.field}" in note
    assert not any(c.field == "last_funding_year" and c.value[1] == 1005 for _, c in spec.criteria())


def test_the_kept_period_column_scores_as_the_build_read_it(built: tuple[Dataset, BuildResult]) -> None:
    # months read as their first day at ingest: every engine scores the typed table as the build counted it
    ds, result = built
    assert any(c.field == "last_funding_month" for _, c in result.spec.criteria())
    table = ds.accounts
    for col in result.behavior.column_names:
        table = table.append_column(col, result.behavior[col])
    for engine in ("python", "duckdb"):
        out = get_engine(engine).score_table(result.spec, table, as_of=result.cohorts.as_of, explain=False)
        assert np.array_equal(np.asarray(out["score"].to_numpy(), dtype=np.int64), result.scores), engine


def test_names_alone_do_not_make_a_family() -> None:
    as_of = dt.date(2025, 1, 1)
    rng = np.random.default_rng(0)
    days = rng.integers(0, 3000, 500)
    dates = pa.array([as_of - dt.timedelta(days=int(x)) for x in days])
    years = np.array([d.year for d in dates.to_pylist()], dtype=float)
    table = pa.table(
        {
            "founded_date": dates,
            "founded_year": years,  # the same attribute: it agrees with the date
            "founded_month": pa.array(rng.permutation(dates.to_pylist())),  # same name, other values: not folded
        }
    )
    _, encoded = profile_fields(table, None, as_of=as_of)
    (family,) = find_families(encoded, as_of)
    assert family.name == "founded" and set(family.members) == {"founded_date", "founded_year"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("founded_month", "founded"), ("FoundedYear", "founded"), ("close date qtr", "close"), ("year", None)],
)
def test_stems(name: str, expected: str | None) -> None:
    assert stem(name) == expected


def test_one_exclusion_for_a_date_and_its_year() -> None:
    from icpkit.cohorts import COHORTS, CohortResult
    from icpkit.discover import Discoverer

    as_of = dt.date(2025, 6, 30)
    n = 4000
    days = (np.arange(n) * 7919) % 2190  # signups spread over six years
    dates = [as_of - dt.timedelta(days=int(d)) for d in days]
    recent = days <= 365
    # cohorts: 0 high-value retained, 1 low-value retained, 2 churned, 3 never closed
    code = np.where(np.arange(n) % 10 < 2, 0, np.where(np.arange(n) % 10 < 6, 1, np.where(np.arange(n) % 10 < 7, 2, 3)))
    code = np.where(recent & (code == 1), 2, code)  # customers who signed up in the last year churn
    accounts = pa.table(
        {
            "account_id": [f"a{i}" for i in range(n)],
            "signup_date": dates,
            "signup_year": [float(d.year) for d in dates],
            "region": np.where(np.arange(n) % 2 == 0, "North", "South"),
        }
    )
    codes = code.astype(np.int8)
    labels = pa.table({"account_id": accounts["account_id"], "cohort": [COHORTS[c] for c in codes]})
    sizes = {name: int((codes == i).sum()) for i, name in enumerate(COHORTS)}
    d = Discoverer(behavioral=False).fit(accounts, CohortResult(labels, codes, as_of, dt.date(2023, 6, 30), sizes))
    fields = [e.field for e in d.exclusions_]
    assert len([f for f in fields if f.startswith("signup")]) == 1, d.exclusions_
    (excl,) = [e for e in d.exclusions_ if e.field.startswith("signup")]
    other = ({"signup_date", "signup_year"} - {excl.field}).pop()
    assert excl.evidence is not None and excl.evidence.folded == [other]
    assert f"folded in: {other}" in excl.reason
    rows = [r for r in d.candidates_table().to_pylist() if r["test"] == "exclusion" and r["field"] == other]
    assert rows and any(r["status"] == "folded" and f"same attribute as {excl.field}" in r["note"] for r in rows)
