"""CRM presets: which export headers mean which canonical column, per CRM and per table.

A preset is data, not code: for each table, canonical name -> the header spellings that CRM uses (UI labels and
API/warehouse names), the open stages of its default pipeline, and the headers distinctive enough to recognise it.
Headers are compared after ``normalise_header`` (lower case, trimmed, BOM and Fivetran ``property_`` prefix
removed), so ``Deal owner`` and ``Deal Owner`` are the same header.

Besides canonical columns, deal tables use a few *control* columns that steer assembly and are then dropped:
``account_name`` (link to an account by name), ``is_won`` / ``is_lost`` / ``is_closed`` / ``status`` (explicit
outcome, which always beats the stage) and ``won_time`` / ``lost_time`` (fill ``closed_date``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from icpkit.ingest.schema import TableKind

__all__ = [
    "DEAL_CONTROL_COLUMNS",
    "PRESETS",
    "Preset",
    "PresetChoice",
    "detect_preset",
    "get_preset",
    "normalise_header",
]

# Columns of the deals table that drive assembly and are removed from the canonical output.
DEAL_CONTROL_COLUMNS = frozenset({"account_name", "is_won", "is_lost", "is_closed", "status", "won_time", "lost_time"})

_SPACES = re.compile(r"\s+")


def normalise_header(header: str) -> str:
    """The form headers are compared in: case, BOM, surrounding and repeated spaces and ``property_`` ignored."""
    h = _SPACES.sub(" ", header.replace("\ufeff", "").strip().lower())
    if h.startswith("property_"):
        h = h[len("property_") :]
    return h


def _aliases(spec: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    return {canonical: tuple(normalise_header(a) for a in names) for canonical, names in spec.items()}


@dataclass(frozen=True)
class Preset:
    """Header vocabulary of one CRM's exports."""

    name: str
    description: str
    tables: Mapping[TableKind, Mapping[str, tuple[str, ...]]]
    open_stages: frozenset[str] = frozenset()
    signature: frozenset[str] = frozenset()  # normalised headers that point at this CRM and no other
    industry_enum: bool = False  # industry values like COMPUTER_SOFTWARE become "Computer Software"
    stage_from_status_only: bool = False  # Pipedrive: won/lost come from status, never from the stage
    scales: Mapping[str, float] = field(default_factory=dict)  # normalised alias -> factor (MRR -> ARR: 12)
    # per table, entity prefixes of headers (Pipedrive's "Organization - "): removed before generic synonyms are
    # tried and extras are named, so "Organization - Business model" is business_model
    prefixes: Mapping[TableKind, tuple[str, ...]] = field(default_factory=dict)

    def aliases(self, kind: TableKind) -> Mapping[str, tuple[str, ...]]:
        return self.tables.get(kind, {})


@dataclass(frozen=True)
class PresetChoice:
    """Which preset was used and why, for the inspect report."""

    name: str
    forced: bool
    reason: str
    matched: tuple[str, ...] = ()
    scores: Mapping[str, int] = field(default_factory=dict)


# --- generic: canonical names and the synonyms of hand-made spreadsheets and public datasets -----------------

_GENERIC_ACCOUNT = {
    "account_id": [
        "account_id",
        "accountid",
        "account id",
        "record id",
        "hs_object_id",
        "organization - id",
        "organisation - id",
        "company_id",
        "company id",
        "customer_id",
        "org_id",
        "organization_id",
        "organisation_id",
        "id",
        "symbol",
    ],
    "name": [
        "name",
        "account_name",
        "account name",
        "company",
        "company_name",
        "company name",
        "account",
        "organization",
        "organisation",
        "organization_name",
        "org_name",
        "customer_name",
    ],
    "domain": ["domain", "company_domain", "website", "website_url", "url", "web", "homepage"],
    "industry": ["industry", "sector", "vertical", "industry_name", "business_segment"],
    "employees": [
        "employees",
        "employee_count",
        "headcount",
        "num_employees",
        "number_of_employees",
        "number of employees",
        "current employee estimate",
        "current_employee_estimate",
        "staff",
        "company_size",
        "size range",
        "size_range",
        "employee_range",
        "size",
    ],
    "annual_revenue": ["annual_revenue", "annualrevenue", "annual revenue", "revenue", "turnover", "sales"],
    "country": [
        "country",
        "hq_country",
        "country_code",
        "office_location",
        "billing_country",
        "headquarters",
        "country/region",
    ],
    "region": ["region", "state", "province", "state_region", "state/region"],
    "city": ["city", "hq_city", "town"],
    "founded_year": [
        "founded_year",
        "year_founded",
        "year founded",
        "founded",
        "year_established",
        "established",
        "founding_year",
        "year started",
    ],
    "funding_stage": ["funding_stage", "funding", "last_funding_round", "funding_round"],
    "business_model": ["business_model", "model", "b2b_b2c"],
    "tech_stack": ["tech_stack", "technologies", "technology", "tech"],
    "arr": ["arr", "annual_recurring_revenue", "current_arr"],
    "customer_since": ["customer_since", "became_customer", "first_purchase_date"],
    "churned": ["churned", "is_churned", "churn", "churn_flag"],
    "churn_date": ["churn_date", "churned_at", "churned_on"],
    "expansion_arr": ["expansion_arr", "expansion"],
    "support_tickets": ["support_tickets", "tickets", "ticket_count"],
    "gross_margin": ["gross_margin", "margin"],
}

