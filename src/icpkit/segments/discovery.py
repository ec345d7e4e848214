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
4. **Held-out evidence.** A segment is kept only with at least ``min_segment_signal`` high-value accounts and when
   its ICP, rebuilt on a random half of the accounts, still separates its own high-value accounts of the other half
   from the anti-signal: accounts in its tier3 or better (not excluded) have a lift whose 95% interval lies above
   1. The segments together must also beat one ICP on the same held-out half: the AUC of held-out high-value vs
   anti-signal accounts, ranked by the best segment (tier, then score), must exceed the single ICP's by at least
   ``min_auc_gain``. When a check fails, one profile fewer is tried; with one profile left the ordinary single ICP
   is kept.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from scipy import stats as sps

from icpkit.cohorts import ANTI_SIGNAL, COHORTS, SIGNAL, CohortResult
from icpkit.discover.builder import BuildResult, ICPBuilder
from icpkit.discover.discoverer import Discoverer
from icpkit.discover.stats import lift_interval
from icpkit.ingest.schema import ColumnKind, Dataset
from icpkit.score.segments import TIER_RANK
from icpkit.score.vector import score_table
from icpkit.spec.model import Clause, Criterion, ICPSpec, Segment

__all__ = ["SegmentBuild", "SegmentFinder", "bernoulli_mixture", "heldout_loglik"]

_KINDS = frozenset({"value", "item", "bin", "band", "flag", "recency"})
_SIG = COHORTS.index(SIGNAL)
_OPEN = COHORTS.index("open")
_ANTI = [COHORTS.index(c) for c in ANTI_SIGNAL]
_EPS = 1e-3


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
        min_auc_gain: float = 0.01,
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
        accounts, deals = dataset.accounts, dataset.deals
        kinds = dataset.kinds.get("accounts")
        cohort = base.cohorts.codes.astype(np.int64)
        clauses = self._indicators(base)
        if len(clauses) < 2:
            out.notes.append("segments: fewer than two indicator criteria, one ICP kept")
            return out
        x = _indicator_matrix(accounts, clauses, base.cohorts.as_of)
        signal = np.nonzero(cohort == _SIG)[0]
        xs = x[signal]
        rng = np.random.default_rng(self.seed)
        k = self._choose_k(xs, rng, out.notes) if self.n_segments == "auto" else int(self.n_segments)
        while k > 1:
            weights, theta = bernoulli_mixture(xs, k, seed=self.seed)
            post = _log_joint(xs.astype(np.float64), weights, theta)
            assign = post.argmax(axis=1)
            counts = np.bincount(assign, minlength=k)
            if counts.min() < self.min_segment_signal:
                out.notes.append(
                    f"segments: with {k} profiles the smallest has {counts.min()} high-value accounts "
                    f"(< {self.min_segment_signal}); trying {k - 1}"
                )
                k -= 1
                continue
            kept = self._segments(accounts, deals, kinds, base.cohorts, signal, assign, k, rng, out)
            if kept:
                out.chosen_k = k
                return out
            k -= 1
        out.notes.append("segments: one ICP describes the high-value accounts; not split")
        return out

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
        self,
        accounts: pa.Table,
        deals: pa.Table | None,
        kinds: dict[str, ColumnKind] | None,
        cohorts: CohortResult,
        signal: np.ndarray,
        assign: np.ndarray,
        k: int,
        rng: np.random.Generator,
        out: SegmentBuild,
    ) -> bool:
        n = accounts.num_rows
        cohort = cohorts.codes.astype(np.int64)
        member = np.full(n, -1, dtype=np.int64)
        member[signal] = assign
        half = rng.random(n) < 0.5
        results, names, lifts, halves = [], [], {}, []
        for g in range(k):
            own = np.where((cohort == _SIG) & (member != g), _OPEN, cohort)
            full = self._discoverer().fit(accounts, _recoded(cohorts, own), deals=deals, kinds=kinds)
            if full.no_signal_:
                out.notes.append(f"segments: profile {g + 1} of {k} has no criteria of its own")
                return False
            train = self._discoverer().fit(
                accounts, _recoded(cohorts, np.where(half, own, _OPEN)), deals=deals, kinds=kinds
            )
            if train.no_signal_:
                out.notes.append(f"segments: profile {g + 1} of {k} finds no criteria on half of the accounts")
                return False
            lift = _heldout_lift(train.to_spec("half", as_of=cohorts.as_of), accounts, own, ~half, out)
            if lift is None or not lift[1] > 1:
                out.notes.append(f"segments: profile {g + 1} of {k} does not hold on held-out accounts")
                return False
            halves.append(train.to_spec("half", as_of=cohorts.as_of))
            spec = full.to_spec("segment", as_of=cohorts.as_of)
            names.append(_name(spec, names, g))
            lifts[names[-1]] = lift
            results.append((full, spec, int((member == g).sum())))
        single = self._discoverer().fit(
            accounts, _recoded(cohorts, np.where(half, cohort, _OPEN)), deals=deals, kinds=kinds
        )
        auc_one = _heldout_auc([single.to_spec("half", as_of=cohorts.as_of)], accounts, cohort, ~half)
        auc_seg = _heldout_auc(halves, accounts, cohort, ~half)
        out.notes.append(
            f"segments: {k} profiles, held-out AUC of the best-segment score {auc_seg:.3f} vs one ICP {auc_one:.3f}"
        )
        if not auc_seg - auc_one >= self.min_auc_gain:
            return False
        segments = [
            Segment(name=nm, layers=spec.layers, exclusions=spec.exclusions, tiers=spec.tiers, routing=spec.routing)
            for nm, (_, spec, _) in zip(names, results, strict=True)
        ]
        out.spec = ICPSpec(name=out.base.spec.name, as_of=out.base.spec.as_of, segments=segments)
        out.sizes = {nm: size for nm, (_, _, size) in zip(names, results, strict=True)}
        out.heldout_lift = lifts
        out.segments = [
            BuildResult(
                spec=spec,
                cohorts=_recoded(cohorts, np.where((cohort == _SIG) & (member != g), _OPEN, cohort)),
                candidates=d.candidates_table(),
                notes=list(d.notes_),
                no_signal=d.no_signal_,
                discoverer=d,
                behavior=d.behavior_,
                scores=d.scores_,
                lead_scores=d.lead_scores_,
            )
            for g, (d, spec, _) in enumerate(results)
        ]
        out.notes.append(
            f"segments: {k} distinct profiles among the high-value accounts ("
            + ", ".join(f"{nm}: {out.sizes[nm]}" for nm in names)
            + "), each holding on held-out accounts (tier3+ lift "
            + ", ".join(f"{nm} {lifts[nm][0]:.2f} [{lifts[nm][1]:.2f}–{lifts[nm][2]:.2f}]" for nm in names)
            + ")"
        )
        return True


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
    matched = score_table(spec, accounts.select(fields)).column("matched").to_pylist()
    x = np.zeros((accounts.num_rows, len(clauses)), dtype=bool)
    for i, ids in enumerate(matched):
        for cid in ids:
            x[i, int(cid.rsplit(".", 1)[1])] = True
    return x


