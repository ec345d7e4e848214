"""Candidates: every clause discovery considers, with its counts by cohort.

A ``Candidate`` has the shape of a spec clause (field, operator, value, optional ``also`` for a conjunction) plus
how it was found (``kind``) and the size of the search that produced it (``search``: the Bonferroni multiplier of
its p-value). Counts are one row of five cohort counts, always computed from aggregated tables: ``bincount`` over
category codes, pre-bins or (account, item) pairs — never a Python loop over accounts.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np

from icpkit.cohorts import COHORTS
from icpkit.discover.binning import best_band, nice_edges
from icpkit.discover.profile import MISSING, OTHER, EncodedField
from icpkit.ingest.schema import ColumnKind
from icpkit.spec.model import Clause, Op

__all__ = ["RECENCY_WINDOWS", "Candidate", "FieldIndex", "counts_of", "generate_candidates", "group_candidate"]

K = len(COHORTS)  # 0 high-value retained, 1 low-value retained, 2 churned, 3 never closed, 4 open
RECENCY_WINDOWS: tuple[int, ...] = (90, 180, 365, 730)


@dataclass
class Candidate:
    """One clause under test and its cohort counts (``counts[k]`` = matching accounts in cohort ``k``)."""

    field: str
    op: Op
    value: Any
    kind: str  # value | group | other | missing | flag | item | items | bin | band | recency | pair
    layer: str
    source: str
    counts: np.ndarray
    search: int = 1
    also: tuple[Clause, ...] = ()
    selector: Any = None  # how to rebuild the account mask: codes, (lo, hi), item codes, window…
    parts: tuple[int, ...] = ()  # for a pair: indices of the two candidates it joins

    @property
    def selectable(self) -> bool:
        return self.kind not in ("missing", "other")

    def clause(self) -> Clause:
        return Clause(field=self.field, op=self.op, value=self.value)

    def key(self) -> tuple:
        also = tuple((c.field, str(c.op), repr(c.value)) for c in self.also)
        return (self.field, str(self.op), repr(self.value), also)

    def describe(self) -> str:
        """Plain words for reports and notes, e.g. ``industry in [Software, Fintech]``."""
        parts = [_describe(self.field, self.op, self.value)]
        parts += [_describe(c.field, c.op, c.value) for c in self.also]
        return " and ".join(parts)


def _describe(f: str, op: Op, value: Any) -> str:
    if op in (Op.IS_TRUE, Op.IS_FALSE, Op.EXISTS):
        return f"{f} {op.value.replace('_', ' ')}"
    if op == Op.BETWEEN:
        lo, hi = value
        if lo is None:
            return f"{f} <= {_num(hi)}"
        if hi is None:
            return f"{f} >= {_num(lo)}"
        return f"{f} {_num(lo)}–{_num(hi)}"
    if op == Op.WITHIN_DAYS:
        return f"{f} within {value} days"
    if isinstance(value, list):
        return f"{f} {op.value.replace('_', ' ')} [{', '.join(map(str, value))}]"
    return f"{f} {op.value} {value}"


def _num(x: float | int) -> str:
    return f"{x:,.0f}" if float(x).is_integer() else f"{x:,.4g}"


def _clean_number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


class FieldIndex:
    """The encoded fields by name; rebuilds any candidate's boolean account mask on demand."""

    def __init__(self, fields: list[EncodedField], n: int) -> None:
        self.fields = {f.name: f for f in fields}
        self.n = n

    def mask(self, cand: Candidate) -> np.ndarray:
        if cand.kind == "pair":
            raise ValueError("pair masks are built from their parts")
        f = self.fields[cand.field]
        sel = cand.selector
        if f.kind in (ColumnKind.CATEGORICAL, ColumnKind.BOOLEAN):
            if cand.kind == "missing":
                return f.codes < 0
            return _lookup(sel, max(len(f.labels), 2))[f.codes]  # code -1 (missing) reads the last, False slot
        if f.kind == ColumnKind.MULTI:
            if cand.kind == "missing":
                return ~f.present
            out = np.zeros(self.n, dtype=bool)
            out[f.item_rows[_lookup(sel, len(f.labels))[f.item_codes]]] = True
            return out
        v = f.values
        if cand.kind == "missing":
            return np.isnan(v)
        lo, hi = sel
        with np.errstate(invalid="ignore"):
            m = ~np.isnan(v)
            if lo is not None:
                m &= v >= lo
            if hi is not None:
                m &= v <= hi
        return m

    def mask_counts(self, name: str, sel: tuple, cohort: np.ndarray) -> np.ndarray:
        """Cohort counts of the accounts whose ``name`` lies in ``[lo, hi]`` (inclusive, None = open)."""
        v = self.fields[name].values
        lo, hi = sel
        with np.errstate(invalid="ignore"):
            m = ~np.isnan(v)
            if lo is not None:
                m &= v >= lo
            if hi is not None:
                m &= v <= hi
        return counts_of(m, cohort)


def _lookup(codes: Any, n_codes: int) -> np.ndarray:
    """Boolean table over ``n_codes`` codes plus a last False slot (for code -1): ``table[codes]`` is ``isin``."""
    table = np.zeros(n_codes + 1, dtype=bool)
    table[np.asarray(codes, dtype=np.int64)] = True
    return table


