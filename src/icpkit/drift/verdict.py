"""The drift report: every check on the new period, and one verdict (``stable`` / ``review`` / ``rebuild``).

Each check yields findings with a severity; the verdict is the worst one, ``stable`` when there is none:

==========================  =======================================================  ===========
check                       finding                                                  severity
==========================  =======================================================  ===========
criterion decay             a criterion weakened or stopped mattering                review
                            stopped criteria carrying >= ``decay_rebuild_points``    rebuild
win-rate divergence         an off-ICP segment matches the ICP's win rate            review
                            ... and beats it significantly                           rebuild
churn shift                 a criterion's or a fit segment's customers churn above   review
                            fit customers churn significantly above baseline         rebuild
funnel                      a step below its benchmark two quarters in a row         review
score shift                 PSI > ``psi_review`` (KS agreeing)                       review
                            PSI > ``psi_rebuild`` (KS agreeing)                      rebuild
segment mix                 PSI of the best-segment shares > ``psi_review``          review
                            (chi-square agreeing); > ``psi_rebuild``                 rebuild
==========================  =======================================================  ===========

A multi-segment spec is checked overall (every record scored against every segment, fit = its best segment's
tier) and per segment: each segment's criteria decay, its fit customers' churn and its own score shift, with the
period rescored by that segment alone. Segment findings name their segment and count toward the one verdict.
Win-rate divergence runs overall only: per segment, the other segments' accounts would look like off-ICP winners.

Every test controls its family-wise error at ``alpha`` (default 1%), so unchanged data rarely raises a false alarm
even though five checks run (measured on synthetic histories: see the tests).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, Field

from icpkit.drift.churn import ChurnShift, churn_shift
from icpkit.drift.decay import CriterionDecay, criterion_decay
from icpkit.drift.divergence import Divergence, win_rate_divergence
from icpkit.drift.funnel import DEFAULT_BENCHMARKS, FunnelCheck, funnel_conversion
from icpkit.drift.period import OPEN, PeriodData, prepare_period, rescore_period
from icpkit.drift.psi import ScoreShift, score_shift
from icpkit.ingest.schema import ColumnKind, Dataset
from icpkit.spec.io import content_hash
from icpkit.spec.model import ICPSpec

__all__ = ["DriftReport", "DriftThresholds", "Finding", "SegmentDrift", "check_drift"]

Verdict = Literal["stable", "review", "rebuild"]
_ORDER = {"stable": 0, "review": 1, "rebuild": 2}


class DriftThresholds(BaseModel):
    """Every threshold of the drift checks, with the defaults the tests measure false alarms against."""

    period_months: int = Field(default=3, ge=1, description="length of the new period, ending at as_of")
    reference_months: int = Field(default=12, ge=1, description="window before the period to compare with")
    alpha: float = Field(default=0.01, gt=0, lt=1, description="family-wise error of each check's tests")
    min_support: int = Field(default=5, ge=1, description="minimum events (wins, churns) behind a finding")
    min_closed: int = Field(default=30, ge=1, description="closed accounts a diverging segment needs")
    churn_margin: float = Field(default=0.10, ge=0, description="criterion churn above baseline by more than this")
    churn_lift: float = Field(default=1.5, ge=1, description="fit segment churn at least this x baseline")
    decay_rebuild_points: int = Field(default=40, ge=1, description="points of stopped criteria that call a rebuild")
    psi_review: float = Field(default=0.10, ge=0)
    psi_rebuild: float = Field(default=0.25, ge=0)
    min_new: int = Field(default=100, ge=1, description="new inbound records needed for the score-shift test")
    funnel_quarters: int = Field(default=4, ge=2)
    funnel_min_count: int = Field(default=30, ge=1, description="leads entering a step for its quarter to count")
    benchmarks: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_BENCHMARKS))
    fit_tiers: tuple[str, ...] = ("tier1", "tier2")


class Finding(BaseModel):
    check: str  # period | decay | divergence | churn | funnel | score_shift | segment_mix
    severity: Literal["review", "rebuild"]
    message: str
    segment: str | None = None  # the segment it is about (multi-segment spec)


class SegmentDrift(BaseModel):
    """One segment of a multi-segment spec, checked alone on the same period."""

    segment: str
    verdict: Verdict
    findings: list[Finding]
    fit_accounts: int  # accounts in this segment's own fit tiers
    best_accounts: int  # accounts whose best segment it is and that fit it
    decay: list[CriterionDecay]
    churn: ChurnShift
    score_shift: ScoreShift


class DriftReport(BaseModel):
    """What changed since the spec in force was built, the tests and counts behind it, and the verdict."""

    verdict: Verdict
    reasons: list[str]
    findings: list[Finding]
    spec_name: str
    spec_hash: str
    spec_as_of: dt.date | None
    as_of: dt.date
    period_start: dt.date
    thresholds: DriftThresholds
    decay: list[CriterionDecay]
    divergence: Divergence
    churn: ChurnShift
    funnel: FunnelCheck
    score_shift: ScoreShift
    segments: list[SegmentDrift] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return self.verdict != "stable"

    def summary(self) -> dict[str, object]:
        """The short form kept in the store's run history."""
        return {
            "verdict": self.verdict,
            "reasons": self.reasons,
            "as_of": self.as_of.isoformat(),
            "period_start": self.period_start.isoformat(),
            "psi": self.score_shift.psi,
            "decayed": [d.id for d in self.decay if d.drifted],
            "diverging_segments": [s.description for s in self.divergence.segments],
            "funnel_flags": [s.step for s in self.funnel.steps if s.flagged],
            **({"segments": {s.segment: s.verdict for s in self.segments}} if self.segments else {}),
        }