def _heldout_lift(
    spec: ICPSpec, accounts: pa.Table, codes: np.ndarray, heldout: np.ndarray, out: SegmentBuild
) -> tuple[float, float, float] | None:
    """Lift (with 95% interval) of the spec's tier3-or-better among held-out signal vs anti-signal accounts."""
    learning = heldout & np.isin(codes, [_SIG, *_ANTI])
    if learning.sum() == 0:
        return None
    fields = [f for f in spec.fields() if f in accounts.column_names]
    scored = score_table(spec, accounts.filter(pa.array(learning)).select(fields), explain=False)
    tiers = np.asarray(scored.column("tier").to_pylist())
    fit = np.isin(tiers, ["tier1", "tier2", "tier3"])
    sig = codes[learning] == _SIG
    a, n1, s, n = int((fit & sig).sum()), int(fit.sum()), int(sig.sum()), int(sig.size)
    if n1 == 0 or s == 0:
        return None
    lift, low, high = lift_interval(a, n1, s, n)
    return float(np.ravel(lift)[0]), float(np.ravel(low)[0]), float(np.ravel(high)[0])


def _heldout_auc(specs: list[ICPSpec], accounts: pa.Table, codes: np.ndarray, heldout: np.ndarray) -> float:
    """AUC of held-out high-value vs anti-signal accounts, ranked by the best segment (tier, then score)."""
    learning = heldout & np.isin(codes, [_SIG, *_ANTI])
    fields = sorted({f for s in specs for f in s.fields() if f in accounts.column_names})
    table = accounts.filter(pa.array(learning)).select(fields)
    keys = []
    for spec in specs:
        scored = score_table(spec, table, explain=False)
        rank = np.asarray([TIER_RANK[t] for t in scored.column("tier").to_pylist()], dtype=np.float64)
        keys.append((len(TIER_RANK) - rank) * 101 + np.asarray(scored.column("score").to_numpy(), dtype=np.float64))
    key = np.max(np.stack(keys), axis=0)
    sig = codes[learning] == _SIG
    if sig.all() or not sig.any():
        return 0.5
    ranks = sps.rankdata(key)
    n1, n0 = int(sig.sum()), int((~sig).sum())
    return float((ranks[sig].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


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
