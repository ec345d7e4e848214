"""Realistic CRM exports (HubSpot, Salesforce, Pipedrive) of a history with a planted ICP, for end-to-end tests.

``icpkit.synth`` gives canonical tables whose truth is known. Real exports are not canonical: their headers are UI
labels or API names, numbers arrive as text (``"1,200"``, ``"$2.5M"``, ``"51-200"``), open deals carry their
*expected* close date (after the day of the export), and the CRM writes fields *because* an account became a
customer (HubSpot Lifecycle Stage, Salesforce Type = Customer - Direct, Pipedrive Won deals…): each separates won
from lost perfectly and must never become a criterion. These functions write such exports, seeded and small
enough for tests (a few thousand accounts), so that a correct build can be held to the planted
ICP: industry, an employee band, a technology and a recent funding round drive who wins and who stays.

Every export is written as CSV and as Parquet (every column a string, as a converted export is) in one folder:
``companies``/``accounts``/``organizations``, ``deals``/``opportunities`` and ``leads`` (new prospects in the same
CRM format, with their record ids). See ``../shared/data/crm_export_formats.md`` for the vocabularies used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from icpkit.synth import SynthHistory, generate

__all__ = [
    "CRMS",
    "EXPORT_DATE",
    "CrmExport",
    "crm_export",
    "hubspot_export",
    "pipedrive_export",
    "salesforce_export",
]

CRMS = ("hubspot", "salesforce", "pipedrive")
HISTORY_END = dt.date(2025, 6, 27)  # the last day anything happened in the history (a Friday)
EXPORT_DATE = dt.date(2025, 6, 30)  # the export was taken the Monday after

# synth industry -> the label each CRM shows (HubSpot: LinkedIn's list; Salesforce: the default picklist)
_INDUSTRY = {
    "hubspot": {
        "Software": "Computer Software",
        "Fintech": "Financial Services",
        "Healthcare": "Hospital & Health Care",
        "Manufacturing": "Machinery",
        "Retail": "Retail",
        "Education": "Education Management",
        "Media": "Media Production",
        "Logistics": "Logistics and Supply Chain",
        "Real Estate": "Real Estate",
        "Energy": "Oil & Energy",
        "Telecommunications": "Telecommunications",
        "Government": "Government Administration",
    },
    "salesforce": {
        "Software": "Technology",
        "Fintech": "Finance",
        "Healthcare": "Healthcare",
        "Manufacturing": "Manufacturing",
        "Retail": "Retail",
        "Education": "Education",
        "Media": "Media",
        "Logistics": "Transportation",
        "Real Estate": "Construction",
        "Energy": "Energy",
        "Telecommunications": "Telecommunications",
        "Government": "Government",
    },
    "pipedrive": {},  # a custom text field: the words the team typed
}
_OWNERS = ("Jane Cooper", "Ravi Patel", "Lena Fischer", "Tomás Ortega", "Mei Chen", "Sam O'Neill")
_HUBSPOT_OPEN_STAGES = ("Appointment Scheduled", "Qualified to Buy", "Presentation Scheduled", "Contract Sent")
_SALESFORCE_OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote")
_PIPEDRIVE_STAGES = ("Qualified", "Contact Made", "Demo Scheduled", "Proposal Made", "Negotiations Started")


@dataclass
class CrmExport:
    """One CRM's export files and what a correct build must make of them."""

    crm: str  # hubspot | salesforce | pipedrive
    folder: Path
    csv: dict[str, Path]  # "accounts", "deals", "leads" -> CSV file
    parquet: dict[str, Path]  # the same tables as Parquet with string columns
    export_date: dt.date  # the day the export was taken
    last_event: dt.date  # the latest past date in the files: the as_of a correct build reports
    latest_expected_close: dt.date  # the latest expected close date of an open deal (after the export)
    planted: dict[str, object]  # canonical field -> the planted value(s) in this CRM's words
    leak_fields: tuple[str, ...]  # normalised names of the fields that record the outcome
    lead_id_header: str  # the header of the record id in the leads file
    lead_ids: list[str]  # the leads' record ids, in file order
    churn: bool = True  # the export records churn (B2C, the planted churning segment, can show)
    mapping: list[str] = field(default_factory=list)  # --map rules a user writes for the custom fields
    history: SynthHistory | None = None

    def args(self, fmt: str = "csv") -> list[str]:
        """``--accounts A --deals D [--map …]`` for a build on this export."""
        files = self.csv if fmt == "csv" else self.parquet
        return ["--accounts", str(files["accounts"]), "--deals", str(files["deals"]), *self.map_args()]

    def map_args(self) -> list[str]:
        """``--map RULE`` for each custom field a user maps (also when scoring the leads)."""
        return [arg for rule in self.mapping for arg in ("--map", rule)]


