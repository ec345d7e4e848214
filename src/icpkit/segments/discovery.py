"""Segment discovery: distinct profiles inside the high-value cohort, each rebuilt into its own ICP.

1. **Indicators.** Discovery runs once on all accounts. Its single-clause signal candidates on account fields
   (values, items, bins, bands, flags, recency; groups and conjunctions left out, so ``Software`` and
   ``Manufacturing`` stay apart) with support >= ``min_support`` and a lift interval above 1 become binary
   indicators, evaluated with the Arrow scoring engine (so missing values are "no").
2. **Profiles.** The high-value accounts' indicator rows are modelled as a mixture of independent Bernoulli
   profiles (latent-class analysis, EM from seeded starts). ``auto`` chooses the number of profiles (1–3) on
   held-out high-value accounts: one more profile is taken only when it raises the held-out log-likelihood per
   account by at least ``min_gain`` nats, significantly (one-sided paired t-test on the per-account gains,
   p < ``alpha``). A history with one profile is therefore not split: extra profiles only fit noise, and held-out
   likelihood does not rise.
3. **Segments.** Each high-value account goes to its most probable profile. Discovery runs again per profile:
   signal = that profile's high-value accounts, the other high-value accounts are left out (as ``open``), the
   anti-signal is as usual.
4. **Held-out evidence.** The accounts are split once in two halves, shared by every number of segments tried.
   A segment is kept only with at least ``min_segment_signal`` high-value accounts and when its ICP, rebuilt on
   each half, still separates its own high-value accounts of the other half from the anti-signal: accounts in
   its tier3 or better (not excluded) have a lift, pooled over both halves, whose 95% interval lies above 1.
5. **More segments must rank better.** Every held-out high-value and anti-signal account is ranked by its best
   segment (tier, then score) under the segments built on the other half; ``k`` segments are kept over ``k - 1``
   (or one ICP) only when this AUC is higher by at least ``min_auc_gain`` and significantly so: a paired Poisson
   bootstrap over the held-out accounts (both rankings reweighted by the same draws) gives the one-sided p-value,
   which must be below ``auc_alpha``. Comparing ``k`` with ``k - 1`` on the same accounts is what keeps a planted
   profile from being cut in two: a third profile raises the likelihood (correlated indicators) but never the
   ranking. The first ``k`` that does not improve ends the search.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats as sps

from icpkit.cohorts import ANTI_SIGNAL, COHORTS, SIGNAL, CohortResult
from icpkit.discover.builder import BuildResult, ICPBuilder
from icpkit.discover.discoverer import Discoverer
from icpkit.discover.stats import lift_interval
from icpkit.ingest.schema import Dataset
from icpkit.score.segments import TIER_RANK
from icpkit.score.vector import score_table
from icpkit.spec.model import Clause, Criterion, ICPSpec, Segment

__all__ = ["SegmentBuild", "SegmentFinder", "bernoulli_mixture", "heldout_loglik"]

_KINDS = frozenset({"value", "item", "bin", "band", "flag", "recency"})
_SIG = COHORTS.index(SIGNAL)
_OPEN = COHORTS.index("open")
_ANTI = [COHORTS.index(c) for c in ANTI_SIGNAL]
_EPS = 1e-3
_DRAWS = 400  # bootstrap draws of the held-out AUC difference
_TIERS = pa.array(list(TIER_RANK), pa.string())  # in rank order: index = rank


# ---------------------------------------------------------------------------------------------- the mixture


def bernoulli_mixture(
    x: np.ndarray, k: int, *, seed: int = 0, starts: int = 5, iters: int = 200
) -> tuple[np.ndarray, np.ndarray]:
    """(weights (k,), probabilities (k, p)) of a k-profile Bernoulli mixture fitted by EM; best of seeded starts."""
    n = x.shape[0]
    xf = x.astype(np.float64)
    if k == 1 or n < k:
        return np.ones(1), np.clip(xf.mean(axis=0, keepdims=True), _EPS, 1 - _EPS)
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(starts):
        resp = rng.dirichlet(np.ones(k), size=n)
        ll = -math.inf
        for _ in range(iters):
            w = resp.sum(axis=0) + 1e-9
            theta = np.clip((resp.T @ xf + 0.5) / (w[:, None] + 1.0), _EPS, 1 - _EPS)
            weights = w / w.sum()
            log_joint = _log_joint(xf, weights, theta)
            new_ll = float(_logsumexp(log_joint).sum())
            resp = np.exp(log_joint - _logsumexp(log_joint)[:, None])
            if new_ll - ll < 1e-6 * max(1.0, abs(new_ll)):
                ll = new_ll
                break
            ll = new_ll
        if best is None or ll > best[0]:
            best = (ll, weights, theta)
    assert best is not None
    return best[1], best[2]


def _log_joint(xf: np.ndarray, weights: np.ndarray, theta: np.ndarray) -> np.ndarray:
    return np.log(weights)[None, :] + xf @ np.log(theta).T + (1 - xf) @ np.log(1 - theta).T


def _logsumexp(a: np.ndarray) -> np.ndarray:
    m = a.max(axis=1)
    return m + np.log(np.exp(a - m[:, None]).sum(axis=1))


def heldout_loglik(x: np.ndarray, weights: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Log-likelihood of each row of ``x`` under the mixture."""
    return _logsumexp(_log_joint(x.astype(np.float64), weights, theta))