_GENERIC_DEAL = {
    "deal_id": ["deal_id", "dealid", "deal id", "opportunity_id", "opportunity id", "opp_id", "id"],
    "account_id": ["account_id", "accountid", "account id", "company_id", "customer_id", "org_id"],
    "account_name": [
        "account",
        "account_name",
        "account name",
        "company",
        "company_name",
        "organization",
        "organisation",
        "customer",
    ],
    "created_date": [
        "created_date",
        "create_date",
        "createdate",
        "created",
        "created_at",
        "engage_date",
        "open_date",
        "opened_at",
    ],
    "closed_date": ["closed_date", "close_date", "closedate", "closed_at", "closed_on", "won_date"],
    "stage": ["stage", "deal_stage", "stagename", "stage_name", "pipeline_stage"],
    "status": ["status", "deal_status", "outcome"],
    "amount": ["amount", "close_value", "value", "deal_value", "deal_amount", "deal_size"],
    "sales_motion": ["sales_motion", "motion", "go_to_market"],
    "source": ["source", "lead_source", "origin", "channel", "acquisition_channel"],
    "is_won": ["is_won", "iswon", "won"],
    "is_lost": ["is_lost", "islost", "lost"],
    "is_closed": ["is_closed", "isclosed", "closed"],
}

_GENERIC_SUBSCRIPTION = {
    "subscription_id": ["subscription_id", "sub_id", "id"],
    "account_id": ["account_id", "accountid", "customer_id", "company_id", "org_id"],
    "start_date": ["start_date", "started_at", "start", "subscription_start", "period_start"],
    "end_date": ["end_date", "ended_at", "end", "subscription_end", "cancel_date", "canceled_at", "cancelled_at"],
    "arr": ["arr", "arr_amount", "annual_amount", "annual_recurring_revenue"],
    "mrr": ["mrr", "mrr_amount", "monthly_amount", "monthly_recurring_revenue"],
}

_PERSON = {
    "lead_id": ["lead_id", "mql_id", "contact_id", "person_id", "record id", "hs_object_id"],
    "email": ["email", "email_address", "e-mail", "work_email"],
    "title": ["title", "job_title", "jobtitle", "job title", "position"],
    "seniority": ["seniority", "level", "job_level"],
    "department": ["department", "function", "job_function"],
}

# Leads are people: "name" is the person, the company comes as company/company_name.
_GENERIC_LEAD = {
    **{
        k: [a for a in v if a not in ("name", "id", "symbol", "record id", "hs_object_id")]
        for k, v in _GENERIC_ACCOUNT.items()
    },
    **_PERSON,
}
_GENERIC_LEAD["lead_id"] = [*_PERSON["lead_id"], "id"]

# --- HubSpot ---------------------------------------------------------------------------------------------------

_HUBSPOT_OPEN = [
    "appointmentscheduled",
    "appointment scheduled",
    "qualifiedtobuy",
    "qualified to buy",
    "presentationscheduled",
    "presentation scheduled",
    "decisionmakerboughtin",
    "decision maker bought-in",
    "decision maker bought in",
    "contractsent",
    "contract sent",
]