# ----------------------------------------------------------------------------------------------- value shapes


def _text(values: pa.Array) -> pa.Array:
    return pc.cast(values, pa.string())


def _pick(rng: np.random.Generator, n: int, options: tuple[str, ...] | list[str]) -> pa.Array:
    return pa.array(np.asarray(options, dtype=object)[rng.integers(0, len(options), n)], pa.string())


def _thousands(values: np.ndarray) -> pa.Array:
    """Whole numbers with thousands separators, as a spreadsheet shows them: ``1,200``."""
    return pa.array([f"{int(v):,}" for v in values], pa.string()) if len(values) else pa.array([], pa.string())


def _employees_text(rng: np.random.Generator, employees: pa.Array) -> pa.Array:
    """Employee counts as exports hold them: ``1,200``, ``87`` or a band ``51-200`` (about one in six)."""
    n = len(employees)
    values = np.nan_to_num(employees.to_numpy(zero_copy_only=False).astype(float), nan=0.0).astype(np.int64)
    bands = np.array([1, 11, 51, 201, 501, 1001, 5001, 10001])
    labels = np.array(["1-10", "11-50", "51-200", "201-500", "501-1,000", "1,001-5,000", "5,001-10,000", "10,001+"])
    band = labels[np.searchsorted(bands, values, side="right") - 1]
    plain = _thousands(values)
    use_band = pa.array(rng.random(n) < 0.17)
    out = pc.if_else(use_band, pa.array(band, pa.string()), plain)
    return pc.if_else(pc.is_null(employees), pa.scalar(None, pa.string()), out)


def _money_text(rng: np.random.Generator, amounts: pa.Array) -> pa.Array:
    """Money as exports hold it: ``$2.5M`` (millions, to the 100,000), ``$1,200,000`` or ``1200000``."""
    n = len(amounts)
    v = np.nan_to_num(amounts.to_numpy(zero_copy_only=False).astype(float), nan=0.0)
    millions = pa.array([f"${x / 1e6:.1f}M" for x in v], pa.string())
    dollars = pa.array([f"${x:,.0f}" for x in v], pa.string())
    plain = pa.array([f"{x:.0f}" for x in v], pa.string())
    r = rng.random(n)
    out = pc.if_else(pa.array((r < 0.3) & (v >= 1e6)), millions, pc.if_else(pa.array(r < 0.7), dollars, plain))
    return pc.if_else(pc.is_null(amounts), pa.scalar(None, pa.string()), out)


def _date_text(days: pa.Array, style: str) -> pa.Array:
    """Dates as each export writes them (null stays empty)."""
    if style == "iso":
        return pc.strftime(days, "%Y-%m-%d")
    if style == "hubspot":  # UI export: date and time
        return pc.strftime(pc.cast(days, pa.timestamp("s")), "%Y-%m-%d %H:%M")
    if style == "pipedrive":
        return pc.strftime(pc.cast(days, pa.timestamp("s")), "%Y-%m-%d %H:%M:%S")
    raise ValueError(style)


def _days(dates: np.ndarray) -> pa.Array:
    return pa.array(dates.astype("datetime64[D]"), pa.date32())


def _join_lists(lists: pa.Array) -> pa.Array:
    return pc.binary_join(lists, ";")


def _ids(start: int, n: int, fmt: Callable[[int], str] = str) -> list[str]:
    return [fmt(start + i) for i in range(n)]


def _sf_id(prefix: str) -> Callable[[int], str]:
    """18-character Salesforce ids: key prefix (001 account, 006 opportunity), org part, a counter, a suffix."""
    return lambda i: f"{prefix}5g0{i:09d}QAE"


# ---------------------------------------------------------------------------------------------- the history


@dataclass
class _Facts:
    """Per-account and per-deal facts of the history, in numpy, before any CRM renders them."""

    history: SynthHistory
    industry: pa.Array
    won: np.ndarray  # account has a won deal
    churned: np.ndarray
    n_deals: np.ndarray
    n_won: np.ndarray
    n_lost: np.ndarray
    n_open: np.ndarray
    won_amount: np.ndarray
    first_deal: pa.Array  # date
    last_close: pa.Array  # date of the latest closed deal
    owner: pa.Array
    deal_close: pa.Array  # closed date, or the expected close date (after the export) of open deals
    deal_open: np.ndarray
    deal_account: np.ndarray  # account row of each deal


