"""Per-record scoring in plain Python, for a form fill or a router that scores one lead at a time.

The spec is compiled once into a tuple of small closures with their spec values normalised (lower-cased frozensets,
float bounds, date ordinals). Each closure has a fast path for the value types ingest produces (str, int, float,
bool, date, list of str) and falls back to the reference :func:`icpkit.score.semantics.evaluate` for anything else
(numeric strings, yes/no strings, mixed lists, numpy scalars), so the two cannot disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from icpkit.errors import SpecError
from icpkit.score.semantics import (
    WHITESPACE,
    Outcome,
    ScoreResult,
    criterion_ids,
    evaluate,
    exclusion_ids,
    layer_totals,
    prepare_items,
)
from icpkit.spec.model import Clause, ICPSpec, Op

__all__ = ["Scorer", "compile_scorer", "score_records"]

Test = Callable[[Any], Outcome]
_WS = WHITESPACE
_NUM = (int, float)


def _fallback(op: Op, value: Any, as_of: dt.date | None) -> Test:
    def slow(v: Any) -> Outcome:
        return evaluate(op, value, v, as_of)

    return slow


def _compile_clause(cl: Clause, as_of: dt.date | None) -> Test:
    op, value = cl.op, cl.value
    slow = _fallback(op, value, as_of)

    if op in (Op.EQUALS, Op.IN, Op.NOT_IN):
        items = prepare_items([value] if op == Op.EQUALS else value)
        texts = frozenset(v for k, v in items if k == "text")
        nums = frozenset(v for k, v in items if k == "number")
        negate = op == Op.NOT_IN
        if len(texts) == len(items):

            def text_set(v: Any) -> Outcome:
                if type(v) is str:
                    s = v.strip(_WS).lower()
                    return ((s not in texts) if negate else (s in texts)) if s else None
                if v is None:
                    return None
                if type(v) in _NUM and v == v:
                    return negate  # a number never equals text
                return slow(v)

            return text_set
        if len(nums) == len(items):

            def num_set(v: Any) -> Outcome:
                if type(v) in _NUM:
                    if v != v:
                        return None
                    return (v not in nums) if negate else (v in nums)
                return None if v is None else slow(v)

            return num_set
        return slow

    if op in (Op.BETWEEN, Op.GTE, Op.LTE):
        lo, hi = value if op == Op.BETWEEN else (value, None) if op == Op.GTE else (None, value)
        lo = float("-inf") if lo is None else lo
        hi = float("inf") if hi is None else hi

        def num_range(v: Any) -> Outcome:
            if type(v) in _NUM:
                return lo <= v <= hi if v == v else None
            return None if v is None else slow(v)

        return num_range

    if op in (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
        items = prepare_items(value)
        if not all(k == "text" for k, _ in items):
            return slow
        wanted = frozenset(v for _, v in items)

        def decide(have: set[str] | frozenset[str]) -> bool:
            if op == Op.CONTAINS_ANY:
                return not wanted.isdisjoint(have)
            if op == Op.CONTAINS_ALL:
                return wanted <= have
            return wanted.isdisjoint(have)

        def contains(v: Any) -> Outcome:
            if type(v) is list:
                have = set()
                for x in v:
                    if type(x) is str:
                        have.add(x.strip(_WS).lower())
                    elif x is not None:
                        return slow(v)
                have.discard("")
                return decide(have)
            if type(v) is str:
                s = v.strip(_WS).lower()
                return decide(frozenset((s,))) if s else None
            return None if v is None else slow(v)

        return contains

    if op in (Op.IS_TRUE, Op.IS_FALSE):
        want = op == Op.IS_TRUE

        def flag(v: Any) -> Outcome:
            if type(v) is bool:
                return v is want
            return None if v is None else slow(v)

        return flag

    if op == Op.EXISTS:

        def exists(v: Any) -> Outcome:
            if v is None:
                return False
            if type(v) is str:
                return bool(v.strip(_WS))
            if type(v) in _NUM:
                return v == v
            return slow(v)

        return exists

    if op == Op.WITHIN_DAYS:
        if as_of is None:
            raise SpecError("'within_days' needs an as_of date: set as_of in the spec or pass it to scoring")
        last = as_of.toordinal()
        first = last - value

        def recent(v: Any) -> Outcome:
            if type(v) is dt.date:
                return first <= v.toordinal() <= last
            return None if v is None else slow(v)

        return recent

    return slow


def _conjunction(fields: tuple[str, ...], tests: tuple[Test, ...]) -> Callable[[Callable[[str], Any]], Outcome]:
    pairs = tuple(zip(fields, tests, strict=True))

    def all_of(get: Callable[[str], Any]) -> Outcome:
        unknown = False
        for f, t in pairs:
            o = t(get(f))
            if o is False:
                return False
            if o is None:
                unknown = True
        return None if unknown else True

    return all_of


class Scorer:
    """A spec compiled for scoring one record at a time: ``scorer(record) -> ScoreResult``."""

    __slots__ = ("_criteria", "_exclusions", "_layers", "_routes", "_thresholds", "_totals", "as_of", "spec")

    def __init__(self, spec: ICPSpec, *, as_of: dt.date | None = None) -> None:
        self.spec = spec
        self.as_of = as_of or spec.as_of
        totals = layer_totals(spec)
        self._layers = tuple(totals)
        self._totals = tuple(totals.values())
        index = {layer: i for i, layer in enumerate(self._layers)}
        crit = []
        for cid, layer, c in criterion_ids(spec):
            clauses = c.clauses()
            tests = [self._compile(cl, cid) for cl in clauses]
            if len(clauses) == 1:
                crit.append((cid, clauses[0].field, tests[0], c.points, index.get(layer, -1)))
            else:
                conj = _conjunction(tuple(cl.field for cl in clauses), tuple(tests))
                crit.append((cid, None, conj, c.points, index.get(layer, -1)))
        self._criteria = tuple(crit)
        self._exclusions = tuple((eid, e.field, self._compile(e, eid)) for eid, e in exclusion_ids(spec))
        t = spec.tiers
        self._thresholds = (t.tier1, t.tier2, t.tier3)
        r = spec.routing
        self._routes = {name: getattr(r, name) for name in ("tier1", "tier2", "tier3", "none", "excluded")}

    def _compile(self, cl: Clause, cid: str) -> Test:
        try:
            return _compile_clause(cl, self.as_of)
        except SpecError as exc:
            raise SpecError(exc.message, field=cid) from None

    def __call__(self, record: Mapping[str, Any]) -> ScoreResult:
        get = record.get
        matched: list[str] = []
        unknown: list[str] = []
        points = 0
        got = [0] * len(self._totals)
        for cid, fld, test, pts, li in self._criteria:
            o = test(get(fld)) if fld is not None else test(get)
            if o is True:
                matched.append(cid)
                points += pts
                if li >= 0:
                    got[li] += pts
            elif o is None:
                unknown.append(cid)
        hit: list[str] = []
        for eid, fld, test in self._exclusions:
            o = test(get(fld))
            if o is True:
                hit.append(eid)
            elif o is None:
                unknown.append(eid)
        score = 0 if points < 0 else 100 if points > 100 else points
        if hit:
            tier = "excluded"
        else:
            t1, t2, t3 = self._thresholds
            tier = "tier1" if score >= t1 else "tier2" if score >= t2 else "tier3" if score >= t3 else "none"
        return ScoreResult(
            score,
            tier,
            self._routes[tier],
            dict(zip(self._layers, [g / t for g, t in zip(got, self._totals, strict=True)], strict=True)),
            matched,
            unknown,
            hit,
        )

    def many(self, records: Iterable[Mapping[str, Any]]) -> list[ScoreResult]:
        return [self(r) for r in records]

    def reasons(self, result: ScoreResult) -> list[str]:
        """The reasons of the exclusions a result hit, for the explanation shown to a person."""
        by_id = {eid: e.reason for eid, e in exclusion_ids(self.spec)}
        return [by_id[eid] for eid in result.exclusions_hit]


def compile_scorer(spec: ICPSpec, *, as_of: dt.date | None = None) -> Scorer:
    """Compile once, score many; ``as_of`` defaults to the spec's and is needed only by ``within_days``."""
    return Scorer(spec, as_of=as_of)


def score_records(
    spec: ICPSpec, records: Iterable[Mapping[str, Any]], *, as_of: dt.date | None = None
) -> list[ScoreResult]:
    return compile_scorer(spec, as_of=as_of).many(records)
