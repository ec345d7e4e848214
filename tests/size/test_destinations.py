"""Upload formats: exact headers, formula-safe cells, atomic files; the checklist's band rounding."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from icpkit.csvsafe import neutralise, write_csv
from icpkit.errors import InputError
from icpkit.size.checklist import (
    APOLLO_EMPLOYEE_BANDS,
    SALES_NAV_HEADCOUNT,
    build_checklist,
    round_bands,
)
from icpkit.size.destinations import ABM_COLUMNS, LINKEDIN_COLUMNS, destination_notes, render
from icpkit.spec import load_spec

TARGETS = pa.table(
    {
        "rank": [1, 2],
        "tier": ["tier1", "tier3"],
        "score": [100, 45],
        "name": ['=HYPERLINK("http://x","a")', "Acme"],
        "domain": ["evil.com", "acme.com"],
        "country": ["united states", "-canada"],
        "region": ["california", None],
        "city": ["@home", "toronto"],
        "industry": ["+software", "software"],
        "linkedin_url": ["linkedin.com/company/evil", None],
        "ticker": ["EVL", None],
        "zipcode": ["94000", None],
    }
)


def test_linkedin_headers_and_values():
    t = render(TARGETS, "linkedin")
    assert tuple(t.column_names) == LINKEDIN_COLUMNS == (
        "companyname", "companywebsite", "companyemaildomain", "linkedincompanypageurl", "stocksymbol",
        "industry", "city", "state", "companycountry", "zipcode",
    )  # fmt: skip
    row = t.slice(0, 1).to_pylist()[0]
    assert row["linkedincompanypageurl"] == "https://www.linkedin.com/company/evil"
    assert (row["companywebsite"], row["companyemaildomain"], row["stocksymbol"]) == ("evil.com", "evil.com", "EVL")
    assert row["state"] == "california" and row["zipcode"] == "94000"
    assert destination_notes("linkedin", t)[0].startswith("2 companies: LinkedIn needs at least 300")


def test_abm_headers_and_values():
    t = render(TARGETS, "abm")
    assert tuple(t.column_names) == ABM_COLUMNS == ("Domain", "Account Name", "Country", "ICP Tier", "ICP Score")
    assert t.column("ICP Tier").to_pylist() == ["Tier 1", "Tier 3"] and t.column("ICP Score").to_pylist() == [100, 45]


def test_google_ads_is_refused_with_the_reason():
    with pytest.raises(InputError, match="Customer Match uploads people"):
        render(TARGETS, "google-ads")


def test_csv_cells_are_formula_safe(tmp_path):
    out = write_csv(render(TARGETS, "linkedin"), tmp_path / "li.csv")
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(f'"{c}"' for c in LINKEDIN_COLUMNS)
    assert lines[1].startswith('"\'=HYPERLINK(""http://x"",""a"")"')
    assert '"\'@home"' in lines[1] and '"\'+software"' in lines[1]
    assert '"\'-canada"' in lines[2]
    assert [p.name for p in tmp_path.iterdir()] == ["li.csv"]  # no temporary file left behind


def test_neutralise_leaves_numbers_and_is_idempotent():
    t = pa.table({"n": [-5, 3], "s": ["-5", "'=x"], "l": [["=a", "b"], None]})
    once = neutralise(t)
    assert once.column("n").to_pylist() == [-5, 3]
    assert once.column("s").to_pylist() == ["'-5", "'=x"]
    assert neutralise(once).column("s").to_pylist() == ["'-5", "'=x"]


@pytest.mark.parametrize(
    ("lo", "hi", "bands", "notes"),
    [
        (50, 500, ["51-200", "201-500"], ["rounding leaves out exactly 50 (they sit in the 11-50 band)"]),
        (1000, 10000, ["1,001-5,000", "5,001-10,000"],
         ["rounding leaves out exactly 1,000 (they sit in the 501-1,000 band)"]),
        (100, 700, ["51-200", "201-500"],
         ["rounding adds 51–99, which the spec leaves out", "rounding leaves out 501–700"]),
        (5001, None, ["5,001-10,000", "10,001+"], []),
        (None, 50, ["1-10", "11-50"], []),
    ],
)  # fmt: skip
def test_sales_navigator_band_rounding(lo, hi, bands, notes):
    assert round_bands(lo, hi, SALES_NAV_HEADCOUNT) == (bands, notes)


def test_apollo_bands_are_finer():
    assert round_bands(50, 500, APOLLO_EMPLOYEE_BANDS)[0] == ["51-100", "101-200", "201-500"]


CHECK_SPEC = load_spec("""\
name: mid-market-saas
layers:
  firmographic:
    - {field: industry, in: [computer software], points: 40}
    - {field: employees, between: [50, 500], points: 30}
  technographic:
    - {field: tech_stack, contains_any: [Salesforce, HubSpot], points: 20}
  behavioral:
    - {field: trial_active_days, gte: 5, points: 10}
exclusions:
  - {field: country, in: [russia], reason: sanctions}
sam:
  - {field: country, in: [usa, canada]}
""")


def test_checklist_says_what_each_tool_can_and_cannot_express():
    c = build_checklist(CHECK_SPEC)
    nav, apollo, zoominfo = c.providers
    assert nav.name == "LinkedIn Sales Navigator"
    by_field = {i.field: i for i in nav.items if i.source == "criterion"}
    assert by_field["industry"].values == ["Software Development"]
    assert by_field["employees"].values == ["51-200", "201-500"]
    assert not by_field["tech_stack"].expressible and "technographics" in by_field["tech_stack"].notes[0]
    sam = nav.items[0]
    assert sam.source == "sam" and sam.values == ["United States", "Canada"]
    excl = nav.items[-1]
    assert excl.exclude and excl.values == ["Russia"]
    assert {i.field for i in apollo.cannot} == {"trial_active_days"}  # behavioural: nowhere
    assert {i.field for i in zoominfo.cannot} == {"trial_active_days"}
    md = c.to_markdown()
    assert "- [ ] **Company headcount** (+30, with 50 to 500 employees): include 51-200, 201-500" in md
    assert "rounding leaves out exactly 50" in md
    assert json.loads(c.model_dump_json())["providers"][1]["provider"] == "apollo"
