"""Synthetic CRM histories with a planted ICP.

A history whose truth is known is the only way to measure discovery: does it find the criteria that really drive
high-value retention, the segment that really churns, and nothing in the fields that are pure noise? Everything is
vectorised NumPy, deterministic per seed, and fast enough for a million accounts.

Planted truth (``effect=1``): four criteria each raise the log-odds of winning, the ARR, the chance of expansion
and lower churn; ``business_model = B2C`` churns heavily; ``noise_*`` fields, ``country``/``region``,
``founded_year``, deal ``source`` and the noise technologies have no effect. ``effect=0`` gives a history whose
outcomes are pure noise.

Deal journeys: with ``journeys="balanced"`` (the default) a customer's other deals are attempts lost before the sale,
so deal counts and close times look alike in every cohort. ``journeys="realistic"`` gives them the shapes a real
CRM has, which differ by cohort whatever the planted effect: a customer wins at its first attempt and its later deals
are renewals and expansions after the sale, a prospect's deals are all lost attempts, and won deals take longer to
close than lost ones. Discovery must find nothing behavioural in a realistic history with ``effect=0``.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from icpkit.ingest.schema import ColumnKind, Dataset
from icpkit.spec.model import Criterion, Exclusion, ICPSpec, Op

__all__ = ["INDUSTRIES", "TECHNOLOGIES", "SynthHistory", "generate", "generate_contacts", "write_csv"]

INDUSTRIES: dict[str, float] = {
    "Software": 0.18,
    "Fintech": 0.08,
    "Healthcare": 0.12,
    "Manufacturing": 0.14,
    "Retail": 0.12,
    "Education": 0.08,
    "Media": 0.06,
    "Logistics": 0.06,
    "Real Estate": 0.05,
    "Energy": 0.04,
    "Telecommunications": 0.04,
    "Government": 0.03,
}
COUNTRIES: dict[str, tuple[float, str]] = {
    "United States": (0.45, "North America"),
    "United Kingdom": (0.10, "EMEA"),
    "Germany": (0.08, "EMEA"),
    "France": (0.06, "EMEA"),
    "Canada": (0.06, "North America"),
    "Netherlands": (0.04, "EMEA"),
    "Australia": (0.04, "APAC"),
    "India": (0.05, "APAC"),
    "Brazil": (0.04, "LATAM"),
    "Spain": (0.03, "EMEA"),
    "Sweden": (0.03, "EMEA"),
    "Japan": (0.02, "APAC"),
}
FUNDING: dict[str, float] = {
    "Bootstrapped": 0.30,
    "Seed": 0.15,
    "Series A": 0.15,
    "Series B": 0.12,
    "Series C+": 0.08,
    "Private Equity": 0.15,
    "Public": 0.05,
}
BUSINESS_MODELS: dict[str, float] = {"B2B": 0.65, "B2C": 0.20, "B2B2C": 0.15}
# technology -> share of accounts using it; the first two are planted, the rest are noise
TECHNOLOGIES: dict[str, float] = {
    "Salesforce": 0.22,
    "HubSpot": 0.18,
    "Snowflake": 0.15,
    "Segment": 0.10,
    "Marketo": 0.10,
    "Zendesk": 0.20,
    "Slack": 0.60,
    "Zoom": 0.50,
    "Jira": 0.35,
    "Google Workspace": 0.55,
    "Microsoft 365": 0.40,
    "AWS": 0.45,
    "Stripe": 0.15,
    "Intercom": 0.10,
}
SOURCES = ("inbound", "outbound", "partner", "referral", "event")
NOISE_COLORS = ("red", "green", "blue", "amber", "violet", "teal")
NOISE_SEGMENTS = tuple("ABCDEFGH")

TRUTH_FIELDS = ("industry", "employees", "tech_stack", "last_funding_date")
# fields that legitimately carry signal because they are driven by a planted field
PROXY_FIELDS = ("annual_revenue", "sales_motion", "funding_stage")
NOISE_FIELDS = (
    "noise_color",
    "noise_segment",
    "noise_score",
    "noise_flag",
    "noise_date",
    "country",
    "region",
    "founded_year",
    "source",
)


@dataclass
class SynthHistory:
    """Canonical tables of one synthetic CRM history, plus the planted truth."""

    accounts: pa.Table
    deals: pa.Table
    subscriptions: pa.Table | None
    truth: ICPSpec
    as_of: dt.date
    noise_fields: tuple[str, ...] = NOISE_FIELDS
    proxy_fields: tuple[str, ...] = PROXY_FIELDS
    kinds: dict[str, dict[str, ColumnKind]] = field(default_factory=dict)

    def dataset(self) -> Dataset:
        """The history as the canonical ``Dataset`` the rest of icpkit consumes."""
        return Dataset(accounts=self.accounts, deals=self.deals, subscriptions=self.subscriptions, kinds=self.kinds)


def _truth_spec(as_of: dt.date) -> ICPSpec:
    return ICPSpec(
        name="planted-truth",
        as_of=as_of,
        layers={
            "firmographic": [
                Criterion(field="industry", op=Op.IN, value=["Software", "Fintech"], points=25),
                Criterion(field="employees", op=Op.BETWEEN, value=[50, 500], points=25),
            ],
            "technographic": [
                Criterion(field="tech_stack", op=Op.CONTAINS_ANY, value=["Salesforce", "HubSpot"], points=25)
            ],
            "trigger": [Criterion(field="last_funding_date", op=Op.WITHIN_DAYS, value=365, points=25)],
        },
        exclusions=[Exclusion(field="business_model", op=Op.IN, value=["B2C"], reason="planted: B2C churns")],
    )


def _two_segment_truth(as_of: dt.date) -> ICPSpec:
    from icpkit.spec.model import Segment

    def seg(name: str, industry: str, band: list[int], tech: str) -> Segment:
        return Segment(
            name=name,
            layers={
                "firmographic": [
                    Criterion(field="industry", op=Op.IN, value=[industry], points=30),
                    Criterion(field="employees", op=Op.BETWEEN, value=band, points=30),
                ],
                "technographic": [Criterion(field="tech_stack", op=Op.CONTAINS_ANY, value=[tech], points=25)],
                "trigger": [Criterion(field="last_funding_date", op=Op.WITHIN_DAYS, value=365, points=15)],
            },
            exclusions=[Exclusion(field="business_model", op=Op.IN, value=["B2C"], reason="planted: B2C churns")],
        )

    return ICPSpec(
        name="planted-truth",
        as_of=as_of,
        segments=[
            seg("midmarket", "Software", [50, 500], "HubSpot"),
            seg("enterprise", "Manufacturing", [1000, 20000], "SAP"),
        ],
    )


def _plant_two_segments(
    rng: np.random.Generator,
    ind: np.ndarray,
    ind_names: list[str],
    ind_valid: np.ndarray,
    employees: np.ndarray,
    emp_valid: np.ndarray,
    tech_names: list[str],
    tech_matrix: np.ndarray,
    tech_valid: np.ndarray,
    in_trigger: np.ndarray,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Two planted profiles: (technologies with SAP, their matrix, employees, fit = the better segment's count)."""
    n = ind.shape[0]
    manufacturing = ind_valid & (ind == ind_names.index("Manufacturing"))
    software = ind_valid & (ind == ind_names.index("Software"))
    big = np.maximum(1, np.round(np.exp(rng.normal(np.log(1500), 1.0, n)))).astype(np.int64)
    employees = np.where(manufacturing, big, employees)
    sap = rng.random(n) < np.where(manufacturing, 0.55, 0.05)
    tech_names = [*tech_names, "SAP"]
    tech_matrix = np.hstack([tech_matrix, sap[:, None]])
    hubspot = tech_valid & tech_matrix[:, tech_names.index("HubSpot")]
    on_sap = tech_valid & sap
    mid = emp_valid & (employees >= 50) & (employees <= 500)
    ent = emp_valid & (employees >= 1000) & (employees <= 20000)
    k_a = software.astype(float) + mid + hubspot
    k_b = manufacturing.astype(float) + ent + on_sap
    k = 4.0 / 3.0 * np.maximum(k_a, k_b) + in_trigger  # three segment criteria weigh as much as four shared ones
    return tech_names, tech_matrix, employees, k


