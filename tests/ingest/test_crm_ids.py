# ruff: noqa: E501  (export headers are kept verbatim on one line)
"""Real exports read right: the preset, the CRM's own record ids, each date column, Pipedrive's entity headers."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from icpkit.cli import main
from icpkit.ingest import PRESETS, TableKind, detect_preset, load_dataset, load_table, resolve_columns
from icpkit.synth import generate, write_csv


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


# --- the dates each preset maps (UI labels and API names) -------------------------------------------------------

DATES = [
    ("hubspot", "Create Date,Close Date", {"Create Date": "created_date", "Close Date": "closed_date"}),
    ("hubspot", "createdate,closedate", {"createdate": "created_date", "closedate": "closed_date"}),
    (
        "hubspot",
        "property_createdate,property_closedate",
        {"property_createdate": "created_date", "property_closedate": "closed_date"},
    ),
    ("salesforce", "Created Date,Close Date", {"Created Date": "created_date", "Close Date": "closed_date"}),
    ("salesforce", "CreatedDate,CloseDate", {"CreatedDate": "created_date", "CloseDate": "closed_date"}),
    (
        "pipedrive",
        "Deal - Deal created,Deal - Deal closed on,Deal - Won time,Deal - Lost time",
        {
            "Deal - Deal created": "created_date",
            "Deal - Deal closed on": "closed_date",
            "Deal - Won time": "won_time",
            "Deal - Lost time": "lost_time",
        },
    ),
    (
        "pipedrive",
        "Deal - Add time,Deal - Closed on",
        {"Deal - Add time": "created_date", "Deal - Closed on": "closed_date"},
    ),
    (
        "pipedrive",
        "add_time,close_time,won_time,lost_time",
        {"add_time": "created_date", "close_time": "closed_date", "won_time": "won_time", "lost_time": "lost_time"},
    ),
]


@pytest.mark.parametrize(("preset", "headers", "expected"), DATES)
def test_each_preset_maps_each_deal_date_to_its_own_column(preset, headers, expected):
    res = resolve_columns(headers.split(","), TableKind.DEALS, PRESETS[preset])
    assert {h: res.mapping[h] for h in expected} == expected


def test_hubspot_create_and_close_dates_land_in_their_columns(tmp_path):
    acc = write(tmp_path / "c.csv", "Record ID,Company name\n1,A\n")
    deals = write(
        tmp_path / "d.csv",
        "Record ID,Associated Company IDs,Deal Stage,Create Date,Close Date\n11,1,closedwon,2024-01-05,2024-03-20\n",
    )
    d = load_dataset(acc, deals).dataset.deals
    assert (str(d["created_date"][0]), str(d["closed_date"][0])) == ("2024-01-05", "2024-03-20")


# --- detection and the CRM's own record id ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def hubspot_companies(tmp_path_factory):
    """A HubSpot companies file on its own, with custom columns generic names know (arr, tech_stack…)."""
    return write_csv(generate(300, seed=3), tmp_path_factory.mktemp("hs"), style="hubspot")["companies"]


def test_a_hubspot_companies_file_alone_is_hubspot_and_keeps_its_record_ids(hubspot_companies):
    with hubspot_companies.open() as f:
        headers = next(csv.reader(f))
    choice = detect_preset({TableKind.ACCOUNTS: headers})
    assert choice.name == "hubspot", choice.reason
    assert choice.scores["hubspot"] > choice.scores["generic"]
    table = load_table(hubspot_companies, "accounts").table
    assert table["account_id"][:3].to_pylist() == ["A0000001", "A0000002", "A0000003"]


def test_a_signature_header_picks_the_crm_and_plain_spreadsheets_stay_generic():
    # "Deal Stage" is mapped by generic and HubSpot alike; HubSpot also knows it as its own header
    choice = detect_preset({TableKind.DEALS: ["Deal Stage", "amount"]})
    assert choice.name == "hubspot"
    assert detect_preset({TableKind.ACCOUNTS: ["industry", "employees", "name"]}).name == "generic"


@pytest.mark.parametrize(
    ("header", "preset"),
    [
        ("Record ID", "generic"),
        ("hs_object_id", "generic"),
        ("Organization - ID", "generic"),
        ("Account ID", "generic"),
    ],
)
def test_a_crm_record_id_is_the_account_id_even_under_the_generic_preset(tmp_path, header, preset):
    path = write(tmp_path / "a.csv", f"Company name,{header},Industry\nAcme,900001,Software\nGlobex,900002,Retail\n")
    table = load_table(path, "accounts", preset=preset).table
    assert table["account_id"].to_pylist() == ["900001", "900002"]


def test_score_format_hubspot_writes_record_ids_not_names(hubspot_companies, tmp_path, capsys):
    spec = Path(__file__).resolve().parents[1] / "acme-icp.yaml"
    out = tmp_path / "import.csv"
    code = main(
        ["score", str(hubspot_companies), "--spec", str(spec), "--out", str(out), "--format", "hubspot", "--json"]
    )
    assert code == 0, capsys.readouterr()
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 300
    assert sorted(r["Record ID"] for r in rows)[:2] == ["A0000001", "A0000002"]


# --- Pipedrive ---------------------------------------------------------------------------------------------------

PD_ORGS = """
Organization - ID,Organization - Name,Organization - Industry,Organization - Employees,Organization - Annual revenue,Organization - MRR,Organization - Technologies,Organization - Business model,Organization - Label,Organization - Won deals
7,Acme s.r.o.,Software,120,"1,000,000",500,HubSpot;Slack,B2B,Customer,2
8,Globex a.s.,Retail,40,200000,,,B2C,Cold lead,0
"""
PD_DEALS = """
Deal - ID,Deal - Title,Deal - Organization ID,Deal - Status,Deal - Stage,Deal - Value,Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Sales motion
10,A1,7,Won,Negotiations Started,1000,2024-01-01 10:00:00,2024-02-01 10:00:00,,sales-led
11,G1,8,Lost,Proposal Made,500,2024-01-02 10:00:00,,2024-02-15 10:00:00,self-serve
"""


def test_pipedrive_organization_fields_are_firmographics_and_mrr_is_arr(tmp_path):
    result = load_dataset(write(tmp_path / "o.csv", PD_ORGS), write(tmp_path / "d.csv", PD_DEALS))
    assert result.report.preset.name == "pipedrive"
    a = result.dataset.accounts.to_pylist()
    assert a[0] | {"tech_stack": sorted(a[0]["tech_stack"])} == {
        "account_id": "7",
        "name": "Acme s.r.o.",
        "industry": "Software",
        "employees": 120.0,
        "annual_revenue": 1_000_000.0,
        "arr": 6000.0,  # MRR x 12
        "tech_stack": ["HubSpot", "Slack"],
        "business_model": "B2B",
        "label": "Customer",
        "won_deals": 2.0,
    }
    d = result.dataset.deals
    assert d["account_id"].to_pylist() == ["7", "8"]
    assert d["sales_motion"].to_pylist() == ["sales-led", "self-serve"]
    assert [str(x) for x in d["closed_date"].to_pylist()] == ["2024-02-01", "2024-02-15"]


def test_pipedrive_persons_and_leads_as_leads(tmp_path):
    people = write(
        tmp_path / "people.csv",
        "Person - ID,Person - Name,Person - Email - Work,Person - Job title,Organization - ID,Organization - Name,Organization - Industry,Organization - Employees\n"
        "31,Jana Nováková,jana@acme.cz,Head of Sales,7,Acme s.r.o.,Software,120\n",
    )
    t = load_table(people, "leads").table.to_pylist()[0]
    assert {k: t[k] for k in ("lead_id", "email", "title", "account_id", "name", "industry", "employees")} == {
        "lead_id": "31",
        "email": "jana@acme.cz",
        "title": "Head of Sales",
        "account_id": "7",
        "name": "Acme s.r.o.",
        "industry": "Software",
        "employees": 120.0,
    }
    assert t["person_name"] == "Jana Nováková"  # the person, never the company
