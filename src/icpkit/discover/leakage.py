"""Outcome leakage: fields a CRM fills *because* an account won, lost or churned, kept out of discovery.

A HubSpot ``Lifecycle Stage`` is set to ``customer`` when a deal is won; a Pipedrive organization counts its own won
deals. Such a field separates won from lost perfectly, which only says that the outcome was recorded: as a criterion
it puts every customer in tier 1 and no new lead can reach it. Two guards, both pure functions:

- **By rule** (``leakage_by_rule``): the names CRMs give these fields (lifecycle and lead status, customer type,
  became-a-customer and close dates, deal roll-ups and counts, owners and CSMs, renewal, contract end, health score,
  NPS, Salesforce's sample-org ``Active__c``/``CustomerPriority__c``/``SLA__c``…), compared on the column name
  with CRM prefixes (``Organization -``, ``hs_``…) and Salesforce's ``__c`` ignored, so UI labels and API names of
  HubSpot, Salesforce and Pipedrive are all caught.
- **By evidence** (``leakage_by_evidence``): names vary by portal and language, so a field is also left out when
  one of its values — or its presence, or its absence — sits on at least ``min_share`` (a quarter) of one
  outcome's accounts and, with 95% confidence (Clopper–Pearson upper bound), on at most ``max_other`` (one in
  twenty) of the other outcome's, with at least ``min_group`` accounts behind it and ``min_outcome`` accounts of
  each outcome. Outcomes are compared twice: customers against lost accounts, and retained against churned
  customers. A real ICP value with a lift of 2 covers about as many of the other outcome's accounts as half its
  own, far from one in twenty; a recorded outcome covers none.

``left_out_fields`` joins both with discovery's own reasons (identifiers, outcome columns, free text, constant,
sparse) into the one list a build reports as ``BuildResult.left_out``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict
from scipy.stats import beta

from icpkit.ingest.schema import IDENTIFIER_COLUMNS, OUTCOME_COLUMNS, ColumnKind

__all__ = [
    "LEFT_OUT_KINDS",
    "LeftOutField",
    "LeftOutKind",
    "account_outcomes",
    "field_key",
    "leakage_by_evidence",
    "leakage_by_rule",
]

LeftOutKind = Literal[
    "identifier",
    "outcome",
    "leakage_rule",
    "leakage_evidence",
    "free_text",
    "constant",
    "sparse",
    "unsupported",
]
LEFT_OUT_KINDS: tuple[str, ...] = LeftOutKind.__args__  # type: ignore[attr-defined]


class LeftOutField(BaseModel):
    """A field discovery did not use, the kind of reason, and the reason in words."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str
    kind: LeftOutKind
    reason: str


# --- by rule ---------------------------------------------------------------------------------------------------

# Prefixes CRMs put before a field's own name: Pipedrive's entity ("Organization - Won deals"), HubSpot's internal
# ``hs_``, Fivetran's ``property_``, and the entity words of Salesforce and HubSpot labels ("Account Type").
_PREFIXES = ("organization_", "organisation_", "organizace_", "org_", "company_", "account_", "hs_", "property_")

_STATUS = "a status the CRM moves as the sales process ends (set to customer at the win)"
_TYPE = "the account type is edited to customer (or partner) after a win"
_WIN_DATE = "a date set when the account won or closed"
_ROLLUP = "a roll-up of the account's own deals: it counts the outcome"
_OWNER = "an owner or manager assigned to the record (often reassigned after close): says nothing about the company"
_CUSTOMER_ONLY = "exists only for customers (renewal, contract, health, NPS, SLA)"
_ACTIVITY = "sales activity recorded by your team: it follows the deal, not the company"
_REASON_FIELD = "a won/lost/churn reason is written when the outcome happens"

