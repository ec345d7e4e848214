"""Churn shifting into the ICP: do customers the spec scores as fit now churn as much as, or more than, the rest?

Among customers at risk in the period (customers not yet churned at its start), churn in the period is compared
with the baseline churn of all of them, three ways:

- **fit**: the customers in the fit tiers. Fit customers should churn less than baseline; churning significantly
  more is the strongest sign the ICP is out of date (``rebuild``).
- **per criterion**: customers matching each criterion (the over-fit rule of discovery, applied to the new period:
  churn above baseline by more than ``margin``, significant).
- **fit segments**: discovery's candidate generation on the fit customers (values, bands, items, flags) finds
  where inside the ICP churn concentrates, e.g. one industry of two that the ICP holds: churn at least
  ``churn_lift`` x baseline with ``min_support`` churned.

Every test is the 2x2 test of discovery (matching vs the other customers at risk); p-values are adjusted by
Holm within each of the three families, so a stable ICP raises each at most with probability ``alpha``.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from icpkit.cohorts import COHORTS
from icpkit.discover.candidates import FieldIndex, generate_candidates
from icpkit.discover.profile import profile_fields
from icpkit.discover.stats import holm, two_by_two_pvalue
from icpkit.drift.period import PeriodData
from icpkit.spec.model import ICPSpec
from icpkit.words import criterion_text

__all__ = ["ChurnGroup", "ChurnShift", "churn_shift"]

_KINDS = {"value", "item", "flag", "bin", "band", "recency"}
RETAINED, CHURNED, NONE = COHORTS.index("low_value_retained"), COHORTS.index("churned"), COHORTS.index("open")


class ChurnGroup(BaseModel):
    """Churn in the period of one group of customers at risk, against the baseline."""

    name: str
    churned: int
    at_risk: int
    churn_rate: float | None
    ratio: float | None  # churn rate / baseline churn rate
    p: float
    p_adjusted: float
    flagged: bool


class ChurnShift(BaseModel):
    baseline_churned: int
    baseline_at_risk: int
    baseline_rate: float | None
    fit: ChurnGroup | None
    criteria: list[ChurnGroup]
    segments: list[ChurnGroup]
    note: str = ""


def _groups(
    names: list[str],
    c: np.ndarray,
    m: np.ndarray,
    base: tuple[int, int],
    threshold: float,
    min_support: int,
    alpha: float,
    search: np.ndarray | None = None,
) -> list[ChurnGroup]:
    """One family of groups: 2x2 p (times the search multiplier of searched bands), Holm, and the flag rule."""
    if not names:
        return []
    base_c, base_m = base
    p = two_by_two_pvalue(c, m, base_c, base_m)
    if search is not None:
        p = np.minimum(1.0, p * search)
    adj = holm(p)
    base = base_c / base_m
    out = []
    for i, name in enumerate(names):
        rate = c[i] / m[i] if m[i] else None
        ratio = rate / base if rate is not None and base > 0 else None
        flagged = bool(ratio is not None and ratio >= threshold and adj[i] <= alpha and c[i] >= min_support)
        out.append(
            ChurnGroup(
                name=name,
                churned=int(c[i]),
                at_risk=int(m[i]),
                churn_rate=rate,
                ratio=ratio,
                p=float(p[i]),
                p_adjusted=float(adj[i]),
                flagged=flagged,
            )
        )
    return out


def churn_shift(
    spec: ICPSpec,
    period: PeriodData,
    *,
    alpha: float = 0.01,
    margin: float = 0.10,
    churn_lift: float = 1.5,
    min_support: int = 5,
    max_values: int = 50,
    max_bins: int = 10,
) -> ChurnShift:
    """Churn of fit customers, of each criterion's customers and of segments inside the ICP vs baseline churn."""
    risk, churned = period.at_risk, period.churned
    base_c, base_m = int(churned.sum()), int(risk.sum())
    out = ChurnShift(
        baseline_churned=base_c,
        baseline_at_risk=base_m,
        baseline_rate=base_c / base_m if base_m else None,
        fit=None,
        criteria=[],
        segments=[],
    )
    if base_m == 0 or base_c == 0:
        out.note = "no customer churned in the period (or no churn information): nothing to compare"
        return out
    fit_risk = risk & period.fit
    out.fit = _groups(
        ["fit customers"],
        np.array([(churned & fit_risk).sum()]),
        np.array([fit_risk.sum()]),
        (base_c, base_m),
        1.0 + margin,
        min_support,
        alpha,
    )[0]
    yes = period.yes & risk[:, None]
    names = [f"{cid}: {criterion_text(c)}" for cid, (_, c) in zip(period.criterion_ids, spec.criteria(), strict=True)]
    out.criteria = _groups(
        names,
        (yes & churned[:, None]).sum(0),
        yes.sum(0),
        (base_c, base_m),
        1.0 + margin,
        min_support,
        alpha,
    )
    rows = np.nonzero(fit_risk)[0]
    if rows.size >= 2 * min_support:
        table = period.accounts.take(rows)
        _, encoded = profile_fields(table, period.kinds or None, source="accounts", as_of=period.as_of)
        index = FieldIndex(encoded, rows.size)
        pseudo = np.where(churned[rows], CHURNED, RETAINED).astype(np.int64)
        params = {
            "min_support": min_support,
            "max_values": max_values,
            "max_bins": max_bins,
            "max_group": 10,
            "recency_windows": (90, 180, 365, 730),
        }
        cands = [c for c in generate_candidates(index, pseudo, params, target="churn") if c.kind in _KINDS]
        if cands:
            C = np.array([c.counts for c in cands], dtype=float)
            c_, m_ = C[:, CHURNED], C[:, CHURNED] + C[:, RETAINED]
            groups = _groups(
                [f"fit customers with {c.describe()}" for c in cands],
                c_,
                m_,
                (base_c, base_m),
                churn_lift,
                min_support,
                alpha,
                search=np.array([c.search for c in cands], dtype=float),
            )
            out.segments = sorted([g for g in groups if g.flagged], key=lambda g: g.p_adjusted)
    return out