_COHORT_MASKS: list[tuple[weakref.ref, list[np.ndarray]]] = []


def _cohort_masks(cohort: np.ndarray) -> list[np.ndarray]:
    """``cohort == k`` for every cohort, kept for the last few cohort arrays (discovery reuses two or three)."""
    for ref, masks in _COHORT_MASKS:
        if ref() is cohort:
            return masks
    masks = [cohort == k for k in range(K)]
    _COHORT_MASKS.insert(0, (weakref.ref(cohort), masks))
    del _COHORT_MASKS[3:]
    return masks


def counts_of(mask: np.ndarray, cohort: np.ndarray) -> np.ndarray:
    """Cohort counts of the accounts in ``mask``: five AND-and-count passes, no gather of the matching rows."""
    return np.array([np.count_nonzero(mask & m) for m in _cohort_masks(cohort)], dtype=np.int64)


def _table(codes: np.ndarray, cohort: np.ndarray, n_codes: int) -> np.ndarray:
    """Cohort counts per code (last row: missing), shape (n_codes + 1, K)."""
    c = np.where(codes < 0, n_codes, codes).astype(np.int64)
    return np.bincount(c * K + cohort, minlength=(n_codes + 1) * K).reshape(n_codes + 1, K)


def _chi(a: np.ndarray, n1: np.ndarray, S: float, N: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = a * (N - n1 - (S - a)) - (n1 - a) * (S - a)
        chi = N * diff**2 / (n1 * (N - n1) * S * (N - S))
    return np.where(np.isfinite(chi), np.sign(diff) * chi, 0.0)


def _learning(t: np.ndarray) -> np.ndarray:
    return t[..., :4].sum(axis=-1)


def _categorical(f: EncodedField, cohort: np.ndarray, p: dict) -> list[Candidate]:
    prof = f.profile
    t = _table(f.codes, cohort, len(f.labels))
    out: list[Candidate] = []
    vals, miss = t[:-1], t[-1]
    n_learn = _learning(vals)
    order = np.argsort(-vals.sum(axis=1), kind="stable")
    keep = [i for i in order[: p["max_values"]] if n_learn[i] >= p["min_support"]]
    folded = np.setdiff1d(np.arange(len(f.labels)), keep)
    for i in keep:
        out.append(Candidate(prof.name, Op.IN, [f.labels[i]], "value", prof.layer, prof.source, vals[i], selector=[i]))
    if folded.size and vals[folded].sum():
        out.append(
            Candidate(
                prof.name,
                Op.IN,
                [OTHER],
                "other",
                prof.layer,
                prof.source,
                vals[folded].sum(0),
                selector=folded.tolist(),
            )
        )
    out.append(Candidate(prof.name, Op.EXISTS, MISSING, "missing", prof.layer, prof.source, miss))
    return out


def _boolean(f: EncodedField, cohort: np.ndarray, p: dict) -> list[Candidate]:
    prof = f.profile
    t = _table(f.codes, cohort, 2)
    return [
        Candidate(prof.name, Op.IS_TRUE, True, "flag", prof.layer, prof.source, t[1], selector=[1]),
        Candidate(prof.name, Op.IS_FALSE, True, "flag", prof.layer, prof.source, t[0], selector=[0]),
        Candidate(prof.name, Op.EXISTS, MISSING, "missing", prof.layer, prof.source, t[2]),
    ]


def _multi(f: EncodedField, cohort: np.ndarray, p: dict, index: FieldIndex) -> list[Candidate]:
    prof = f.profile
    n_items = len(f.labels)
    t = np.bincount(f.item_codes.astype(np.int64) * K + cohort[f.item_rows], minlength=n_items * K)
    t = t.reshape(n_items, K)
    n_learn = _learning(t)
    order = np.argsort(-t.sum(axis=1), kind="stable")
    keep = [i for i in order[: p["max_values"]] if n_learn[i] >= p["min_support"]]
    out = [
        Candidate(prof.name, Op.CONTAINS_ANY, [f.labels[i]], "item", prof.layer, prof.source, t[i], selector=[i])
        for i in keep
    ]
    out.append(
        Candidate(prof.name, Op.EXISTS, MISSING, "missing", prof.layer, prof.source, counts_of(~f.present, cohort))
    )
    return out


def _cells(f: EncodedField, max_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Human edges of a numeric field and each account's cell among them, computed once per field.

    With edges e_0 < … < e_{E-1}, cell 2i is the open interval (e_{i-1}, e_i) and cell 2i+1 the point e_i (-1:
    missing). Every pre-bin [e_{b-1}, e_b) and every inclusive band [e_a, e_b] of the spec is a run of cells, so
    one ``bincount`` per cohort array gives the counts of all of them, boundaries included.
    """
    key = ("cells", max_bins)
    if key not in f.cache:
        prof, v = f.profile, f.values
        year_like = "year" in prof.name.lower()
        edges = nice_edges(v, max_bins=max_bins, log_scale=prof.log_scale, year_like=year_like)
        miss = np.isnan(v)
        x = np.where(miss, 0.0, v)
        i = np.searchsorted(edges, x, side="left")
        at_edge = edges[np.minimum(i, max(edges.size - 1, 0))] == x if edges.size else np.zeros(x.size, bool)
        cells = np.where(miss, -1, 2 * i + (at_edge & (i < edges.size))).astype(np.int32)
        f.cache[key] = (edges, cells)
    return f.cache[key]


def _numeric(f: EncodedField, cohort: np.ndarray, p: dict, index: FieldIndex, target: str) -> list[Candidate]:
    prof = f.profile
    edges, cells = _cells(f, p["max_bins"])
    E = edges.size
    ct = _table(cells, cohort, 2 * E + 1)
    out: list[Candidate] = []
    out.append(Candidate(prof.name, Op.EXISTS, MISSING, "missing", prof.layer, prof.source, ct[-1]))
    if E == 0:
        return out
    cum = np.vstack([np.zeros((1, K), np.int64), np.cumsum(ct[:-1], axis=0)])  # cum[c] = cells below c

    def run(first: int, last: int) -> np.ndarray:
        return cum[last + 1] - cum[first]

    # pre-bin b = [e_{b-1}, e_b): the point e_{b-1} (cell 2b-1) and the open interval after it (cell 2b)
    t = np.array([run(max(2 * b - 1, 0), 2 * b) for b in range(E + 1)])

    def cand(a: int | None, b: int | None, kind: str, search: int) -> Candidate:
        """Inclusive band [e_a, e_b] (None = open end)."""
        lo, hi = (None if a is None else float(edges[a])), (None if b is None else float(edges[b]))
        value = [None if lo is None else _clean_number(lo), None if hi is None else _clean_number(hi)]
        c = run(0 if a is None else 2 * a + 1, 2 * E if b is None else 2 * b + 1)
        return Candidate(
            prof.name, Op.BETWEEN, value, kind, prof.layer, prof.source, c, search=search, selector=(lo, hi)
        )

    for b in range(E + 1):
        out.append(cand(None if b == 0 else b - 1, None if b == E else b, "bin", 1))
    learn_t = _learning(t)
    targets = {"signal": (t[:, 0], learn_t), "churn": (t[:, 2], t[:, :3].sum(1)), "loss": (t[:, 3], learn_t)}
    tgt, tot = targets[target]
    for sign in (1, -1) if target == "signal" else (1,):
        band = best_band(tgt.astype(float), tot.astype(float), edges, min_count=p["min_support"], sign=sign)
        if band is not None and band.hi_bin > band.lo_bin:
            a = None if band.lo_bin == 0 else band.lo_bin - 1
            b = None if band.hi_bin == E else band.hi_bin
            out.append(cand(a, b, "band", band.n_searched))
    return out


def _recency(f: EncodedField, cohort: np.ndarray, p: dict) -> list[Candidate]:
    prof = f.profile
    d = f.values
    out = [Candidate(prof.name, Op.EXISTS, MISSING, "missing", prof.layer, prof.source, counts_of(np.isnan(d), cohort))]
    for w in p["recency_windows"]:
        with np.errstate(invalid="ignore"):
            m = (d >= 0) & (d <= w)
        out.append(
            Candidate(
                prof.name,
                Op.WITHIN_DAYS,
                int(w),
                "recency",
                prof.layer,
                prof.source,
                counts_of(m, cohort),
                selector=(0.0, float(w)),
            )
        )
    return out


def group_candidate(index: FieldIndex, members: list[Candidate], cohort: np.ndarray) -> Candidate:
    """One candidate for several values (``in``) or items (``contains_any``) of the same field.

    Groups are formed only from values that are significant on their own, so a group inherits their evidence
    instead of being a new search over subsets of values.
    """
    first = members[0]
    f = index.fields[first.field]
    codes = [m.selector[0] for m in members]
    labels = [m.value[0] for m in members]
    kind = "group" if f.kind == ColumnKind.CATEGORICAL else "items"
    cand = Candidate(
        first.field, first.op, labels, kind, first.layer, first.source, np.zeros(K, np.int64), selector=codes
    )
    if f.kind == ColumnKind.CATEGORICAL:
        cand.counts = np.sum([m.counts for m in members], axis=0)
    else:
        cand.counts = counts_of(index.mask(cand), cohort)
    return cand


def generate_candidates(
    index: FieldIndex, cohort: np.ndarray, params: dict, *, target: str = "signal"
) -> list[Candidate]:
    """Every candidate of every encoded field, with counts by cohort. ``target`` steers the band search."""
    out: list[Candidate] = []
    for f in index.fields.values():
        kind = f.kind
        if kind == ColumnKind.CATEGORICAL:
            out += _categorical(f, cohort, params)
        elif kind == ColumnKind.BOOLEAN:
            out += _boolean(f, cohort, params)
        elif kind == ColumnKind.MULTI:
            out += _multi(f, cohort, params, index)
        elif kind == ColumnKind.NUMERIC:
            out += _numeric(f, cohort, params, index, target)
        elif kind == ColumnKind.DATE:
            out += _recency(f, cohort, params)
    return out