_NAMES: dict[str, str] = {
    **dict.fromkeys(
        [
            "lifecyclestage",
            "lifecycle",
            "leadstatus",
            "status",
            "customerstatus",
            "active",
            "isactive",
            "customer",
            "iscustomer",
            "existingcustomer",
            "currentcustomer",
            "label",
            "labels",
            "customerpriority",
            "customertier",
            "upsellopportunity",
        ],
        _STATUS,
    ),
    **dict.fromkeys(["type", "customertype", "relationshiptype", "relationship"], _TYPE),
    **dict.fromkeys(
        [
            "becameacustomerdate",
            "customersince",
            "customersincedate",
            "becamecustomer",
            "firstpurchasedate",
            "firstwondate",
            "firstdealwondate",
            "firstclosedate",
            "firstdealcreateddate",
            "closedate",
            "closeddate",
            "closedon",
            "wontime",
            "losttime",
            "wondate",
            "lostdate",
            "daystoclose",
            "recentdealclosedate",
            "lastdealclosedate",
            "dateofconversion",
            "conversiondate",
            "onboardingdate",
            "golivedate",
            "churndate",
        ],
        _WIN_DATE,
    ),
    **dict.fromkeys(
        [
            "numassociateddeals",
            "numberofassociateddeals",
            "associateddeals",
            "numopendeals",
            "numberofopendeals",
            "totalrevenue",
            "totaldealvalue",
            "recentdealamount",
            "lastdealamount",
            "numberofdeals",
            "dealscount",
            "dealcount",
            "lifetimevalue",
            "ltv",
            "totalspend",
            "revenuetodate",
            "arr",
            "mrr",
        ],
        _ROLLUP,
    ),
    **dict.fromkeys(
        [
            "csm",
            "customersuccessmanager",
            "customersuccessowner",
            "successmanager",
            "accountmanager",
            "onboardingmanager",
            "assignedcsm",
        ],
        _OWNER,
    ),
    **dict.fromkeys(
        [
            "renewaldate",
            "nextrenewaldate",
            "renewal",
            "contractend",
            "contractenddate",
            "contractstart",
            "contractstartdate",
            "contractvalue",
            "subscriptionstart",
            "subscriptionend",
            "healthscore",
            "health",
            "customerhealth",
            "customerhealthscore",
            "nps",
            "npsscore",
            "netpromoterscore",
            "csat",
            "sla",
            "slaexpirationdate",
            "slaserialnumber",
            "supportplan",
        ],
        _CUSTOMER_ONLY,
    ),
    **dict.fromkeys(
        [
            "lastactivitydate",
            "nextactivitydate",
            "lastactivity",
            "totalactivities",
            "doneactivities",
            "activitiestodo",
            "lastcontacted",
            "numcontactednotes",
            "numnotes",
            "emailmessagescount",
            "lastemailreceived",
            "lastemailsent",
        ],
        _ACTIVITY,
    ),
    **dict.fromkeys(
        ["lostreason", "wonreason", "closedlostreason", "closedwonreason", "churnreason", "reasonlost"],
        _REASON_FIELD,
    ),
}

# Families of names, matched on the snake_case key.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"became_an?_.+_date"), _WIN_DATE),  # HubSpot "Became a Customer Date", "Became an Opportunity Date"
    (re.compile(r"lifecyclestage_.+_date"), _WIN_DATE),  # hs_lifecyclestage_customer_date
    (re.compile(r"date_(entered|exited)_.+"), _WIN_DATE),  # HubSpot stage history
    (re.compile(r"time_in_.+"), _WIN_DATE),
    (re.compile(r"(.+_)?(won|lost|closed|open)_deals?(_.+)?"), _ROLLUP),  # Pipedrive Won deals, won_deals_count
    (re.compile(r"(num|number_of|count_of|total)_.*deals?(_.+)?"), _ROLLUP),
    (re.compile(r".+_deals?_(count|value|amount|total)"), _ROLLUP),
    (re.compile(r"(.+_)?owner(_.+)?"), _OWNER),  # Company owner, hubspot_owner, Organization - Owner; not Ownership
    (re.compile(r"(.+_)?activit(y|ies)(_.+)?"), _ACTIVITY),
    (re.compile(r"notes_last_.+|last_(contacted|engagement).*|(.+_)?email(s)?_(opened|clicked|replied).*"), _ACTIVITY),
    (re.compile(r"(.+_)?(renewal|churn)(_.+)?"), _CUSTOMER_ONLY),
]

_NON_WORD = re.compile(r"[^0-9a-z]+")


def field_key(name: str) -> str:
    """A field name as the rules compare it: lower snake case, Salesforce's ``__c`` suffix dropped."""
    key = _NON_WORD.sub("_", name.lower()).strip("_")
    return key[:-2] if key.endswith("_c") and len(key) > 2 else key


