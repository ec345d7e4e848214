"""Segment discovery on planted histories: two planted profiles are found, one profile is never split."""

from __future__ import annotations

import numpy as np
import pytest

from icpkit.discover.builder import ICPBuilder
from icpkit.segments import SegmentFinder, bernoulli_mixture, heldout_loglik
from icpkit.spec import load_spec
from icpkit.synth import generate


def _values(spec, field):  # every value a segment's criteria name for a field
    return {str(v).lower() for _, c in spec.criteria() for cl in c.clauses() if cl.field == field for v in cl.value}


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_a_planted_two_segment_history_is_split_in_its_two_segments(seed: int) -> None:
    history = generate(8000, seed=seed, segments=2)
    found = SegmentFinder(ICPBuilder()).fit(history.dataset())
    assert found.chosen_k == 2 and found.segmented
    specs = dict(found.spec.segment_specs())
    industries = [_values(s, "industry") for s in specs.values()]
    stacks = [_values(s, "tech_stack") for s in specs.values()]
    enterprise = next(i for i, ind in enumerate(industries) if "manufacturing" in ind)
    midmarket = 1 - enterprise
    assert "software" not in industries[enterprise] and "sap" in stacks[enterprise]
    assert "manufacturing" not in industries[midmarket] and "hubspot" in stacks[midmarket]
    assert "sap" not in stacks[midmarket]
    assert min(found.sizes.values()) >= 30
    assert all(low > 1 for _, low, _ in found.heldout_lift.values())
    # the multi-segment spec survives its YAML and scores a planted enterprise account in its segment
    spec = load_spec(found.spec.to_yaml())
    assert spec == found.spec
    names = [name for name, _ in spec.segment_specs()]
    r = spec.score({"industry": "Manufacturing", "employees": 4000, "tech_stack": ["SAP"], "business_model": "B2B"})
    assert r.segment == names[enterprise]
    assert r.segment_scores[names[enterprise]] > r.segment_scores[names[midmarket]]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_a_one_segment_history_is_not_split(seed: int) -> None:
    history = generate(8000, seed=seed)
    found = SegmentFinder(ICPBuilder()).fit(history.dataset())
    assert not found.segmented and found.chosen_k == 1
    assert found.spec == found.base.spec
    assert any("not split" in n for n in found.notes)


@pytest.mark.parametrize("seed", [0, 1])
def test_asking_for_two_segments_of_a_one_segment_history_keeps_one_icp(seed: int) -> None:
    # the profiles are forced, so only the held-out ranking can refuse them: two segments rank no better than one
    found = SegmentFinder(ICPBuilder(), n_segments=2).fit(generate(8000, seed=seed).dataset())
    assert not found.segmented
    assert any("2 profiles, held-out AUC" in n and "vs one ICP" in n for n in found.notes)


def test_a_third_profile_that_ranks_no_better_is_not_kept() -> None:
    found = SegmentFinder(ICPBuilder(), n_segments=3).fit(generate(8000, seed=1, segments=2).dataset())
    assert found.chosen_k == 2
    assert any(n.startswith("segments: 3 profiles, held-out AUC") and "vs 2 segments" in n for n in found.notes)


def test_a_fixed_number_of_one_is_the_single_icp() -> None:
    history = generate(3000, seed=1, segments=2)
    found = SegmentFinder(ICPBuilder(), n_segments=1).fit(history.dataset())
    assert found.spec.segments is None


@pytest.mark.parametrize("bad", [0, 4, "two", True])
def test_bad_segment_counts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="n_segments"):
        SegmentFinder(ICPBuilder(), n_segments=bad).fit(generate(200, seed=0).dataset())


def test_the_mixture_recovers_two_planted_profiles_and_generalises() -> None:
    rng = np.random.default_rng(0)
    a = rng.random((300, 6)) < np.array([0.9, 0.9, 0.9, 0.1, 0.1, 0.1])
    b = rng.random((300, 6)) < np.array([0.1, 0.1, 0.1, 0.9, 0.9, 0.9])
    x = np.vstack([a, b])
    w, theta = bernoulli_mixture(x, 2, seed=0)
    assert np.allclose(sorted(w), [0.5, 0.5], atol=0.05)
    assert sorted(np.round(theta[:, 0], 1)) == pytest.approx([0.1, 0.9], abs=0.06)
    w1, t1 = bernoulli_mixture(x, 1)
    assert heldout_loglik(x, w, theta).mean() > heldout_loglik(x, w1, t1).mean() + 1.0


def test_the_weighted_auc_is_the_rank_sum_auc_of_the_resampled_accounts() -> None:
    from scipy import stats as sps

    from icpkit.segments.discovery import _weighted_auc

    rng = np.random.default_rng(0)
    key = rng.integers(0, 505, 3000)
    sig = rng.random(3000) < 0.3 + key / 2000
    weights = rng.poisson(1.0, size=(3, 3000)).astype(float)
    got = _weighted_auc(key, sig, np.vstack([np.ones(3000), weights]))
    for row, w in zip(got, [np.ones(3000), *weights], strict=True):
        take = np.repeat(np.arange(3000), w.astype(int))  # the accounts as the weights resample them
        k, s = key[take], sig[take]
        ranks = sps.rankdata(k)
        n1, n0 = int(s.sum()), int((~s).sum())
        assert row == pytest.approx((ranks[s].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))