def _choice(rng: np.random.Generator, n: int, table: dict[str, float]) -> tuple[np.ndarray, list[str]]:
    names = list(table)
    p = np.array([table[k] for k in names], dtype=float)
    return rng.choice(len(names), size=n, p=p / p.sum()), names


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _dates(days: np.ndarray, as_of: dt.date, valid: np.ndarray | None = None) -> pa.Array:
    """Dates ``days`` before ``as_of`` (int array) as a date32 array, null where not ``valid``."""
    base = np.datetime64(as_of, "D")
    values = base - days.astype("timedelta64[D]")
    mask = None if valid is None else ~valid
    return pa.array(values, type=pa.date32(), mask=mask)


def _strings(codes: np.ndarray, names: list[str] | tuple[str, ...], valid: np.ndarray | None = None) -> pa.Array:
    arr = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(list(names)))
    out = arr.cast(pa.string())
    if valid is not None:
        out = pc.if_else(pa.array(valid), out, pa.scalar(None, pa.string()))
    return out


def _ids(prefix: str, n: int, width: int) -> pa.Array:
    nums = pa.array(np.arange(1, n + 1)).cast(pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(nums, width, "0"), "")


def generate(
    n_accounts: int = 5000,
    *,
    seed: int = 0,
    deals_per_account: float = 3.0,
    as_of: dt.date = dt.date(2025, 6, 30),
    effect: float = 1.0,
    with_subscriptions: bool = False,
    history_years: float = 4.0,
    journeys: Literal["balanced", "realistic"] = "balanced",
    segments: Literal[1, 2] = 1,
) -> SynthHistory:
    """Generate a CRM history of ``n_accounts`` accounts and about ``deals_per_account`` deals each.

    ``effect`` scales every planted effect (0 = outcomes independent of every attribute). Same arguments, same
    tables, byte for byte. ``journeys`` shapes the deals of each account (see the module docstring).

    ``segments=2`` plants two distinct profiles instead of one: mid-market Software on HubSpot (50-500 employees)
    and enterprise Manufacturing on SAP (1,000-20,000 employees; Manufacturing companies are larger and often run
    SAP). An account's fit is the better of its two segments (plus the funding trigger), so a Software company
    on SAP fits neither well. ``truth`` then holds the two planted segments.
    """
    if segments not in (1, 2):
        raise ValueError(f"segments must be 1 or 2, got {segments!r}")
    if n_accounts < 1:
        raise ValueError("n_accounts must be at least 1")
    if journeys not in ("balanced", "realistic"):
        raise ValueError(f"journeys must be 'balanced' or 'realistic', got {journeys!r}")
    rng = np.random.default_rng(seed)
    n = n_accounts
    span = int(history_years * 365)

    # --- firmographics -------------------------------------------------------------------------------------
    ind, ind_names = _choice(rng, n, INDUSTRIES)
    ind_valid = rng.random(n) > 0.03
    employees = np.maximum(1, np.round(np.exp(rng.normal(np.log(60), 1.8, n)))).astype(np.int64)
    emp_valid = rng.random(n) > 0.05
    revenue = np.round(employees * np.exp(rng.normal(np.log(150_000), 0.5, n)), -3)
    rev_valid = rng.random(n) > 0.15
    ctry, ctry_names = _choice(rng, n, {k: v[0] for k, v in COUNTRIES.items()})
    regions = sorted({v[1] for v in COUNTRIES.values()})
    region_of = np.array([regions.index(COUNTRIES[c][1]) for c in ctry_names])
    founded = (as_of.year - np.round(np.exp(rng.normal(np.log(12), 0.7, n)))).clip(1900, as_of.year)
    fund, fund_names = _choice(rng, n, FUNDING)
    funded = fund != fund_names.index("Bootstrapped")
    funding_days = rng.integers(0, 6 * 365, n)
    bm, bm_names = _choice(rng, n, BUSINESS_MODELS)
    tech_names = list(TECHNOLOGIES)
    tech_matrix = rng.random((n, len(tech_names))) < np.array([TECHNOLOGIES[t] for t in tech_names])
    tech_valid = rng.random(n) > 0.10

    # --- planted truth -------------------------------------------------------------------------------------
    in_industry = ind_valid & np.isin(ind, [ind_names.index("Software"), ind_names.index("Fintech")])
    in_size = emp_valid & (employees >= 50) & (employees <= 500)
    in_tech = tech_valid & (tech_matrix[:, 0] | tech_matrix[:, 1])
    in_trigger = funded & (funding_days <= 365)
    k = in_industry.astype(float) + in_size + in_tech + in_trigger
    if segments == 2:
        tech_names, tech_matrix, employees, k = _plant_two_segments(
            rng, ind, ind_names, ind_valid, employees, emp_valid, tech_names, tech_matrix, tech_valid, in_trigger
        )
        revenue = np.round(employees * np.exp(rng.normal(np.log(150_000), 0.5, n)), -3)
    is_b2c = bm == bm_names.index("B2C")
    e = float(effect)

    # --- outcomes ------------------------------------------------------------------------------------------
    n_deals = rng.poisson(deals_per_account, n)
    engaged = n_deals > 0
    won = engaged & (rng.random(n) < _sigmoid(-1.4 + e * 0.7 * k))
    tenure = rng.integers(30, span, n)  # days since customer_since
    arr = np.round(np.exp(rng.normal(np.log(12_000) + e * 0.45 * k, 0.8, n)), -2)
    churn_p = _sigmoid(-1.5 + e * (-0.45 * k + 2.6 * is_b2c))
    churned = won & (rng.random(n) < churn_p)
    churn_days = np.floor(tenure * rng.random(n)).astype(np.int64)  # churn happens after customer_since
    expanded = won & ~churned & (rng.random(n) < _sigmoid(-2.6 + e * 0.5 * k))
    expansion = np.where(expanded, np.round(arr * rng.uniform(0.1, 0.6, n), -2), 0.0)

    # --- deals ---------------------------------------------------------------------------------------------
    n_deals = np.where(won & (n_deals == 0), 1, n_deals)
    m = int(n_deals.sum())
    acct = np.repeat(np.arange(n), n_deals)
    first = np.zeros(m, dtype=bool)
    starts = np.cumsum(n_deals) - n_deals
    first[starts[n_deals > 0]] = True
    deal_won_first = first & won[acct]
    later = ~first
    # other deals: a customer's are earlier attempts lost before the sale (so its buying journey has as many deals
    # as a never-closed account's, and the deal count carries no planted signal); a prospect's are lost within the
    # last two years, one of them still open for some prospects with several deals
    r = rng.random(m)
    outcome = np.full(m, 1, dtype=np.int8)  # 0 won, 1 lost, 2 open
    outcome[deal_won_first] = 0
    outcome[first & ~won[acct] & (n_deals[acct] >= 2) & (r < 0.3)] = 2
    motion_p = rng.random(m)
    emp_d = employees[acct]
    motion = np.where(emp_d < 50, 0, np.where(emp_d <= 1000, 1, 2))
    motion = np.where(motion_p < 0.2, rng.integers(0, 3, m), motion)
    close_len = np.round(rng.gamma(2.0, 20.0 + 25.0 * motion)).astype(np.int64) + 1
    closed_ago = rng.integers(0, min(span, 700), m)
    closed_ago[deal_won_first] = tenure[acct[deal_won_first]]
    cust_later = later & won[acct]
    closed_ago[cust_later] = tenure[acct[cust_later]] + rng.integers(1, 365, int(cust_later.sum()))
    if journeys == "realistic":
        # a customer's later deals come after the sale (renewals, expansions: mostly won); won deals close slower
        after = rng.random(int(cust_later.sum()))
        closed_ago[cust_later] = np.floor(tenure[acct[cust_later]] * after).astype(np.int64)
        outcome[cust_later] = np.where(rng.random(after.size) < 0.7, 0, 1).astype(np.int8)
        close_len = np.where(outcome == 0, close_len * 2, close_len)
    created_ago = closed_ago + close_len
    is_open = outcome == 2
    created_ago[is_open] = rng.integers(0, 120, int(is_open.sum()))
    amount = np.where(deal_won_first, arr[acct], np.round(np.exp(rng.normal(np.log(10_000), 0.9, m)), -2))
    source = rng.integers(0, len(SOURCES), m)

    deals = pa.table(
        {
            "deal_id": _ids("D", m, 8),
            "account_id": _ids("A", n, 7).take(pa.array(acct)),
            "created_date": _dates(created_ago, as_of),
            "closed_date": _dates(closed_ago, as_of, ~is_open),
            "outcome": _strings(outcome, ("won", "lost", "open")),
            "amount": pa.array(amount.astype(float)),
            "sales_motion": _strings(motion, ("self-serve", "sales-led", "enterprise")),
            "source": _strings(source, SOURCES),
        }
    )

    # --- accounts ------------------------------------------------------------------------------------------
    rows, cols = np.nonzero(tech_matrix & tech_valid[:, None])  # a null list owns no values
    offsets = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int32)
    tech = pa.ListArray.from_arrays(pa.array(offsets), _strings(cols, tech_names), mask=pa.array(~tech_valid))
    ids = _ids("A", n, 7)
    accounts = pa.table(
        {
            "account_id": ids,
            "name": pc.binary_join_element_wise("Company ", pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), ""),
            "domain": pc.binary_join_element_wise(pc.utf8_lower(ids), ".example.com", ""),
            "industry": _strings(ind, ind_names, ind_valid),
            "employees": pa.array(employees.astype(float), mask=~emp_valid),
            "annual_revenue": pa.array(revenue, mask=~rev_valid),
            "country": _strings(ctry, ctry_names),
            "region": _strings(region_of[ctry], regions),
            "founded_year": pa.array(founded.astype(float)),
            "funding_stage": _strings(fund, fund_names),
            "last_funding_date": _dates(funding_days, as_of, funded),
            "business_model": _strings(bm, bm_names),
            "tech_stack": tech,
            "noise_color": _strings(rng.integers(0, len(NOISE_COLORS), n), NOISE_COLORS),
            "noise_segment": _strings(rng.integers(0, len(NOISE_SEGMENTS), n), NOISE_SEGMENTS),
            "noise_score": pa.array(rng.normal(50, 15, n).round(2), mask=rng.random(n) < 0.2),
            "noise_flag": pa.array(rng.random(n) < 0.3),
            "noise_date": _dates(rng.integers(0, 3 * 365, n), as_of),
            "arr": pa.array(np.where(won & ~churned, arr, 0.0)),
            "customer_since": _dates(tenure, as_of, won),
            "churned": pa.array(np.where(won, churned, False)),
            "churn_date": _dates(churn_days, as_of, churned),
            "expansion_arr": pa.array(expansion),
        }
    )

    subscriptions = None
    if with_subscriptions:
        cust = np.nonzero(won)[0]
        exp_idx = np.nonzero(expanded)[0]
        sub_acct = np.concatenate([cust, exp_idx])
        start = np.concatenate([tenure[cust], np.floor(tenure[exp_idx] * rng.random(exp_idx.size))]).astype(np.int64)
        end = np.concatenate([churn_days[cust], np.zeros(exp_idx.size, dtype=np.int64)])
        ended = np.concatenate([churned[cust], np.zeros(exp_idx.size, dtype=bool)])
        sub_arr = np.concatenate([arr[cust], expansion[exp_idx]])
        order = np.argsort(sub_acct, kind="stable")
        subscriptions = pa.table(
            {
                "subscription_id": _ids("S", sub_acct.size, 8),
                "account_id": ids.take(pa.array(sub_acct[order])),
                "start_date": _dates(start[order], as_of),
                "end_date": _dates(end[order], as_of, ended[order]),
                "arr": pa.array(sub_arr[order]),
            }
        )
        accounts = accounts.drop_columns(["arr", "customer_since", "churned", "churn_date", "expansion_arr"])

    kinds = {
        "accounts": {
            "account_id": ColumnKind.ID,
            "name": ColumnKind.TEXT,
            "domain": ColumnKind.TEXT,
            "industry": ColumnKind.CATEGORICAL,
            "employees": ColumnKind.NUMERIC,
            "annual_revenue": ColumnKind.NUMERIC,
            "country": ColumnKind.CATEGORICAL,
            "region": ColumnKind.CATEGORICAL,
            "founded_year": ColumnKind.NUMERIC,
            "funding_stage": ColumnKind.CATEGORICAL,
            "last_funding_date": ColumnKind.DATE,
            "business_model": ColumnKind.CATEGORICAL,
            "tech_stack": ColumnKind.MULTI,
            "noise_color": ColumnKind.CATEGORICAL,
            "noise_segment": ColumnKind.CATEGORICAL,
            "noise_score": ColumnKind.NUMERIC,
            "noise_flag": ColumnKind.BOOLEAN,
            "noise_date": ColumnKind.DATE,
            "arr": ColumnKind.NUMERIC,
            "customer_since": ColumnKind.DATE,
            "churned": ColumnKind.BOOLEAN,
            "churn_date": ColumnKind.DATE,
            "expansion_arr": ColumnKind.NUMERIC,
        },
        "deals": {
            "deal_id": ColumnKind.ID,
            "account_id": ColumnKind.ID,
            "created_date": ColumnKind.DATE,
            "closed_date": ColumnKind.DATE,
            "outcome": ColumnKind.CATEGORICAL,
            "amount": ColumnKind.NUMERIC,
            "sales_motion": ColumnKind.CATEGORICAL,
            "source": ColumnKind.CATEGORICAL,
        },
    }
    kinds["accounts"] = {c: k for c, k in kinds["accounts"].items() if c in accounts.column_names}
    if subscriptions is not None:
        kinds["subscriptions"] = {
            "subscription_id": ColumnKind.ID,
            "account_id": ColumnKind.ID,
            "start_date": ColumnKind.DATE,
            "end_date": ColumnKind.DATE,
            "arr": ColumnKind.NUMERIC,
        }
    return SynthHistory(
        accounts=accounts,
        deals=deals,
        subscriptions=subscriptions,
        truth=_truth_spec(as_of) if segments == 1 else _two_segment_truth(as_of),
        as_of=as_of,
        kinds=kinds,
    )


