"""The statistics of discovery, as pure functions on count arrays.

Every function takes counts (NumPy arrays, one element per candidate) and returns arrays, so thousands of
candidates are tested at once, and a test can pin the figures of a tiny table that a person checks by hand.

For one candidate over the learning accounts (signal + anti-signal):

    a = signal accounts matching          n1 = accounts matching
    S = signal accounts                   N  = learning accounts

- ``signal_rate = a / n1``, ``base_rate = S / N``, ``lift = signal_rate / base_rate``.
- Lift interval: a log (Katz-style, delta-method) interval for the ratio of the matching rate to the base rate,
  with the matching and non-matching groups as independent binomials; 0.5 added to empty cells.
- p: two-sided test of the 2x2 table matching x signal. Fisher's exact test when an expected cell is below 5,
  Pearson's chi-square (1 df, no continuity correction) otherwise.
- q: Benjamini–Hochberg over every candidate tested.
- Searched candidates (a band chosen among many intervals, a value group among many prefixes) get a Bonferroni
  multiplier for the size of the search, as CHAID does for merged categories (Kass 1980), so the choice of the
  best-looking band cannot manufacture significance from noise.
- Two levels (Benjamini & Bogomolov 2014): each field is a family with one p-value (a homogeneity chi-square
  over its values or bins, or Simes' combination of its tests); fields are selected by Holm at level ``fdr``
  (so the chance that any field without effect enters the ICP is at most ``fdr``), and within the R selected of
  m fields the candidates are tested by BH at ``fdr * R / m``. A noise field with one lucky value among twelve
  is then not selected at all; a real field loses little, its family p being tiny.
- Interaction of two criteria: Wald test of the interaction term of a saturated logistic model on the 2x2x2 table
  (difference of log odds ratios), 0.5 added to every cell.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

__all__ = [
    "benjamini_hochberg",
    "hierarchical_q",
    "holm",
    "homogeneity_pvalue",
    "interaction_test",
    "lift_interval",
    "rate_ratio_test",
    "simes_pvalue",
    "two_by_two_log_pvalue",
    "two_by_two_pvalue",
]

Z95 = 1.959963984540054


def _f(x: ArrayLike) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def two_by_two_pvalue(a: ArrayLike, n1: ArrayLike, s: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Two-sided p of the 2x2 table [[a, n1-a], [s-a, (n-n1)-(s-a)]]: Fisher when sparse, chi-square otherwise."""
    a, n1, s, n = _f(a), _f(n1), _f(s), _f(n)
    a, n1, s, n = np.broadcast_arrays(a, n1, s, n)
    b, c = n1 - a, s - a
    d = n - n1 - c
    with np.errstate(divide="ignore", invalid="ignore"):
        e_min = np.minimum(n1, n - n1) * np.minimum(s, n - s) / n  # smallest expected cell
        chi = n * (a * d - b * c) ** 2 / (n1 * (n - n1) * s * (n - s))
    p = sps.chi2.sf(chi, 1)
    degenerate = (n1 <= 0) | (n1 >= n) | (s <= 0) | (s >= n)
    p = np.where(degenerate, 1.0, p)
    sparse = (e_min < 5) & ~degenerate
    for i in np.nonzero(sparse)[0]:
        table = np.array([[a[i], b[i]], [c[i], d[i]]], dtype=np.int64)
        p[i] = sps.fisher_exact(table, alternative="two-sided").pvalue
    return np.clip(np.nan_to_num(p, nan=1.0), 0.0, 1.0)


def two_by_two_log_pvalue(a: ArrayLike, n1: ArrayLike, s: ArrayLike, n: ArrayLike) -> np.ndarray:
    """Natural log of ``two_by_two_pvalue``, finite where the p-value itself underflows (large data)."""
    a, n1, s, n = np.broadcast_arrays(_f(a), _f(n1), _f(s), _f(n))
    p = two_by_two_pvalue(a, n1, s, n)
    b, c = n1 - a, s - a
    d = n - n1 - c
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = n * (a * d - b * c) ** 2 / (n1 * (n - n1) * s * (n - s))
        logp = np.where(p > 1e-300, np.log(np.maximum(p, 1e-300)), sps.chi2.logsf(np.nan_to_num(chi), 1))
    return logp


