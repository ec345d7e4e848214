"""Supervised binning of numeric fields on aggregated counts, with human edges.

1. Pre-bin at quantiles (of log values for skewed fields such as employees or revenue) and round every edge to a
   "nice" number a person would write (1, 2, 2.5, 5 x 10^k; whole years for years), so a band reads 50–500 and
   not 47.3–512.9.
2. Count accounts per pre-bin and cohort once (``bincount``).
3. Search every contiguous run of pre-bins for the band that best separates a target (the signal, or churn for
   exclusions) by the 2x2 chi-square statistic — O(B²) on a table of B rows, never on the accounts. The size of
   that search is returned, so the band's p-value can carry its Bonferroni multiplier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Band", "best_band", "nice_edges", "nice_number"]

_NICE = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5, 10.0])


def nice_number(x: float, *, integer: bool = False) -> float:
    """Round ``x`` to the nearest number of the form {1, 1.5, 2, 2.5, 3, 4, 5, 7.5} x 10^k."""
    if x == 0 or not math.isfinite(x):
        return 0.0
    sign = -1.0 if x < 0 else 1.0
    ax = abs(x)
    k = math.floor(math.log10(ax))
    base = 10.0**k
    cand = _NICE * base
    out = float(cand[np.argmin(np.abs(np.log(cand / ax)))])
    if integer:
        out = float(round(out))
    return sign * out


def nice_edges(values: np.ndarray, *, max_bins: int = 12, log_scale: bool = False, year_like: bool = False):
    """Inner edges of at most ``max_bins`` quantile bins, rounded to human numbers, strictly increasing."""
    v = values[~np.isnan(values)]
    if v.size == 0:
        return np.zeros(0)
    qs = np.linspace(0, 1, max_bins + 1)[1:-1]
    if log_scale:
        pos = v[v > 0]
        raw = np.exp(np.quantile(np.log(pos), qs)) if pos.size else np.zeros(0)
    else:
        raw = np.quantile(v, qs)
    integer = bool(np.all(np.mod(v[: min(v.size, 10_000)], 1) == 0))
    if year_like:
        edges = np.round(raw / 5.0) * 5.0 if (v.max() - v.min()) > 40 else np.round(raw)
    elif log_scale:
        edges = np.array([nice_number(x, integer=integer) for x in raw])
    else:
        span = float(np.quantile(v, 0.95) - np.quantile(v, 0.05)) or 1.0
        step = nice_number(span / max_bins) or 1.0
        if integer:
            step = max(1.0, round(step))
        edges = np.round(raw / step) * step
    edges = np.unique(edges[(edges > v.min()) & (edges <= v.max())])
    return edges


@dataclass(frozen=True)
class Band:
    """A contiguous run of pre-bins ``[lo_bin, hi_bin]`` and its value bounds (None = open end)."""

    lo_bin: int
    hi_bin: int
    lo: float | None
    hi: float | None
    stat: float  # signed chi-square: > 0 when the target rate in the band is above the rest
    n_searched: int


def best_band(
    target: np.ndarray, total: np.ndarray, edges: np.ndarray, *, min_count: int, sign: int = 1
) -> Band | None:
    """The band of pre-bins whose target share differs most (in direction ``sign``) from the rest.

    ``target[b]``/``total[b]``: counts per pre-bin (bin b spans [edges[b-1], edges[b]) ). Bands covering every bin
    or with fewer than ``min_count`` accounts are not considered.
    """
    B = total.size
    if B < 2:
        return None
    ct = np.concatenate([[0.0], np.cumsum(target, dtype=float)])
    cn = np.concatenate([[0.0], np.cumsum(total, dtype=float)])
    i, j = np.triu_indices(B)  # band = bins i..j
    a = ct[j + 1] - ct[i]
    n1 = cn[j + 1] - cn[i]
    S, N = ct[-1], cn[-1]
    valid = (n1 >= min_count) & (n1 < N) & ~((i == 0) & (j == B - 1))
    if not valid.any() or S <= 0 or S >= N:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = a * (N - n1 - (S - a)) - (n1 - a) * (S - a)
        chi = N * diff**2 / (n1 * (N - n1) * S * (N - S))
    signed = np.where(valid & (np.sign(diff) == sign), chi, -np.inf)
    k = int(np.argmax(signed))
    if not np.isfinite(signed[k]):
        return None
    lo = None if i[k] == 0 else float(edges[i[k] - 1])
    hi = None if j[k] == B - 1 else float(edges[j[k]])
    return Band(int(i[k]), int(j[k]), lo, hi, float(sign * chi[k]), int(valid.sum()))