def _facts(n_accounts: int, seed: int) -> _Facts:
    h = generate(n_accounts, seed=seed, as_of=HISTORY_END, journeys="realistic")
    rng = np.random.default_rng(seed + 1)
    acc, deals = h.accounts, h.deals
    n = acc.num_rows
    deal_account = pc.index_in(deals.column("account_id"), value_set=acc.column("account_id")).to_numpy()
    outcome = np.asarray(deals.column("outcome").to_pylist(), dtype=object)
    won_d, lost_d, open_d = outcome == "won", outcome == "lost", outcome == "open"
    amount = deals.column("amount").to_numpy(zero_copy_only=False)
    n_won = np.bincount(deal_account, weights=won_d, minlength=n).astype(np.int64)
    n_lost = np.bincount(deal_account, weights=lost_d, minlength=n).astype(np.int64)
    n_open = np.bincount(deal_account, weights=open_d, minlength=n).astype(np.int64)
    won_amount = np.bincount(deal_account, weights=np.where(won_d, amount, 0.0), minlength=n)
    # open deals: the CRM holds their *expected* close date, 1 to 180 days after the export
    expected = np.datetime64(EXPORT_DATE, "D") + rng.integers(1, 181, deals.num_rows).astype("timedelta64[D]")
    closed = deals.column("closed_date").to_numpy(zero_copy_only=False).astype("datetime64[D]")
    deal_close = _days(np.where(open_d, expected, closed))
    agg = (
        pa.table({"a": pa.array(deal_account), "c": deals.column("created_date"), "d": deals.column("closed_date")})
        .group_by("a")
        .aggregate([("c", "min"), ("d", "max")])
    )
    where = pc.index_in(pa.array(np.arange(n)), value_set=agg.column("a"))  # null for accounts without deals
    first_deal, last_close = agg.column("c_min").take(where), agg.column("d_max").take(where)
    industry = acc.column("industry")
    return _Facts(
        history=h,
        industry=industry,
        won=n_won > 0,
        churned=np.asarray(acc.column("churned").to_pylist(), dtype=bool),
        n_deals=n_won + n_lost + n_open,
        n_won=n_won,
        n_lost=n_lost,
        n_open=n_open,
        won_amount=won_amount,
        first_deal=first_deal.combine_chunks(),
        last_close=last_close.combine_chunks(),
        owner=_pick(rng, n, _OWNERS),
        deal_close=deal_close,
        deal_open=open_d,
        deal_account=deal_account,
    )


def _leads(n_leads: int, seed: int) -> pa.Table:
    """New prospects drawn like the history's accounts (another seed), without any outcome."""
    acc = generate(n_leads, seed=seed + 1000, as_of=HISTORY_END, deals_per_account=0.0).accounts
    return acc.drop_columns(
        [c for c in ("arr", "customer_since", "churned", "churn_date", "expansion_arr") if c in acc.column_names]
    )


def _relabel(industry: pa.Array, crm: str) -> pa.Array:
    labels = _INDUSTRY[crm]
    if not labels:
        return industry
    keys = pa.array(list(labels))
    idx = pc.index_in(industry, value_set=keys)
    return pc.take(pa.array(list(labels.values())), idx)


def _created_before(rng: np.random.Generator, first: pa.Array, n: int) -> pa.Array:
    """A record's create date: some weeks before its first deal (or within the last four years)."""
    base = np.datetime64(HISTORY_END, "D") - rng.integers(60, 4 * 365, n).astype("timedelta64[D]")
    firsts = first.to_numpy(zero_copy_only=False).astype("datetime64[D]")
    lead_time = rng.integers(5, 90, n).astype("timedelta64[D]")
    return _days(np.where(np.isnat(firsts), base, firsts - lead_time))


def _activity(rng: np.random.Generator, n: int) -> pa.Array:
    """Last activity: within the last half year of the history, up to its last day."""
    return _days(np.datetime64(HISTORY_END, "D") - rng.integers(0, 180, n).astype("timedelta64[D]"))


def _max_date(*arrays: pa.Array) -> dt.date:
    return max(pc.max(a).as_py() for a in arrays if pc.max(a).as_py() is not None)