# ---------------------------------------------------------------------------------------------------------------
# CSV export (not core: writes files)

_HUBSPOT_COMPANY_HEADERS = {
    "account_id": "Record ID",
    "name": "Company name",
    "domain": "Company Domain Name",
    "industry": "Industry",
    "employees": "Number of Employees",
    "annual_revenue": "Annual Revenue",
    "country": "Country/Region",
    "founded_year": "Year Founded",
}
_HUBSPOT_DEAL_HEADERS = {
    "deal_id": "Record ID",
    "account_id": "Associated Company IDs",
    "created_date": "Create Date",
    "closed_date": "Close Date",
    "stage": "Deal Stage",
    "amount": "Amount",
    "sales_motion": "Sales Motion",
    "source": "Original Source Type",
}


# Contact titles: (title, seniority, department, weight on won deals, weight on lost deals). Decision makers are
# planted on won deals, assistants on lost ones; every other title is equally likely on both (noise).
CONTACT_TITLES: tuple[tuple[str, str, str, float, float], ...] = (
    ("VP of Sales", "VP", "Sales", 0.12, 0.03),
    ("Vice President, Revenue", "VP", "Sales", 0.08, 0.02),
    ("Head of Growth", "Director", "Marketing", 0.10, 0.03),
    ("head-of-revops", "Director", "Operations", 0.06, 0.02),
    ("Executive Assistant", "Entry", "Administration", 0.02, 0.10),
    ("Office assistant", "Entry", "Administration", 0.02, 0.08),
    ("Software Engineer", "Individual Contributor", "Engineering", 0.12, 0.12),
    ("Marketing Manager", "Manager", "Marketing", 0.12, 0.12),
    ("Sales Representative", "Individual Contributor", "Sales", 0.12, 0.12),
    ("Data Analyst", "Individual Contributor", "Finance", 0.12, 0.12),
    ("Operations Coordinator", "Individual Contributor", "Operations", 0.12, 0.12),
)


