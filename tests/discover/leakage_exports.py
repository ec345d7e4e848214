"""Realistic HubSpot, Salesforce and Pipedrive exports of a planted history, with the fields CRMs fill at the win.

The firmographics, technologies and funding dates come from ``icpkit.synth`` (planted ICP: Software/Fintech,
50-500 employees, Salesforce/HubSpot, funded in the last year). Each CRM then adds what its real exports carry and
what records the outcome: HubSpot's Lifecycle Stage, Lead Status, Type, Became a Customer Date, deal roll-ups and
owners; Salesforce's Type and the sample org's Active__c, CustomerPriority__c, SLA__c, SLAExpirationDate__c,
UpsellOpportunity__c; Pipedrive's Label and Won/Lost/Closed/Open deals. Every leak is derived from the outcome the
way the CRM derives it, so each separates won from lost (almost) perfectly.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from icpkit.synth import SynthHistory, generate

N_ACCOUNTS = 3000
SEED = 11

# canonical names the leaked columns get once ingested, per CRM: each must be left out by rule
HUBSPOT_LEAKS = (
    "lifecycle_stage",
    "lead_status",
    "type",
    "became_a_customer_date",
    "number_of_associated_deals",
    "total_revenue",
    "company_owner",
    "last_activity_date",
)
SALESFORCE_LEAKS = (
    "type",
    "account_owner",
    "active_c",
    "customerpriority_c",
    "sla_c",
    "slaexpirationdate_c",
    "upsellopportunity_c",
)
PIPEDRIVE_LEAKS = ("label", "won_deals", "lost_deals", "closed_deals", "open_deals", "owner")


def history() -> SynthHistory:
    return generate(N_ACCOUNTS, seed=SEED)


def _facts(h: SynthHistory) -> dict[str, np.ndarray]:
    """Per account: won, churned, counts of won/lost/open deals and the won amount, in account order."""
    a, d = h.accounts, h.deals
    ids = a["account_id"].to_pylist()
    pos = {x: i for i, x in enumerate(ids)}
    rows = np.array([pos[x] for x in d["account_id"].to_pylist()])
    out = np.array(d["outcome"].to_pylist())
    amount = np.asarray(d["amount"].to_numpy(zero_copy_only=False), dtype=float)
    n = len(ids)
    won_deals = np.bincount(rows, weights=out == "won", minlength=n).astype(int)
    return {
        "won": won_deals > 0,
        "churned": np.asarray(a["churned"].to_numpy(zero_copy_only=False), dtype=bool),
        "won_deals": won_deals,
        "lost_deals": np.bincount(rows, weights=out == "lost", minlength=n).astype(int),
        "open_deals": np.bincount(rows, weights=out == "open", minlength=n).astype(int),
        "won_amount": np.bincount(rows, weights=np.where(out == "won", amount, 0.0), minlength=n),
    }


def _firmographics(h: SynthHistory) -> dict[str, pa.Array]:
    a = h.accounts
    tech = pc.binary_join(a["tech_stack"], ";")
    return {
        "industry": a["industry"],
        "employees": a["employees"],
        "annual_revenue": a["annual_revenue"],
        "country": a["country"],
        "tech": tech,
        "last_funding_date": a["last_funding_date"],
        "business_model": a["business_model"],
        "funding_stage": a["funding_stage"],
    }


def _pick(rng: np.random.Generator, values: list[str], n: int) -> np.ndarray:
    return np.array(values, dtype=object)[rng.integers(0, len(values), n)]


def _text(values: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    return pa.array([str(v) if valid is None or valid[i] else None for i, v in enumerate(values)], pa.string())


def _write(table: pa.Table, path: Path) -> Path:
    pacsv.write_csv(table, path)
    return path


def _deal_stage(h: SynthHistory, won: str, lost: str, open_: str) -> pa.Array:
    o = h.deals["outcome"]
    return pc.if_else(pc.equal(o, "won"), won, pc.if_else(pc.equal(o, "lost"), lost, open_))


def hubspot(h: SynthHistory, folder: Path) -> dict[str, Path]:
    """A HubSpot companies + deals UI export (labels as headers, numeric Record IDs)."""
    rng = np.random.default_rng(1)
    f, fx = _facts(h), _firmographics(h)
    n = h.accounts.num_rows
    won = f["won"]
    record_id = np.arange(n) + 200_000_000_001
    ids = dict(zip(h.accounts["account_id"].to_pylist(), map(str, record_id), strict=True))
    lifecycle = np.where(won, "customer", _pick(rng, ["lead", "marketingqualifiedlead", "opportunity", "other"], n))
    lead_status = _pick(rng, ["NEW", "OPEN", "IN_PROGRESS", "UNQUALIFIED", "BAD_TIMING", "ATTEMPTED_TO_CONTACT"], n)
    company_type = np.where(won, "CUSTOMER", _pick(rng, ["PROSPECT", "PROSPECT", "PROSPECT", "PARTNER", "OTHER"], n))
    owner = np.where(won, _pick(rng, ["Dana Lee (CSM)", "Sam Ortiz (CSM)"], n), _pick(rng, ["Jo Park", "Al Chen"], n))
    as_of = h.as_of
    activity = [
        as_of - dt.timedelta(days=int(x)) for x in np.where(won, rng.integers(0, 30, n), rng.integers(0, 900, n))
    ]
    companies = pa.table(
        {
            "Record ID": _text(record_id),
            "Company name": h.accounts["name"],
            "Company Domain Name": h.accounts["domain"],
            "Industry": fx["industry"],
            "Number of Employees": fx["employees"],
            "Annual Revenue": fx["annual_revenue"],
            "Country/Region": fx["country"],
            "Technologies": fx["tech"],
            "Last Funding Date": fx["last_funding_date"],
            "Business Model": fx["business_model"],
            "Funding Stage": fx["funding_stage"],
            "Company owner": _text(owner),
            "Lifecycle Stage": _text(lifecycle),
            "Lead Status": _text(lead_status, ~won),
            "Type": _text(company_type),
            "Became a Customer Date": h.accounts["customer_since"],
            "Number of Associated Deals": pa.array(f["won_deals"] + f["lost_deals"] + f["open_deals"]),
            "Total Revenue": pa.array(np.where(won, f["won_amount"], np.nan), from_pandas=True),
            "Last Activity Date": pa.array(activity, pa.date32()),
            "ARR": h.accounts["arr"],
            "Churn Date": h.accounts["churn_date"],
        }
    )
    d = h.deals
    deals = pa.table(
        {
            "Record ID": _text(np.arange(d.num_rows) + 900_000_000_001),
            "Deal Name": d["deal_id"],
            "Associated Company IDs": pa.array([ids[x] for x in d["account_id"].to_pylist()]),
            "Deal Stage": _deal_stage(h, "Closed Won", "Closed Lost", "Contract Sent"),
            "Pipeline": pa.array(["Sales Pipeline"] * d.num_rows),
            "Amount": d["amount"],
            "Create Date": d["created_date"],
            "Close Date": d["closed_date"],
            "Deal owner": _text(_pick(rng, ["Jo Park", "Al Chen"], d.num_rows)),
            "Original Source Type": d["source"],
            "Sales Motion": d["sales_motion"],
        }
    )
    return {"accounts": _write(companies, folder / "companies.csv"), "deals": _write(deals, folder / "deals.csv")}


def salesforce(h: SynthHistory, folder: Path) -> dict[str, Path]:
    """A Salesforce Account + Opportunity report export (labels), with the sample org's custom fields."""
    rng = np.random.default_rng(2)
    f, fx = _facts(h), _firmographics(h)
    n = h.accounts.num_rows
    won = f["won"]
    acc_id = np.array([f"001Dn00000{i:05d}AAA" for i in range(n)])
    ids = dict(zip(h.accounts["account_id"].to_pylist(), acc_id, strict=True))
    sf_type = np.where(
        won,
        _pick(rng, ["Customer - Direct", "Customer - Channel"], n),
        _pick(rng, ["Prospect", "Prospect", "Channel Partner / Reseller", "Other"], n),
    )
    as_of = h.as_of
    sla_end = [as_of + dt.timedelta(days=int(x)) for x in rng.integers(30, 700, n)]
    accounts = pa.table(
        {
            "Account ID": _text(acc_id),
            "Account Name": h.accounts["name"],
            "Website": h.accounts["domain"],
            "Industry": fx["industry"],
            "Employees": fx["employees"],
            "Annual Revenue": fx["annual_revenue"],
            "Billing Country": fx["country"],
            "Technologies": fx["tech"],
            "Last Funding Date": fx["last_funding_date"],
            "Business Model": fx["business_model"],
            "Type": _text(sf_type),
            "Account Owner": _text(np.where(won, "Casey CSM", _pick(rng, ["Jo Park", "Al Chen"], n))),
            "Active__c": _text(np.where(won, "Yes", "No"), won | (rng.random(n) < 0.3)),
            "CustomerPriority__c": _text(_pick(rng, ["High", "Medium", "Low"], n), won),
            "SLA__c": _text(_pick(rng, ["Gold", "Silver", "Platinum", "Bronze"], n), won),
            "SLAExpirationDate__c": pa.array(
                [d if w else None for d, w in zip(sla_end, won, strict=True)], pa.date32()
            ),
            "UpsellOpportunity__c": _text(_pick(rng, ["Maybe", "No", "Yes"], n), won),
            "ARR": h.accounts["arr"],
            "Churn Date": h.accounts["churn_date"],
        }
    )
    d = h.deals
    o = d["outcome"]
    opps = pa.table(
        {
            "Opportunity ID": _text(np.array([f"006Dn00000{i:05d}AAA" for i in range(d.num_rows)])),
            "Opportunity Name": d["deal_id"],
            "Account ID": pa.array([ids[x] for x in d["account_id"].to_pylist()]),
            "Stage": _deal_stage(h, "Closed Won", "Closed Lost", "Negotiation/Review"),
            "Is Won": pc.equal(o, "won"),
            "Closed": pc.not_equal(o, "open"),
            "Amount": d["amount"],
            "Close Date": d["closed_date"],
            "Created Date": d["created_date"],
            "Lead Source": d["source"],
            "Sales Motion": d["sales_motion"],
        }
    )
    return {"accounts": _write(accounts, folder / "accounts.csv"), "deals": _write(opps, folder / "opportunities.csv")}


