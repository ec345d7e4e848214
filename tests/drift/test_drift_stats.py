"""The drift statistics, pinned on figures a person can check by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from icpkit.drift.stats import binomial_below_pvalue, log_ratio_change, psi, reference_bins, se_from_interval


def test_psi_by_hand() -> None:
    # two bins cut at 50: reference 50/50, new 80/20 (with half a count per bin)
    ref = np.array([10] * 50 + [90] * 50)
    new = np.array([10] * 80 + [90] * 20)
    value, p_ref, p_new = psi(ref, new, [50])
    p = np.array([50.5, 50.5]) / 101
    q = np.array([80.5, 20.5]) / 101
    assert value == pytest.approx(float(np.sum((q - p) * np.log(q / p))), rel=1e-12)
    assert value == pytest.approx(0.4063, abs=1e-4)  # 0.297 ln(0.797/0.5) + 0.297 ln(0.5/0.203)
    assert p_ref.tolist() == [0.5, 0.5] and p_new.tolist() == [0.8, 0.2]
    assert psi(ref, ref, [50])[0] == 0.0


def test_reference_bins_merge_ties_and_drop_the_minimum() -> None:
    scores = np.array([0] * 60 + [25] * 20 + [50] * 10 + [100] * 10)
    edges = reference_bins(scores)
    # deciles (lower): 0 x6, 25 x2, 50 -> distinct edges above the minimum; 100 is above the 90th percentile
    assert edges.tolist() == [25.0, 50.0]
    assert reference_bins([]).size == 0


def test_log_ratio_change() -> None:
    se = se_from_interval(1.5, 2.0)
    assert float(se) == pytest.approx((math.log(2.0) - math.log(1.5)) / (2 * 1.959963984540054))
    z, p = log_ratio_change([2.0], [0.1], [2.0], [0.1])
    assert z[0] == 0 and p[0] == pytest.approx(1.0)
    z, p = log_ratio_change([2.0], [0.1], [1.0], [0.1])
    assert z[0] == pytest.approx(-math.log(2.0) / math.sqrt(0.02))
    assert p[0] == pytest.approx(2 * 0.5 * math.erfc(abs(z[0]) / math.sqrt(2)))
    z, p = log_ratio_change([np.nan], [0.1], [1.0], [0.1])
    assert np.isnan(z[0]) and np.isnan(p[0])


def test_binomial_below() -> None:
    # P(X <= 1 | n=10, p=0.2) = 0.8^10 + 10 * 0.2 * 0.8^9
    assert binomial_below_pvalue(1, 10, 0.2)[0] == pytest.approx(0.8**10 + 10 * 0.2 * 0.8**9)
    assert np.isnan(binomial_below_pvalue(0, 0, 0.2)[0])