def _keys(name: str) -> list[str]:
    key = field_key(name)
    keys = [key]
    stripped = key
    for _ in range(2):  # "property_hs_lead_status", "organization_won_deals"
        for prefix in _PREFIXES:
            if stripped.startswith(prefix) and len(stripped) > len(prefix):
                stripped = stripped[len(prefix) :]
                keys.append(stripped)
                break
    return keys


def leakage_by_rule(names: Iterable[str]) -> dict[str, str]:
    """The names among ``names`` that CRMs use for fields recording the outcome, each with why it leaks.

    Canonical identifier and outcome columns are discovery's own business and never listed here.
    """
    out: dict[str, str] = {}
    for name in names:
        if name in IDENTIFIER_COLUMNS or name in OUTCOME_COLUMNS:
            continue
        for key in _keys(name):
            reason = _NAMES.get(key.replace("_", "")) or next((r for p, r in _PATTERNS if p.fullmatch(key)), None)
            if reason:
                out[name] = reason
                break
    return out


# --- by evidence -----------------------------------------------------------------------------------------------

# Outcome labels of ``account_outcomes``, and the contrasts the evidence test runs: (A, B) with the words for each.
_CUSTOMER = ("retained", "churned")
_CONTRASTS: tuple[tuple[tuple[str, ...], str, tuple[str, ...], str], ...] = (
    (_CUSTOMER, "customers", ("lost",), "lost accounts"),
    (("retained",), "retained customers", ("churned",), "churned customers"),
)


def account_outcomes(customer: np.ndarray, churned: np.ndarray, lost: np.ndarray) -> pa.Array:
    """One outcome per account for ``leakage_by_evidence``: retained, churned, lost, or null (open)."""
    customer = np.asarray(customer, dtype=bool)
    churned = np.asarray(churned, dtype=bool) & customer
    lost = np.asarray(lost, dtype=bool) & ~customer
    labels = np.where(churned, "churned", np.where(customer, "retained", np.where(lost, "lost", "")))
    return pc.if_else(pa.array(labels != ""), pa.array(labels), pa.nulls(len(labels), pa.string()))


def _normalised(values: pa.Array) -> tuple[np.ndarray, list[str]]:
    """Codes over trimmed, case-folded text, -1 for missing or empty: encoded first, so only distinct values fold."""
    enc = pc.dictionary_encode(pc.cast(values, pa.string()))
    idx = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    keys = [str(v).strip().casefold() for v in enc.dictionary.to_pylist()]
    labels = sorted({k for k in keys if k})
    position = {k: i for i, k in enumerate(labels)}
    remap = np.array([position.get(k, -1) for k in keys] + [-1], dtype=np.int64)
    return remap[idx], labels  # idx -1 reads the trailing -1


def _groups(
    col: pa.ChunkedArray | pa.Array, kind: ColumnKind | None
) -> tuple[np.ndarray | None, np.ndarray, list[str]]:
    """(row of each membership or None for one per row, group code, group labels): what leakage is judged on.

    A category or flag: each value (trimmed, case-folded) and "missing"; a list: each item and "missing"; a number:
    missing, zero or less, above zero (deal counts, MRR, totals); a date or anything else: missing or present.
    """
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    typ = arr.type
    if pa.types.is_list(typ) or pa.types.is_large_list(typ):
        parents = pc.list_parent_indices(arr).to_numpy(zero_copy_only=False).astype(np.int64)
        codes, labels = _normalised(pc.list_flatten(arr))
        keep = codes >= 0
        missing = np.flatnonzero(np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool))
        rows = np.concatenate([parents[keep], missing])
        return rows, np.concatenate([codes[keep], np.full(missing.size, len(labels))]), [*labels, "(missing)"]
    numeric = pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ)
    if numeric and kind in (None, ColumnKind.NUMERIC):
        v = np.asarray(pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
        codes = (v > 0).astype(np.int64)
        codes[np.isnan(v)] = 2  # nulls came out as NaN
        return None, codes, ["zero or less", "above zero", "(missing)"]
    if pa.types.is_boolean(typ):
        codes = np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.int64)
        codes[np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = 2
        return None, codes, ["false", "true", "(missing)"]
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_dictionary(typ):
        codes, labels = _normalised(arr)
        codes[codes < 0] = len(labels)
        return None, codes, [*labels, "(missing)"]
    missing = np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=np.int64)
    return None, missing, ["(present)", "(missing)"]