def _write(folder: Path, name: str, table: pa.Table) -> tuple[Path, Path]:
    """CSV (every value quoted where needed, empty for null) and Parquet with string columns."""
    table = pa.table({c: _text(table.column(c)) for c in table.column_names})
    csv_path, pq_path = folder / f"{name}.csv", folder / f"{name}.parquet"
    pacsv.write_csv(table, csv_path, pacsv.WriteOptions(quoting_style="all_valid"))
    pq.write_table(table, pq_path)
    return csv_path, pq_path


def _planted(crm: str) -> dict[str, object]:
    industries = ["Software", "Fintech"]
    if _INDUSTRY[crm]:
        industries = [_INDUSTRY[crm][i] for i in industries]
    return {
        "industry": industries,
        "employees": (50, 500),
        "tech_stack": ["Salesforce", "HubSpot"],
        "last_funding_date": 365,
    }


# ------------------------------------------------------------------------------------------------- HubSpot


def hubspot_export(folder: str | Path, *, n_accounts: int = 2000, n_leads: int = 400, seed: int = 0) -> CrmExport:
    """A HubSpot UI export: ``companies``, ``deals`` and ``leads`` with labels as headers and every cell quoted.

    Companies carry HubSpot's outcome-recording properties (Lifecycle Stage, Lead Status, Type, Became a Customer
    Date, Number of Associated Deals, Total Revenue, Recent Deal Close Date) and custom properties for the
    technologies (``;``-list), the last funding date, ARR and churn date. Open deals hold their expected close
    date in ``Close Date``, after the export.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    f = _facts(n_accounts, seed)
    rng = np.random.default_rng(seed + 2)
    acc, deals = f.history.accounts, f.history.deals
    n = acc.num_rows
    record_ids = _ids(30_000_000_001 + seed * 100_000, n)
    lifecycle = np.where(
        f.won, "customer", np.where(f.n_open > 0, "opportunity", np.where(f.n_lost > 0, "other", "lead"))
    )
    lead_status = np.where(
        f.won, "CONNECTED", np.where(f.n_open > 0, "OPEN_DEAL", np.where(f.n_lost > 0, "UNQUALIFIED", "NEW"))
    )
    company_type = np.where(f.won, "CUSTOMER", np.where(rng.random(n) < 0.05, "PARTNER", "PROSPECT"))
    became_customer = pc.if_else(pa.array(f.won), acc.column("customer_since"), pa.scalar(None, pa.date32()))
    created = _created_before(rng, f.first_deal, n)
    activity = _activity(rng, n)
    companies = pa.table(
        {
            "Record ID": pa.array(record_ids),
            "Company name": acc.column("name"),
            "Company owner": f.owner,
            "Create Date": _date_text(created, "hubspot"),
            "Phone Number": pa.array([f" +1 555 01{i % 100:02d}" for i in range(n)]),
            "Last Activity Date": _date_text(activity, "hubspot"),
            "City": _pick(rng, n, ["Austin", "Boston", "London", "Berlin", "Toronto", "Paris"]),
            "Country/Region": acc.column("country"),
            "Industry": _relabel(f.industry, "hubspot"),
            "Company Domain Name": acc.column("domain"),
            "Number of Employees": _employees_text(rng, acc.column("employees")),
            "Annual Revenue": _money_text(rng, acc.column("annual_revenue")),
            "Year Founded": pc.cast(pc.cast(acc.column("founded_year"), pa.int64()), pa.string()),
            "Technologies": _join_lists(acc.column("tech_stack")),
            "Funding Stage": acc.column("funding_stage"),
            "Last Funding Date": _date_text(acc.column("last_funding_date"), "iso"),
            "Business Model": acc.column("business_model"),
            "Lifecycle Stage": pa.array(lifecycle),
            "Lead Status": pa.array(lead_status),
            "Type": pa.array(company_type),
            "Became a Customer Date": _date_text(became_customer, "hubspot"),
            "Number of Associated Deals": pa.array(f.n_deals).cast(pa.string()),
            "Total Revenue": _thousands(f.won_amount),
            "Recent Deal Close Date": _date_text(f.last_close, "hubspot"),
            "ARR": _money_text(rng, pc.if_else(pa.array(f.won), acc.column("arr"), pa.scalar(None, pa.float64()))),
            "Churn Date": _date_text(acc.column("churn_date"), "iso"),
        }
    )
    m = deals.num_rows
    outcome = np.asarray(deals.column("outcome").to_pylist(), dtype=object)
    stage = np.where(
        outcome == "won",
        "Closed Won",
        np.where(
            outcome == "lost", "Closed Lost", np.asarray(_HUBSPOT_OPEN_STAGES, dtype=object)[rng.integers(0, 4, m)]
        ),
    )
    deal_table = pa.table(
        {
            "Record ID": pa.array(_ids(12_000_000_001 + seed * 100_000, m)),
            "Deal Name": pa.array(
                [
                    f"{name} - {kind}"
                    for name, kind in zip(
                        acc.column("name").take(pa.array(f.deal_account)).to_pylist(),
                        np.where(np.arange(m) % 3 == 0, "Expansion", "New Business"),
                        strict=True,
                    )
                ]
            ),
            "Associated Company IDs": pa.array(np.asarray(record_ids, dtype=object)[f.deal_account]),
            "Deal Stage": pa.array(stage),
            "Pipeline": pa.array(["Sales Pipeline"] * m),
            "Amount": pc.cast(deals.column("amount"), pa.string()),
            "Close Date": _date_text(f.deal_close, "hubspot"),
            "Create Date": _date_text(deals.column("created_date"), "hubspot"),
            "Deal owner": f.owner.take(pa.array(f.deal_account)),
            "Deal Type": pa.array(np.where(np.arange(m) % 3 == 0, "existingbusiness", "newbusiness")),
            "Is Closed Won": pa.array(np.where(outcome == "won", "true", "false")),
            "Is closed lost": pa.array(np.where(outcome == "lost", "true", "false")),
        }
    )
    leads = _leads(n_leads, seed)
    k = leads.num_rows
    lead_ids = _ids(40_000_000_001 + seed * 100_000, k)
    lead_table = pa.table(
        {
            "Record ID": pa.array(lead_ids),
            "Company name": leads.column("name"),
            "Company owner": _pick(rng, k, _OWNERS),
            "Create Date": _date_text(_activity(rng, k), "hubspot"),
            "Country/Region": leads.column("country"),
            "Industry": _relabel(leads.column("industry"), "hubspot"),
            "Company Domain Name": pc.binary_join_element_wise("lead-", leads.column("domain"), ""),
            "Number of Employees": _employees_text(rng, leads.column("employees")),
            "Annual Revenue": _money_text(rng, leads.column("annual_revenue")),
            "Technologies": _join_lists(leads.column("tech_stack")),
            "Funding Stage": leads.column("funding_stage"),
            "Last Funding Date": _date_text(leads.column("last_funding_date"), "iso"),
            "Business Model": leads.column("business_model"),
            "Lifecycle Stage": _pick(rng, k, ["subscriber", "lead", "marketingqualifiedlead"]),
        }
    )
    csv, parquet = {}, {}
    for name, table in (("accounts", companies), ("deals", deal_table), ("leads", lead_table)):
        csv[name], parquet[name] = _write(folder, {"accounts": "companies"}.get(name, name), table)
    return CrmExport(
        crm="hubspot",
        folder=folder,
        csv=csv,
        parquet=parquet,
        export_date=EXPORT_DATE,
        last_event=_max_date(
            created,
            activity,
            deals.column("created_date"),
            deals.column("closed_date"),
            acc.column("last_funding_date"),
            acc.column("churn_date"),
            became_customer,
        ),
        latest_expected_close=pc.max(pc.filter(f.deal_close, pa.array(f.deal_open))).as_py(),
        planted=_planted("hubspot"),
        leak_fields=(
            "lifecycle_stage",
            "lead_status",
            "type",
            "became_a_customer_date",
            "number_of_associated_deals",
            "total_revenue",
            "recent_deal_close_date",
        ),
        lead_id_header="Record ID",
        lead_ids=lead_ids,
        history=f.history,
    )


# ---------------------------------------------------------------------------------------------- Salesforce


def salesforce_export(folder: str | Path, *, n_accounts: int = 2000, n_leads: int = 400, seed: int = 0) -> CrmExport:
    """A Salesforce org: Accounts from Data Loader (API names, ISO dates, 18-character ids) and an Opportunity
    report export (labels). Accounts carry ``Type`` (Prospect, Customer - Direct, Customer - Channel, Channel
    Partner / Reseller) and the sample org's customer-only fields ``Active__c``, ``CustomerPriority__c``,
    ``SLA__c``, ``SLAExpirationDate__c``, ``UpsellOpportunity__c``; ARR and churn are custom fields a user maps
    (``mapping``). Open opportunities hold their expected ``Close Date``, after the export.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    f = _facts(n_accounts, seed)
    rng = np.random.default_rng(seed + 3)
    acc, deals = f.history.accounts, f.history.deals
    n = acc.num_rows
    account_ids = _ids(1 + seed * 100_000, n, _sf_id("001"))
    channel = rng.random(n) < 0.25
    acc_type = np.where(
        f.won,
        np.where(channel, "Customer - Channel", "Customer - Direct"),
        np.where(rng.random(n) < 0.06, "Channel Partner / Reseller", "Prospect"),
    )
    won = pa.array(f.won)
    none = pa.scalar(None, pa.string())
    sla_expires = _days(
        acc.column("customer_since").to_numpy(zero_copy_only=False).astype("datetime64[D]") + np.timedelta64(730, "D")
    )
    created = _created_before(rng, f.first_deal, n)
    accounts = pa.table(
        {
            "Id": pa.array(account_ids),
            "Name": acc.column("name"),
            "Type": pa.array(acc_type),
            "Industry": _relabel(f.industry, "salesforce"),
            "AnnualRevenue": _money_text(rng, acc.column("annual_revenue")),
            "NumberOfEmployees": _employees_text(rng, acc.column("employees")),
            "BillingCountry": acc.column("country"),
            "Website": pc.binary_join_element_wise("https://www.", acc.column("domain"), ""),
            "OwnerId": pc.binary_join_element_wise(
                "0055g00000", pc.utf8_lpad(pc.cast(pa.array(rng.integers(1, 7, n)), pa.string()), 5, "0"), "AAA"
            ),
            "CreatedDate": pc.binary_join_element_wise(_date_text(created, "iso"), "T09:30:00.000Z", ""),
            "AccountSource": _pick(rng, n, ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]),
            "Tech_Stack__c": _join_lists(acc.column("tech_stack")),
            "Last_Funding_Date__c": _date_text(acc.column("last_funding_date"), "iso"),
            "Funding_Stage__c": acc.column("funding_stage"),
            "Business_Model__c": acc.column("business_model"),
            "Active__c": pc.if_else(won, pa.array(np.where(f.churned, "No", "Yes")), none),
            "CustomerPriority__c": pc.if_else(won, _pick(rng, n, ["High", "Medium", "Low"]), none),
            "SLA__c": pc.if_else(won, _pick(rng, n, ["Gold", "Silver", "Platinum", "Bronze"]), none),
            "SLAExpirationDate__c": pc.if_else(won, _date_text(sla_expires, "iso"), none),
            "UpsellOpportunity__c": pc.if_else(won, _pick(rng, n, ["Maybe", "No", "Yes"]), none),
            "ARR__c": pc.if_else(won, pc.cast(acc.column("arr"), pa.string()), none),
            "Churn_Date__c": _date_text(acc.column("churn_date"), "iso"),
        }
    )
    m = deals.num_rows
    outcome = np.asarray(deals.column("outcome").to_pylist(), dtype=object)
    stage = np.where(
        outcome == "won",
        "Closed Won",
        np.where(
            outcome == "lost", "Closed Lost", np.asarray(_SALESFORCE_OPEN_STAGES, dtype=object)[rng.integers(0, 4, m)]
        ),
    )
    probability = np.where(outcome == "won", "100%", np.where(outcome == "lost", "0%", "20%"))
    opps = pa.table(
        {
            "Opportunity ID": pa.array(_ids(1 + seed * 100_000, m, _sf_id("006"))),
            "Opportunity Name": pc.binary_join_element_wise(
                acc.column("name").take(pa.array(f.deal_account)), pa.array(np.arange(m).astype(str)), " - "
            ),
            "Account ID": pa.array(np.asarray(account_ids, dtype=object)[f.deal_account]),
            "Account Name": acc.column("name").take(pa.array(f.deal_account)),
            "Opportunity Owner": f.owner.take(pa.array(f.deal_account)),
            "Stage": pa.array(stage),
            "Amount": _money_text(rng, deals.column("amount")),
            "Probability (%)": pa.array(probability),
            "Close Date": _date_text(f.deal_close, "iso"),
            "Created Date": _date_text(deals.column("created_date"), "iso"),
            "Lead Source": _pick(rng, m, ["Web", "Partner Referral", "Trade Show", "Advertisement"]),
            "Closed": pa.array(np.where(outcome == "open", "0", "1")),
            "Won": pa.array(np.where(outcome == "won", "1", "0")),
        }
    )
    leads = _leads(n_leads, seed)
    k = leads.num_rows
    lead_ids = _ids(50_001 + seed * 100_000, k, _sf_id("001"))
    lead_table = pa.table(
        {
            "Id": pa.array(lead_ids),
            "Name": leads.column("name"),
            "Type": pa.array(["Prospect"] * k),
            "Industry": _relabel(leads.column("industry"), "salesforce"),
            "AnnualRevenue": _money_text(rng, leads.column("annual_revenue")),
            "NumberOfEmployees": _employees_text(rng, leads.column("employees")),
            "BillingCountry": leads.column("country"),
            "Tech_Stack__c": _join_lists(leads.column("tech_stack")),
            "Last_Funding_Date__c": _date_text(leads.column("last_funding_date"), "iso"),
            "Funding_Stage__c": leads.column("funding_stage"),
            "Business_Model__c": leads.column("business_model"),
        }
    )
    csv, parquet = {}, {}
    for name, table in (("accounts", accounts), ("deals", opps), ("leads", lead_table)):
        csv[name], parquet[name] = _write(folder, {"deals": "opportunities"}.get(name, name), table)
    return CrmExport(
        crm="salesforce",
        folder=folder,
        csv=csv,
        parquet=parquet,
        export_date=EXPORT_DATE,
        last_event=_max_date(
            created,
            deals.column("created_date"),
            deals.column("closed_date"),
            acc.column("last_funding_date"),
            acc.column("churn_date"),
        ),
        latest_expected_close=pc.max(pc.filter(f.deal_close, pa.array(f.deal_open))).as_py(),
        planted=_planted("salesforce"),
        leak_fields=(
            "type",
            "active__c",
            "customerpriority__c",
            "sla__c",
            "slaexpirationdate__c",
            "upsellopportunity__c",
        ),
        lead_id_header="Id",
        lead_ids=lead_ids,
        mapping=[
            "ARR__c=arr",
            "Churn_Date__c=churn_date",
            "Tech_Stack__c=tech_stack",
            "Last_Funding_Date__c=last_funding_date",
            "Funding_Stage__c=funding_stage",
            "Business_Model__c=business_model",
        ],
        history=f.history,
    )