def generate_contacts(deals: pa.Table, *, seed: int = 0, effect: float = 1.0) -> pa.Table:
    """One to three contacts per closed deal (deal_id, account_id, title, seniority, department) with planted titles.

    Titles follow :data:`CONTACT_TITLES`: VP and head-of titles are about four times likelier on won deals,
    assistants about four times likelier on lost ones, the rest equally likely. ``effect`` = 0 makes every title
    equally likely on won and lost deals (no persona to find). Case and punctuation vary like a real export.
    """
    rng = np.random.default_rng(seed)
    closed = deals.filter(pc.is_in(deals.column("outcome"), value_set=pa.array(["won", "lost"])))
    won = np.asarray(pc.equal(closed.column("outcome"), "won").to_numpy(zero_copy_only=False), bool)
    per = rng.integers(1, 4, size=closed.num_rows)
    deal_idx = np.repeat(np.arange(closed.num_rows), per)
    w_won = np.array([t[3] for t in CONTACT_TITLES])
    w_lost = np.array([t[4] for t in CONTACT_TITLES])
    mix = w_lost + effect * (w_won - w_lost)
    p_won, p_lost = mix / mix.sum(), w_lost / w_lost.sum()
    u = rng.random(deal_idx.size)
    pick = np.where(
        won[deal_idx],
        np.searchsorted(np.cumsum(p_won), u, side="right"),
        np.searchsorted(np.cumsum(p_lost), u, side="right"),
    ).clip(0, len(CONTACT_TITLES) - 1)
    titles = pa.array([t[0] for t in CONTACT_TITLES]).take(pa.array(pick))
    variant = rng.integers(0, 3, size=deal_idx.size)
    titles = pc.if_else(pa.array(variant == 1), pc.utf8_upper(titles), titles)
    titles = pc.if_else(pa.array(variant == 2), pc.binary_join_element_wise("  ", titles, " ", ""), titles)
    take = pa.array(deal_idx)
    return pa.table(
        {
            "deal_id": closed.column("deal_id").take(take),
            "account_id": closed.column("account_id").take(take),
            "title": titles,
            "seniority": pa.array([t[1] for t in CONTACT_TITLES]).take(pa.array(pick)),
            "department": pa.array([t[2] for t in CONTACT_TITLES]).take(pa.array(pick)),
        }
    )