HUBSPOT = Preset(
    name="hubspot",
    description="HubSpot companies/deals exports: UI labels (Record ID, Deal Stage…) or internal names "
    "(hs_object_id, dealstage…, Fivetran property_*)",
    tables={
        TableKind.ACCOUNTS: _aliases(
            {
                "account_id": ["record id", "hs_object_id", "company id", "id"],
                "name": ["company name", "name"],
                "domain": ["company domain name", "domain", "website url", "website"],
                "industry": ["industry"],
                "employees": ["number of employees", "numberofemployees"],
                "annual_revenue": ["annual revenue", "annualrevenue"],
                "country": ["country/region", "country"],
                "region": ["state/region", "state"],
                "city": ["city"],
                "founded_year": ["year founded", "founded_year"],
            }
        ),
        TableKind.DEALS: _aliases(
            {
                "deal_id": ["record id", "hs_object_id", "deal id", "dealid", "id"],
                "account_id": [
                    "associated company ids",
                    "associated company id",
                    "associated company ids (primary)",
                    "associatedcompanyids",
                    "associatedcompanyid",
                    "company_id",
                ],
                "account_name": ["associated company", "associated company (primary)", "associated companies"],
                "created_date": ["create date", "createdate", "hs_createdate"],
                "closed_date": ["close date", "closedate"],
                "stage": ["deal stage", "dealstage"],
                "amount": ["amount", "hs_amount_in_home_currency", "amount in company currency"],
                "source": ["original source", "original source type", "original traffic source", "hs_analytics_source"],
                "is_won": ["is closed won", "hs_is_closed_won"],
                "is_lost": ["is closed lost", "hs_is_closed_lost"],
                "is_closed": ["is deal closed?", "is deal closed", "hs_is_closed", "is closed"],
            }
        ),
    },
    open_stages=frozenset(_HUBSPOT_OPEN),
    signature=frozenset(
        normalise_header(h)
        for h in [
            "record id",
            "hs_object_id",
            "company domain name",
            "numberofemployees",
            "annualrevenue",
            "country/region",
            "state/region",
            "deal stage",
            "dealstage",
            "dealname",
            "deal name",
            "closedate",
            "createdate",
            "associated company",
            "associated company ids",
            "is closed won",
            "is closed lost",
            "hs_is_closed_won",
            "hubspot_owner_id",
            "company owner",
            "deal owner",
            "lifecycle stage",
            "lifecyclestage",
            "pipeline",
            "deal type",
            "dealtype",
        ]
    ),
    industry_enum=True,
)

# --- Salesforce ------------------------------------------------------------------------------------------------

_SALESFORCE_OPEN = [
    "prospecting",
    "qualification",
    "needs analysis",
    "value proposition",
    "id. decision makers",
    "perception analysis",
    "proposal/price quote",
    "negotiation/review",
]

SALESFORCE = Preset(
    name="salesforce",
    description="Salesforce Account/Opportunity report exports (labels) or Data Loader/API exports (API names)",
    tables={
        TableKind.ACCOUNTS: _aliases(
            {
                "account_id": ["account id", "id", "account 18 digit id", "accountid"],
                "name": ["account name", "name"],
                "domain": ["website"],
                "industry": ["industry"],
                "employees": ["employees", "numberofemployees"],
                "annual_revenue": ["annual revenue", "annualrevenue"],
                "country": ["billing country", "billingcountry", "shipping country", "shippingcountry"],
                "region": ["billing state/province", "billingstate", "billing state"],
                "city": ["billing city", "billingcity"],
                "founded_year": ["year started", "yearstarted"],
            }
        ),
        TableKind.DEALS: _aliases(
            {
                "deal_id": ["opportunity id", "id", "opportunity 18 digit id"],
                "account_id": ["account id", "accountid", "account 18 digit id"],
                "account_name": ["account name"],
                "created_date": ["created date", "createddate"],
                "closed_date": ["close date", "closedate"],
                "stage": ["stage", "stagename"],
                "amount": ["amount"],
                "source": ["lead source", "leadsource"],
                "is_won": ["is won", "iswon", "won"],
                "is_closed": ["closed", "is closed", "isclosed"],
            }
        ),
    },
    open_stages=frozenset(_SALESFORCE_OPEN),
    signature=frozenset(
        normalise_header(h)
        for h in [
            "account id",
            "accountid",
            "account name",
            "billing country",
            "billingcountry",
            "billingcity",
            "billing city",
            "billingstate",
            "billing state/province",
            "numberofemployees",
            "annualrevenue",
            "opportunity id",
            "opportunity name",
            "opportunity owner",
            "stagename",
            "iswon",
            "is won",
            "isclosed",
            "closedate",
            "createddate",
            "leadsource",
            "lead source",
            "forecastcategoryname",
            "forecast category",
            "probability (%)",
            "fiscal period",
            "account owner",
            "account type",
            "accountsource",
            "account source",
            "recordtypeid",
            "ownerid",
        ]
    ),
)

# --- Pipedrive -------------------------------------------------------------------------------------------------

