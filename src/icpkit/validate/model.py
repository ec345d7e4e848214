"""What a validation reports, as pydantic models: what ``icpkit validate --json`` prints and the report renders."""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

from pydantic import BaseModel, Field

from icpkit.validate.metrics import Estimate

__all__ = [
    "Comparison",
    "Figure",
    "HoldoutFigures",
    "LeadsCheck",
    "SegmentValidation",
    "TargetsCheck",
    "TierRow",
    "ValidationReport",
    "Verdict",
]

Status = Literal["pass", "weak", "fail", "unknown"]


def _num(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


class Figure(BaseModel):
    """One figure with its 95% interval and the counts behind it (``None`` where the data cannot give one)."""

    value: float | None = None
    low: float | None = None
    high: float | None = None
    n: int = Field(0, description="accounts the figure stands on")
    events: int | None = Field(None, description="wins, churns… counted among them")
    method: str = ""

    @classmethod
    def of(cls, est: Estimate, n: int, events: int | None = None, method: str = "") -> Figure:
        return cls(value=_num(est.value), low=_num(est.low), high=_num(est.high), n=n, events=events, method=method)

    @property
    def known(self) -> bool:
        return self.value is not None


class Comparison(BaseModel):
    """Fit vs non-fit on one measure; ``contrast`` is fit / non-fit (a difference for revenue retention)."""

    metric: Literal["win_rate", "cycle_days", "churn_rate", "nrr", "deal_size"]
    label: str
    fit: Figure
    non_fit: Figure
    contrast: Figure | None = None
    contrast_kind: Literal["ratio", "difference"] = "ratio"
    available: bool = True
    note: str = ""


class TierRow(BaseModel):
    """Held-out figures of one tier."""

    tier: str
    accounts: int
    win_rate: Figure
    churn_rate: Figure
    median_cycle_days: Figure
    nrr: Figure


class HoldoutFigures(BaseModel):
    """How one spec (or one spec per fold) did on the held-out accounts."""

    source: Literal["rebuilt", "under_test"]
    label: str
    spec_name: str
    spec_hash: str | None = None
    in_sample: bool = False
    judged: int
    fit: int
    non_fit: int
    fit_tiers: list[str]
    comparisons: list[Comparison]
    tiers: list[TierRow]
    criteria: list[str] = Field(default_factory=list, description="criteria in plain words (per fold: how often)")

    def comparison(self, metric: str) -> Comparison:
        return next(c for c in self.comparisons if c.metric == metric)


class Verdict(BaseModel):
    """A plain-words judgement of one check against the published expectation."""

    check: str
    status: Status
    message: str
    expectation: str = ""


class LeadsCheck(BaseModel):
    """Share of inbound leads the spec routes to sales (tiers 1–2): 5–30% is the healthy band."""

    leads: int
    fit: int
    share: Figure
    band: tuple[float, float]
    status: Literal["healthy", "too_loose", "too_narrow"]
    message: str
    suggestion: str = ""
    segments: dict[str, int] = Field(
        default_factory=dict, description="multi-segment spec: leads in tiers 1–2 per best segment"
    )


class TargetsCheck(BaseModel):
    """Size of the new target-account list from the universe: 500–5,000 is the healthy band."""

    targets: int
    band: tuple[int, int]
    status: Literal["healthy", "too_many", "too_few"]
    message: str
    suggestions: list[str] = Field(default_factory=list)


class SegmentValidation(BaseModel):
    """One segment of a multi-segment spec on the held-out accounts.

    Each account counts in its best segment. The segment's fit accounts (best segment is this one, tier 1–2) are
    compared with every non-fit account (no segment routes it to sales), so segments share one baseline and their
    fit groups add up to the overall fit group.
    """

    segment: str
    source: Literal["rebuilt", "under_test"]
    accounts: int = Field(description="held-out judged accounts whose best segment is this one, whatever the tier")
    share: float | None = Field(None, description="their share of the held-out judged accounts")
    figures: HoldoutFigures
    verdicts: list[Verdict] = Field(default_factory=list)
    passed: bool = True


class ValidationReport(BaseModel):
    """A backtest on held-out data, the narrowness checks and the verdicts, for people and scripts alike."""

    method: Literal["time", "kfold"]
    as_of: dt.date
    cutoff: dt.date | None = None
    folds: int | None = None
    held_share: float | None = None
    split_basis: str = ""
    train: dict[str, int] = Field(default_factory=dict)
    held_out: dict[str, int] = Field(default_factory=dict)
    rebuilt: HoldoutFigures | None = None
    under_test: HoldoutFigures | None = None
    build_error: str | None = None
    no_signal: bool = False
    verdicts: list[Verdict] = Field(default_factory=list)
    leads: LeadsCheck | None = None
    targets: TargetsCheck | None = None
    segments: list[SegmentValidation] = Field(
        default_factory=list, description="per segment, when the rebuild or the spec under test has segments"
    )
    notes: list[str] = Field(default_factory=list)
    passed: bool = True

    def verdict(self, check: str) -> Verdict:
        return next(v for v in self.verdicts if v.check == check)