# ------------------------------------------------------------------------------------------------ Pipedrive


def pipedrive_export(folder: str | Path, *, n_accounts: int = 2000, n_leads: int = 400, seed: int = 0) -> CrmExport:
    """A Pipedrive export: ``organizations`` and ``deals`` with ``Organization - …`` / ``Deal - …`` headers.

    Outcome from ``Deal - Status`` (won, lost, open; a won deal keeps its last stage), ``Deal - Won time`` and
    ``Deal - Lost time``; open deals have a ``Deal - Expected close date`` after the export. Organizations carry
    Pipedrive's counts and labels (``Won deals``, ``Lost deals``, ``Open deals``, ``Closed deals``, ``Label``) and
    a customer-only ``MRR``; firmographics are custom organization fields. There is no churn date: Pipedrive does
    not hold one, so customer value is the won deal amounts.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    f = _facts(n_accounts, seed)
    rng = np.random.default_rng(seed + 4)
    acc, deals = f.history.accounts, f.history.deals
    n = acc.num_rows
    org_ids = _ids(1 + seed * 100_000, n)
    label = np.where(f.won, "Customer", np.where(f.n_open > 0, "Hot lead", np.where(f.n_lost > 0, "Cold lead", "")))
    created = _created_before(rng, f.first_deal, n)
    won = pa.array(f.won)
    mrr = pc.if_else(
        won, pc.cast(pc.round(pc.divide(acc.column("arr"), 12.0)), pa.string()), pa.scalar(None, pa.string())
    )
    orgs = pa.table(
        {
            "Organization - ID": pa.array(org_ids),
            "Organization - Name": acc.column("name"),
            "Organization - Owner": f.owner,
            "Organization - Label": pc.if_else(
                pc.equal(pa.array(label), ""), pa.scalar(None, pa.string()), pa.array(label)
            ),
            "Organization - Address": pc.binary_join_element_wise(
                _pick(rng, n, ["Main St 1", "High St 5"]), acc.column("country"), ", "
            ),
            "Organization - Visible to": pa.array(["Entire company"] * n),
            "Organization - Industry": f.industry,
            "Organization - Number of employees": _employees_text(rng, acc.column("employees")),
            "Organization - Annual revenue": _money_text(rng, acc.column("annual_revenue")),
            "Organization - Country": acc.column("country"),
            "Organization - Tech stack": _join_lists(acc.column("tech_stack")),
            "Organization - Last funding date": _date_text(acc.column("last_funding_date"), "iso"),
            "Organization - Funding stage": acc.column("funding_stage"),
            "Organization - Business model": acc.column("business_model"),
            "Organization - Won deals": pa.array(f.n_won).cast(pa.string()),
            "Organization - Lost deals": pa.array(f.n_lost).cast(pa.string()),
            "Organization - Open deals": pa.array(f.n_open).cast(pa.string()),
            "Organization - Closed deals": pa.array(f.n_won + f.n_lost).cast(pa.string()),
            "Organization - MRR": mrr,
            "Organization - Organization created": _date_text(created, "pipedrive"),
        }
    )
    m = deals.num_rows
    outcome = np.asarray(deals.column("outcome").to_pylist(), dtype=object)
    closed = deals.column("closed_date")
    none_date = pa.scalar(None, pa.date32())
    deal_table = pa.table(
        {
            "Deal - ID": pa.array(_ids(1 + seed * 100_000, m)),
            "Deal - Title": pc.binary_join_element_wise(acc.column("name").take(pa.array(f.deal_account)), "deal", " "),
            "Deal - Value": _thousands(deals.column("amount").to_numpy(zero_copy_only=False)),
            "Deal - Currency": pa.array(["USD"] * m),
            "Deal - Organization": acc.column("name").take(pa.array(f.deal_account)),
            "Deal - Organization ID": pa.array(np.asarray(org_ids, dtype=object)[f.deal_account]),
            "Deal - Owner": f.owner.take(pa.array(f.deal_account)),
            "Deal - Pipeline": pa.array(["Pipeline"] * m),
            "Deal - Stage": _pick(rng, m, _PIPEDRIVE_STAGES),
            "Deal - Status": pa.array(np.where(outcome == "won", "Won", np.where(outcome == "lost", "Lost", "Open"))),
            "Deal - Deal created": _date_text(deals.column("created_date"), "pipedrive"),
            "Deal - Expected close date": _date_text(f.deal_close, "iso"),
            "Deal - Won time": _date_text(pc.if_else(pa.array(outcome == "won"), closed, none_date), "pipedrive"),
            "Deal - Lost time": _date_text(pc.if_else(pa.array(outcome == "lost"), closed, none_date), "pipedrive"),
            "Deal - Deal closed on": _date_text(closed, "pipedrive"),
            "Deal - Lost reason": pc.if_else(
                pa.array(outcome == "lost"),
                _pick(rng, m, ["Price", "Timing", "Competitor"]),
                pa.scalar(None, pa.string()),
            ),
        }
    )
    leads = _leads(n_leads, seed)
    k = leads.num_rows
    lead_ids = _ids(900_001 + seed * 100_000, k)
    lead_table = pa.table(
        {
            "Organization - ID": pa.array(lead_ids),
            "Organization - Name": leads.column("name"),
            "Organization - Owner": _pick(rng, k, _OWNERS),
            "Organization - Industry": leads.column("industry"),
            "Organization - Number of employees": _employees_text(rng, leads.column("employees")),
            "Organization - Annual revenue": _money_text(rng, leads.column("annual_revenue")),
            "Organization - Country": leads.column("country"),
            "Organization - Tech stack": _join_lists(leads.column("tech_stack")),
            "Organization - Last funding date": _date_text(leads.column("last_funding_date"), "iso"),
            "Organization - Funding stage": leads.column("funding_stage"),
            "Organization - Business model": leads.column("business_model"),
        }
    )
    csv, parquet = {}, {}
    for name, table in (("accounts", orgs), ("deals", deal_table), ("leads", lead_table)):
        csv[name], parquet[name] = _write(folder, {"accounts": "organizations"}.get(name, name), table)
    return CrmExport(
        crm="pipedrive",
        folder=folder,
        csv=csv,
        parquet=parquet,
        export_date=EXPORT_DATE,
        last_event=_max_date(created, deals.column("created_date"), closed, acc.column("last_funding_date")),
        latest_expected_close=pc.max(pc.filter(f.deal_close, pa.array(f.deal_open))).as_py(),
        planted=_planted("pipedrive"),
        leak_fields=("label", "won_deals", "lost_deals", "open_deals", "closed_deals", "mrr"),
        lead_id_header="Organization - ID",
        lead_ids=lead_ids,
        churn=False,
        history=f.history,
    )


_EXPORTERS = {"hubspot": hubspot_export, "salesforce": salesforce_export, "pipedrive": pipedrive_export}


def crm_export(crm: str, folder: str | Path, **options: int) -> CrmExport:
    """``hubspot_export``, ``salesforce_export`` or ``pipedrive_export`` by name."""
    return _EXPORTERS[crm](folder, **options)