# ---------------------------------------------------------------------------------------------- the finder


@dataclass
class SegmentBuild:
    """A segmented build: the spec (with ``segments`` when more than one held), and how it was decided."""

    spec: ICPSpec
    base: BuildResult  # the ordinary single-ICP build on all accounts
    segments: list[BuildResult] = field(default_factory=list)  # one per kept segment, in spec order
    sizes: dict[str, int] = field(default_factory=dict)  # high-value accounts per segment
    heldout_lift: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # lift, low, high
    chosen_k: int = 1
    notes: list[str] = field(default_factory=list)

    @property
    def segmented(self) -> bool:
        return self.spec.segments is not None


class SegmentFinder:
    """Find 1–3 segments in CRM history; ``n_segments`` is ``"auto"`` or a number (the most to keep)."""

    def __init__(
        self,
        builder: ICPBuilder,
        *,
        n_segments: int | str = "auto",
        max_segments: int = 3,
        min_segment_signal: int = 30,
        max_indicators: int = 30,
        min_gain: float = 0.02,
        alpha: float = 0.01,
        min_auc_gain: float = 0.005,
        auc_alpha: float = 0.05,
        seed: int = 0,
    ) -> None:
        self.builder = builder
        self.n_segments = n_segments
        self.max_segments = max_segments
        self.min_segment_signal = min_segment_signal
        self.max_indicators = max_indicators
        self.min_gain = min_gain
        self.alpha = alpha
        self.min_auc_gain = min_auc_gain
        self.auc_alpha = auc_alpha
        self.seed = seed

    def _check(self) -> None:
        n = self.n_segments
        if not (n == "auto" or (isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= self.max_segments)):
            raise ValueError(f"n_segments must be 'auto' or a number from 1 to {self.max_segments}, got {n!r}")

    def _discoverer(self) -> Discoverer:
        b = self.builder
        return Discoverer(
            min_support=b.min_support,
            fdr=b.fdr,
            max_per_layer=b.max_per_layer,
            low_value_weight=b.low_value_weight,
            max_conjunctions=b.max_conjunctions,
            behavioral=b.behavioral,
            tier_shares=b.tier_shares,
            max_behavioral_share=b.max_behavioral_share,
        )

    def fit(self, dataset: Dataset) -> SegmentBuild:
        self._check()
        base = self.builder.fit(dataset)
        out = SegmentBuild(spec=base.spec, base=base)
        if base.no_signal or self.n_segments == 1:
            return out
        if base.leaked():  # the segments' own discoveries must not see what the build left out as leakage
            dataset = replace(dataset, accounts=dataset.accounts.drop_columns(base.leaked()))
        accounts = dataset.accounts
        cohort = base.cohorts.codes.astype(np.int64)
        clauses = self._indicators(base)
        if len(clauses) < 2:
            out.notes.append("segments: fewer than two indicator criteria, one ICP kept")
            return out
        x = _indicator_matrix(accounts, clauses, base.cohorts.as_of)
        signal = np.nonzero(cohort == _SIG)[0]
        xs = x[signal]
        rng = np.random.default_rng(self.seed)
        top = self._choose_k(xs, rng, out.notes) if self.n_segments == "auto" else int(self.n_segments)
        if top == 1:
            out.notes.append("segments: one ICP describes the high-value accounts; not split")
            return out
        half = rng.random(accounts.num_rows) < 0.5  # one two-fold split, shared by every number of segments
        ctx = _Context(dataset, base.cohorts, half)
        best_keys = self._single_keys(ctx)
        best: _Candidate | None = None
        for k in range(2, top + 1):
            weights, theta = bernoulli_mixture(xs, k, seed=self.seed)
            assign = _log_joint(xs.astype(np.float64), weights, theta).argmax(axis=1)
            counts = np.bincount(assign, minlength=k)
            if counts.min() < self.min_segment_signal:
                out.notes.append(
                    f"segments: with {k} profiles the smallest has {counts.min()} high-value accounts "
                    f"(< {self.min_segment_signal})"
                )
                break
            cand = self._segments(ctx, signal, assign, k, out.notes)
            if cand is None:
                break
            fewer = f"{best.k} segments" if best is not None else "one ICP"
            auc, auc_before, gain, p = _auc_gain(cand.keys, best_keys, self.seed)
            out.notes.append(
                f"segments: {k} profiles, held-out AUC of the best-segment score {auc:.3f} vs {fewer} "
                f"{auc_before:.3f} ({gain:+.3f}, p={p:.2g})"
            )
            if not (gain >= self.min_auc_gain and p < self.auc_alpha):
                break
            best, best_keys = cand, cand.keys
        if best is None:
            out.notes.append("segments: one ICP describes the high-value accounts; not split")
            return out
        self._keep(ctx, best, out)
        return out

    def _single_keys(self, ctx: _Context) -> list[tuple[np.ndarray, np.ndarray]]:
        """Held-out ranking by one ICP: each half scored by the ICP built on the other half."""
        cohort = ctx.cohorts.codes.astype(np.int64)
        out = []
        for train in (ctx.half, ~ctx.half):
            d = self._fit_on(ctx, np.where(train, cohort, _OPEN))
            out.append(
                _heldout_keys([d.to_spec("half", as_of=ctx.cohorts.as_of)], ctx.dataset.accounts, cohort, ~train)
            )
        return out

    def _fit_on(self, ctx: _Context, codes: np.ndarray) -> Discoverer:
        ds = ctx.dataset
        return self._discoverer().fit(
            ds.accounts, _recoded(ctx.cohorts, codes), deals=ds.deals, kinds=ds.kinds.get("accounts")
        )

    # ------------------------------------------------------------------------------------------------------
    def _indicators(self, base: BuildResult) -> list[Clause]:
        rows = []
        for r in base.discoverer.candidates_:
            c, e = r.candidate, r.evidence
            if r.test != "signal" or c.kind not in _KINDS or c.source != "accounts" or c.also:
                continue
            if e.support < self.builder.min_support or e.lift_low is None or not e.lift_low > 1:
                continue
            rows.append((r.log_p, Clause(field=c.field, op=c.op, value=c.value)))
        rows.sort(key=lambda t: t[0])
        seen: dict[str, Clause] = {}
        for _, cl in rows:
            seen.setdefault(cl.model_dump_json(), cl)
        return list(seen.values())[: self.max_indicators]

    def _choose_k(self, xs: np.ndarray, rng: np.random.Generator, notes: list[str]) -> int:
        n = xs.shape[0]
        perm = rng.permutation(n)
        train, test = perm[: n // 2], perm[n // 2 :]
        prev = None
        chosen = 1
        for k in range(1, self.max_segments + 1):
            if train.size < k * self.min_segment_signal // 2:
                break
            w, th = bernoulli_mixture(xs[train], k, seed=self.seed)
            ll = heldout_loglik(xs[test], w, th)
            if prev is not None:
                gain = ll - prev
                mean = float(gain.mean())
                p = float(sps.ttest_1samp(gain, 0.0, alternative="greater").pvalue) if gain.std() > 0 else 1.0
                notes.append(
                    f"segments: {k} profiles vs {k - 1}: held-out log-likelihood {mean:+.3f} nats per high-value "
                    f"account (p={p:.2g})"
                )
                if not (mean >= self.min_gain and p < self.alpha):
                    break
                chosen = k
            prev = ll
        return chosen

    def _segments(
        self, ctx: _Context, signal: np.ndarray, assign: np.ndarray, k: int, notes: list[str]
    ) -> _Candidate | None:
        """Rebuild one ICP per profile and check it on held-out accounts (two-fold); ``None`` when one fails."""
        accounts = ctx.dataset.accounts
        as_of = ctx.cohorts.as_of
        cohort = ctx.cohorts.codes.astype(np.int64)
        member = np.full(accounts.num_rows, -1, dtype=np.int64)
        member[signal] = assign
        lifts = []
        folds: list[list[ICPSpec]] = [[], []]
        for g in range(k):
            own = np.where((cohort == _SIG) & (member != g), _OPEN, cohort)
            counts = np.zeros(4, dtype=np.int64)  # held-out fit & own, fit, own, all: pooled over both folds
            for f, train in enumerate((ctx.half, ~ctx.half)):
                d = self._fit_on(ctx, np.where(train, own, _OPEN))
                if d.no_signal_:
                    notes.append(f"segments: profile {g + 1} of {k} finds no criteria on half of the accounts")
                    return None
                spec = d.to_spec("half", as_of=as_of)
                folds[f].append(spec)
                counts += _heldout_counts(spec, accounts, own, ~train)
            lift = _lift(counts)
            if lift is None or not lift[1] > 1:
                notes.append(f"segments: profile {g + 1} of {k} does not hold on held-out accounts")
                return None
            lifts.append(lift)
        keys = [_heldout_keys(folds[f], accounts, cohort, ~t) for f, t in enumerate((ctx.half, ~ctx.half))]
        return _Candidate(k=k, member=member, lifts=lifts, keys=keys)

    def _keep(self, ctx: _Context, cand: _Candidate, out: SegmentBuild) -> bool:
        """Rebuild each kept segment on all the accounts and write the spec; ``False`` if one finds nothing."""
        cohorts = ctx.cohorts
        cohort = cohorts.codes.astype(np.int64)
        fulls = [
            self._fit_on(ctx, np.where((cohort == _SIG) & (cand.member != g), _OPEN, cohort)) for g in range(cand.k)
        ]
        if any(d.no_signal_ for d in fulls):
            out.notes.append("segments: a profile finds no criteria on all the accounts; one ICP kept")
            return False
        names: list[str] = []
        specs = []
        for g, d in enumerate(fulls):
            spec = d.to_spec("segment", as_of=cohorts.as_of)
            names.append(_name(spec, names, g))
            specs.append(spec)
        out.spec = ICPSpec(
            name=out.base.spec.name,
            as_of=out.base.spec.as_of,
            segments=[
                Segment(name=nm, layers=sp.layers, exclusions=sp.exclusions, tiers=sp.tiers, routing=sp.routing)
                for nm, sp in zip(names, specs, strict=True)
            ],
        )
        out.chosen_k = cand.k
        out.sizes = {nm: int((cand.member == g).sum()) for g, nm in enumerate(names)}
        out.heldout_lift = dict(zip(names, cand.lifts, strict=True))
        out.segments = [
            BuildResult(
                spec=spec,
                cohorts=_recoded(cohorts, np.where((cohort == _SIG) & (cand.member != g), _OPEN, cohort)),
                candidates=d.candidates_table(),
                notes=list(d.notes_),
                no_signal=d.no_signal_,
                discoverer=d,
                behavior=d.behavior_,
                scores=d.scores_,
                lead_scores=d.lead_scores_,
            )
            for g, (d, spec) in enumerate(zip(fulls, specs, strict=True))
        ]
        lifts = out.heldout_lift
        out.notes.append(
            f"segments: {cand.k} distinct profiles among the high-value accounts ("
            + ", ".join(f"{nm}: {out.sizes[nm]}" for nm in names)
            + "), each holding on held-out accounts (tier3+ lift "
            + ", ".join(f"{nm} {lifts[nm][0]:.2f} [{lifts[nm][1]:.2f}–{lifts[nm][2]:.2f}]" for nm in names)
            + ")"
        )
        return True


@dataclass
class _Context:
    dataset: Dataset
    cohorts: CohortResult
    half: np.ndarray  # the first fold of the two-fold split


@dataclass
class _Candidate:
    """One number of segments, built and checked: profile of every high-value account, per-segment builds."""

    k: int
    member: np.ndarray
    lifts: list[tuple[float, float, float]]
    keys: list[tuple[np.ndarray, np.ndarray]]  # held-out ranking per fold: (key, is high-value)


def _recoded(cohorts: CohortResult, codes: np.ndarray) -> CohortResult:
    sizes = {name: int((codes == i).sum()) for i, name in enumerate(COHORTS)}
    return CohortResult(
        labels=cohorts.labels,
        codes=codes.astype(cohorts.codes.dtype),
        as_of=cohorts.as_of,
        window_start=cohorts.window_start,
        sizes=sizes,
        notes=list(cohorts.notes),
        params=dict(cohorts.params),
    )


def _indicator_matrix(accounts: pa.Table, clauses: list[Clause], as_of: dt.date) -> np.ndarray:
    """(accounts, clauses) boolean matrix: yes where the clause matches (unknown and no are both False)."""
    spec = ICPSpec(
        name="indicators",
        as_of=as_of,
        layers={"firmographic": [Criterion(**cl.model_dump(), points=0) for cl in clauses]},
    )
    fields = [f for f in spec.fields() if f in accounts.column_names]
    matched = score_table(spec, accounts.select(fields), as_of=as_of).column("matched").combine_chunks()
    x = np.zeros((accounts.num_rows, len(clauses)), dtype=bool)
    flat = pc.list_flatten(matched)
    if len(flat):
        rows = np.asarray(pc.list_parent_indices(matched).to_numpy(), dtype=np.int64)
        cols = pc.cast(pc.list_element(pc.split_pattern(flat, "."), 1), pa.int64()).to_numpy()
        x[rows, np.asarray(cols, dtype=np.int64)] = True
    return x


def _heldout_counts(spec: ICPSpec, accounts: pa.Table, codes: np.ndarray, heldout: np.ndarray) -> np.ndarray:
    """Held-out signal + anti-signal accounts: [tier3+ and signal, tier3+, signal, all]."""
    learning = heldout & np.isin(codes, [_SIG, *_ANTI])
    if learning.sum() == 0:
        return np.zeros(4, dtype=np.int64)
    fields = [f for f in spec.fields() if f in accounts.column_names]
    scored = score_table(spec, accounts.filter(pa.array(learning)).select(fields), as_of=spec.as_of, explain=False)
    tiers = np.asarray(scored.column("tier").to_numpy(zero_copy_only=False), dtype=object)
    fit = np.isin(tiers, ["tier1", "tier2", "tier3"])
    sig = codes[learning] == _SIG
    return np.array([(fit & sig).sum(), fit.sum(), sig.sum(), sig.size], dtype=np.int64)


def _lift(counts: np.ndarray) -> tuple[float, float, float] | None:
    """Lift (with its 95% interval) of tier3-or-better among signal vs anti-signal, from held-out counts."""
    a, n1, s, n = (int(v) for v in counts)
    if n1 == 0 or s == 0:
        return None
    lift, low, high = lift_interval(a, n1, s, n)
    return float(np.ravel(lift)[0]), float(np.ravel(low)[0]), float(np.ravel(high)[0])


def _heldout_keys(
    specs: list[ICPSpec], accounts: pa.Table, codes: np.ndarray, heldout: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Held-out high-value and anti-signal accounts ranked by their best segment: (key, is high-value).

    The key is tier then score (``(4 - tier rank) * 101 + score``): higher ranks better.
    """
    learning = heldout & np.isin(codes, [_SIG, *_ANTI])
    fields = sorted({f for s in specs for f in s.fields() if f in accounts.column_names})
    table = accounts.filter(pa.array(learning)).select(fields)
    keys = []
    for spec in specs:
        scored = score_table(spec, table, as_of=spec.as_of, explain=False)  # the history's date, not today
        rank = pc.index_in(scored.column("tier"), value_set=_TIERS).to_numpy(zero_copy_only=False).astype(np.int64)
        keys.append((len(TIER_RANK) - 1 - rank) * 101 + np.asarray(scored.column("score").to_numpy(), dtype=np.int64))
    return np.max(np.stack(keys), axis=0), codes[learning] == _SIG


def _weighted_auc(key: np.ndarray, sig: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """AUC (ties count half) of high-value vs anti-signal for each row of account ``weights`` (draws x accounts)."""
    order = np.argsort(key, kind="stable")
    k, s = key[order], sig[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])  # first account of each distinct key, ascending
    w = weights[:, order]
    h1 = np.add.reduceat(w * s, starts, axis=1)  # draws x keys: weighted high-value accounts per key
    h0 = np.add.reduceat(w * ~s, starts, axis=1)
    below = np.cumsum(h0, axis=1) - h0  # anti-signal weight strictly below each key
    with np.errstate(invalid="ignore", divide="ignore"):
        return (h1 * (below + 0.5 * h0)).sum(axis=1) / (h1.sum(axis=1) * h0.sum(axis=1))


def _auc_gain(
    new: list[tuple[np.ndarray, np.ndarray]], old: list[tuple[np.ndarray, np.ndarray]], seed: int
) -> tuple[float, float, float, float]:
    """Held-out AUC of ``new`` and ``old`` (mean over the folds), and the one-sided p-value that ``new`` is no better.

    The p-value comes from a paired Poisson bootstrap over the held-out accounts (both rankings of a fold reweighted
    by the same draws), so the shared noise of the accounts cancels out of the difference.
    """
    rng = np.random.default_rng(seed)
    point_new, point_old, diffs = [], [], []
    for (kn, sig), (ko, _) in zip(new, old, strict=True):
        one = np.ones((1, sig.size))
        point_new.append(float(_weighted_auc(kn, sig, one)[0]))
        point_old.append(float(_weighted_auc(ko, sig, one)[0]))
        w = rng.poisson(1.0, size=(_DRAWS, sig.size)).astype(np.float64)
        diffs.append(_weighted_auc(kn, sig, w) - _weighted_auc(ko, sig, w))
    d = np.mean(diffs, axis=0)
    d = d[np.isfinite(d)]
    p = float((np.sum(d <= 0) + 1) / (d.size + 1))
    a_new, a_old = float(np.mean(point_new)), float(np.mean(point_old))
    return a_new, a_old, a_new - a_old, p


_SLUG = re.compile(r"[^a-z0-9]+")


def _name(spec: ICPSpec, taken: list[str], g: int) -> str:
    """A readable segment name from its strongest categorical criterion (``software``), else ``segment_<n>``."""
    best = sorted(
        (c for _, c in spec.criteria() if isinstance(c.value, list) and c.op in ("in", "contains_any", "equals")),
        key=lambda c: -c.points,
    )
    for c in best:
        slug = _SLUG.sub("_", str(c.value[0]).lower()).strip("_")[:30]
        if slug and slug[0].isalpha() and slug not in taken:
            return slug
    return f"segment_{g + 1}"
