"""The statistics pinned on tiny count tables whose figures can be checked by hand (see the comments)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from icpkit.discover.stats import (
    benjamini_hochberg,
    hierarchical_q,
    holm,
    homogeneity_pvalue,
    interaction_test,
    lift_interval,
    simes_pvalue,
    two_by_two_pvalue,
)


def test_sparse_table_uses_fisher() -> None:
    # 8 of 20 matching accounts are signal, 20 of 100 overall: the smallest expected cell is 20*20/100 = 4 < 5
    p = two_by_two_pvalue(8, 20, 20, 100)[0]
    assert p == pytest.approx(sps.fisher_exact([[8, 12], [12, 68]]).pvalue, rel=1e-12)
    assert p == pytest.approx(0.0246863546, rel=1e-6)


def test_large_table_uses_chi_square() -> None:
    # chi2 = 400 (30*270 - 70*30)^2 / (100*300*60*340) = 23.5294…
    p = two_by_two_pvalue(30, 100, 60, 400)[0]
    assert p == pytest.approx(sps.chi2.sf(400 * 6000**2 / (100 * 300 * 60 * 340), 1), rel=1e-12)
    assert p == pytest.approx(1.2301875e-06, rel=1e-6)


def test_lift_and_interval_by_hand() -> None:
    # rate 8/20 = 0.4 vs base 20/100 = 0.2 -> lift 2. Delta method: d1 = 1/0.4 - 0.2/0.2 = 1.5, d0 = -0.8/0.2 = -4,
    # var = 1.5² * 0.4*0.6/20 + 4² * 0.15*0.85/80 = 0.0525 -> 2 * exp(±1.96 * 0.229129)
    lift, lo, hi = lift_interval(8, 20, 20, 100)
    assert lift[0] == pytest.approx(2.0)
    half = 1.959963984540054 * np.sqrt(0.0525)
    assert lo[0] == pytest.approx(2 * np.exp(-half), rel=1e-9)
    assert hi[0] == pytest.approx(2 * np.exp(half), rel=1e-9)
    assert (lo[0], hi[0]) == pytest.approx((1.27642476, 3.13375306), rel=1e-6)


def test_multiple_testing_by_hand() -> None:
    assert benjamini_hochberg([0.01, 0.02, 0.03]).tolist() == pytest.approx([0.03, 0.03, 0.03])
    assert holm([0.01, 0.04, 0.03]).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert simes_pvalue([0.01, 0.04, 0.03]) == pytest.approx(0.03)
    assert np.isnan(benjamini_hochberg([0.01, np.nan])[1])


def test_homogeneity_by_hand() -> None:
    # signal 10/50 and 20/50: expected 15 each; chi2 = 2 * (25/15 + 25/35) = 4.7619
    assert homogeneity_pvalue([10, 20], [50, 50]) == pytest.approx(sps.chi2.sf(2 * (25 / 15 + 25 / 35), 1))


def test_hierarchical_q_needs_the_field_selected() -> None:
    fam_q, within = hierarchical_q([1e-6, 0.5], [np.array([1e-5, 0.2]), np.array([0.001])], 0.05)
    assert fam_q.tolist() == pytest.approx([2e-6, 0.5])
    # one of two families selected: within-family BH scaled by m / R = 2
    assert within[0].tolist() == pytest.approx([2e-5 * 2, 0.4])
    assert within[1][0] == pytest.approx(0.5)  # an unselected family's value keeps its family q


def test_interaction_by_hand() -> None:
    # +0.5 in every cell: log(10.5/10.5) - 2 log(10.5/40.5) + log(20.5/180.5)
    est, p = interaction_test(10, 20, 10, 50, 10, 50, 20, 200)
    expected = 0.0 - 2 * np.log(10.5 / 40.5) + np.log(20.5 / 180.5)
    assert est[0] == pytest.approx(expected)
    se = np.sqrt(2 / 10.5 + 2 * (1 / 10.5 + 1 / 40.5) + 1 / 20.5 + 1 / 180.5)
    assert p[0] == pytest.approx(2 * sps.norm.sf(expected / se))
