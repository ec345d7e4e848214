"""Win-rate divergence: segments outside the ICP that now win as often as the ICP does.

The search is discovery's candidate generation (values, value bins and bands, items of multi-valued fields,
flags, trigger recency) run on the accounts the spec does not score as fit, with a pseudo-cohort that marks each
account won or lost in the period. A segment is reported when

1. it has at least ``min_closed`` accounts closed in the period and ``min_support`` won;
2. it wins significantly more often than the other off-ICP accounts (2x2 test, search multiplier for bands,
   Holm over every segment tested, so the chance that any segment of a stable ICP is reported is at most
   ``alpha``) — a real segment, not a lucky slice out of a hundred;
3. its win rate matches or beats the ICP's (point estimate at least the fit accounts' win rate).

Segments the spec already rewards are left out: when at least ``overlap`` of a segment's accounts match one
criterion (``tech_stack contains HubSpot`` inside ``contains_any [Salesforce, HubSpot]``, a funding window inside
the criterion's), those accounts are off-ICP for lacking *other* criteria, and their partial fit explains a
higher win rate; the ICP is not ignoring them.

``beats`` adds a one-sided test that its win rate is above the ICP's (p <= ``alpha``): the ICP is then not merely
too narrow but ranks the wrong accounts first. Deal-derived attributes are left out: a segment must be one a
team can target before any deal exists.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel
from scipy import stats as sps

from icpkit.cohorts import COHORTS
from icpkit.discover.candidates import FieldIndex, generate_candidates
from icpkit.discover.profile import profile_fields
from icpkit.discover.stats import holm, two_by_two_pvalue
from icpkit.drift.period import PeriodData

__all__ = ["Divergence", "Segment", "win_rate_divergence"]

_KINDS = {"value", "item", "flag", "bin", "band", "recency"}
WON, LOST, NONE = 0, COHORTS.index("never_closed"), COHORTS.index("open")


class Segment(BaseModel):
    description: str
    field: str
    op: str
    value: object
    won: int
    closed: int
    win_rate: float
    p: float
    p_adjusted: float  # Holm over every segment tested
    p_beats: float
    beats: bool


class Divergence(BaseModel):
    """ICP and off-ICP win rates in the period, and the off-ICP segments that match or beat the ICP."""

    icp_won: int
    icp_closed: int
    icp_win_rate: float | None
    off_won: int
    off_closed: int
    off_win_rate: float | None
    tested: int
    segments: list[Segment]
    note: str = ""


def _rate(a: int, n: int) -> float | None:
    return a / n if n else None


def win_rate_divergence(
    period: PeriodData,
    *,
    alpha: float = 0.01,
    min_closed: int = 30,
    min_support: int = 5,
    overlap: float = 0.8,
    max_values: int = 50,
    max_bins: int = 10,
) -> Divergence:
    """Off-ICP segments whose win rate in the period matches or beats the ICP's; see the module docstring."""
    fit, won, closed = period.fit, period.won, period.closed
    icp_w, icp_n = int((won & fit).sum()), int((closed & fit).sum())
    off = ~fit
    off_w, off_n = int((won & off).sum()), int((closed & off).sum())
    icp_rate, off_rate = _rate(icp_w, icp_n), _rate(off_w, off_n)
    base = Divergence(
        icp_won=icp_w,
        icp_closed=icp_n,
        icp_win_rate=icp_rate,
        off_won=off_w,
        off_closed=off_n,
        off_win_rate=off_rate,
        tested=0,
        segments=[],
    )
    if icp_n < min_support or off_n < min_closed:
        base.note = f"too few closed accounts in the period (ICP {icp_n}, off-ICP {off_n}) to compare win rates"
        return base
    rows = np.nonzero(off)[0]
    table = period.accounts.drop_columns(period.behavior_columns).take(rows)
    _, encoded = profile_fields(table, period.kinds or None, source="accounts", as_of=period.as_of)
    index = FieldIndex(encoded, rows.size)
    pseudo = np.where(won[rows], WON, np.where(closed[rows], LOST, NONE)).astype(np.int64)
    params = {
        "min_support": min_support,
        "max_values": max_values,
        "max_bins": max_bins,
        "max_group": 10,
        "recency_windows": (90, 180, 365, 730),
    }
    cands = [c for c in generate_candidates(index, pseudo, params, target="signal") if c.kind in _KINDS]
    if not cands:
        base.note = "no off-ICP attribute to segment on"
        return base
    C = np.array([c.counts for c in cands], dtype=float)
    w, n = C[:, WON], C[:, WON] + C[:, LOST]
    search = np.array([c.search for c in cands], dtype=float)
    p = np.minimum(1.0, two_by_two_pvalue(w, n, off_w, off_n) * search)
    q = holm(p)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, w / n, 0.0)
    # one-sided: the segment's win rate above the ICP's (two independent binomials, pooled z)
    pooled = (w + icp_w) / np.maximum(n + icp_n, 1)
    se = np.sqrt(pooled * (1 - pooled) * (1 / np.maximum(n, 1) + 1 / icp_n))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(se > 0, (rate - icp_rate) / se, 0.0)
    p_beats = sps.norm.sf(z)
    keep = (n >= min_closed) & (w >= min_support) & (q <= alpha) & (rate > off_rate) & (rate >= icp_rate)
    yes_off = period.yes[rows]
    rewarded = 0
    for i in np.nonzero(keep)[0]:
        m = index.mask(cands[i])
        if yes_off.shape[1] and (yes_off[m].mean(axis=0) >= overlap).any():
            keep[i] = False
            rewarded += 1
    segments = [
        Segment(
            description=cands[i].describe(),
            field=cands[i].field,
            op=cands[i].op.value,
            value=cands[i].value,
            won=int(w[i]),
            closed=int(n[i]),
            win_rate=float(rate[i]),
            p=float(p[i]),
            p_adjusted=float(q[i]),
            p_beats=float(p_beats[i]),
            beats=bool(p_beats[i] <= alpha),
        )
        for i in np.nonzero(keep)[0]
    ]
    base.segments = sorted(segments, key=lambda s: (-s.win_rate, s.p_adjusted))
    base.tested = len(cands)
    if rewarded:
        base.note = f"{rewarded} off-ICP segments win well but lie inside a criterion the spec already rewards"
    return base