def _findings(report_parts: dict, t: DriftThresholds) -> list[Finding]:
    out: list[Finding] = []
    decay: list[CriterionDecay] = report_parts["decay"]
    stopped_points = sum(d.points for d in decay if d.status == "stopped")
    for d in decay:
        if d.drifted:
            out.append(Finding(check="decay", severity="review", message=f"{d.text}: {d.status} ({d.note})"))
    if stopped_points >= t.decay_rebuild_points:
        out.append(
            Finding(
                check="decay",
                severity="rebuild",
                message=f"criteria worth {stopped_points} points no longer separate good from bad outcomes",
            )
        )
    div: Divergence | None = report_parts.get("divergence")
    for s in div.segments if div is not None else []:
        verb = "beats" if s.beats else "matches"
        out.append(
            Finding(
                check="divergence",
                severity="rebuild" if s.beats else "review",
                message=(
                    f"off-ICP segment {s.description} {verb} the ICP's win rate: {s.win_rate:.0%} "
                    f"({s.won}/{s.closed}) vs {div.icp_win_rate:.0%} ({div.icp_won}/{div.icp_closed})"
                ),
            )
        )
    churn: ChurnShift = report_parts["churn"]
    base = churn.baseline_rate or 0.0
    if churn.fit is not None and churn.fit.flagged:
        f = churn.fit
        out.append(
            Finding(
                check="churn",
                severity="rebuild",
                message=f"fit customers churn {f.churn_rate:.1%} ({f.churned}/{f.at_risk}) vs {base:.1%} baseline",
            )
        )
    for g in [*churn.criteria, *churn.segments]:
        if g.flagged:
            out.append(
                Finding(
                    check="churn",
                    severity="review",
                    message=f"{g.name}: churn {g.churn_rate:.1%} ({g.churned}/{g.at_risk}) vs {base:.1%} baseline",
                )
            )
    for step in report_parts["funnel"].steps if "funnel" in report_parts else []:
        if step.flagged:
            out.append(Finding(check="funnel", severity="review", message=f"{step.label} {step.note}"))
    shift: ScoreShift = report_parts["score_shift"]
    mix = shift.segment_mix
    if mix is not None and mix.level in ("review", "rebuild"):
        moved = ", ".join(f"{g.group} {g.reference_share:.0%} → {g.new_share:.0%}" for g in mix.shares)
        out.append(
            Finding(
                check="segment_mix",
                severity=mix.level,  # type: ignore[arg-type]
                message=f"new inbound {shift.population} spread differently over the segments: {moved} "
                f"(PSI {mix.psi:.3f}, chi-square p={mix.chi2_p:.2g})",
            )
        )
    if shift.level in ("review", "rebuild"):
        out.append(
            Finding(
                check="score_shift",
                severity=shift.level,  # type: ignore[arg-type]
                message=(
                    f"new inbound {shift.population} score differently: PSI {shift.psi:.3f}, "
                    f"KS {shift.ks_statistic:.3f} (p={shift.ks_p:.2g}), n={shift.n_new} vs {shift.n_reference}"
                ),
            )
        )
    return out