def pipedrive(h: SynthHistory, folder: Path) -> dict[str, Path]:
    """A Pipedrive organizations + deals export (``Organization - …`` and ``Deal - …`` headers)."""
    rng = np.random.default_rng(3)
    f, fx = _facts(h), _firmographics(h)
    n = h.accounts.num_rows
    won = f["won"]
    org_id = np.arange(n) + 1
    ids = dict(zip(h.accounts["account_id"].to_pylist(), map(str, org_id), strict=True))
    label = np.where(won, "Customer", _pick(rng, ["Hot lead", "Warm lead", "Cold lead"], n))
    arr = np.asarray(h.accounts["arr"].to_numpy(zero_copy_only=False), dtype=float)
    orgs = pa.table(
        {
            "Organization - ID": _text(org_id),
            "Organization - Name": h.accounts["name"],
            "Organization - Industry": fx["industry"],
            "Organization - Employees": fx["employees"],
            "Organization - Annual revenue": fx["annual_revenue"],
            "Organization - Country": fx["country"],
            "Organization - Technologies": fx["tech"],
            "Organization - Last funding date": fx["last_funding_date"],
            "Organization - Business model": fx["business_model"],
            "Organization - Label": _text(label, won | (rng.random(n) < 0.6)),
            "Organization - Owner": _text(np.where(won, "Dana Lee", _pick(rng, ["Jo Park", "Al Chen"], n))),
            "Organization - Won deals": pa.array(f["won_deals"]),
            "Organization - Lost deals": pa.array(f["lost_deals"]),
            "Organization - Closed deals": pa.array(f["won_deals"] + f["lost_deals"]),
            "Organization - Open deals": pa.array(f["open_deals"]),
            "Organization - MRR": pa.array(np.where(arr > 0, arr / 12, np.nan), from_pandas=True),
            "Organization - Churn date": h.accounts["churn_date"],
        }
    )
    d = h.deals
    o = d["outcome"]
    deals = pa.table(
        {
            "Deal - ID": d["deal_id"],
            "Deal - Title": d["deal_id"],
            "Deal - Organization ID": pa.array([ids[x] for x in d["account_id"].to_pylist()]),
            "Deal - Status": pc.utf8_capitalize(o),
            "Deal - Stage": _text(_pick(rng, ["Qualified", "Demo Scheduled", "Proposal Made"], d.num_rows)),
            "Deal - Value": d["amount"],
            "Deal - Deal created": d["created_date"],
            "Deal - Won time": pc.if_else(pc.equal(o, "won"), d["closed_date"], pa.scalar(None, pa.date32())),
            "Deal - Lost time": pc.if_else(pc.equal(o, "lost"), d["closed_date"], pa.scalar(None, pa.date32())),
            "Deal - Source channel": d["source"],
            "Deal - Sales motion": d["sales_motion"],
        }
    )
    return {"accounts": _write(orgs, folder / "organizations.csv"), "deals": _write(deals, folder / "deals.csv")}


EXPORTS = {
    "hubspot": (hubspot, HUBSPOT_LEAKS),
    "salesforce": (salesforce, SALESFORCE_LEAKS),
    "pipedrive": (pipedrive, PIPEDRIVE_LEAKS),
}
