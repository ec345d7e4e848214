"""Fit vs non-fit on held-out accounts: the comparisons and the per-tier table, from tiers and outcomes arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from icpkit.score.semantics import TIER_NAMES
from icpkit.validate.metrics import (
    NAN,
    Estimate,
    mean_ci,
    median_ci,
    median_ratio_ci,
    rate_ratio_ci,
    ratio_of_sums_ci,
    sums_difference_ci,
    wilson,
)
from icpkit.validate.model import Comparison, Figure, TierRow

__all__ = ["Availability", "compare", "tier_rows"]


class Availability:
    """Which outcomes the data can speak to, with the reason when it cannot."""

    def __init__(self, *, churn: bool, expansion: bool, amounts: bool, deals: bool) -> None:
        self.churn = churn
        self.expansion = expansion
        self.amounts = amounts
        self.deals = deals


def _arr(t: pa.Table, name: str, dtype: type = float) -> np.ndarray:
    col = t.column(name)
    if dtype is bool:
        return np.asarray(col.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    return np.asarray(col.to_numpy(zero_copy_only=False), dtype=float)


def _rate(k: int, n: int) -> Figure:
    lo, hi = wilson(k, n)
    return Figure.of(Estimate(k / n if n else np.nan, float(lo), float(hi)), n, k, "wilson")


def _median(x: np.ndarray) -> Figure:
    x = x[np.isfinite(x)]
    return Figure.of(median_ci(x), int(x.size), method="order statistics")


def _nrr(start: np.ndarray, end: np.ndarray, seed: int) -> tuple[Figure, np.ndarray]:
    ok = np.isfinite(start) & np.isfinite(end) & (start > 0)
    est, draws = ratio_of_sums_ci(end[ok], start[ok], seed=seed)
    return Figure.of(est, int(ok.sum()), method="poisson bootstrap"), draws


def compare(
    fit: np.ndarray, outcomes: pa.Table, avail: Availability, *, judged: np.ndarray | None = None
) -> list[Comparison]:
    """Fit (boolean per account) vs the other judged accounts on every measure the data allows."""
    judged = _arr(outcomes, "judged", bool) if judged is None else judged
    closed, won = _arr(outcomes, "closed", bool) & judged, _arr(outcomes, "won", bool) & judged
    cust, churned = _arr(outcomes, "customer", bool) & judged, _arr(outcomes, "churned", bool) & judged
    cycle, size = _arr(outcomes, "cycle_days"), _arr(outcomes, "deal_size")
    start, end = _arr(outcomes, "start_arr"), _arr(outcomes, "end_arr")
    f, nf = fit & judged, ~fit & judged
    out: list[Comparison] = []

    # win rate -------------------------------------------------------------------------------------------------
    k1, n1, k2, n2 = int((won & f).sum()), int((closed & f).sum()), int((won & nf).sum()), int((closed & nf).sum())
    note, ok = "", True
    if not avail.deals:
        ok, note = False, "the data has no deals with outcomes, so win rate cannot be measured"
    elif n1 + n2 and k1 + k2 == n1 + n2:
        ok, note = False, "every held-out account with a closed deal won: the data holds no lost deals to compare"
    out.append(
        Comparison(
            metric="win_rate", label="Win rate", fit=_rate(k1, n1), non_fit=_rate(k2, n2),
            contrast=Figure.of(rate_ratio_ci(k1, n1, k2, n2), n1 + n2, k1 + k2, "katz log") if ok else None,
            available=ok, note=note or "accounts with a won or lost held-out deal; won if any of them was won",
        )
    )  # fmt: skip

    # sales cycle ------------------------------------------------------------------------------------------------
    c1, c2 = cycle[won & f], cycle[won & nf]
    c1, c2 = c1[np.isfinite(c1)], c2[np.isfinite(c2)]
    ok = avail.deals and (c1.size + c2.size) > 0
    out.append(
        Comparison(
            metric="cycle_days", label="Median sales cycle (days)", fit=_median(c1), non_fit=_median(c2),
            contrast=Figure.of(median_ratio_ci(c1, c2), int(c1.size + c2.size), method="exact bootstrap")
            if ok else None,
            available=ok,
            note="created to closed, first won held-out deal" if ok
            else ("no held-out won deals with dates" if avail.deals else "no deals"),
        )
    )  # fmt: skip

    # churn ------------------------------------------------------------------------------------------------------
    k1, n1, k2, n2 = int((churned & f).sum()), int((cust & f).sum()), int((churned & nf).sum()), int((cust & nf).sum())
    ok = avail.churn
    out.append(
        Comparison(
            metric="churn_rate", label="Churn rate", fit=_rate(k1, n1), non_fit=_rate(k2, n2),
            contrast=Figure.of(rate_ratio_ci(k1, n1, k2, n2), n1 + n2, k1 + k2, "katz log") if ok else None,
            available=ok,
            note="held-out new customers churned by the data's date" if ok
            else "the data has no churn flag, churn date or subscriptions",
        )
    )  # fmt: skip

    # net revenue retention --------------------------------------------------------------------------------------
    ok = avail.expansion
    if ok:
        g1, d1 = _nrr(start[cust & f], end[cust & f], seed=1)
        g2, d2 = _nrr(start[cust & nf], end[cust & nf], seed=2)
        diff = (g1.value - g2.value) if g1.known and g2.known else np.nan
        contrast = Figure.of(sums_difference_ci(d1, d2, diff), g1.n + g2.n, method="poisson bootstrap")
    else:
        g1 = g2 = Figure()
        contrast = None
    out.append(
        Comparison(
            metric="nrr", label="Net revenue retention", fit=g1, non_fit=g2, contrast=contrast,
            contrast_kind="difference", available=ok,
            note="revenue now (0 if churned, start + expansion otherwise) / starting revenue" if ok
            else "no expansion data (expansion_arr or subscriptions)",
        )
    )  # fmt: skip

    # deal size --------------------------------------------------------------------------------------------------
    s1, s2 = size[won & f], size[won & nf]
    s1, s2 = s1[np.isfinite(s1)], s2[np.isfinite(s2)]
    ok = avail.amounts and (s1.size + s2.size) > 0
    m1, dr1 = mean_ci(s1, seed=3)
    m2, dr2 = mean_ci(s2, seed=4)
    contrast = None
    if ok and m1.known and m2.known and m2.value > 0:
        with np.errstate(divide="ignore", invalid="ignore"):
            r = dr1 / dr2
        r = r[np.isfinite(r)]
        lo, hi = np.percentile(r, [2.5, 97.5]) if r.size else (np.nan, np.nan)
        contrast = Figure.of(Estimate(m1.value / m2.value, float(lo), float(hi)), int(s1.size + s2.size),
                             method="poisson bootstrap")  # fmt: skip
    out.append(
        Comparison(
            metric="deal_size", label="Average deal size",
            fit=Figure.of(m1 if s1.size else NAN, int(s1.size), method="poisson bootstrap"),
            non_fit=Figure.of(m2 if s2.size else NAN, int(s2.size), method="poisson bootstrap"),
            contrast=contrast, available=ok,
            note="amount of the first won held-out deal" if ok
            else ("no held-out won deals with an amount" if avail.amounts else "no deal amounts"),
        )
    )  # fmt: skip
    return out


def tier_rows(tiers: np.ndarray, outcomes: pa.Table, avail: Availability) -> list[TierRow]:
    """Held-out win rate, churn, cycle and revenue retention per tier (tier1 … none, excluded)."""
    judged = _arr(outcomes, "judged", bool)
    closed, won = _arr(outcomes, "closed", bool), _arr(outcomes, "won", bool)
    cust, churned = _arr(outcomes, "customer", bool), _arr(outcomes, "churned", bool)
    cycle, start, end = _arr(outcomes, "cycle_days"), _arr(outcomes, "start_arr"), _arr(outcomes, "end_arr")
    rows = []
    for i, name in enumerate(TIER_NAMES):
        m = judged & (tiers == name)
        c = cycle[m & won]
        nrr = _nrr(start[m & cust], end[m & cust], seed=10 + i)[0] if avail.expansion else Figure()
        rows.append(
            TierRow(
                tier=name,
                accounts=int(m.sum()),
                win_rate=_rate(int((m & won).sum()), int((m & closed).sum())) if avail.deals else Figure(),
                churn_rate=_rate(int((m & churned).sum()), int((m & cust).sum())) if avail.churn else Figure(),
                median_cycle_days=_median(c) if avail.deals else Figure(),
                nrr=nrr,
            )
        )
    return rows