_PIPEDRIVE_OPEN = ["qualified", "contact made", "demo scheduled", "proposal made", "negotiations started"]

PIPEDRIVE = Preset(
    name="pipedrive",
    description="Pipedrive organization/deal exports ('Deal - Status', 'Organization - Name'…, English or Czech) "
    "or API names; the outcome comes from the status, never the stage",
    tables={
        TableKind.ACCOUNTS: _aliases(
            {
                "account_id": ["organization - id", "organisation - id", "organizace - id", "id", "org_id"],
                "name": ["organization - name", "organisation - name", "organizace - název", "name"],
                "domain": ["organization - website", "organization - domain", "organization - web"],
                "industry": ["organization - industry", "organization - sector", "organization - vertical"],
                "employees": [
                    "organization - number of employees",
                    "organization - employees",
                    "organization - employee count",
                    "organization - size",
                    "number of employees",
                ],
                "annual_revenue": ["organization - annual revenue", "organization - revenue"],
                "tech_stack": ["organization - technologies", "organization - tech stack"],
                "arr": [
                    "organization - arr",
                    "organization - annual recurring revenue",
                    "organization - mrr",
                    "organization - monthly recurring revenue",
                ],
                "country": [
                    "organization - country",
                    "organization - address - country",
                    "organization - country of address",
                    "address_country",
                ],
                "region": [
                    "organization - state",
                    "organization - region",
                    "organization - state/county of address",
                    "address_admin_area_level_1",
                ],
                "city": [
                    "organization - city",
                    "organization - city/town/village/locality of address",
                    "address_locality",
                ],
            }
        ),
        TableKind.DEALS: _aliases(
            {
                "deal_id": ["deal - id", "obchod - id", "id"],
                "account_id": ["deal - organization id", "deal - organization - id", "organization - id", "org_id"],
                "account_name": [
                    "deal - organization",
                    "organization - name",
                    "obchod - organizace",
                    "organizace",
                    "org_name",
                ],
                "created_date": ["deal - deal created", "deal - add time", "obchod - obchod vytvořen", "add_time"],
                "closed_date": ["deal - deal closed on", "deal - closed on", "obchod - datum uzavření", "close_time"],
                "won_time": ["deal - won time", "obchod - datum výhry", "won_time"],
                "lost_time": ["deal - lost time", "obchod - datum prohry", "lost_time"],
                "stage": ["deal - stage", "obchod - fáze", "stage_id"],
                "status": ["deal - status", "obchod - stav", "status"],
                "amount": ["deal - value", "obchod - hodnota", "value"],
                "source": ["deal - source", "deal - source channel", "deal - source origin", "origin"],
            }
        ),
        TableKind.LEADS: _aliases(
            {
                "lead_id": ["lead - id", "person - id", "id"],
                "account_id": ["organization - id", "lead - organization id", "person - organization id", "org_id"],
                "name": [
                    "organization - name",
                    "lead - organization",
                    "person - organization",
                    "organizace - název",
                    "org_name",
                ],
                "email": ["person - email", "person - email - work", "person - email - other", "person - email - home"],
                "title": ["person - job title", "person - title", "person - position", "job_title"],
                "domain": ["organization - website", "organization - domain", "organization - web"],
                "industry": ["organization - industry", "organization - sector", "organization - vertical"],
                "employees": [
                    "organization - number of employees",
                    "organization - employees",
                    "organization - employee count",
                    "organization - size",
                    "number of employees",
                ],
                "annual_revenue": ["organization - annual revenue", "organization - revenue"],
                "country": ["organization - country", "organization - address - country", "person - country"],
                "city": ["organization - city", "person - city"],
            }
        ),
    },
    open_stages=frozenset(_PIPEDRIVE_OPEN),
    signature=frozenset(
        normalise_header(h)
        for h in [
            "deal - id",
            "deal - title",
            "deal - value",
            "deal - currency",
            "deal - organization",
            "deal - organization id",
            "deal - status",
            "deal - stage",
            "deal - pipeline",
            "deal - deal created",
            "deal - add time",
            "deal - won time",
            "deal - lost time",
            "deal - deal closed on",
            "deal - owner",
            "deal - contact person",
            "organization - id",
            "organization - name",
            "organization - owner",
            "organization - address",
            "organization - label",
            "organization - won deals",
            "organization - lost deals",
            "organization - closed deals",
            "organization - open deals",
            "organization - industry",
            "organization - employees",
            "person - name",
            "person - email",
            "person - organization",
            "lead - title",
            "lead - organization",
            "obchod - název",
            "obchod - stav",
            "obchod - fáze",
            "obchod - datum výhry",
            "obchod - datum prohry",
            "org_id",
            "add_time",
            "won_time",
            "lost_time",
            "stage_id",
            "pipeline_id",
            "people_count",
            "won_deals_count",
        ]
    ),
    stage_from_status_only=True,
    prefixes={
        TableKind.ACCOUNTS: ("organization - ", "organisation - ", "organizace - "),
        TableKind.DEALS: ("deal - ", "obchod - "),
        TableKind.LEADS: ("person - ", "lead - ", "organization - ", "organisation - "),
        TableKind.UNIVERSE: ("organization - ", "organisation - "),
    },
    scales={
        normalise_header("organization - mrr"): 12.0,
        normalise_header("organization - monthly recurring revenue"): 12.0,
    },
)

