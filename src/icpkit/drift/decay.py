"""Criterion decay: does each criterion still separate good outcomes from bad ones in the new period?

Two measures per criterion, each a lift (risk ratio) among the accounts where the criterion's field is known
(missing is unknown, never a "no", as in discovery):

- **signal lift**, discovery's own evidence re-measured: high-value retained accounts among the accounts whose
  outcome happened in the period, against the build-time evidence stored in the spec (its interval gives the
  build-time standard error). A quarter holds few new high-value customers, so this test has little power alone.
- **win-rate lift**: accounts won among accounts closed (won or lost) in the period, against the same measure on
  the ``reference_months`` before the period in the same data. Many more accounts close than become high-value,
  so this is the sharper test; it needs deals with close dates.

A change is the two-sided z test of the difference of log lifts (``drift.stats.log_ratio_change``). The smaller
of a criterion's two p-values, doubled (Bonferroni over the two measures), is adjusted by Holm over the criteria,
so a stable ICP reports a change with probability at most ``alpha``. A criterion whose lift fell significantly
has ``weakened``; when its interval now also includes 1 it has ``stopped`` mattering. A significant rise is
``strengthened`` (reported, never drift). An interval that now includes 1 without a significant fall is
``inconclusive``: too few accounts in the period to tell, not drift.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from icpkit.discover.stats import holm, lift_interval
from icpkit.drift.period import SIGNAL, PeriodData, closed_in_window, months_before
from icpkit.drift.stats import log_ratio_change, se_from_interval
from icpkit.spec.model import ICPSpec
from icpkit.words import criterion_text

__all__ = ["CriterionDecay", "LiftMeasure", "criterion_decay"]


class LiftMeasure(BaseModel):
    """A lift with the counts behind it: ``hits`` of ``matching`` accounts vs ``total_hits`` of ``total``."""

    hits: int | None = None
    matching: int | None = None
    total_hits: int | None = None
    total: int | None = None
    lift: float | None = None
    lift_low: float | None = None
    lift_high: float | None = None


class CriterionDecay(BaseModel):
    id: str
    layer: str
    text: str
    points: int
    build_signal: LiftMeasure | None
    now_signal: LiftMeasure
    reference_win: LiftMeasure | None
    now_win: LiftMeasure | None
    p_signal: float | None
    p_win: float | None
    p_adjusted: float | None  # Holm over the criteria, after Bonferroni over the two measures
    status: str  # holds | weakened | stopped | strengthened | inconclusive | untested
    note: str = ""

    @property
    def drifted(self) -> bool:
        return self.status in ("weakened", "stopped")


def _f(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def _counts(yes: np.ndarray, unknown: np.ndarray, hit: np.ndarray, pop: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per criterion: hits among matching, matching, hits among known, known (all within ``pop``)."""
    known = (~unknown & pop[:, None]).astype(np.int64)
    match = (yes & pop[:, None]).astype(np.int64)
    h = (hit & pop).astype(np.int64)
    return h @ match, match.sum(0), h @ known, known.sum(0)


def _measures(counts: tuple[np.ndarray, ...]) -> tuple[list[LiftMeasure], np.ndarray, np.ndarray]:
    a, n1, s, n = counts
    lift, lo, hi = lift_interval(a, n1, s, n)
    out = [
        LiftMeasure(
            hits=int(a[j]),
            matching=int(n1[j]),
            total_hits=int(s[j]),
            total=int(n[j]),
            lift=_f(lift[j]),
            lift_low=_f(lo[j]),
            lift_high=_f(hi[j]),
        )
        for j in range(a.size)
    ]
    return out, lift, se_from_interval(lo, hi)


