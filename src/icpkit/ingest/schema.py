"""The canonical tables every reader and preset produces, and the core consumes.

Column names are the ones of DESIGN.md. A canonical table is a ``pyarrow.Table``; any column not listed here is
kept, typed, and treated as a candidate attribute by discovery.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa

__all__ = [
    "ACCOUNT_COLUMNS",
    "DEAL_COLUMNS",
    "IDENTIFIER_COLUMNS",
    "LEAD_PERSON_COLUMNS",
    "OUTCOME_COLUMNS",
    "SUBSCRIPTION_COLUMNS",
    "ColumnKind",
    "Dataset",
    "Outcome",
    "TableKind",
    "kind_of_arrow_type",
]


class TableKind(StrEnum):
    ACCOUNTS = "accounts"
    DEALS = "deals"
    SUBSCRIPTIONS = "subscriptions"
    LEADS = "leads"
    UNIVERSE = "universe"


class ColumnKind(StrEnum):
    """What a column holds once typed; drives coercion at ingest and candidate generation in discovery."""

    ID = "id"
    TEXT = "text"  # free text, mostly unique values: never a candidate
    CATEGORICAL = "categorical"
    NUMERIC = "numeric"
    BOOLEAN = "boolean"
    DATE = "date"
    MULTI = "multi"  # multi-valued: list<string>


class Outcome(StrEnum):
    WON = "won"
    LOST = "lost"
    OPEN = "open"


# canonical name -> kind. Types after ingest: NUMERIC -> float64, DATE -> date32, BOOLEAN -> bool,
# MULTI -> list<string>, everything else -> string.
ACCOUNT_COLUMNS: dict[str, ColumnKind] = {
    "account_id": ColumnKind.ID,
    "name": ColumnKind.TEXT,
    "domain": ColumnKind.TEXT,
    "industry": ColumnKind.CATEGORICAL,
    "employees": ColumnKind.NUMERIC,
    "annual_revenue": ColumnKind.NUMERIC,
    "country": ColumnKind.CATEGORICAL,
    "region": ColumnKind.CATEGORICAL,
    "city": ColumnKind.CATEGORICAL,
    "founded_year": ColumnKind.NUMERIC,
    "funding_stage": ColumnKind.CATEGORICAL,
    "business_model": ColumnKind.CATEGORICAL,
    "tech_stack": ColumnKind.MULTI,
    # outcomes (optional; derived from subscriptions when absent)
    "arr": ColumnKind.NUMERIC,
    "customer_since": ColumnKind.DATE,
    "churned": ColumnKind.BOOLEAN,
    "churn_date": ColumnKind.DATE,
    "expansion_arr": ColumnKind.NUMERIC,
    "support_tickets": ColumnKind.NUMERIC,
    "gross_margin": ColumnKind.NUMERIC,
}

DEAL_COLUMNS: dict[str, ColumnKind] = {
    "deal_id": ColumnKind.ID,
    "account_id": ColumnKind.ID,
    "created_date": ColumnKind.DATE,
    "closed_date": ColumnKind.DATE,
    "stage": ColumnKind.CATEGORICAL,
    "outcome": ColumnKind.CATEGORICAL,  # normalised: won / lost / open
    "amount": ColumnKind.NUMERIC,
    "sales_motion": ColumnKind.CATEGORICAL,
    "source": ColumnKind.CATEGORICAL,
}

SUBSCRIPTION_COLUMNS: dict[str, ColumnKind] = {
    "subscription_id": ColumnKind.ID,
    "account_id": ColumnKind.ID,
    "start_date": ColumnKind.DATE,
    "end_date": ColumnKind.DATE,
    "arr": ColumnKind.NUMERIC,
    "mrr": ColumnKind.NUMERIC,
}

LEAD_PERSON_COLUMNS: dict[str, ColumnKind] = {
    "lead_id": ColumnKind.ID,
    "email": ColumnKind.TEXT,
    "title": ColumnKind.TEXT,
    "seniority": ColumnKind.CATEGORICAL,
    "department": ColumnKind.CATEGORICAL,
}

# Columns that identify a record or are the outcome discovery learns from: never candidates. Other fields a CRM
# fills because of the outcome (lifecycle stage, deal roll-ups…) are caught by ``icpkit.discover.leakage``.
IDENTIFIER_COLUMNS = frozenset({"account_id", "deal_id", "subscription_id", "lead_id", "name", "domain", "email"})
OUTCOME_COLUMNS = frozenset(
    {
        "arr",
        "mrr",
        "customer_since",
        "churned",
        "churn_date",
        "expansion_arr",
        "support_tickets",
        "gross_margin",
        "stage",
        "outcome",
        "amount",
        "closed_date",
        "created_date",
        "start_date",
        "end_date",
    }
)


@dataclass
class Dataset:
    """The canonical tables of one CRM history, plus how each column is typed.

    ``kinds`` maps table name -> column -> ColumnKind for every column present (canonical or extra), so the core
    never has to guess a column's type again.
    """

    accounts: pa.Table
    deals: pa.Table | None = None
    subscriptions: pa.Table | None = None
    leads: pa.Table | None = None
    kinds: dict[str, dict[str, ColumnKind]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # table name -> file it was read from

    def tables(self) -> dict[str, pa.Table]:
        out = {"accounts": self.accounts}
        for name in ("deals", "subscriptions", "leads"):
            t = getattr(self, name)
            if t is not None:
                out[name] = t
        return out


def kind_of_arrow_type(typ: pa.DataType) -> ColumnKind | None:
    """The kind an Arrow type holds by itself (text is ``TEXT``: whether it is categorical depends on its values);
    None for a type no kind reads."""
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        return ColumnKind.MULTI
    if pa.types.is_boolean(typ):
        return ColumnKind.BOOLEAN
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return ColumnKind.NUMERIC
    if pa.types.is_date(typ) or pa.types.is_timestamp(typ):
        return ColumnKind.DATE
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_dictionary(typ):
        return ColumnKind.TEXT
    return None