def _upper_bound(k: np.ndarray, n: int, confidence: float) -> np.ndarray:
    """One-sided Clopper–Pearson upper confidence bound of a proportion ``k / n``."""
    k = np.asarray(k, dtype=float)
    out = np.ones_like(k)
    below = k < n
    out[below] = beta.ppf(confidence, k[below] + 1, n - k[below])
    return out


def _describe(label: str) -> str:
    if label == "(missing)":
        return "missing"
    if label == "(present)":
        return "filled in"
    if label in ("zero or less", "above zero"):
        return label
    return f"'{label}'"


def leakage_by_evidence(
    table: pa.Table,
    outcome: pa.Array | pa.ChunkedArray,
    *,
    kinds: Mapping[str, ColumnKind] | None = None,
    fields: Sequence[str] | None = None,
    min_share: float = 0.25,
    max_other: float = 0.05,
    confidence: float = 0.95,
    min_group: int = 20,
    min_outcome: int = 30,
) -> dict[str, str]:
    """Fields of ``table`` whose values, presence or absence almost only occur on one outcome, each with why.

    ``outcome`` holds one of ``retained``, ``churned``, ``lost`` or null per row (``account_outcomes``). A value
    flags its field when it sits on at least ``min_share`` of one outcome's accounts (and ``min_group`` of them),
    and the ``confidence`` upper bound of its share of the other outcome's accounts is at most ``max_other``;
    each outcome needs ``min_outcome`` accounts for the comparison to run. ``fields`` limits the columns tested
    (default: every column but identifiers, outcome columns and free text).
    """
    kinds = kinds or {}
    labels = outcome.combine_chunks() if isinstance(outcome, pa.ChunkedArray) else outcome
    if len(labels) != table.num_rows:
        raise ValueError(f"outcome has {len(labels)} rows but the table has {table.num_rows}")
    order = ("retained", "churned", "lost")
    code = pc.index_in(pc.cast(labels, pa.string()), value_set=pa.array(order))
    lab = np.asarray(pc.fill_null(code, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    shifted = lab + 1  # 0: no outcome, then one per outcome in ``order``
    totals = np.bincount(shifted, minlength=len(order) + 1)[1:]  # accounts per outcome
    contrasts = []
    for a_names, a_words, b_names, b_words in _CONTRASTS:
        a = np.array([x in a_names for x in order])  # outcome columns of each side
        b = np.array([x in b_names for x in order])
        if totals[a].sum() >= min_outcome and totals[b].sum() >= min_outcome:
            contrasts.append((a, a_words, b, b_words))
    if not contrasts:
        return {}
    names = fields if fields is not None else table.column_names
    out: dict[str, str] = {}
    for name in names:
        kind = kinds.get(name)
        if name in IDENTIFIER_COLUMNS or name in OUTCOME_COLUMNS or kind in (ColumnKind.ID, ColumnKind.TEXT):
            continue
        rows, codes, group_labels = _groups(table.column(name), kind)
        cls = shifted if rows is None else shifted[rows]
        g = len(group_labels)  # accounts per (group, outcome), one count for every contrast; column 0: no outcome
        counts = np.bincount(codes * 4 + cls, minlength=g * 4).reshape(g, 4)[:, 1:]
        best: tuple[float, str] | None = None
        for a, a_words, b, b_words in contrasts:
            for x, x_words, y, y_words in ((a, a_words, b, b_words), (b, b_words, a, a_words)):
                nx, ny = int(totals[x].sum()), int(totals[y].sum())
                cx, cy = counts[:, x].sum(axis=1), counts[:, y].sum(axis=1)
                hit = (cx >= min_group) & (cx >= min_share * nx)
                if not hit.any():
                    continue
                upper = _upper_bound(cy, ny, confidence)
                hit &= upper <= max_other
                for i in np.flatnonzero(hit):
                    share = cx[i] / nx
                    if best is None or share > best[0]:
                        best = (
                            share,
                            f"{_describe(group_labels[i])} on {cx[i]:,} of {nx:,} {x_words} ({share:.0%}) and "
                            f"{cy[i]:,} of {ny:,} {y_words} (at most {upper[i]:.1%} with {confidence:.0%} "
                            "confidence): it records the outcome",
                        )
        if best is not None:
            out[name] = best[1]
    return out
