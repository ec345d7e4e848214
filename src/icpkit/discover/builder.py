"""``ICPBuilder``: CRM tables in, an ICP spec with its evidence out — cohorts and discovery in one call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa

from icpkit.cohorts import COHORTS, TOP_SHARE, CohortResult, assign_cohorts
from icpkit.discover.discoverer import Discoverer, Progress, shares_of_tiers
from icpkit.discover.leakage import LeftOutField, account_outcomes, field_key, leakage_by_evidence, leakage_by_rule
from icpkit.discover.profile import FieldProfile
from icpkit.errors import DataError, InputError
from icpkit.frames import TableLike, as_arrow
from icpkit.ingest.schema import IDENTIFIER_COLUMNS, OUTCOME_COLUMNS, ColumnKind, Dataset
from icpkit.spec.model import ICPSpec

__all__ = ["LEAKAGE_NOTE", "BuildResult", "ICPBuilder", "find_leakage", "leakage_of", "left_out_fields"]

_NEVER_CLOSED = COHORTS.index("never_closed")
LEAKAGE_NOTE = "left out as leakage"  # how the build's note on leaked fields begins
_ROLE_REASONS = {
    "identifier": "identifies a record, not a kind of company",
    "outcome": "the outcome discovery learns from (value, churn, close dates, stage, amount)",
    "free_text": "free text with mostly unique values",
    "constant": "the same value on every account",
    "unsupported": "a type discovery cannot use",
}


@dataclass
class BuildResult:
    """What a build produced: the spec, the cohorts it learned from, the evidence appendix and plain notes."""

    spec: ICPSpec
    cohorts: CohortResult
    candidates: pa.Table  # every candidate tested, with evidence and what became of it
    notes: list[str]
    no_signal: bool
    discoverer: Discoverer
    behavior: pa.Table | None = None  # deal-derived attributes per account, in account order
    scores: np.ndarray | None = None  # score of every account, in account order
    meta: dict[str, object] = field(default_factory=dict)
    lead_scores: np.ndarray | None = None  # the same with behavioural criteria unknown, as a new lead is scored
    left_out: list[LeftOutField] = field(default_factory=list)  # every field discovery did not use, and why

    def leaked(self) -> list[str]:
        """Fields left out as leakage (by rule or by evidence): what discovery and its re-fits must not see."""
        return [f.field for f in self.left_out if f.kind in ("leakage_rule", "leakage_evidence")]

    def tier_shares(self, *, lead: bool = False) -> dict[str, float]:
        """Share of accounts in each tier (excluded and none included), from the build's own scores.

        ``lead=True``: as a new lead would be scored, behavioural criteria unknown (``lead_scores``).
        """
        scores = self.lead_scores if lead else self.scores
        return shares_of_tiers(scores, self.discoverer.excluded_, self.spec.tiers)


class ICPBuilder:
    """Build an ICP from CRM history. Parameters: the cohort definitions, then discovery's (see ``Discoverer``).

    Account fields that record the outcome are left out first (``find_leakage``); ``allow`` names the ones to keep.
    """

    def __init__(
        self,
        *,
        name: str = "icp",
        as_of: dt.date | None = None,
        window_months: int = 24,
        top_share: float = TOP_SHARE,
        expansion_is_high_value: bool = True,
        value: Literal["arr", "ltv"] = "arr",
        min_signal: int = 30,
        min_support: int = 5,
        fdr: float = 0.05,
        max_per_layer: int = 5,
        low_value_weight: float = 0.5,
        max_conjunctions: int = 3,
        behavioral: bool = True,
        tier_shares: tuple[float, float, float] = (0.05, 0.15, 0.30),
        max_behavioral_share: float = 0.20,
        allow: tuple[str, ...] = (),
        progress: Progress | None = None,
    ) -> None:
        self.name = name
        self.as_of = as_of
        self.window_months = window_months
        self.top_share = top_share
        self.expansion_is_high_value = expansion_is_high_value
        self.value = value
        self.min_signal = min_signal
        self.min_support = min_support
        self.fdr = fdr
        self.max_per_layer = max_per_layer
        self.low_value_weight = low_value_weight
        self.max_conjunctions = max_conjunctions
        self.behavioral = behavioral
        self.tier_shares = tier_shares
        self.max_behavioral_share = max_behavioral_share
        self.allow = tuple(allow)
        self.progress = progress

    def fit(
        self,
        accounts: TableLike | Dataset,
        deals: TableLike | None = None,
        subscriptions: TableLike | None = None,
        *,
        kinds: dict[str, ColumnKind] | None = None,
    ) -> BuildResult:
        """Assign cohorts, discover criteria and exclusions, and return the spec with its evidence.

        Tables are Arrow tables or pandas DataFrames. Raises ``InsufficientSignalError`` when too few accounts are
        high-value retained to learn from.
        """
        if isinstance(accounts, Dataset):
            ds = accounts
            deals = ds.deals if deals is None else deals
            subscriptions = ds.subscriptions if subscriptions is None else subscriptions
            kinds = kinds or ds.kinds.get("accounts")
            accounts = ds.accounts
        accounts = as_arrow(accounts, "accounts")  # a pandas DataFrame too
        deals = None if deals is None else as_arrow(deals, "deals")
        subscriptions = None if subscriptions is None else as_arrow(subscriptions, "subscriptions")
        cohorts = assign_cohorts(
            accounts,
            deals=deals,
            subscriptions=subscriptions,
            as_of=self.as_of,
            window_months=self.window_months,
            top_share=self.top_share,
            expansion_is_high_value=self.expansion_is_high_value,
            value=self.value,
            min_signal=self.min_signal,
        )
        leaks, allow_notes = find_leakage(accounts, cohorts, kinds=kinds, allow=self.allow)
        if leaks:
            accounts = accounts.drop_columns([f.field for f in leaks])
        disc = Discoverer(
            min_support=self.min_support,
            fdr=self.fdr,
            max_per_layer=self.max_per_layer,
            low_value_weight=self.low_value_weight,
            max_conjunctions=self.max_conjunctions,
            behavioral=self.behavioral,
            tier_shares=self.tier_shares,
            max_behavioral_share=self.max_behavioral_share,
            progress=self.progress,
        ).fit(accounts, cohorts, deals=deals, kinds=kinds)
        spec = disc.to_spec(self.name, as_of=cohorts.as_of)
        notes = [f"cohorts as of {cohorts.as_of}: {cohorts.summary()}", *cohorts.notes, *disc.notes_]
        if leaks:
            notes.append(
                f"{LEAKAGE_NOTE}, they record the outcome (--allow FIELD brings one back): "
                + "; ".join(f"{f.field} ({f.reason})" for f in leaks)
            )
        notes += allow_notes
        return BuildResult(
            spec=spec,
            cohorts=cohorts,
            candidates=disc.candidates_table(),
            notes=notes,
            no_signal=disc.no_signal_,
            discoverer=disc,
            behavior=disc.behavior_,
            scores=disc.scores_,
            lead_scores=disc.lead_scores_,
            left_out=left_out_fields(disc.profiles_, leaks),
        )


def find_leakage(
    accounts: pa.Table,
    cohorts: CohortResult,
    *,
    kinds: dict[str, ColumnKind] | None = None,
    allow: tuple[str, ...] = (),
) -> tuple[list[LeftOutField], list[str]]:
    """Account fields that record the outcome, by rule then by evidence, less the ones ``allow`` brings back.

    ``allow`` names fields as the build lists them (``lifecycle_stage``) or as the export's header
    (``Lifecycle Stage``); a name that is no account field is an error, one that was not left out a note.
    """
    by_key = {field_key(c): c for c in accounts.column_names}
    allowed: set[str] = set()
    notes: list[str] = []
    for name in allow:
        column = name if name in accounts.column_names else by_key.get(field_key(name))
        if column is None:
            raise InputError(
                f"--allow '{name}': the accounts have no such field; fields are named as build and inspect list them"
            )
        if column in IDENTIFIER_COLUMNS or column in OUTCOME_COLUMNS:
            raise InputError(
                f"--allow '{name}': '{column}' identifies a record or is the outcome itself and is never a criterion"
            )
        allowed.add(column)
    rule = leakage_by_rule(accounts.column_names)
    customer = cohorts.customer
    outcome = account_outcomes(customer, cohorts.churned, cohorts.codes == _NEVER_CLOSED)
    rest = [c for c in accounts.column_names if c not in rule]
    evidence = leakage_by_evidence(accounts, outcome, kinds=kinds, fields=rest)
    leaks = [LeftOutField(field=c, kind="leakage_rule", reason=r) for c, r in rule.items() if c not in allowed]
    leaks += [LeftOutField(field=c, kind="leakage_evidence", reason=r) for c, r in evidence.items() if c not in allowed]
    for column in sorted(allowed):
        if column in rule or column in evidence:
            notes.append(f"{column} was allowed back into discovery (--allow), although it may record the outcome")
        else:
            notes.append(f"--allow {column}: it was not left out as leakage, nothing to bring back")
    return leaks, notes


def leakage_of(dataset: Dataset, *, window_months: int = 24) -> tuple[list[LeftOutField], str | None]:
    """What a build would leave out as leakage, before building (for ``inspect``), and why evidence could not run.

    The evidence test needs outcomes: when the data gives no customer or no lost account, only the rules apply.
    """
    try:
        cohorts = assign_cohorts(dataset, window_months=window_months, min_signal=1)
    except DataError as exc:
        rule = leakage_by_rule(dataset.accounts.column_names)
        leaks = [LeftOutField(field=c, kind="leakage_rule", reason=r) for c, r in rule.items()]
        return leaks, f"by rule only: outcomes are needed for the evidence test ({str(exc).split(':')[0]})"
    leaks, _ = find_leakage(dataset.accounts, cohorts, kinds=dataset.kinds.get("accounts"))
    return leaks, None


def left_out_fields(profiles: list[FieldProfile], leaks: list[LeftOutField]) -> list[LeftOutField]:
    """One list of every field discovery did not use: leakage first, then discovery's own reasons."""
    out = list(leaks)
    for p in profiles:
        if p.role == "candidate":
            continue
        if p.role == "sparse":
            reason = f"known for only {p.coverage:.1%} of accounts"
        else:
            reason = _ROLE_REASONS.get(p.role, p.role.replace("_", " "))
        kind = p.role if p.role in _ROLE_REASONS or p.role == "sparse" else "unsupported"
        out.append(LeftOutField(field=p.name, kind=kind, reason=reason))  # type: ignore[arg-type]
    return out
