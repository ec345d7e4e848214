"""``ICPBuilder``: CRM tables in, an ICP spec with its evidence out — cohorts and discovery in one call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pyarrow as pa

from icpkit.cohorts import TOP_SHARE, CohortResult, assign_cohorts
from icpkit.discover.discoverer import Discoverer, Progress, shares_of_tiers
from icpkit.frames import TableLike, as_arrow
from icpkit.ingest.schema import ColumnKind, Dataset
from icpkit.spec.model import ICPSpec

__all__ = ["BuildResult", "ICPBuilder"]


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

    def tier_shares(self, *, lead: bool = False) -> dict[str, float]:
        """Share of accounts in each tier (excluded and none included), from the build's own scores.

        ``lead=True``: as a new lead would be scored, behavioural criteria unknown (``lead_scores``).
        """
        scores = self.lead_scores if lead else self.scores
        return shares_of_tiers(scores, self.discoverer.excluded_, self.spec.tiers)


class ICPBuilder:
    """Build an ICP from CRM history. Parameters: the cohort definitions, then discovery's (see ``Discoverer``)."""

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
        )
