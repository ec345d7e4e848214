"""``Discoverer``: cohorts + account attributes -> evidence for every candidate -> criteria, exclusions, points.

The search (which clauses to try, ``candidates``) is kept apart from the statistics (``stats``, pure functions on
count tables). Every count is aggregated first (``bincount`` over codes, pre-bins, item pairs); statistics then
run on tables of a few hundred rows, whatever the number of accounts. The steps:

1. Profile and encode every usable attribute; derive behavioural attributes from deals (layer ``behavioral``).
2. Exclusions first: for every value, item, flag, bin and band of an account attribute, churn among matching
   customers against baseline churn, and the win rate of matching closed accounts against the baseline. A value
   is an exclusion when churn is at least ``exclusion_churn_lift`` x baseline (or the win rate at most
   ``exclusion_win_ratio`` x baseline), with ``min_support`` churned (lost) accounts and q <= ``fdr``.
3. Positive criteria, among accounts not excluded: signal (high-value retained) against anti-signal (churned,
   never closed, low-value retained) for every candidate. Rates are taken over the accounts whose field is known
   (missing is unknown, never a "no"). A positive candidate whose matching customers churn above baseline is
   over-fit, and never a positive, only when the excess is material (more than ``overfit_margin`` above baseline)
   and significant after FDR control (BH q <= ``fdr`` over the candidates facing the test): a small excess can be
   the make-up of the matching customers, and an untested one would throw true criteria away. Values significant
   on their own are grouped (``in`` / ``contains_any``); the best candidate of each field is kept.
4. Multiple testing at two levels (``stats.hierarchical_q``): each field is a family, fields are selected by Holm
   at ``fdr``, candidates within selected fields by Benjamini–Hochberg at ``fdr * R / m``. Searched bands carry a
   Bonferroni multiplier for the number of intervals examined.
5. Two-attribute conjunctions: all pairs of the strongest candidates of selected fields at once, from the
   indicator-matrix products X_sᵀX and XᵀX; kept when the log-odds interaction is significant (own BH family) and
   the pair's lift beats both parts.
6. Points from a regularised logistic scorecard (low-value retained weighted ``low_value_weight`` as negatives),
   at most ``max_per_layer`` per layer. Behavioural criteria (``behavior``: source and motion of the first deal)
   are unknown for a new lead, so their layer takes at most ``max_behavioral_share`` of the points.
7. Tiers from the distribution of the *lead-time* score: the score with behavioural criteria unknown, as a new
   lead is scored. Thresholds chosen on the full score would sit where only accounts with a deal history reach;
   chosen on the lead-time score, every tier is reachable from the attributes a lead has, and accounts with deal
   data can only score higher. The notes give the tier shares both ways.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from icpkit.cohorts import COHORTS, CohortResult
from icpkit.discover.behavior import BEHAVIORAL_FIELDS, deal_attributes
from icpkit.discover.candidates import (
    RECENCY_WINDOWS,
    Candidate,
    FieldIndex,
    counts_of,
    generate_candidates,
    group_candidate,
)
from icpkit.discover.families import Family, find_families
from icpkit.discover.points import fit_weights, to_points
from icpkit.discover.profile import FieldProfile, profile_fields
from icpkit.discover.stats import (
    benjamini_hochberg,
    hierarchical_q,
    homogeneity_pvalue,
    interaction_test,
    lift_interval,
    simes_pvalue,
    two_by_two_log_pvalue,
    two_by_two_pvalue,
)
from icpkit.discover.tiers import choose_tiers
from icpkit.errors import DataError
from icpkit.ingest.schema import ColumnKind
from icpkit.spec.model import LAYERS, Clause, Criterion, Evidence, Exclusion, ICPSpec, Op, Routing, Tiers

__all__ = ["CandidateResult", "Discoverer", "shares_of_tiers"]

Progress = Callable[[str, float], None]
OPEN = COHORTS.index("open")


@dataclass
class CandidateResult:
    """One tested candidate: the clause, its evidence, which test, and what became of it."""

    candidate: Candidate
    evidence: Evidence
    test: str  # "signal" | "exclusion" | "conjunction"
    status: str
    note: str = ""
    points: int = 0
    log_p: float = 0.0  # natural log of p, for ranking where p itself underflows to 0 on large data

    def row(self) -> dict:
        c, e = self.candidate, self.evidence
        return {
            "test": self.test,
            "field": c.field,
            "op": str(c.op),
            "value": _value_text(c.value),
            "also": "; ".join(f"{a.field} {a.op} {_value_text(a.value)}" for a in c.also) or None,
            "description": c.describe() if c.kind != "missing" else f"{c.field} missing",
            "kind": c.kind,
            "layer": c.layer,
            "source": c.source,
            "status": self.status,
            "points": self.points,
            "support": e.support,
            "n": e.n,
            "signal_rate": e.signal_rate,
            "base_rate": e.base_rate,
            "lift": e.lift,
            "lift_low": e.lift_low,
            "lift_high": e.lift_high,
            "churn_rate": e.churn_rate,
            "base_churn_rate": e.base_churn_rate,
            "churn_p": e.churn_p,
            "churn_q": e.churn_q,
            "loss_rate": e.loss_rate,
            "p": e.p,
            "q": e.q,
            "search": c.search,
            "note": self.note,
        }


def _value_text(v: object) -> str:
    if isinstance(v, list):
        return "[" + ", ".join("null" if x is None else str(x) for x in v) + "]"
    return str(v)


def _r(x: float | None, digits: int = 4) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    if x == 0:
        return 0.0
    return float(f"{x:.{digits}g}")


class Discoverer:
    """Find an evidence-backed ICP in account attributes, given cohort labels. Estimator-style.

    Parameters are stored as given; ``fit`` learns ``candidates_``, ``criteria_``, ``exclusions_``, ``overfit_``,
    ``tiers_``, ``scores_`` and ``notes_``.
    """

    def __init__(
        self,
        *,
        min_support: int = 5,
        fdr: float = 0.05,
        max_per_layer: int = 5,
        low_value_weight: float = 0.5,
        overfit_margin: float = 0.25,
        exclusion_churn_lift: float = 2.0,
        exclusion_win_ratio: float = 0.5,
        max_exclusion_share: float = 0.5,
        max_values: int = 50,
        max_bins: int = 10,
        max_group: int = 10,
        recency_windows: tuple[int, ...] = RECENCY_WINDOWS,
        max_conjunctions: int = 3,
        conjunction_pool: int = 30,
        C: float = 1.0,
        penalty: str = "l2",
        tier_shares: tuple[float, float, float] = (0.05, 0.15, 0.30),
        behavioral: bool = True,
        max_behavioral_share: float = 0.20,
        progress: Progress | None = None,
    ) -> None:
        self.min_support = min_support
        self.fdr = fdr
        self.max_per_layer = max_per_layer
        self.low_value_weight = low_value_weight
        self.overfit_margin = overfit_margin
        self.exclusion_churn_lift = exclusion_churn_lift
        self.exclusion_win_ratio = exclusion_win_ratio
        self.max_exclusion_share = max_exclusion_share
        self.max_values = max_values
        self.max_bins = max_bins
        self.max_group = max_group
        self.recency_windows = recency_windows
        self.max_conjunctions = max_conjunctions
        self.conjunction_pool = conjunction_pool
        self.C = C
        self.penalty = penalty
        self.tier_shares = tier_shares
        self.behavioral = behavioral
        self.max_behavioral_share = max_behavioral_share
        self.progress = progress

    # ------------------------------------------------------------------------------------------------------
    def _tell(self, stage: str, fraction: float) -> None:
        if self.progress is not None:
            self.progress(stage, fraction)

    def _check_params(self) -> None:
        if self.min_support < 1:
            raise ValueError(f"min_support must be at least 1, got {self.min_support}")
        if not 0 < self.fdr < 1:
            raise ValueError(f"fdr must be between 0 and 1, got {self.fdr}")
        if self.max_per_layer < 1:
            raise ValueError(f"max_per_layer must be at least 1, got {self.max_per_layer}")
        if not 0 <= self.low_value_weight <= 1:
            raise ValueError(f"low_value_weight must be in [0, 1], got {self.low_value_weight}")
        if not 0 <= self.max_behavioral_share <= 1:
            raise ValueError(f"max_behavioral_share must be in [0, 1], got {self.max_behavioral_share}")
        if self.penalty not in ("l1", "l2"):
            raise ValueError(f"penalty must be 'l1' or 'l2', got {self.penalty!r}")

    def fit(
        self,
        accounts: pa.Table,
        cohorts: CohortResult,
        deals: pa.Table | None = None,
        kinds: dict[str, ColumnKind] | None = None,
    ) -> Discoverer:
        """Learn criteria, exclusions, points and tiers from ``accounts`` labelled by ``cohorts``."""
        self._check_params()
        n = accounts.num_rows
        if cohorts.codes.shape[0] != n:
            raise DataError(
                f"cohort labels cover {cohorts.codes.shape[0]:,} accounts but the accounts table has {n:,} rows"
            )
        self.as_of_: dt.date = cohorts.as_of
        cohort = cohorts.codes.astype(np.int64)
        notes: list[str] = []
        params = {
            "min_support": self.min_support,
            "max_values": self.max_values,
            "max_bins": self.max_bins,
            "max_group": self.max_group,
            "recency_windows": tuple(self.recency_windows),
        }
        self._tell("profiling fields", 0.0)
        profiles, encoded = profile_fields(accounts, kinds, source="accounts", as_of=self.as_of_)
        self.behavior_: pa.Table | None = None
        if deals is not None and self.behavioral and deals.num_rows:
            beh = deal_attributes(accounts.column("account_id"), deals, self.as_of_)
            beh = beh.select([c for c in beh.column_names if c not in accounts.column_names])
            if beh.num_columns:
                self.behavior_ = beh
                bp, be = profile_fields(beh, BEHAVIORAL_FIELDS, source="deals", as_of=self.as_of_)
                profiles += bp
                encoded += be
                notes.append(
                    "behavioral criteria ("
                    + ", ".join(f"{c} of the first deal" for c in beh.column_names)
                    + ") come from deals: they describe how the ICP first came to buy, are unknown for a new lead "
                    "and are scored only where present (missing is unknown, never a penalty), with at most "
                    f"{self.max_behavioral_share:.0%} of the points"
                )
        self.profiles_: list[FieldProfile] = profiles
        index = FieldIndex(encoded, n)
        self._index = index
        self.families_: list[Family] = find_families(encoded, self.as_of_)
        self._family = {m: fam for fam in self.families_ for m in fam.members}

        # ---- exclusions ---------------------------------------------------------------------------------
        self._tell("testing exclusions", 0.2)
        account_fields = FieldIndex([f for f in encoded if f.profile.source == "accounts"], n)
        excl_results, exclusions, excl_masks = self._exclusions(account_fields, cohort, params)
        excluded = np.zeros(n, dtype=bool)
        for m in excl_masks:
            excluded |= m
        self.excluded_ = excluded
        cohort2 = np.where(excluded, OPEN, cohort)

        # ---- positive candidates ------------------------------------------------------------------------
        self._tell("testing candidates", 0.4)
        cands = generate_candidates(index, cohort2, params, target="signal")
        results = self._evaluate(cands, cohort2)
        groups = self._groups(results, index, cohort2)
        if groups:  # re-test with the groups in the same false-discovery family
            results = self._evaluate(cands + groups, cohort2)
        chosen = self._choose(results)

        # ---- conjunctions -------------------------------------------------------------------------------
        self._tell("testing conjunctions", 0.6)
        pair_results = self._conjunctions(results, cohort2)
        chosen += [r for r in pair_results if r.status == "criterion"]

        # ---- points -------------------------------------------------------------------------------------
        self._tell("fitting points", 0.8)
        criteria, masks = self._points(chosen, cohort2)
        self.criteria_: list[tuple[str, Criterion]] = criteria
        self.exclusions_: list[Exclusion] = exclusions
        self.overfit_: list[CandidateResult] = [r for r in results if r.status == "overfit"]
        self.candidates_: list[CandidateResult] = results + pair_results + excl_results

        # ---- scores and tiers ---------------------------------------------------------------------------
        scores = np.zeros(n, dtype=np.int64)
        lead = np.zeros(n, dtype=np.int64)
        for (layer, crit), m in zip(criteria, masks, strict=True):
            scores += m * crit.points
            if layer != "behavioral":
                lead += m * crit.points
        self.scores_ = np.minimum(scores, 100)
        self.lead_scores_ = np.minimum(lead, 100)
        kept = ~excluded
        on_lead = bool((self.lead_scores_[kept] > 0).any())
        self.tiers_: Tiers = (
            choose_tiers((self.lead_scores_ if on_lead else self.scores_)[kept], self.tier_shares)
            if criteria
            else Tiers(tier1=100, tier2=100, tier3=100)
        )
        if criteria:
            notes.extend(self._tier_notes(on_lead))
        self.no_signal_ = not criteria
        tested = sum(1 for r in results if r.candidate.selectable)
        fields = sorted({r.candidate.field for r in results})
        if self.no_signal_:
            notes.insert(
                0,
                f"The data shows no reliable ICP signal: {tested} candidates on {len(fields)} fields "
                f"({', '.join(fields)}) were tested and none separates high-value retained accounts from "
                f"churned, lost or low-value ones at a false discovery rate of {self.fdr:.0%} with at least "
                f"{self.min_support} supporting accounts.",
            )
        if self.overfit_:
            notes.append(
                f"{len(self.overfit_)} candidates looked positive but their customers churn materially and "
                f"significantly above baseline (more than {self.overfit_margin:.0%} above, churn q <= {self.fdr:g}); "
                "they are reported as over-fit and not used"
            )
        for fam in self.families_:
            used = [r.candidate.field for r in self.candidates_ if r.status in ("criterion", "exclusion")]
            kept = [m for m in fam.members if m in used]
            notes.append(
                f"{', '.join(fam.members)} hold one attribute ('{fam.name}': the same year where both are known), so "
                "only its best-evidenced member can become a criterion or an exclusion"
                + (f"; kept: {', '.join(kept)}" if kept else "; none was kept")
            )
        skipped = [p for p in profiles if p.role != "candidate"]
        if skipped:
            notes.append(
                "not used as candidates: " + ", ".join(f"{p.name} ({p.role.replace('_', ' ')})" for p in skipped)
            )
        self.notes_: list[str] = notes
        self._tell("done", 1.0)
        return self

    def _tier_notes(self, on_lead: bool) -> list[str]:
        beh = sum(c.points for layer, c in self.criteria_ if layer == "behavioral")
        if not beh:
            return []
        if not on_lead:
            return [
                "only behavioral criteria were found: the ICP says how customers bought, not who they are, and a "
                "new lead (no deals) scores 0; tiers come from the full score"
            ]

        def fmt(scores: np.ndarray) -> str:
            sh = shares_of_tiers(scores, self.excluded_, self.tiers_)
            return ", ".join(f"{k} {sh[k]:.1%}" for k in ("tier1", "tier2", "tier3"))

        return [
            f"behavioral criteria carry {beh} of 100 points; tier thresholds come from the lead-time score "
            "(behavioral criteria unknown), so every tier is reachable without deal data. Shares of accounts as "
            f"a new lead would be scored: {fmt(self.lead_scores_)}; with their deal data: {fmt(self.scores_)}"
        ]

    # ------------------------------------------------------------------------------------------------------
    def _evidence(self, c: np.ndarray, p: float | None, q: float | None, base: tuple) -> Evidence:
        S, N = base[0], base[1]
        a, n1 = int(c[0]), int(c[:4].sum())
        cm = int(c[0] + c[1] + c[2])
        closed = cm + int(c[3])
        lift, lo, hi = (float(x[0]) for x in lift_interval(a, n1, S, N))
        return Evidence(
            support=a,
            n=n1,
            signal_rate=_r(a / n1) if n1 else None,
            base_rate=_r(S / N) if N else None,
            lift=_r(lift),
            lift_low=_r(lo),
            lift_high=_r(hi),
            churn_rate=_r(c[2] / cm) if cm else None,
            loss_rate=_r(c[3] / closed) if closed else None,
            p=_r(p, 3) if p is not None else None,
            q=_r(q, 3) if q is not None else None,
        )

    @staticmethod
    def _base(cohort: np.ndarray) -> tuple[float, float, float, float, float]:
        t = np.bincount(cohort, minlength=len(COHORTS))
        S, N = float(t[0]), float(t[:4].sum())
        CM = float(t[0] + t[1] + t[2])
        return S, N, CM, float(t[2]), CM + float(t[3])

    @staticmethod
    def _known_totals(cands: list[Candidate], cohort: np.ndarray) -> np.ndarray:
        """Cohort totals over the accounts where each candidate's field is known.

        A missing value is unknown, never a "no" (the scoring semantics); so a value is compared with the other
        known values of its field, and a field's missingness cannot pass for the effect of its values.
        """
        total = np.bincount(cohort, minlength=len(COHORTS)).astype(float)
        missing = {c.field: c.counts for c in cands if c.kind == "missing"}
        out = np.tile(total, (len(cands), 1))
        for i, c in enumerate(cands):
            if c.kind not in ("missing", "pair") and c.field in missing:
                out[i] -= missing[c.field]
        return out

    @staticmethod
    def _base_of(t: np.ndarray) -> tuple[float, float, float, float, float]:
        CM = float(t[0] + t[1] + t[2])
        return float(t[0]), float(t[:4].sum()), CM, float(t[2]), CM + float(t[3])

    def _evaluate(self, cands: list[Candidate], cohort: np.ndarray) -> list[CandidateResult]:
        """Signal tests for every candidate; statuses for everything but the final choice."""
        T = self._known_totals(cands, cohort)
        S, N = T[:, 0], T[:, :4].sum(1)
        CM, CH = T[:, 0] + T[:, 1] + T[:, 2], T[:, 2]
        C = np.array([c.counts for c in cands], dtype=float).reshape(len(cands), len(COHORTS))
        a, n1 = C[:, 0], C[:, :4].sum(1)
        search = np.array([c.search for c in cands], dtype=float)
        p = np.minimum(1.0, two_by_two_pvalue(a, n1, S, N) * search)
        log_p = np.minimum(0.0, two_by_two_log_pvalue(a, n1, S, N) + np.log(search))
        selectable = np.array([c.selectable for c in cands], dtype=bool)
        q = self._field_q(cands, p, selectable)
        lift, lo, _ = lift_interval(a, n1, S, N)
        cm = C[:, 0] + C[:, 1] + C[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            churn = C[:, 2] / cm
        with np.errstate(divide="ignore", invalid="ignore"):
            base_churn = np.where(CM > 0, CH / CM, 0.0)
        p_churn = two_by_two_pvalue(C[:, 2], cm, CH, CM)
        positive = (
            selectable & (a >= self.min_support) & (q <= self.fdr) & (lift > 1) & (lo > 1) & (cm >= self.min_support)
        )
        q_churn = self._churn_q(churn, base_churn, p_churn, positive)
        out: list[CandidateResult] = []
        for i, cand in enumerate(cands):
            qi = None if np.isnan(q[i]) else float(q[i])
            ev = self._evidence(cand.counts, float(p[i]), qi, self._base_of(T[i]))
            if positive[i]:  # the over-fit test was run: show it
                ev = ev.model_copy(
                    update={
                        "base_churn_rate": _r(float(base_churn[i])),
                        "churn_p": _r(float(p_churn[i]), 3),
                        "churn_q": _r(float(q_churn[i]), 3),
                    }
                )
            if not cand.selectable:
                status, note = "descriptive", "shown for completeness; never a criterion"
            elif a[i] < self.min_support:
                status, note = "low support", f"fewer than {self.min_support} high-value retained accounts match"
            elif not (q[i] <= self.fdr):
                status, note = "not significant", f"q above {self.fdr:g}"
            elif lift[i] <= 1 or not (lo[i] > 1):
                status, note = "negative", "high-value retained accounts are rarer here than overall"
            elif positive[i] and self._overfit(churn[i], base_churn[i], q_churn[i]):
                status = "overfit"
                note = (
                    f"customers matching churn {churn[i]:.0%} vs {base_churn[i]:.0%} baseline "
                    f"(p={_fmt_q(p_churn[i])}, q={_fmt_q(q_churn[i])})"
                )
            else:
                status, note = "significant", ""
            out.append(CandidateResult(cand, ev, "signal", status, note, log_p=float(log_p[i])))
        return out

    def _churn_q(self, churn: np.ndarray, base: np.ndarray, p: np.ndarray, tested: np.ndarray) -> np.ndarray:
        """BH q of the churn excess over the candidates that face the over-fit test (1 where not tested).

        Only an excess can demote, so a candidate whose matches churn at or below baseline enters with p = 1.
        """
        q = np.ones(p.shape[0])
        if tested.any():
            excess = np.where(np.nan_to_num(churn) > base, p, 1.0)
            q[tested] = benjamini_hochberg(excess[tested])
        return q

    def _overfit(self, churn: float, base: float, q: float) -> bool:
        """Over-fit: matching customers churn materially (``overfit_margin``) and significantly (q) above baseline."""
        return bool(churn > base * (1 + self.overfit_margin) and q <= self.fdr)

    def _field_q(self, cands: list[Candidate], p: np.ndarray, selectable: np.ndarray) -> np.ndarray:
        """q-values under the two-level (field, then candidate) false-discovery control of ``stats``."""
        by_field: dict[str, list[int]] = {}
        for i, c in enumerate(cands):
            if selectable[i] or c.kind == "other":
                by_field.setdefault(c.field, []).append(i)
        names = list(by_field)
        fam_p, within = [], []
        for name in names:
            idx = by_field[name]
            rows = [i for i in idx if cands[i].kind in ("value", "other", "bin")]
            if len(rows) >= 2:
                counts = np.array([cands[i].counts for i in rows], dtype=float)
                fam_p.append(homogeneity_pvalue(counts[:, 0], counts[:, :4].sum(1)))
            else:
                fam_p.append(simes_pvalue(p[[i for i in idx if selectable[i]]]))
            within.append(p[[i for i in idx if selectable[i]]])
        q = np.full(len(cands), np.nan)
        if not names:
            return q
        fam_q, within_q = hierarchical_q(np.array(fam_p), within, self.fdr)
        self.field_q_ = dict(zip(names, (float(x) for x in fam_q), strict=True))
        for name, wq in zip(names, within_q, strict=True):
            sel = [i for i in by_field[name] if selectable[i]]
            q[sel] = wq
        return q

    def _groups(self, results: list[CandidateResult], index: FieldIndex, cohort: np.ndarray) -> list[Candidate]:
        """Per categorical or multi-valued field, the union of its values that are significant positives alone."""
        members: dict[str, list[Candidate]] = {}
        for r in results:
            if r.status == "significant" and r.candidate.kind in ("value", "item"):
                members.setdefault(r.candidate.field, []).append(r.candidate)
        return [group_candidate(index, ms, cohort) for ms in members.values() if len(ms) >= 2]

    def _family_of(self, name: str) -> str:
        """The key a field is chosen under: its attribute family's, or its own name."""
        fam = self._family.get(name)
        return f"family:{fam.name}" if fam else name

    def _choose(self, results: list[CandidateResult]) -> list[CandidateResult]:
        """The strongest significant candidate of each field (smallest p, then largest support), then of each
        attribute family: the other members' best are folded into it, and its evidence names them."""
        best: dict[str, CandidateResult] = {}
        for r in results:
            if r.status != "significant":
                continue
            cur = best.get(r.candidate.field)
            key = (r.log_p, -r.evidence.support)
            if cur is None or key < (cur.log_p, -cur.evidence.support):
                best[r.candidate.field] = r
        for r in results:
            if r.status == "significant" and best.get(r.candidate.field) is not r:
                r.note = "significant, but a stronger candidate on the same field was kept"
        return [r for r in self._fold(list(best.values()), "criterion") if r.status != "folded"]

    def _fold(self, kept: list[CandidateResult], status: str) -> list[CandidateResult]:
        """Mark the best of each family ``status`` and the other members' results ``folded`` (in place)."""
        by_key: dict[str, list[CandidateResult]] = {}
        for r in kept:
            by_key.setdefault(self._family_of(r.candidate.field), []).append(r)
        for rs in by_key.values():
            rs.sort(key=lambda r: (r.log_p, -r.evidence.support))
            head, rest = rs[0], rs[1:]
            head.status = status
            if rest:
                folded = [r.candidate.field for r in rest]
                head.evidence = head.evidence.model_copy(update={"folded": folded})
                head.note = (head.note + "; " if head.note else "") + "folded in: " + ", ".join(folded)
            for r in rest:
                r.status = "folded"
                r.note = (
                    f"same attribute as {head.candidate.field} (family '{self._family[head.candidate.field].name}')"
                )
        return kept

    # ------------------------------------------------------------------------------------------------------
    def _exclusions(
        self, index: FieldIndex, cohort: np.ndarray, params: dict
    ) -> tuple[list[CandidateResult], list[Exclusion], list[np.ndarray]]:
        kinds_ok = {"value", "item", "flag", "bin", "band", "recency"}
        every = generate_candidates(index, cohort, params, target="churn")
        T_all = self._known_totals(every, cohort)
        keep = [i for i, c in enumerate(every) if c.kind in kinds_ok]
        cands = [every[i] for i in keep]
        if not cands:
            return [], [], []
        T = T_all[keep]
        CM, CH = T[:, 0] + T[:, 1] + T[:, 2], T[:, 2]
        CL = CM + T[:, 3]
        if not (CM > 0).any():
            return [], [], []
        C = np.array([c.counts for c in cands], dtype=float).reshape(len(cands), len(COHORTS))
        search = np.array([c.search for c in cands], dtype=float)
        cm = C[:, 0] + C[:, 1] + C[:, 2]
        closed = cm + C[:, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            churn_ratio = np.nan_to_num((C[:, 2] / cm) / (CH / CM))
            win_ratio = (cm / closed) / (CM / CL)
        p_churn = np.minimum(1.0, two_by_two_pvalue(C[:, 2], cm, CH, CM) * search)
        p_loss = np.minimum(1.0, two_by_two_pvalue(cm, closed, CM, CL) * search)
        q_churn, q_loss = self._exclusion_q(cands, C, p_churn, p_loss)
        hit_churn = (churn_ratio >= self.exclusion_churn_lift) & (q_churn <= self.fdr) & (C[:, 2] >= self.min_support)
        hit_loss = (win_ratio <= self.exclusion_win_ratio) & (q_loss <= self.fdr) & (C[:, 3] >= self.min_support)
        results: list[CandidateResult] = []
        per_field: dict[str, list[int]] = {}
        for i, cand in enumerate(cands):
            qi = float(min(q_churn[i], q_loss[i]))
            pi = float(min(p_churn[i], p_loss[i]))
            ev = self._evidence(cand.counts, pi, qi, self._base_of(T[i]))
            hit = bool(hit_churn[i] or hit_loss[i])
            results.append(CandidateResult(cand, ev, "exclusion", "exclusion" if hit else "not excluded"))
            if hit:
                per_field.setdefault(cand.field, []).append(i)
        # one exclusion per attribute family: the member with the strongest evidence
        strength = {f: min(min(p_churn[i], p_loss[i]) for i in idx) for f, idx in per_field.items()}
        folded_into: dict[str, list[str]] = {}
        for fname in sorted(per_field, key=lambda f: (strength[f], f)):
            head = next((h for h in folded_into if self._family_of(h) == self._family_of(fname)), None)
            if head is None:
                folded_into[fname] = []
                continue
            folded_into[head].append(fname)
            for i in per_field.pop(fname):
                results[i].status = "folded"
                results[i].note = f"same attribute as {head} (family '{self._family[head].name}')"
        exclusions: list[Exclusion] = []
        masks: list[np.ndarray] = []
        for fname, idx in per_field.items():
            f = index.fields[fname]
            if f.kind in (ColumnKind.CATEGORICAL, ColumnKind.MULTI):
                members = [i for i in idx if cands[i].kind in ("value", "item")]
                if not members:
                    continue
                labels = [cands[i].value[0] for i in members]
                codes = [cands[i].selector[0] for i in members]
                op = Op.IN if f.kind == ColumnKind.CATEGORICAL else Op.CONTAINS_ANY
                kind = "value" if f.kind == ColumnKind.CATEGORICAL else "item"
                merged = Candidate(
                    fname,
                    op,
                    labels,
                    kind,
                    cands[members[0]].layer,
                    "accounts",
                    np.zeros(len(COHORTS), np.int64),
                    selector=codes,
                )
            else:
                j = min(idx, key=lambda i: (min(p_churn[i], p_loss[i]), -cands[i].counts[:4].sum()))
                merged = cands[j]
            mask = index.mask(merged)
            if mask.mean() > self.max_exclusion_share:
                for i in idx:
                    results[i].status = "not excluded"
                    results[i].note = f"would exclude more than {self.max_exclusion_share:.0%} of accounts"
                continue
            c = counts_of(mask, cohort)
            base = self._base_of(T[idx[0]])
            _, _, cm_b, ch_b, cl_b = base
            cmm, closed_m = c[0] + c[1] + c[2], c[0] + c[1] + c[2] + c[3]
            pc_ = float(two_by_two_pvalue(c[2], cmm, ch_b, cm_b)[0])
            pl_ = float(two_by_two_pvalue(cmm, closed_m, cm_b, cl_b)[0])
            qs = [1.0 if results[i].evidence.q is None else float(results[i].evidence.q) for i in idx]
            ev = self._evidence(c, min(pc_, pl_), min(qs), base)
            churn_r = c[2] / cmm if cmm else 0.0
            win_r = cmm / closed_m if closed_m else 0.0
            if ch_b and cmm and churn_r / (ch_b / cm_b) >= self.exclusion_churn_lift:
                reason = f"churned {churn_r:.0%} vs {ch_b / cm_b:.0%} baseline (n={int(cmm)}, q={_fmt_q(min(qs))})"
            else:
                reason = (
                    f"won {win_r:.0%} of closed accounts vs {cm_b / cl_b:.0%} baseline "
                    f"(n={int(closed_m)}, q={_fmt_q(min(qs))})"
                )
            if folded_into.get(fname):
                ev = ev.model_copy(update={"folded": folded_into[fname]})
                reason += "; folded in: " + ", ".join(folded_into[fname])
            exclusions.append(Exclusion(field=fname, op=merged.op, value=merged.value, reason=reason, evidence=ev))
            masks.append(mask)
        return results, exclusions, masks

    def _exclusion_q(
        self, cands: list[Candidate], C: np.ndarray, p_churn: np.ndarray, p_loss: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Two-level q for the churn and loss tests: each field is a family (homogeneity of churn and of wins
        over its values or bins, Bonferroni over the two; Simes for the other kinds)."""
        by_field: dict[str, list[int]] = {}
        for i, c in enumerate(cands):
            by_field.setdefault(c.field, []).append(i)
        names = list(by_field)
        fam_p, within = [], []
        for name in names:
            idx = by_field[name]
            rows = [i for i in idx if cands[i].kind in ("value", "bin")]
            if len(rows) >= 2:
                t = C[rows]
                cm = t[:, 0] + t[:, 1] + t[:, 2]
                pc_ = homogeneity_pvalue(t[:, 2], cm)
                pl_ = homogeneity_pvalue(cm, cm + t[:, 3])
                fam_p.append(min(1.0, 2 * min(pc_, pl_)))
            else:
                fam_p.append(simes_pvalue(np.concatenate([p_churn[idx], p_loss[idx]])))
            within.append(np.concatenate([p_churn[idx], p_loss[idx]]))
        q_churn = np.ones(len(cands))
        q_loss = np.ones(len(cands))
        if not names:
            return q_churn, q_loss
        _, within_q = hierarchical_q(np.array(fam_p), within, self.fdr)
        for name, wq in zip(names, within_q, strict=True):
            idx = by_field[name]
            q_churn[idx], q_loss[idx] = wq[: len(idx)], wq[len(idx) :]
        return q_churn, q_loss

    # ------------------------------------------------------------------------------------------------------
    def _mask(self, cand: Candidate) -> np.ndarray:
        if cand.kind == "pair":
            m = self._index.mask(self._pool[cand.parts[0]])
            return m & self._index.mask(self._pool[cand.parts[1]])
        return self._index.mask(cand)

    def _conjunctions(self, results: list[CandidateResult], cohort: np.ndarray) -> list[CandidateResult]:
        """Pairs of strong candidates whose joint effect beats both parts (log-odds interaction test).

        The pool holds the two strongest positive candidates of each field selected at the field level, so a pair
        refines fields with evidence of their own instead of searching hundreds of noise combinations. Only
        account attributes pair up: a conjunction should be usable on a new lead, whose deals are unknown.
        """
        self._pool: list[Candidate] = []
        if self.max_conjunctions <= 0:
            return []
        by_field: dict[str, list[CandidateResult]] = {}
        for r in results:
            c, e = r.candidate, r.evidence
            if (
                c.selectable
                and c.source == "accounts"
                and r.status in ("criterion", "significant")
                and e.support >= self.min_support
                and (e.lift or 0) > 1
                and getattr(self, "field_q_", {}).get(c.field, 1.0) <= self.fdr
            ):
                by_field.setdefault(c.field, []).append(r)
        pool: list[CandidateResult] = []
        for rs in by_field.values():
            pool += sorted(rs, key=lambda r: r.log_p)[:2]
        pool = sorted(pool, key=lambda r: r.log_p)[: self.conjunction_pool]
        if len(pool) < 2:
            return []
        self._pool = [r.candidate for r in pool]
        learn = np.nonzero(cohort < OPEN)[0]
        sig = cohort[learn] == 0
        m = len(pool)
        XtX = np.zeros((m, m))
        XsX = np.zeros((m, m))
        masks = [self._index.mask(c)[learn] for c in self._pool]  # each mask built once
        step = 250_000
        for start in range(0, learn.size, step):
            X = np.stack([mk[start : start + step] for mk in masks], axis=1).astype(np.float32)
            XtX += X.T @ X
            Xs = X[sig[start : start + step]]
            XsX += Xs.T @ Xs
        del masks
        S, N = float(sig.sum()), float(learn.size)
        i, j = np.triu_indices(m, k=1)
        fields = np.array([self._family_of(c.field) for c in self._pool])
        ok = fields[i] != fields[j]
        i, j = i[ok], j[ok]
        if i.size == 0:
            return []
        n11, s11 = XtX[i, j], XsX[i, j]
        ni, nj, si, sj = np.diag(XtX)[i], np.diag(XtX)[j], np.diag(XsX)[i], np.diag(XsX)[j]
        n10, s10 = ni - n11, si - s11
        n01, s01 = nj - n11, sj - s11
        n00, s00 = N - ni - nj + n11, S - si - sj + s11
        est, p = interaction_test(s11, n11, s10, n10, s01, n01, s00, n00)
        q = benjamini_hochberg(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            lift11 = (s11 / n11) / (S / N)
            lift_i, lift_j = (si / ni) / (S / N), (sj / nj) / (S / N)
        keep = (est > 0) & (q <= self.fdr) & (s11 >= self.min_support) & (lift11 > np.maximum(lift_i, lift_j))
        base = self._base(cohort)
        _, _, CM, CH, _ = base
        base_churn = CH / CM if CM else 0.0
        order = np.argsort(p[keep], kind="stable")
        kept_idx = np.nonzero(keep)[0][order]
        pairs: list[Candidate] = []
        for k in kept_idx:
            a_, b_ = self._pool[i[k]], self._pool[j[k]]
            pair = Candidate(
                a_.field,
                a_.op,
                a_.value,
                "pair",
                _pair_layer(a_.layer, b_.layer),
                a_.source,
                np.zeros(len(COHORTS), np.int64),
                also=(b_.clause(),),
                parts=(int(i[k]), int(j[k])),
            )
            pair.counts = counts_of(self._mask(pair), cohort)
            pairs.append(pair)
        PC = np.array([c.counts for c in pairs], dtype=float).reshape(len(pairs), len(COHORTS))
        cmm = PC[:, 0] + PC[:, 1] + PC[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            churn = np.where(cmm > 0, PC[:, 2] / cmm, 0.0)
        p_churn = two_by_two_pvalue(PC[:, 2], cmm, CH, CM) if pairs else np.zeros(0)
        base_arr = np.full(len(pairs), base_churn)
        q_churn = self._churn_q(churn, base_arr, p_churn, cmm >= self.min_support)
        out: list[CandidateResult] = []
        for rank, (k, pair) in enumerate(zip(kept_idx, pairs, strict=True)):
            ev = self._evidence(pair.counts, float(p[k]), float(q[k]), base)
            tested = bool(cmm[rank] >= self.min_support)
            if tested:
                ev = ev.model_copy(
                    update={
                        "base_churn_rate": _r(base_churn),
                        "churn_p": _r(float(p_churn[rank]), 3),
                        "churn_q": _r(float(q_churn[rank]), 3),
                    }
                )
            if tested and self._overfit(churn[rank], base_churn, q_churn[rank]):
                status = "overfit"
                note = (
                    f"customers matching churn {churn[rank]:.0%} vs {base_churn:.0%} baseline "
                    f"(p={_fmt_q(p_churn[rank])}, q={_fmt_q(q_churn[rank])})"
                )
            elif rank < self.max_conjunctions:
                status, note = "criterion", f"interaction +{est[k]:.2f} log-odds beyond both parts"
            else:
                status, note = "significant", f"beyond the first {self.max_conjunctions} conjunctions"
            out.append(CandidateResult(pair, ev, "conjunction", status, note))
        self._pairs_tested = int(i.size)
        return out

    # ------------------------------------------------------------------------------------------------------
    def _points(
        self, chosen: list[CandidateResult], cohort: np.ndarray
    ) -> tuple[list[tuple[str, Criterion]], list[np.ndarray]]:
        if not chosen:
            return [], []
        learn = cohort < OPEN
        y = cohort[learn] == 0
        w = np.where(cohort[learn] == COHORTS.index("low_value_retained"), self.low_value_weight, 1.0)
        masks = [self._mask(r.candidate) for r in chosen]
        X = np.stack([m[learn] for m in masks], axis=1)
        active = list(range(len(chosen)))
        coef = np.zeros(len(chosen))
        for _ in range(4):
            coef_a = fit_weights(X[:, active], y, w, C=self.C, penalty=self.penalty)
            coef[:] = 0.0
            coef[active] = coef_a
            nxt = [k for k in active if coef[k] > 0]
            # at most max_per_layer per layer, strongest first
            by_layer: dict[str, list[int]] = {}
            for k in sorted(nxt, key=lambda k: -coef[k]):
                by_layer.setdefault(chosen[k].candidate.layer, []).append(k)
            capped = sorted(k for ks in by_layer.values() for k in ks[: self.max_per_layer])
            if capped == active:
                break
            for k in set(nxt) - set(capped):
                chosen[k].status, chosen[k].note = "over layer cap", f"beyond {self.max_per_layer} in its layer"
            active = capped
        for k in range(len(chosen)):
            if k not in active and chosen[k].status == "criterion":
                chosen[k].status, chosen[k].note = "no weight", "no independent contribution in the points model"
        if not active:
            return [], []
        capped = np.array([chosen[k].candidate.layer == "behavioral" for k in active], dtype=bool)
        pts = to_points(coef[active], capped=capped, cap=self.max_behavioral_share)
        criteria: list[tuple[str, Criterion]] = []
        out_masks: list[np.ndarray] = []
        for k, pt in zip(active, pts, strict=True):
            r = chosen[k]
            if pt <= 0:
                r.status, r.note = "no weight", "no points after rounding"
                continue
            r.points = int(pt)
            c = r.candidate
            crit = Criterion(
                field=c.field,
                op=c.op,
                value=c.value,
                points=int(pt),
                also=list(c.also),
                evidence=r.evidence,
            )
            criteria.append((c.layer, crit))
            out_masks.append(masks[k])
        order = sorted(range(len(criteria)), key=lambda k: (LAYERS.index(criteria[k][0]), -criteria[k][1].points))
        return [criteria[k] for k in order], [out_masks[k] for k in order]

    # ------------------------------------------------------------------------------------------------------
    def to_spec(self, name: str = "icp", *, as_of: dt.date | None = None, description: str | None = None) -> ICPSpec:
        """The learned ICP as a spec: layers of criteria with points and evidence, exclusions, tiers, routing."""
        if not hasattr(self, "criteria_"):
            raise DataError("call fit() before to_spec()")
        layers: dict[str, list[Criterion]] = {}
        for layer, crit in self.criteria_:
            layers.setdefault(layer, []).append(crit)
        return ICPSpec(
            name=name,
            as_of=as_of or self.as_of_,
            description=description,
            layers=layers,
            exclusions=list(self.exclusions_),
            tiers=self.tiers_,
            routing=Routing(),
        )

    def candidates_table(self) -> pa.Table:
        """Every tested candidate with its evidence and status: the evidence appendix."""
        rows = [r.row() for r in self.candidates_]
        if not rows:
            return pa.table({"field": pa.array([], pa.string())})
        return pa.Table.from_pylist(rows)


def shares_of_tiers(scores: np.ndarray | None, excluded: np.ndarray, tiers: Tiers) -> dict[str, float]:
    """Share of accounts in each tier, ``none`` and ``excluded`` from scores and the exclusion mask."""
    if scores is None:
        return {}
    s, ex = scores, excluded
    n = max(s.size, 1)
    t1 = ~ex & (s >= tiers.tier1)
    t2 = ~ex & ~t1 & (s >= tiers.tier2)
    t3 = ~ex & ~t1 & ~t2 & (s >= tiers.tier3)
    return {
        "tier1": float(t1.sum() / n),
        "tier2": float(t2.sum() / n),
        "tier3": float(t3.sum() / n),
        "none": float((~ex & ~t1 & ~t2 & ~t3).sum() / n),
        "excluded": float(ex.sum() / n),
    }


def _pair_layer(a: str, b: str) -> str:
    for layer in ("behavioral", "trigger"):
        if layer in (a, b):
            return layer
    return a


def _fmt_q(q: float) -> str:
    return f"{q:.2g}" if q >= 0.001 else "<0.001"


_ = Clause
