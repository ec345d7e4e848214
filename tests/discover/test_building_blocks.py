"""Binning edges, points and tiers: the small pieces between the statistics and the spec."""

from __future__ import annotations

import numpy as np

from icpkit.discover.binning import best_band, nice_edges, nice_number
from icpkit.discover.points import fit_weights, to_points
from icpkit.discover.tiers import choose_tiers


def test_nice_numbers() -> None:
    assert nice_number(47.3) == 50
    assert nice_number(512.9) == 500
    assert nice_number(0.013) == 0.015 or nice_number(0.013) == 0.01


def test_edges_on_log_scale_are_human() -> None:
    rng = np.random.default_rng(0)
    v = np.exp(rng.normal(np.log(60), 1.8, 10_000))
    edges = nice_edges(v, max_bins=10, log_scale=True)
    assert np.all(np.diff(edges) > 0)
    for e in edges:
        mant = e / 10 ** np.floor(np.log10(e))
        assert round(mant, 6) in {1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 7.5}


def test_best_band_finds_the_planted_run() -> None:
    total = np.full(6, 100.0)
    target = np.array([5, 5, 40, 45, 5, 5], dtype=float)
    band = best_band(target, total, np.array([1, 2, 3, 4, 5.0]), min_count=5)
    assert (band.lo_bin, band.hi_bin, band.lo, band.hi) == (2, 3, 2.0, 4.0)
    assert band.n_searched == 20  # 21 runs minus the one covering every bin


def test_points_sum_to_100_and_follow_weights() -> None:
    pts = to_points(np.array([2.0, 1.0, 1.0, -0.5]))
    assert pts.sum() == 100 and pts[3] == 0 and pts[0] == 50


def test_capped_points_keep_their_share_and_sum_to_100() -> None:
    w = np.array([1.0, 1.0, 3.0, 1.0])
    capped = np.array([False, False, True, True])
    pts = to_points(w, capped=capped, cap=0.2)
    assert pts.sum() == 100 and pts[capped].sum() == 20
    assert pts[2] == 15 and pts[3] == 5 and pts[0] == pts[1] == 40
    # under the cap: plain proportional points
    assert list(to_points(np.array([4.0, 1.0]), capped=np.array([False, True]), cap=0.2)) == [80, 20]
    # nothing else to take the points: the capped group keeps them all
    assert to_points(np.array([1.0, 1.0]), capped=np.array([True, True]), cap=0.2).sum() == 100
    # more capped criteria than points: the weakest get none
    pts = to_points(np.array([5.0, 1.0, 0.5, 0.4]), capped=np.array([False, True, True, True]), cap=0.02)
    assert pts.sum() == 100 and pts[1:].sum() == 2 and pts[3] == 0


def test_fit_weights_on_collapsed_patterns() -> None:
    rng = np.random.default_rng(1)
    X = rng.random((5000, 2)) < 0.5
    y = rng.random(5000) < np.where(X[:, 0], 0.5, 0.1)
    coef = fit_weights(X, y, np.ones(5000))
    assert coef[0] > 1.5 and abs(coef[1]) < 0.3


def test_tiers_hit_target_shares() -> None:
    scores = np.repeat([0, 20, 40, 60, 80, 100], [600, 100, 100, 100, 50, 50])
    t = choose_tiers(scores, (0.05, 0.15, 0.30))
    assert (t.tier1, t.tier2, t.tier3) == (100, 60, 40)


def test_l2_scorecard_matches_scikit_learn_objective() -> None:
    sklearn = __import__("pytest").importorskip("sklearn.linear_model")
    from icpkit.discover.points import logistic_l2

    rng = np.random.default_rng(5)
    X = (rng.random((400, 4)) < 0.4).astype(float)
    y = (rng.random(400) < 1 / (1 + np.exp(-(X @ [1.5, -0.5, 0.0, 2.0] - 1)))).astype(int)
    w = rng.uniform(0.5, 2.0, 400)
    ref = sklearn.LogisticRegression(C=0.7, tol=1e-10, max_iter=5000).fit(X, y, sample_weight=w).coef_.ravel()
    assert np.allclose(logistic_l2(X, y, w, C=0.7), ref, atol=1e-5)


def test_numeric_candidate_counts_include_both_band_ends() -> None:
    from icpkit.discover.candidates import FieldIndex, counts_of, generate_candidates
    from icpkit.discover.profile import EncodedField, FieldProfile
    from icpkit.ingest.schema import ColumnKind

    rng = np.random.default_rng(2)
    v = rng.choice([10.0, 50.0, 120.0, 500.0, 900.0, np.nan], 5000)  # many values sit exactly on edges
    prof = FieldProfile("employees", "accounts", ColumnKind.NUMERIC, "candidate", 0.8, 5, "firmographic")
    f = EncodedField(prof, values=v, present=~np.isnan(v))
    index = FieldIndex([f], v.size)
    cohort = rng.integers(0, 5, v.size)
    params = {"min_support": 5, "max_values": 50, "max_bins": 10, "recency_windows": ()}
    cands = [c for c in generate_candidates(index, cohort, params) if c.kind != "missing"]
    assert {c.kind for c in cands} >= {"bin", "band"}
    for c in cands:
        assert np.array_equal(c.counts, counts_of(index.mask(c), cohort)), c.value
