"""The statistics of validation, as pure functions on arrays: no I/O, no loop over rows.

Every interval is 95% unless ``z`` / ``level`` says otherwise, and every function returns the counts behind the
figure, so a reader can always see how much data a claim stands on.

- Rates (win rate, churn rate, share of leads): Wilson score interval — honest at small n and near 0 or 1, where
  the normal (Wald) interval is too narrow or leaves [0, 1].
- Ratio of two rates (fit / non-fit win rate): Katz log interval, 0.5 added to every cell when one is empty
  (the same convention as discovery's lift interval).
- Median (sales cycle days): the distribution-free order-statistic interval (the sign-test inversion): exact for
  any continuous distribution, no resampling.
- Ratio of two medians: percentile interval of the *exact* bootstrap distribution of each median. A bootstrap
  median of sorted ``x`` is ``x[j]`` with ``P(median* <= x[j]) = P(Binomial(n, (j+1)/n) >= m)``, so draws come
  from an inverse CDF over ``n`` points — ``O(n + B log n)`` instead of ``B`` resamples of ``n`` values.
- Ratio of sums (net revenue retention) and means (average deal size): Poisson bootstrap (each unit weighted by
  an independent Poisson(1) count), done as weight-matrix products in chunks so memory stays bounded.

Bootstrap draws use a seeded generator: the same data always gives the same intervals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

__all__ = [
    "Z95",
    "Estimate",
    "bootstrap_medians",
    "mean_ci",
    "median_ci",
    "median_ratio_ci",
    "rate_ratio_ci",
    "ratio_of_sums_ci",
    "sums_difference_ci",
    "wilson",
]

Z95 = 1.959963984540054
BOOTSTRAP = 4000  # draws for bootstrap intervals
_CHUNK_CELLS = 4_000_000  # weight-matrix cells per chunk (32 MB of float64)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval; ``nan`` where the data cannot give one."""

    value: float
    low: float
    high: float

    @property
    def known(self) -> bool:
        return math.isfinite(self.value)


NAN = Estimate(math.nan, math.nan, math.nan)


