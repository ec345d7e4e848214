"""Is the ICP too loose or too narrow? The share of inbound leads it routes to sales, and the target-list size.

- Leads: tiers 1–2 should hold 5–30% of inbound leads. Above, sales drowns in "fit" leads and the ICP does not
  discriminate; below, it starves sales. The advice names the tier-2 minimum score that would bring the share
  back into the band, computed on the leads themselves.
- Target list: 500–5,000 new accounts is workable for sales and ABM; the sizing funnel
  (:func:`icpkit.size.size_universe`) already says which way to move, so its health is reused as is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pyarrow as pa

from icpkit.score.vector import score_table
from icpkit.size.funnel import SizingReport
from icpkit.spec.model import ICPSpec
from icpkit.validate.metrics import Estimate, wilson
from icpkit.validate.model import Figure, LeadsCheck, TargetsCheck

__all__ = ["LEADS_BAND", "lead_share_check", "leads_check", "targets_check"]

LEADS_BAND = (0.05, 0.30)


def _share_at(scores: np.ndarray) -> np.ndarray:
    """``share[s]`` = share of leads scoring at least ``s`` (s = 0..100); excluded leads carry -1 and never count."""
    counts = np.bincount(scores[scores >= 0].astype(np.int64), minlength=101)[:101]
    return counts[::-1].cumsum()[::-1] / max(scores.size, 1)


def lead_share_check(
    scores: np.ndarray,
    tiers: np.ndarray,
    spec: ICPSpec,
    band: tuple[float, float] = LEADS_BAND,
    segments: np.ndarray | None = None,
) -> LeadsCheck:
    """The narrowness verdict from already-scored leads (``scores`` and ``tiers`` arrays).

    With a multi-segment spec, ``segments`` holds each lead's best segment: the leads reaching tiers 1–2 are
    counted per segment, and the advice moves every segment's tier-2 minimum by the same number of points
    (computed on each lead's score above its own segment's minimum).
    """
    n = int(tiers.size)
    routed = np.isin(tiers, ("tier1", "tier2"))
    fit = int(routed.sum())
    lo_b, hi_b = band
    share = fit / n if n else float("nan")
    lo, hi = wilson(fit, n)
    fig = Figure.of(Estimate(share, float(lo), float(hi)), n, fit, "wilson")
    if spec.segments is not None and segments is not None:
        per = {name: int((routed & (segments == name)).sum()) for name, _ in spec.segment_specs()}
        check = _segmented_check(scores, tiers, spec, band, segments, fig, fit)
        return check.model_copy(update={"segments": per})
    t2 = spec.tiers.tier2
    eligible = np.where(tiers == "excluded", -1, scores)
    if n == 0:
        return LeadsCheck(leads=0, fit=0, share=fig, band=band, status="healthy", message="no leads to judge")
    pct = f"{share:.0%} of {n:,} inbound leads ({fit:,}) reach tier 1–2"

    def advise(status: str) -> str:
        share_at = _share_at(eligible)
        ok = np.flatnonzero((share_at >= lo_b) & (share_at <= hi_b))
        if status == "too_loose":
            up = ok[ok > t2]
            return (
                f"raise the tier-2 minimum from {t2} to {int(up[0])} (that routes ≤{hi_b:.0%} of these leads to sales)"
                if up.size
                else "no tier-2 minimum lands in the band (too many leads share the same scores): add criteria or "
                "exclusions that separate them"
            )
        down = ok[ok < t2]  # the highest threshold under t2 that lands in the band
        return (
            f"lower the tier-2 minimum from {t2} to {int(down[-1])} (that routes ≥{lo_b:.0%} of these leads to sales)"
            if down.size and down[-1] > 0
            else "loosen criteria (wider bands or more values): too few leads score at all"
        )

    return _verdict(n, fit, fig, band, pct, advise)


def _verdict(
    n: int, fit: int, fig: Figure, band: tuple[float, float], pct: str, advise: Callable[[str], str]
) -> LeadsCheck:
    """The band's three verdicts, worded once; ``advise(status)`` says what to change when outside it."""
    lo_b, hi_b = band
    if fig.value > hi_b:
        status = "too_loose"
        message = f"too loose: {pct}, above the {hi_b:.0%} ceiling; sales would chase accounts that rarely win"
    elif fig.value < lo_b:
        status = "too_narrow"
        message = f"too narrow: {pct}, below the {lo_b:.0%} floor; the ICP starves sales of pipeline"
    else:
        message = f"healthy: {pct}, inside the {lo_b:.0%}–{hi_b:.0%} band"
        return LeadsCheck(leads=n, fit=fit, share=fig, band=band, status="healthy", message=message)
    return LeadsCheck(leads=n, fit=fit, share=fig, band=band, status=status, message=message, suggestion=advise(status))


def _segmented_check(
    scores: np.ndarray,
    tiers: np.ndarray,
    spec: ICPSpec,
    band: tuple[float, float],
    segments: np.ndarray,
    fig: Figure,
    fit: int,
) -> LeadsCheck:
    """:func:`lead_share_check` for several segments: thresholds move by the same points in every segment."""
    n = int(tiers.size)
    lo_b, hi_b = band
    if n == 0:
        return LeadsCheck(leads=0, fit=0, share=fig, band=band, status="healthy", message="no leads to judge")
    t2 = np.zeros(n, dtype=np.int64)
    for name, seg in spec.segment_specs():
        t2[segments == name] = seg.tiers.tier2
    margin = np.where(tiers == "excluded", -1000, scores - t2)  # points above the best segment's tier-2 minimum
    shifts = np.arange(-100, 101)
    share_at = (margin[None, :] >= shifts[:, None]).sum(axis=1) / n  # share routed if every minimum moved by d
    pct = f"{fig.value:.0%} of {n:,} inbound leads ({fit:,}) reach tier 1–2 of a segment"
    ok = shifts[(share_at >= lo_b) & (share_at <= hi_b)]

    def advise(status: str) -> str:
        if status == "too_loose":
            up = ok[ok > 0]
            return (
                f"raise every segment's tier-2 minimum by {int(up[0])} points (that routes ≤{hi_b:.0%} of these leads)"
                if up.size
                else "no shift of the tier-2 minimums lands in the band: add criteria or exclusions that separate them"
            )
        down = ok[ok < 0]
        return (
            f"lower every segment's tier-2 minimum by {-int(down[-1])} points (that routes ≥{lo_b:.0%} of these leads)"
            if down.size
            else "loosen criteria (wider bands or more values): too few leads score at all"
        )

    return _verdict(n, fit, fig, band, pct, advise)


def leads_check(
    spec: ICPSpec, leads: pa.Table, *, as_of: dt.date | None = None, band: tuple[float, float] = LEADS_BAND
) -> LeadsCheck:
    """Score ``leads`` with ``spec`` and judge the share routed to sales (tiers 1–2)."""
    scored = score_table(spec, leads, as_of=as_of or spec.as_of, explain=False)
    tiers = np.asarray(scored.column("tier").to_numpy(zero_copy_only=False), dtype=object)
    scores = np.asarray(scored.column("score").to_numpy(zero_copy_only=False), dtype=np.int64)
    segments = None
    if spec.segments is not None:
        segments = np.asarray(scored.column("segment").to_numpy(zero_copy_only=False), dtype=object)
    return lead_share_check(scores, tiers, spec, band, segments)


def targets_check(report: SizingReport) -> TargetsCheck:
    """The target-list verdict, from a sizing report's health."""
    h = report.health
    return TargetsCheck(
        targets=h.targets, band=h.band, status=h.status, message=h.message, suggestions=list(h.suggestions)
    )
