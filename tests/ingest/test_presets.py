# ruff: noqa: E501  (export headers are kept verbatim on one line)
"""CRM presets on small hand-made exports with the real header names and vocabularies of each CRM."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pytest

from icpkit.errors import UnmappedStageError
from icpkit.ingest import TableKind, detect_preset, load_dataset


def write(path: Path, text: str, *, bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + text.lstrip("\n"), encoding="utf-8")
    return path


def outcomes(result) -> dict[str, str]:
    deals = result.dataset.deals
    return dict(zip(deals["deal_id"].to_pylist(), deals["outcome"].to_pylist(), strict=True))


HUBSPOT_COMPANIES = """
"Record ID","Company name","Company Domain Name","Number of Employees","Annual Revenue","Industry","Country/Region","Company owner"
"101","Acme","https://www.acme.com/","250","$1,200,000","COMPUTER_SOFTWARE","United States","Jo"
"102","Globex","globex.io","51-200","2.5M","INFORMATION_TECHNOLOGY_AND_SERVICES","Germany","Jo"
"103","Initech","initech.com","12","","Hospital & Health Care","France","Al"
"""

HUBSPOT_DEALS = """
Record ID,Deal Name,Associated Company IDs,Deal Stage,Amount,Close Date,Create Date,Is Closed Won,Is closed lost
1,Acme renewal,101,Closed Won,5000,2024-03-01 10:00,2024-01-10 09:00,true,false
2,Globex pilot,102,closedlost,1000,2024-02-01 10:00,2024-01-05 09:00,false,true
3,Shared deal,101;103,Signed,7000,2024-04-01 10:00,2024-02-10 09:00,true,false
4,Open one,102,appointmentscheduled,300,,2024-03-10 09:00,false,false
5,Custom stage,999,3482933986,100,,2024-03-11 09:00,false,false
"""


def test_hubspot_ui_export(tmp_path):
    acc = write(tmp_path / "companies.csv", HUBSPOT_COMPANIES, bom=True)
    deals = write(tmp_path / "deals.csv", HUBSPOT_DEALS, bom=True)
    result = load_dataset(acc, deals)
    report = result.report
    assert report.preset.name == "hubspot" and not report.preset.forced
    assert "Deal Stage" in report.preset.matched_headers
    a = result.dataset.accounts
    assert a["account_id"].to_pylist() == ["101", "102", "103"]
    assert a["domain"].to_pylist() == ["acme.com", "globex.io", "initech.com"]
    assert a["industry"].to_pylist()[:2] == ["Computer Software", "Information Technology and Services"]
    assert a["annual_revenue"].to_pylist()[:2] == [1_200_000.0, 2_500_000.0]
    assert a["employees"].to_pylist()[:2] == [250.0, 125.5]  # 51-200 -> midpoint, band kept
    assert "employees_band" in a.column_names
    assert report.tables["accounts"].mapping["Country/Region"] == "country"
    # the Is Closed Won / Is closed lost flags override the stage: "Signed" and the numeric custom id need no map
    out = outcomes(result)
    assert out == {"1": "won", "2": "lost", "3": "won", "4": "open", "5": "open"}
    # a deal associated with two companies is credited to each
    d = result.dataset.deals
    assert sorted(d.filter(pc.equal(d["deal_id"], "3"))["account_id"].to_pylist()) == ["101", "103"]
    assert report.tables["deals"].outcomes == {"won": 2, "lost": 1, "open": 2}
    warnings = " ".join(p.message for p in report.warnings)
    assert "several companies" in warnings and "not in the accounts file" in warnings
    assert not {"is_won", "is_lost"} & set(d.column_names)


def test_hubspot_api_names_and_stage_map(tmp_path):
    acc = write(
        tmp_path / "c.csv",
        "hs_object_id,name,domain,numberofemployees,annualrevenue,industry\n"
        "1,A,a.com,10,100,COMPUTER_SOFTWARE\n2,B,b.com,20,200,BANKING\n",
    )
    deals = write(
        tmp_path / "d.csv",
        "property_hs_object_id,property_dealname,associatedcompanyid,property_dealstage,"
        "property_closedate,property_amount\n11,x,1,closedwon,2024-01-01,10\n12,y,2,3482933986,2024-02-01,5\n"
        "13,z,2,contractsent,,7\n",
    )
    with pytest.raises(UnmappedStageError) as err:
        load_dataset(acc, deals)
    assert "3482933986" in str(err.value) and "--stage-map" in str(err.value)
    result = load_dataset(acc, deals, stage_map=["3482933986=lost"])
    assert result.report.preset.name == "hubspot"
    assert outcomes(result) == {"11": "won", "12": "lost", "13": "open"}
    assert result.dataset.accounts["industry"].to_pylist() == ["Computer Software", "Banking"]


SF_ACCOUNTS = """
Account ID,Account Name,Employees,Annual Revenue,Billing Country,Industry,Account Owner
001A,Acme,"1,200","$5,000,000",USA,Technology,Sam
001B,Globex,40,"750,000",UK,Finance,Sam
"""
SF_OPPS = """
Opportunity ID,Opportunity Name,Account ID,Stage,Is Won,Closed,Close Date,Created Date,Amount,Lead Source,Type
006A,One,001A,Closed Won,1,1,3/15/2024,1/2/2024,"$10,000",Web,New Business
006B,Two,001A,Signed,1,1,3/20/2024,1/3/2024,"$2,000",Partner Referral,New Business
006C,Three,001B,Lost to competitor,0,1,4/1/2024,1/4/2024,$500,Web,Existing Business
006D,Four,001B,Negotiation/Review,0,0,,2/1/2024,$900,Phone Inquiry,New Business
"""


def test_salesforce_report_export(tmp_path):
    result = load_dataset(write(tmp_path / "a.csv", SF_ACCOUNTS), write(tmp_path / "o.csv", SF_OPPS))
    assert result.report.preset.name == "salesforce"
    a = result.dataset.accounts
    assert a["employees"].to_pylist() == [1200.0, 40.0]
    assert a["country"].to_pylist() == ["USA", "UK"]
    # IsWon/IsClosed decide: relabelled stages ("Signed", "Lost to competitor") need no stage map
    assert outcomes(result) == {"006A": "won", "006B": "won", "006C": "lost", "006D": "open"}
    d = result.dataset.deals
    assert d["source"].to_pylist()[0] == "Web"
    assert str(d["closed_date"][0]) == "2024-03-15"
    assert "type" in d.column_names  # kept as an extra attribute


def test_salesforce_api_names(tmp_path):
    acc = write(tmp_path / "a.csv", "Id,Name,NumberOfEmployees,AnnualRevenue,BillingCountry\n001A,Acme,10,5,US\n")
    opp = write(
        tmp_path / "o.csv",
        "Id,AccountId,StageName,IsWon,IsClosed,CloseDate,CreatedDate\n"
        "006A,001A,Closed Won,true,true,2024-01-01,2023-12-01T12:00:00.000Z\n"
        "006B,001A,Prospecting,false,false,,2023-12-02T12:00:00.000Z\n",
    )
    result = load_dataset(acc, opp)
    assert result.report.preset.name == "salesforce"
    assert outcomes(result) == {"006A": "won", "006B": "open"}
    assert str(result.dataset.deals["created_date"][0]) == "2023-12-01"


PD_ORGS = """
Organization - ID,Organization - Name,Organization - Owner,Organization - Industry
1,Acme s.r.o.,Petr,Software
2,Globex a.s.,Petr,Retail
"""
PD_DEALS = """
Deal - ID,Deal - Title,Deal - Organization,Deal - Status,Deal - Stage,Deal - Value,Deal - Deal created,Deal - Won time,Deal - Lost time
10,A1,Acme s.r.o.,Won,Negotiations Started,1000,2024-01-01 10:00:00,2024-02-01 10:00:00,
11,A2,  acme S.R.O. ,Lost,Proposal Made,500,2024-01-02 10:00:00,,2024-02-15 10:00:00
12,G1,Globex a.s.,Open,Won (custom stage name),700,2024-01-03 10:00:00,,
13,G2,Globex a.s.,deleted,Qualified,1,2024-01-04 10:00:00,,
14,X1,Unknown Ltd,lost,Qualified,1,2024-01-05 10:00:00,,2024-03-01 10:00:00
"""


def test_pipedrive_status_wins_over_stage_and_links_by_name(tmp_path):
    result = load_dataset(write(tmp_path / "o.csv", PD_ORGS), write(tmp_path / "d.csv", PD_DEALS))
    report = result.report
    assert report.preset.name == "pipedrive"
    # status decides, never the stage: deal 12 sits in a stage called "Won…" but is open; deleted deals dropped
    assert outcomes(result) == {"10": "won", "11": "lost", "12": "open", "14": "lost"}
    d = result.dataset.deals
    assert d["account_id"].to_pylist()[:3] == ["1", "1", "2"]  # linked by name, case and spaces ignored
    assert [str(x) for x in d["closed_date"].to_pylist()[:2]] == ["2024-02-01", "2024-02-15"]
    assert report.tables["deals"].rows == 4 and report.tables["deals"].rows_read == 5
    messages = " ".join(p.message for p in report.warnings)
    assert "1 deleted deals" in messages and "1 deals point at accounts not in the accounts file" in messages


def test_pipedrive_czech_headers(tmp_path):
    deals = write(
        tmp_path / "d.csv",
        "Obchod - ID,Obchod - Název,Obchod - Organizace,Obchod - Stav,Obchod - Fáze\n"
        "1,A,Acme,won,Kvalifikace\n2,B,Acme,open,Kvalifikace\n",
    )
    acc = write(tmp_path / "o.csv", "Organizace - ID,Organizace - Název\n7,Acme\n")
    result = load_dataset(acc, deals)
    assert result.report.preset.name == "pipedrive"
    assert outcomes(result) == {"1": "won", "2": "open"}
    assert result.dataset.deals["account_id"].to_pylist() == ["7", "7"]


def test_forced_preset_and_detection_reason():
    choice = detect_preset({TableKind.ACCOUNTS: ["company", "industry", "employees"]})
    assert choice.name == "generic"
    choice = detect_preset({TableKind.DEALS: ["Deal - ID", "Deal - Status", "Deal - Value"]})
    assert choice.name == "pipedrive" and "'Deal - Status'" in choice.reason


def test_forced_preset(tmp_path):
    acc = write(tmp_path / "a.csv", "Record ID,Name\n1,A\n")
    result = load_dataset(acc, preset="generic")
    assert result.report.preset.forced and result.report.preset.name == "generic"