def lift_interval(
    a: ArrayLike, n1: ArrayLike, s: ArrayLike, n: ArrayLike, z: float = Z95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lift ``(a/n1) / (s/n)`` and its log-scale confidence interval (delta method, matching vs the rest)."""
    a, n1, s, n = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(_f(a), _f(n1), _f(s), _f(n)))
    n0 = n - n1
    c = s - a
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = (a / n1) / (s / n)
        # 0.5 in empty cells keeps the interval finite
        a_ = np.where((a == 0) | (a == n1), a + 0.5, a)
        n1_ = np.where((a == 0) | (a == n1), n1 + 1.0, n1)
        c_ = np.where((c == 0) | (c == n0), c + 0.5, c)
        n0_ = np.where((c == 0) | (c == n0), n0 + 1.0, n0)
        p1, p0 = a_ / n1_, c_ / np.maximum(n0_, 1.0)
        w1, w0 = n1 / n, n0 / n
        pall = w1 * p1 + w0 * p0
        d1 = 1.0 / p1 - w1 / pall
        d0 = -w0 / pall
        var = d1**2 * p1 * (1 - p1) / n1_ + np.where(n0 > 0, d0**2 * p0 * (1 - p0) / np.maximum(n0_, 1.0), 0.0)
        half = z * np.sqrt(var)
        centre = np.log(np.maximum(p1, 1e-300) / pall)
        low, high = np.exp(centre - half), np.exp(centre + half)
    bad = (n1 <= 0) | (s <= 0)
    return (np.where(bad, np.nan, lift), np.where(bad, np.nan, low), np.where(bad, np.nan, high))


def rate_ratio_test(
    events: ArrayLike, n1: ArrayLike, events_all: ArrayLike, n_all: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Rate among matching over the overall rate (e.g. churn among matching customers vs baseline churn), and p."""
    events, n1, events_all, n_all = (_f(v) for v in (events, n1, events_all, n_all))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (events / n1) / (events_all / n_all)
    return ratio, two_by_two_pvalue(events, n1, events_all, n_all)


def benjamini_hochberg(p: ArrayLike) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q), in the input order; NaN stays NaN."""
    p = _f(p)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        q[ok] = sps.false_discovery_control(np.clip(p[ok], 0.0, 1.0), method="bh")
    return q


def interaction_test(
    s11: ArrayLike,
    n11: ArrayLike,
    s10: ArrayLike,
    n10: ArrayLike,
    s01: ArrayLike,
    n01: ArrayLike,
    s00: ArrayLike,
    n00: ArrayLike,
) -> tuple[np.ndarray, np.ndarray]:
    """Log odds-ratio interaction of two binary criteria on a signal, and its two-sided Wald p.

    Cells are (A, B) in {1,0}²: ``s`` signal accounts, ``n`` accounts. Positive = the pair does better than the
    two criteria's separate effects on the log-odds scale predict.
    """
    cells = [(_f(s) + 0.5, _f(n) - _f(s) + 0.5) for s, n in ((s11, n11), (s10, n10), (s01, n01), (s00, n00))]
    lo = [np.log(pos / neg) for pos, neg in cells]
    est = lo[0] - lo[1] - lo[2] + lo[3]
    se = np.sqrt(sum(1.0 / pos + 1.0 / neg for pos, neg in cells))
    p = 2.0 * sps.norm.sf(np.abs(est / se))
    return est, p


def homogeneity_pvalue(signal: ArrayLike, total: ArrayLike) -> float:
    """Chi-square test that the signal share is the same in every row (k-1 df); rows with no accounts skipped."""
    a, n = _f(signal), _f(total)
    keep = n > 0
    a, n = a[keep], n[keep]
    S, N = a.sum(), n.sum()
    if a.size < 2 or S <= 0 or S >= N:
        return 1.0
    e1 = n * S / N
    e0 = n - e1
    stat = float((((a - e1) ** 2) / e1 + (((n - a) - e0) ** 2) / e0).sum())
    return float(sps.chi2.sf(stat, a.size - 1))


def holm(p: ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error), in the input order."""
    p = _f(p)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(1.0, adj)
    return out


def simes_pvalue(p: ArrayLike) -> float:
    """Simes' combination of several p-values (valid under positive dependence): min over i of m p_(i) / i."""
    p = np.sort(_f(p)[~np.isnan(_f(p))])
    if p.size == 0:
        return 1.0
    return float(min(1.0, (p.size * p / np.arange(1, p.size + 1)).min()))


def hierarchical_q(
    family_p: ArrayLike, within_p: list[np.ndarray], level: float, family_rule: str = "holm"
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Two-level control: families selected by Holm (or BH), then BH within each selected family at the level
    scaled by R / m (Benjamini–Bogomolov, which allows any selection rule for the families).

    Returns the family q-values and, per family, candidate q-values on the scale of ``level``: a candidate is a
    discovery when its q <= ``level``, which requires its family to be selected (R of m families) too.
    """
    fam_q = holm(family_p) if family_rule == "holm" else benjamini_hochberg(family_p)
    m = fam_q.size
    selected = int(np.sum(fam_q <= level))
    out: list[np.ndarray] = []
    for fq, p in zip(fam_q, within_p, strict=True):
        q = benjamini_hochberg(p) * m / max(selected, 1)
        out.append(np.minimum(1.0, np.maximum(q, fq)))
    return fam_q, out
