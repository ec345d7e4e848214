"""The statistics of drift as pure functions on counts and scores (discovery's own tests are reused for lifts,
2x2 tables and false-discovery control; what is here is only what drift adds).

- Change of a lift: the difference of two log risk ratios, each with its standard error read off its 95% interval
  (``se = (ln high - ln low) / (2 x 1.96)``, the log-scale interval of ``stats.lift_interval``), as a two-sided
  z test (the two periods are independent samples).
- Population stability index over bins of the reference distribution:
  ``PSI = sum((q - p) ln(q / p))`` with half a count added to every bin so an empty bin stays finite. Reading
  (credit-scoring convention): < 0.10 stable, 0.10-0.25 a shift worth a review, > 0.25 a shift that calls for a
  rebuild. Under no change PSI is about ``(bins - 1) (1/n_ref + 1/n_new)`` from sampling alone, which is why a
  small quarter also needs the KS test to agree before drift is called.
- One-sided exact binomial test of a conversion rate below a benchmark.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from icpkit.discover.stats import Z95

__all__ = ["binomial_below_pvalue", "log_ratio_change", "psi", "reference_bins", "se_from_interval"]


def se_from_interval(low: ArrayLike, high: ArrayLike, z: float = Z95) -> np.ndarray:
    """Standard error of a log ratio from its (symmetric on the log scale) confidence interval."""
    lo, hi = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.log(hi) - np.log(lo)) / (2.0 * z)


def log_ratio_change(
    lift_then: ArrayLike, se_then: ArrayLike, lift_now: ArrayLike, se_now: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """z and two-sided p of ``ln(lift_now) - ln(lift_then)``; NaN where either side is undefined."""
    l0, s0, l1, s1 = (np.asarray(x, dtype=float) for x in (lift_then, se_then, lift_now, se_now))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(l1) - np.log(l0)) / np.sqrt(s0**2 + s1**2)
    ok = np.isfinite(z)
    p = np.where(ok, 2.0 * sps.norm.sf(np.abs(np.where(ok, z, 0.0))), np.nan)
    return np.where(ok, z, np.nan), p


def reference_bins(reference: ArrayLike, bins: int = 10) -> np.ndarray:
    """Inner edges of the reference's quantile bins (deciles by default); tied quantiles merge into one bin.

    A bin holds the values from its lower edge up to (not including) the next edge; the lowest bin starts at the
    reference's minimum, so an edge at the minimum would only open an empty bin and is dropped.
    """
    ref = np.asarray(reference, dtype=float)
    if ref.size == 0:
        return np.array([])
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins, method="lower"))
    return edges[edges > ref.min()]


def psi(reference: ArrayLike, new: ArrayLike, edges: ArrayLike) -> tuple[float, np.ndarray, np.ndarray]:
    """PSI of ``new`` against ``reference`` over the bins cut at ``edges``; also each bin's share on each side.

    A value equal to an edge falls in the bin above it, so with discrete scores a tied quantile is one bin.
    """
    e = np.asarray(edges, dtype=float)
    k = e.size + 1
    r = np.bincount(np.searchsorted(e, np.asarray(reference, dtype=float), side="right"), minlength=k)
    q = np.bincount(np.searchsorted(e, np.asarray(new, dtype=float), side="right"), minlength=k)
    p_ref = (r + 0.5) / (r.sum() + 0.5 * k)
    p_new = (q + 0.5) / (q.sum() + 0.5 * k)
    value = float(np.sum((p_new - p_ref) * np.log(p_new / p_ref)))
    return value, r / max(r.sum(), 1), q / max(q.sum(), 1)


def binomial_below_pvalue(successes: ArrayLike, trials: ArrayLike, rate: ArrayLike) -> np.ndarray:
    """One-sided exact p that the true rate is below ``rate`` (small = clearly below the benchmark)."""
    k, n, r = np.broadcast_arrays(*(np.atleast_1d(np.asarray(x, dtype=float)) for x in (successes, trials, rate)))
    out = np.where(n > 0, sps.binom.cdf(k, np.maximum(n, 1), r), np.nan)
    return np.asarray(out, dtype=float)