def wilson(k: ArrayLike, n: ArrayLike, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes out of ``n`` (element-wise); ``nan`` where ``n`` is 0."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        z2 = z * z
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
        lo = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        hi = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


def rate_ratio_ci(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> Estimate:
    """Ratio of the rates ``k1/n1`` over ``k2/n2`` with the Katz log interval (0.5 added to empty cells)."""
    if n1 <= 0 or n2 <= 0:
        return NAN
    a, b, c, d = float(k1), float(n1 - k1), float(k2), float(n2 - k2)
    if min(a, c) == 0 or min(b, d) == 0:
        a, b, c, d = a + 0.5, b + 0.5, c + 0.5, d + 0.5
    r1, r2 = a / (a + b), c / (c + d)
    ratio = (k1 / n1) / (k2 / n2) if k2 > 0 else math.inf
    se = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    centre = math.log(r1 / r2)
    return Estimate(ratio, math.exp(centre - z * se), math.exp(centre + z * se))


def median_ci(x: ArrayLike, level: float = 0.95) -> Estimate:
    """Median with the distribution-free order-statistic interval; ``nan`` interval below 6 values."""
    v = np.sort(np.asarray(x, dtype=float))
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return NAN
    med = float(np.median(v))
    # the largest j with P(Binomial(n, 1/2) < j) <= alpha/2: [x_(j), x_(n-j+1)] covers the median with >= level
    j = int(sps.binom.ppf((1 - level) / 2, n, 0.5))
    if j < 1:
        return Estimate(med, math.nan, math.nan)
    return Estimate(med, float(v[j - 1]), float(v[n - j]))


def bootstrap_medians(x: ArrayLike, draws: int = BOOTSTRAP, rng: np.random.Generator | None = None) -> np.ndarray:
    """``draws`` medians drawn from the exact bootstrap distribution of the (lower) median of ``x``."""
    v = np.sort(np.asarray(x, dtype=float))
    v = v[np.isfinite(v)]
    n = v.size
    if n == 0:
        return np.full(draws, np.nan)
    rng = rng if rng is not None else np.random.default_rng(0)
    m = (n + 1) // 2  # the lower median is the m-th smallest value
    cdf = sps.binom.sf(m - 1, n, np.arange(1, n + 1) / n)  # P(median* <= v[j]) for j = 0..n-1
    cdf[-1] = 1.0
    idx = np.searchsorted(cdf, rng.random(draws), side="left")
    return v[np.minimum(idx, n - 1)]


def median_ratio_ci(x1: ArrayLike, x2: ArrayLike, level: float = 0.95, seed: int = 0) -> Estimate:
    """Ratio of the median of ``x1`` to the median of ``x2`` with a percentile bootstrap interval."""
    a = np.asarray(x1, dtype=float)
    b = np.asarray(x2, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return NAN
    m1, m2 = float(np.median(a)), float(np.median(b))
    if m2 <= 0:
        return NAN
    rng = np.random.default_rng(seed)
    d1, d2 = bootstrap_medians(a, rng=rng), bootstrap_medians(b, rng=rng)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = d1 / d2
    r = r[np.isfinite(r)]
    if r.size == 0:
        return Estimate(m1 / m2, math.nan, math.nan)
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(r, [tail, 100 - tail])
    return Estimate(m1 / m2, float(lo), float(hi))


def _poisson_sums(values: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap column sums of ``values`` (n x k) under Poisson(1) weights: a (draws x k) array."""
    n = values.shape[0]
    out = np.empty((draws, values.shape[1]))
    step = max(1, _CHUNK_CELLS // max(n, 1))
    for start in range(0, draws, step):
        stop = min(draws, start + step)
        w = rng.poisson(1.0, size=(stop - start, n)).astype(float)
        out[start:stop] = w @ values
    return out


def ratio_of_sums_ci(
    num: ArrayLike, den: ArrayLike, level: float = 0.95, seed: int = 0, draws: int = BOOTSTRAP
) -> tuple[Estimate, np.ndarray]:
    """``sum(num) / sum(den)`` (e.g. revenue now / starting revenue) with a Poisson-bootstrap interval.

    Also returns the bootstrap draws, so two groups' draws can be compared (see ``sums_difference_ci``).
    """
    a = np.asarray(num, dtype=float)
    b = np.asarray(den, dtype=float)
    if a.size == 0 or b.sum() <= 0:
        return NAN, np.full(draws, np.nan)
    sums = _poisson_sums(np.column_stack([a, b]), draws, np.random.default_rng(seed))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = sums[:, 0] / sums[:, 1]
    tail = (1 - level) / 2 * 100
    ok = r[np.isfinite(r)]
    lo, hi = np.percentile(ok, [tail, 100 - tail]) if ok.size else (math.nan, math.nan)
    return Estimate(float(a.sum() / b.sum()), float(lo), float(hi)), r


def sums_difference_ci(draws1: np.ndarray, draws2: np.ndarray, value: float, level: float = 0.95) -> Estimate:
    """Interval of a difference of two independent bootstrap statistics, from their draws."""
    d = draws1 - draws2
    d = d[np.isfinite(d)]
    if d.size == 0 or not math.isfinite(value):
        return NAN
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(d, [tail, 100 - tail])
    return Estimate(value, float(lo), float(hi))


def mean_ci(x: ArrayLike, level: float = 0.95, seed: int = 0, draws: int = BOOTSTRAP) -> tuple[Estimate, np.ndarray]:
    """Mean with a Poisson-bootstrap interval (deal sizes are skewed: no normal approximation); and the draws."""
    v = np.asarray(x, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return NAN, np.full(draws, np.nan)
    return ratio_of_sums_ci(v, np.ones_like(v), level=level, seed=seed, draws=draws)
