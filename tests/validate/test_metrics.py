"""The statistics of validation, pinned on figures a person can check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from icpkit.validate.metrics import (
    bootstrap_medians,
    mean_ci,
    median_ci,
    median_ratio_ci,
    rate_ratio_ci,
    ratio_of_sums_ci,
    wilson,
)


def test_wilson_matches_the_textbook_values():
    lo, hi = wilson(5, 10)
    assert (float(lo), float(hi)) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    lo, hi = wilson(0, 20)  # never below 0, and not degenerate at 0 successes
    assert float(lo) == 0.0 and float(hi) == pytest.approx(0.1611, abs=1e-4)
    lo, hi = wilson(np.array([1, 3]), np.array([0, 3]))
    assert math.isnan(lo[0]) and hi[1] == pytest.approx(1.0)


def test_rate_ratio_katz_interval_by_hand():
    # 30/100 vs 10/100: RR 3, se = sqrt(1/30 - 1/100 + 1/10 - 1/100) = sqrt(0.11333)
    est = rate_ratio_ci(30, 100, 10, 100)
    se = math.sqrt(1 / 30 - 1 / 100 + 1 / 10 - 1 / 100)
    assert est.value == pytest.approx(3.0)
    assert est.low == pytest.approx(3 * math.exp(-1.959964 * se), rel=1e-6)
    assert est.high == pytest.approx(3 * math.exp(1.959964 * se), rel=1e-6)
    zero = rate_ratio_ci(0, 50, 10, 50)  # an empty cell: 0.5 added, interval still finite
    assert zero.value == 0.0 and 0 < zero.high < 1


def test_median_interval_is_the_order_statistic_interval():
    x = np.arange(1, 11, dtype=float)  # n=10: P(B<=1)=0.0107 -> [x(2), x(9)] covers >= 95%
    est = median_ci(x[::-1])
    assert (est.value, est.low, est.high) == (5.5, 2.0, 9.0)
    small = median_ci([3.0, 1.0, 2.0])
    assert small.value == 2.0 and math.isnan(small.low)


def test_exact_bootstrap_median_matches_brute_force_resampling():
    rng = np.random.default_rng(5)
    x = rng.gamma(2.0, 20.0, 41)
    exact = bootstrap_medians(x, 20000, np.random.default_rng(1))
    brute = np.median(rng.choice(x, size=(20000, x.size), replace=True), axis=1)
    for q in (5, 25, 50, 75, 95):
        assert np.percentile(exact, q) == pytest.approx(np.percentile(brute, q), rel=0.06)


def test_median_ratio_and_bootstrap_intervals_are_deterministic_and_sensible():
    a = np.full(50, 30.0) + np.arange(50) % 7
    b = np.full(60, 60.0) + np.arange(60) % 11
    r1, r2 = median_ratio_ci(a, b), median_ratio_ci(a, b)
    assert r1 == r2 and r1.high < 1 and r1.low <= r1.value <= r1.high
    nrr, draws = ratio_of_sums_ci([120.0, 0.0, 100.0, 90.0], [100.0, 50.0, 100.0, 100.0])
    assert nrr.value == pytest.approx(310 / 350) and draws.size > 0 and nrr.low < nrr.value < nrr.high
    mean, _ = mean_ci([10.0, 20.0, 30.0])
    assert mean.value == pytest.approx(20.0) and mean.low < 20 < mean.high