def _flatten_lists(table: pa.Table) -> pa.Table:
    """Multi-valued columns become ``;``-separated text, as CRM exports write them."""
    for i, f in enumerate(table.schema):
        if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
            joined = pc.binary_join(table.column(i), ";")
            table = table.set_column(i, f.name, joined)
    return table


def _write_atomic(table: pa.Table, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        pacsv.write_csv(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(
    history: SynthHistory, folder: str | Path, style: Literal["canonical", "hubspot"] = "canonical"
) -> dict[str, Path]:
    """Write the history as CSV files in ``folder`` (created if needed); returns table name -> file.

    ``canonical`` writes icpkit's column names; ``hubspot`` writes ``companies.csv``/``deals.csv`` with the
    headers and stage labels of a HubSpot UI export.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    accounts = _flatten_lists(history.accounts)
    deals = history.deals
    out: dict[str, Path] = {}
    if style == "canonical":
        tables = {"accounts": accounts, "deals": deals}
        if history.subscriptions is not None:
            tables["subscriptions"] = history.subscriptions
    elif style == "hubspot":
        names = [_HUBSPOT_COMPANY_HEADERS.get(c, c) for c in accounts.column_names]
        accounts = accounts.rename_columns(names)
        stage = pc.case_when(
            pc.make_struct(pc.equal(deals["outcome"], "won"), pc.equal(deals["outcome"], "lost")),
            "Closed Won",
            "Closed Lost",
            "Contract Sent",
        )
        deals = deals.drop_columns(["outcome"]).append_column("stage", stage)
        deals = deals.rename_columns([_HUBSPOT_DEAL_HEADERS.get(c, c) for c in deals.column_names])
        tables = {"companies": accounts, "deals": deals}
        if history.subscriptions is not None:
            tables["subscriptions"] = history.subscriptions
    else:
        raise ValueError(f"unknown CSV style {style!r}; use 'canonical' or 'hubspot'")
    for name, table in tables.items():
        path = folder / f"{name}.csv"
        _write_atomic(table, path)
        out[name] = path
    return out