GENERIC = Preset(
    name="generic",
    description="canonical column names and their common synonyms (spreadsheets, warehouses, public datasets)",
    tables={
        TableKind.ACCOUNTS: _aliases(_GENERIC_ACCOUNT),
        TableKind.DEALS: _aliases(_GENERIC_DEAL),
        TableKind.SUBSCRIPTIONS: _aliases(_GENERIC_SUBSCRIPTION),
        TableKind.LEADS: _aliases(_GENERIC_LEAD),
        TableKind.UNIVERSE: _aliases(_GENERIC_ACCOUNT),
    },
    open_stages=frozenset(_HUBSPOT_OPEN + _SALESFORCE_OPEN + _PIPEDRIVE_OPEN + ["open", "new", "in progress"]),
)


PRESETS: dict[str, Preset] = {p.name: p for p in (HUBSPOT, SALESFORCE, PIPEDRIVE, GENERIC)}


def get_preset(name: str) -> Preset:
    """The preset called ``name``; unknown names are a usage error naming the valid ones."""
    from icpkit.errors import InputError

    try:
        return PRESETS[name.strip().lower()]
    except KeyError:
        raise InputError(f"unknown preset '{name}'; choose one of: {', '.join(PRESETS)}") from None


def _matches(preset: Preset, kind: TableKind, headers: Iterable[str]) -> list[str]:
    """Headers the preset maps, itself or (a CRM preset) through the generic synonyms it falls back to."""
    layers = [preset] if preset is GENERIC else [preset, GENERIC]
    known = {a for layer in layers for names in layer.aliases(kind).values() for a in names}
    return [h for h in headers if normalise_header(h) in known]


def detect_preset(headers_by_table: Mapping[TableKind, list[str]]) -> PresetChoice:
    """Pick the preset whose vocabulary explains the headers best.

    Each CRM preset scores one point per header it maps (itself or through the generic synonyms every preset
    falls back to) and two more per header distinctive of that CRM (its signature); the generic preset scores only
    the headers it maps. A CRM preset needs at least one signature header to be chosen, so plain
    ``industry``/``amount`` spreadsheets stay generic; with one, it maps everything generic would and more, so a
    HubSpot companies file with custom columns (``arr``, ``tech_stack``…) no longer ties with generic and loses
    ``Record ID``, the id a CRM import must carry back. A tie goes to the preset with more signature headers.
    """
    scores: dict[str, int] = {}
    signatures: dict[str, int] = {}
    matched: dict[str, list[str]] = {}
    for preset in PRESETS.values():
        hits: list[str] = []
        signature_hits = 0
        for kind, headers in headers_by_table.items():
            hits += _matches(preset, kind, headers)
            signature_hits += sum(normalise_header(h) in preset.signature for h in headers)
        if preset.signature and signature_hits == 0:
            scores[preset.name] = 0
            matched[preset.name] = []
            continue
        scores[preset.name] = len(hits) + 2 * signature_hits
        signatures[preset.name] = signature_hits
        matched[preset.name] = hits
    best = max(PRESETS, key=lambda n: (scores[n], signatures.get(n, 0), n == "generic"))
    hits = matched[best]
    total = sum(len(h) for h in headers_by_table.values())
    shown = ", ".join(f"'{h}'" for h in hits[:8]) + (" …" if len(hits) > 8 else "")
    others = ", ".join(f"{n} {s}" for n, s in sorted(scores.items(), key=lambda kv: -kv[1]) if n != best)
    reason = f"{len(hits)} of {total} headers matched ({shown or 'none'}); score {scores[best]} vs {others}"
    return PresetChoice(name=best, forced=False, reason=reason, matched=tuple(hits), scores=scores)