def criterion_decay(
    spec: ICPSpec,
    period: PeriodData,
    *,
    deals=None,
    reference_months: int = 12,
    alpha: float = 0.01,
    min_support: int = 5,
) -> list[CriterionDecay]:
    """Each criterion's lift re-measured in the period and tested against the build and the reference window."""
    crits = spec.criteria()
    if not crits:
        return []
    yes, unknown = period.yes, period.unknown
    learn = period.learning < 4
    sig_now, sig_lift, sig_se = _measures(_counts(yes, unknown, period.learning == SIGNAL, learn))

    build_lift = np.full(len(crits), np.nan)
    build_se = np.full(len(crits), np.nan)
    build: list[LiftMeasure | None] = []
    for j, (_, c) in enumerate(crits):
        ev = c.evidence
        if ev is None or ev.lift is None:
            build.append(None)
            continue
        build.append(
            LiftMeasure(hits=ev.support, matching=ev.n, lift=ev.lift, lift_low=ev.lift_low, lift_high=ev.lift_high)
        )
        if ev.lift_low is not None and ev.lift_high is not None and ev.lift_low > 0:
            build_lift[j] = ev.lift
            build_se[j] = se_from_interval(ev.lift_low, ev.lift_high)
    enough_sig = np.array([m.hits is not None and m.total_hits >= min_support for m in sig_now])
    _, p_sig = log_ratio_change(build_lift, build_se, sig_lift, sig_se)
    p_sig = np.where(enough_sig, p_sig, np.nan)

    ref_win: list[LiftMeasure | None] = [None] * len(crits)
    now_win: list[LiftMeasure | None] = [None] * len(crits)
    p_win = np.full(len(crits), np.nan)
    win_lift = np.full(len(crits), np.nan)
    win_lo = np.full(len(crits), np.nan)
    closed = period.closed
    if closed.any() and deals is not None:
        ref_start = months_before(period.period_start, reference_months)
        r_won, r_lost = closed_in_window(period.accounts, deals, ref_start, period.period_start)
        now_m, win_lift, win_se = _measures(_counts(yes, unknown, period.won, closed))
        ref_m, ref_lift, ref_se = _measures(_counts(yes, unknown, r_won, r_won | r_lost))
        _, p_win = log_ratio_change(ref_lift, ref_se, win_lift, win_se)
        enough = np.array([m.total_hits >= min_support and m.matching >= min_support for m in now_m])
        p_win = np.where(enough, p_win, np.nan)
        win_lo = np.array([np.nan if m.lift_low is None else m.lift_low for m in now_m])
        ref_win, now_win = list(ref_m), list(now_m)

    # Bonferroni over the two measures, then Holm over the criteria
    both = np.vstack([p_sig, p_win])
    n_tests = np.sum(~np.isnan(both), axis=0)
    smallest = np.where(np.isnan(both), np.inf, both).min(axis=0)
    p_min = np.full(smallest.shape, np.nan)
    some = n_tests > 0
    p_min[some] = np.minimum(smallest[some] * n_tests[some], 1.0)
    q = np.full(p_min.shape, np.nan)
    tested = ~np.isnan(p_min)
    q[tested] = holm(p_min[tested])

    out: list[CriterionDecay] = []
    for j, ((layer, c), cid) in enumerate(zip(crits, period.criterion_ids, strict=True)):
        # direction and "interval includes 1" come from the measure that carried the smaller p
        use_win = not np.isnan(p_win[j]) and (np.isnan(p_sig[j]) or p_win[j] <= p_sig[j])
        if use_win:
            then, now, low_now = ref_win[j].lift, now_win[j].lift, win_lo[j]
        else:
            then, now, low_now = build_lift[j], sig_lift[j], sig_now[j].lift_low
        if np.isnan(q[j]):
            status, note = "untested", "too few accounts with an outcome in the period to re-measure"
        elif q[j] <= alpha and now is not None and then is not None and now < then:
            stopped = low_now is None or not np.isfinite(low_now) or low_now <= 1.0
            status = "stopped" if stopped else "weakened"
            what = "win-rate" if use_win else "signal"
            note = f"{what} lift {then:.2f} -> {now:.2f}" + (" (interval now includes 1)" if stopped else "")
        elif q[j] <= alpha:
            status, note = "strengthened", "lift rose in the period"
        elif low_now is None or not np.isfinite(low_now) or low_now <= 1.0:
            status, note = "inconclusive", "interval includes 1, but the fall is not significant"
        else:
            status, note = "holds", ""
        out.append(
            CriterionDecay(
                id=cid,
                layer=layer,
                text=criterion_text(c),
                points=c.points,
                build_signal=build[j],
                now_signal=sig_now[j],
                reference_win=ref_win[j],
                now_win=now_win[j],
                p_signal=_f(p_sig[j]),
                p_win=_f(p_win[j]),
                p_adjusted=_f(q[j]),
                status=status,
                note=note,
            )
        )
    return out