def check_drift(
    spec: ICPSpec,
    data: Dataset | pa.Table,
    *,
    deals: pa.Table | None = None,
    subscriptions: pa.Table | None = None,
    leads: pa.Table | None = None,
    as_of: dt.date | None = None,
    thresholds: DriftThresholds | None = None,
    cohort_params: dict[str, object] | None = None,
    kinds: dict[str, ColumnKind] | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> DriftReport:
    """Run every drift check of the spec in force on newer data and return the report with its verdict.

    ``cohort_params`` are the build's cohort definitions (``top_share``, ``expansion_is_high_value``, ``value``),
    e.g. from the store's build parameters, so "high-value retained" means what it meant at build time.
    """
    t = thresholds or DriftThresholds()
    tell = progress or (lambda stage, fraction: None)
    if isinstance(data, Dataset):
        deals = data.deals if deals is None else deals
        subscriptions = data.subscriptions if subscriptions is None else subscriptions
        leads = data.leads if leads is None else leads
        kinds = kinds or data.kinds.get("accounts")
        accounts = data.accounts
    else:
        accounts = data
    tell("cohorts and scores of the period", 0.0)
    period = prepare_period(
        spec,
        accounts,
        deals=deals,
        subscriptions=subscriptions,
        as_of=as_of,
        period_months=t.period_months,
        fit_tiers=t.fit_tiers,
        cohort_params=cohort_params,
        kinds=kinds,
    )
    tell("criterion decay", 0.25)
    decay = criterion_decay(
        spec, period, deals=deals, reference_months=t.reference_months, alpha=t.alpha, min_support=t.min_support
    )
    tell("win-rate divergence", 0.45)
    div = win_rate_divergence(period, alpha=t.alpha, min_closed=t.min_closed, min_support=t.min_support)
    tell("churn shift", 0.65)
    churn = churn_shift(
        spec, period, alpha=t.alpha, margin=t.churn_margin, churn_lift=t.churn_lift, min_support=t.min_support
    )
    tell("funnel", 0.8)
    funnel = funnel_conversion(
        leads,
        as_of=period.as_of,
        quarters=t.funnel_quarters,
        benchmarks=t.benchmarks,
        min_count=t.funnel_min_count,
        alpha=t.alpha,
    )
    tell("score distribution", 0.9)
    shift = score_shift(
        spec,
        period,
        deals=deals,
        leads=leads,
        reference_months=t.reference_months,
        psi_review=t.psi_review,
        psi_rebuild=t.psi_rebuild,
        alpha=t.alpha,
        min_new=t.min_new,
    )
    parts = {"decay": decay, "divergence": div, "churn": churn, "funnel": funnel, "score_shift": shift}
    findings = [*_empty_period(period), *_findings(parts, t)]
    segments = []
    if spec.segments is not None:
        tell("segments", 0.95)
        segments = _segment_checks(spec, period, deals, leads, t)
        findings += [f for s in segments for f in s.findings]
    verdict = _worst(findings)
    reasons = [f.message for f in sorted(findings, key=lambda f: -_ORDER[f.severity])]
    notes = list(period.notes)
    for part in (div.note, churn.note, funnel.note, shift.note):
        if part:
            notes.append(part)
    tell("done", 1.0)
    return DriftReport(
        verdict=verdict,
        reasons=reasons,
        findings=findings,
        spec_name=spec.name,
        spec_hash=content_hash(spec),
        spec_as_of=spec.as_of,
        as_of=period.as_of,
        period_start=period.period_start,
        thresholds=t,
        decay=decay,
        divergence=div,
        churn=churn,
        funnel=funnel,
        score_shift=shift,
        segments=segments,
        notes=notes,
    )


def _empty_period(period: PeriodData) -> list[Finding]:
    """A period in which nothing happened (no deal won or lost, nobody became a customer or churned) cannot show
    the spec is still right: every test would pass for want of data, which is not stability."""
    if period.closed.any() or period.churned.any() or (period.learning != OPEN).any():
        return []
    return [
        Finding(
            check="period",
            severity="review",
            message=(
                f"the period {period.period_start} to {period.as_of} holds no outcome (no deal won or lost, no new "
                "customer, no churn): nothing to check the ICP against — is --as-of past the end of the data, or "
                "is the export missing the period?"
            ),
        )
    ]


def _worst(findings: list[Finding]) -> Verdict:
    verdict: Verdict = "stable"
    for f in findings:
        if _ORDER[f.severity] > _ORDER[verdict]:
            verdict = f.severity
    return verdict


def _segment_checks(
    spec: ICPSpec, period: PeriodData, deals: pa.Table | None, leads: pa.Table | None, t: DriftThresholds
) -> list[SegmentDrift]:
    """Decay, churn and score shift of each segment alone, on the period rescored by that segment."""
    best = np.asarray(period.scored.column("segment").to_numpy(zero_copy_only=False), dtype=object)
    out = []
    for name, seg in spec.segment_specs():
        sub = rescore_period(period, seg, t.fit_tiers)
        decay = criterion_decay(
            seg, sub, deals=deals, reference_months=t.reference_months, alpha=t.alpha, min_support=t.min_support
        )
        churn = churn_shift(
            seg, sub, alpha=t.alpha, margin=t.churn_margin, churn_lift=t.churn_lift, min_support=t.min_support
        )
        shift = score_shift(
            seg, sub, deals=deals, leads=leads, reference_months=t.reference_months, psi_review=t.psi_review,
            psi_rebuild=t.psi_rebuild, alpha=t.alpha, min_new=t.min_new,
        )  # fmt: skip
        parts = {"decay": decay, "churn": churn, "score_shift": shift}  # divergence and funnel: overall only
        findings = [
            f.model_copy(update={"segment": name, "message": f"segment {name}: {f.message}"})
            for f in _findings(parts, t)
        ]
        out.append(
            SegmentDrift(
                segment=name,
                verdict=_worst(findings),
                findings=findings,
                fit_accounts=int(sub.fit.sum()),
                best_accounts=int((period.fit & (best == name)).sum()),
                decay=decay,
                churn=churn,
                score_shift=shift,
            )
        )
    return out
