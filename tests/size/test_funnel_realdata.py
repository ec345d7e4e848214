"""Sizing the real universes; every count is checked against a DuckDB query written straight on the raw file."""

from __future__ import annotations

import duckdb
import pytest

from icpkit.ingest import load_table
from icpkit.size.funnel import size_universe
from icpkit.size.sam import parse_sam
from icpkit.spec import load_spec

pytestmark = pytest.mark.realdata

PDL_SPEC = """\
name: enterprise-it
layers:
  firmographic:
    - {field: industry, in: [computer software, information technology and services], points: 40}
    - {field: employees, between: [1000, 10000], points: 30}
    - {field: country, in: [united states], points: 30}
tiers: {tier1: 100, tier2: 70, tier3: 40}
sam:
  - {field: country, in: [United States, Canada]}
"""

PDL_SQL = """
WITH r AS (
  SELECT lower(trim(country)) AS c, lower(trim(industry)) AS ind, "current employee estimate" AS emp
  FROM read_csv(?)
), s AS (
  SELECT CASE WHEN ind IN ('computer software', 'information technology and services') THEN 40 ELSE 0 END
       + CASE WHEN emp BETWEEN 1000 AND 10000 THEN 30 ELSE 0 END
       + CASE WHEN c = 'united states' THEN 30 ELSE 0 END AS score
  FROM r WHERE c IN ('united states', 'canada')
)
SELECT (SELECT count(*) FROM r), count(*), count(*) FILTER (score >= 100),
       count(*) FILTER (score >= 70 AND score < 100), count(*) FILTER (score >= 40 AND score < 70),
       count(*) FILTER (score < 40)
FROM s
"""


def _counts(report):
    return tuple(report.step(k).count for k in ("tam", "sam", "tier1", "tier2", "tier3", "none"))


def test_pdl_funnel_matches_sql_on_the_raw_file(pdl_universe, pdl_path):
    expected = duckdb.sql(PDL_SQL, params=[str(pdl_path)]).fetchall()[0]
    sizing = size_universe(load_spec(PDL_SPEC), pdl_universe, dedupe=False)
    r = sizing.report
    assert _counts(r) == expected
    assert expected[:2] == (21000, 8895)
    assert r.step("sam").share == pytest.approx(8895 / 21000)
    assert r.step("fit").count == sum(expected[2:5])
    assert r.sam[0].kept == 8895 and r.sam[0].kept + r.sam[0].dropped + r.sam[0].unknown == 21000
    assert r.health.status == "healthy" and r.health.targets == r.step("new").count
    t = sizing.targets
    assert t.num_rows == r.step("new").count
    tiers = t.column("tier").to_pylist()
    assert tiers == sorted(tiers)  # tier1, tier2, tier3 in order
    scores = t.column("score").to_pylist()
    for tier in ("tier1", "tier2", "tier3"):
        block = [s for s, x in zip(scores, tiers, strict=True) if x == tier]
        assert block == sorted(block, reverse=True)
    top = t.slice(0, 1).to_pylist()[0]
    assert top["reasons"] == (
        "computer software or information technology and services companies (+40); "
        "with 1,000 to 10,000 employees (+30); in united states (+30)"
    )


def test_pdl_duplicates_are_merged_once(pdl_universe):
    plain = size_universe(load_spec(PDL_SPEC), pdl_universe, dedupe=False).report
    merged = size_universe(load_spec(PDL_SPEC), pdl_universe).report
    assert merged.step("tam").count + merged.duplicates_merged == 21000
    # only rows without a domain can merge here (PDL's domains are unique where present)
    no_domain = int(pdl_universe.column("domain").null_count)
    assert 0 < merged.duplicates_merged <= no_domain
    assert merged.step("sam").count <= plain.step("sam").count


def test_pdl_too_many_targets_says_which_way_to_move(pdl_universe):
    spec = load_spec(PDL_SPEC.replace("tier3: 40", "tier3: 30").split("sam:")[0])
    h = size_universe(spec, pdl_universe, dedupe=False).report.health
    assert h.status == "too_many" and h.targets > 5000
    assert h.suggestions[0].startswith("raise tiers.tier3 from 30 to ")
    assert any("--sam 'country in united states'" in s for s in h.suggestions)


def test_pdl_too_few_targets_says_which_way_to_move(pdl_universe):
    spec = load_spec(PDL_SPEC.replace("tier3: 40", "tier3: 100").replace("tier2: 70", "tier2: 100"))
    r = size_universe(spec, pdl_universe, sam=[parse_sam("region in texas")], dedupe=False).report
    assert r.health.status == "too_few"
    assert (
        r.health.suggestions[0].startswith("lower tiers.tier3 from 100 to ")
        or "positive score" in (r.health.suggestions[0])
    )
    assert any(s.startswith("widen the SAM") for s in r.health.suggestions)


FD_SPEC = """\
name: listed-tech
layers:
  firmographic:
    - {field: sector, in: [Information Technology], points: 60}
    - {field: industry_group, in: [Software & Services], points: 20}
    - {field: country, in: [United States, Canada, United Kingdom], points: 20}
tiers: {tier1: 100, tier2: 80, tier3: 60}
exclusions:
  - {field: delisted, is_true: true, reason: no longer listed}
"""

FD_SQL = """
WITH r AS (SELECT * FROM read_csv(?)), s AS (
  SELECT delisted,
         CASE WHEN sector = 'Information Technology' THEN 60 ELSE 0 END
       + CASE WHEN industry_group = 'Software & Services' THEN 20 ELSE 0 END
       + CASE WHEN country IN ('United States', 'Canada', 'United Kingdom') THEN 20 ELSE 0 END AS score
  FROM r WHERE market_cap IN ('Small Cap', 'Mid Cap', 'Large Cap', 'Mega Cap')
)
SELECT (SELECT count(*) FROM r), count(*),
       count(*) FILTER (NOT delisted AND score >= 100), count(*) FILTER (NOT delisted AND score >= 80 AND score < 100),
       count(*) FILTER (NOT delisted AND score >= 60 AND score < 80), count(*) FILTER (NOT delisted AND score < 60),
       count(*) FILTER (delisted)
FROM s
"""


@pytest.mark.slow
def test_financedatabase_funnel_matches_sql_on_the_raw_file(fd_path):
    universe = load_table(fd_path, "universe").table
    expected = duckdb.sql(FD_SQL, params=[str(fd_path)]).fetchall()[0]
    sam = [parse_sam("market_cap in Small Cap,Mid Cap,Large Cap,Mega Cap")]
    r = size_universe(load_spec(FD_SPEC), universe, sam=sam, dedupe=False).report
    assert (*_counts(r), r.step("excluded").count) == expected
    assert r.seconds < 30
    merged = size_universe(load_spec(FD_SPEC), universe, sam=sam).report
    # the same company listed on several exchanges counts once (SOURCE.md: 21,915 repeated (name, country) rows)
    assert merged.duplicates_merged > 15_000
    assert merged.step("tam").count + merged.duplicates_merged == 69_152
