"""Tier thresholds chosen from the score distribution.

Tier 1 is the best-fit core; tiers 1-3 together stay a workable share of all accounts: DESIGN warns that more
than 30% matching is too loose and under 5% too narrow. Defaults: about 5% in tier 1, 15% in tiers 1-2, 30% in
tiers 1-3, each threshold the achievable score whose share is closest (on a log scale) to its target.
"""

from __future__ import annotations

import numpy as np

from icpkit.spec.model import Tiers

__all__ = ["choose_tiers"]


def choose_tiers(scores: np.ndarray, shares: tuple[float, float, float] = (0.05, 0.15, 0.30)) -> Tiers:
    """Minimum scores for tier1/2/3 over ``scores`` (non-excluded accounts), as strictly ordered as allowed."""
    s = np.asarray(scores, dtype=float)
    values = np.unique(s[s > 0])
    if values.size == 0:
        return Tiers(tier1=100, tier2=100, tier3=100)
    share_at = np.array([(s >= v).mean() for v in values])  # decreasing in v
    chosen: list[int] = []
    upper = np.inf
    for target in shares:
        ok = values < upper if chosen else np.ones(values.size, dtype=bool)
        if not ok.any():
            chosen.append(int(chosen[-1]))
            continue
        err = np.abs(np.log(share_at[ok] / target))
        v = values[ok][int(np.argmin(err))]
        chosen.append(int(np.ceil(v)))
        upper = v
    t1, t2, t3 = (min(100, c) for c in chosen)
    return Tiers(tier1=t1, tier2=min(t2, t1), tier3=min(t3, t2, t1))
