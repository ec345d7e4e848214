"""Per-record scoring in plain Python, for a form fill or a router that scores one lead at a time.

The spec is compiled once into one generated function. Each clause also gets a small closure with its spec values
normalised (lower-cased frozensets, float bounds, dates); the generated code writes the closure's fast path out in
place for the value types ingest produces (str, int, float, bool, date, list of str) and calls the closure for
anything else (numeric strings, yes/no strings, mixed lists, numpy scalars), whose fallback is the reference
:func:`icpkit.score.semantics.evaluate`, so the two cannot disagree.

Where the package's C extension is built (``icpkit._native``), the walk over criteria and exclusions runs there
instead: the same fast paths on the same closures' values, the closure called for anything else, the same memo of
text normal forms. It is what a lead costs at form fill, and bytecode dispatch was most of it. The generated
Python stays as the fallback (a machine without a C compiler) and as the twin the tests hold it equal to.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from icpkit.errors import SpecError
from icpkit.score.persona import persona_lines, route_table
from icpkit.score.semantics import (
    TIER_NAMES,
    WHITESPACE,
    Outcome,
    ScoreResult,
    criterion_ids,
    evaluate,
    exclusion_ids,
    layer_totals,
    lower_text,
    norm_text,
    prepare_items,
    scoring_date,
    today,
)
from icpkit.spec.model import Clause, ICPSpec, Op

try:
    from icpkit._native import Program as _Program
except ImportError:  # pragma: no cover - built without a C compiler: the generated Python walks the clauses
    _Program = None

__all__ = ["NATIVE", "Scorer", "compile_scorer", "score_records"]

NATIVE = _Program is not None  # the C clause walk is available

Test = Callable[[Any], Outcome]
NORM_MAX = 4096  # distinct texts whose normal form a scorer remembers (then it normalises the rest every time)
_WS = WHITESPACE
_NUM = (int, float)


def _fallback(op: Op, value: Any, as_of: dt.date) -> Test:
    def slow(v: Any) -> Outcome:
        return evaluate(op, value, v, as_of)

    return slow


def _compile_clause(cl: Clause, as_of: dt.date) -> Test:
    """The clause as a closure; ``fast`` on it describes the fast path the generated code writes out in place."""
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
                    s = v.strip(_WS)
                    s = s.lower() if s.isascii() else lower_text(s)
                    return ((s not in texts) if negate else (s in texts)) if s else None
                if v is None:
                    return None
                if type(v) in _NUM and v == v:
                    return negate  # a number never equals text
                return slow(v)

            text_set.fast = ("text", texts, negate)  # type: ignore[attr-defined]
            return text_set
        if len(nums) == len(items):

            def num_set(v: Any) -> Outcome:
                if type(v) in _NUM:
                    if v != v:
                        return None
                    return (v not in nums) if negate else (v in nums)
                return None if v is None else slow(v)

            num_set.fast = ("number", nums, negate)  # type: ignore[attr-defined]
            return num_set
        return slow

    if op in (Op.BETWEEN, Op.GTE, Op.LTE):
        lo, hi = value if op == Op.BETWEEN else (value, None) if op == Op.GTE else (None, value)
        low = float("-inf") if lo is None else lo
        high = float("inf") if hi is None else hi

        def num_range(v: Any) -> Outcome:
            if type(v) in _NUM:
                return low <= v <= high if v == v else None
            return None if v is None else slow(v)

        num_range.fast = ("range", lo, hi)  # type: ignore[attr-defined]
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
            have = _item_set(v)
            if type(have) is set:
                return decide(have)
            return None if have is None else slow(v)

        contains.fast = ("items", op, wanted)  # type: ignore[attr-defined]
        return contains

    if op in (Op.IS_TRUE, Op.IS_FALSE):
        want = op == Op.IS_TRUE

        def flag(v: Any) -> Outcome:
            if type(v) is bool:
                return v is want
            return None if v is None else slow(v)

        flag.fast = ("flag", want)  # type: ignore[attr-defined]
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

        exists.fast = ("exists",)  # type: ignore[attr-defined]
        return exists

    if op == Op.WITHIN_DAYS:
        last = as_of.toordinal()
        first = last - value

        def recent(v: Any) -> Outcome:
            if type(v) is dt.date:
                return first <= v.toordinal() <= last
            return None if v is None else slow(v)

        # no date is older than date.min: clamping the first day keeps the comparison on date objects
        recent.fast = ("date", dt.date.fromordinal(max(first, 1)), as_of)  # type: ignore[attr-defined]
        return recent

    return slow


class _Raw:
    """A value the fast item-set reader cannot normalise; scored by the reference rules instead."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


_from_iso = dt.date.fromisoformat
_clock = time.time  # seconds since the epoch: cheaper to read per record than a date
_EPOCH_DAY = dt.date(1970, 1, 1).toordinal()


def _day_end(day: dt.date) -> float:
    """The epoch second at which ``day`` (UTC) is over."""
    return (day.toordinal() - _EPOCH_DAY + 1) * 86400.0


def iso_date(v: str) -> dt.date | None:
    """A plain ``YYYY-MM-DD`` text as its date, None for any other text (left to the reference's reading).

    Ten ASCII characters with dashes at 4 and 7 can only be that form, which ``date.fromisoformat`` reads exactly as
    :func:`~icpkit.score.semantics.parse_date` does: a tenth of the time of the regular route, and the form nearly
    every date arrives in from a form or an API.
    """
    if len(v) == 10 and v[4] == "-" and v[7] == "-" and v.isascii():
        try:
            return _from_iso(v)
        except ValueError:
            return None
    return None


def _item_set(v: Any) -> set[str] | _Raw | None:
    """A list of text (or one text) as its set of trimmed lower-case items; None when missing."""
    if type(v) is list:
        try:
            have = {lower_text(x.strip(_WS)) for x in v}
        except AttributeError:  # None or non-text items: the reference decides
            return _Raw(v)
        have.discard("")
        return have
    if type(v) is str:
        s = lower_text(v.strip(_WS))
        return {s} if s else None
    return None if v is None else _Raw(v)


_LAYER_SCORES = ScoreResult.__dict__["layer_scores"]  # the slot itself, under the property below


class _Result(ScoreResult):
    """A ``ScoreResult`` built without ``__init__``, whose layer scores are divided out only when first read.

    The generated function fills the slots directly and keeps the per-layer matched points in ``_lazy`` (the
    spec's generated divider, then the points of each layer): most callers read the score and tier only. Equal to
    any ``ScoreResult`` with the same fields.
    """

    __slots__ = ("_lazy",)

    @property  # type: ignore[override]
    def layer_scores(self) -> dict[str, float]:
        lazy = self._lazy  # None once divided out (no exception on the way: the API reads this per request)
        if lazy is None:
            return _LAYER_SCORES.__get__(self)
        scores = lazy[0](lazy)
        _LAYER_SCORES.__set__(self, scores)
        self._lazy = None
        return scores

    @layer_scores.setter
    def layer_scores(self, value: dict[str, float]) -> None:
        _LAYER_SCORES.__set__(self, value)
        self._lazy = None

    def __reduce_ex__(self, protocol: Any) -> Any:
        self.layer_scores  # divided out first: the divider is generated code, which does not pickle  # noqa: B018
        return super().__reduce_ex__(protocol)

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.score,
            self.tier,
            self.route,
            self.layer_scores,
            self.matched,
            self.unknown,
            self.exclusions_hit,
            self.persona,
            self.persona_match,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScoreResult):
            return NotImplemented
        return self._fields() == _Result._fields(other)  # type: ignore[arg-type]

    __hash__ = None  # type: ignore[assignment]


def _indent(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


class _Writer:
    """Writes the scoring function's source; spec values become factory arguments (constants), never text."""

    def __init__(self) -> None:
        self.consts: dict[str, Any] = {
            "Result": _Result,
            "new": object.__new__,
            "item_set": _item_set,
            "WS": _WS,
            "LOWER": lower_text,
            "ISO": iso_date,
            "NORM": {},  # text -> trimmed lower-case text, this scorer's own
            "NORM_MAX": NORM_MAX,
        }
        self.item_vars: dict[str, tuple[str, str]] = {}
        self._counts: dict[str, int] = {}

    def const(self, prefix: str, value: Any) -> str:
        n = self._counts[prefix] = self._counts.get(prefix, -1) + 1
        name = f"{prefix}{n}"
        self.consts[name] = value
        return name

    def outcome(self, call: str, yes: list[str], unk: list[str]) -> list[str]:
        """Branch on a called test's outcome."""
        return [f"o = {call}", "if o is True:", *_indent(yes), "elif o is None:", *_indent(unk)]

    def clause(self, field: str, test: Test, yes: list[str], unk: list[str], *, top: bool) -> list[str]:
        """Code running ``yes`` when the clause matches and ``unk`` when it is unknown (nothing on a no).

        ``top``: the code runs unconditionally, so a list field's item set can be read once and reused.
        """
        how = getattr(test, "fast", None)
        fn = self.const("T", test)
        if how is not None and how[0] == "items":
            if top and field in self.item_vars:
                raw, have = self.item_vars[field]
                lines = []
            else:
                raw, have = (f"r{len(self.item_vars)}", f"h{len(self.item_vars)}") if top else ("v", "h")
                lines = [f"{raw} = get({self.const('F', field)})", f"{have} = item_set({raw})"]
                if top:
                    self.item_vars[field] = (raw, have)
            _, op, wanted = how
            w = self.const("W", wanted)
            check = {
                Op.CONTAINS_ANY: f"not {w}.isdisjoint({have})",
                Op.CONTAINS_ALL: f"{w}.issubset({have})",
                Op.CONTAINS_NONE: f"{w}.isdisjoint({have})",
            }[op]
            return [
                *lines,
                f"if type({have}) is set:",
                f"    if {check}:",
                *_indent(_indent(yes)),
                f"elif {have} is None:",
                *_indent(unk),
                "else:",
                *_indent(self.outcome(f"{fn}({raw})", yes, unk)),
            ]
        head = [f"v = get({self.const('F', field)})"]
        if how is None:
            return [*head, *self.outcome(f"{fn}(v)", yes, unk)]
        slow = ["else:", *_indent(self.outcome(f"{fn}(v)", yes, unk))]
        missing = ["elif v is None:", *_indent(unk)]
        kind = how[0]
        if kind == "text":
            _, texts, negate = how
            s = self.const("S", texts)
            if not negate and "" not in texts:
                decide = [f"if s in {s}:", *_indent(yes), "elif not s:", *_indent(unk)]
            else:
                decide = ["if s:", f"    if s {'not in' if negate else 'in'} {s}:", *_indent(_indent(yes))]
                decide += ["else:", *_indent(unk)]
            # text arrives in a few spellings per field ("Software", "software "): each is normalised once
            body = [
                "if type(v) is str:",
                "    s = NORM.get(v)",
                "    if s is None:",
                "        s = v.strip(WS)",
                "        s = s.lower() if s.isascii() else LOWER(s)",
                "        if len(NORM) < NORM_MAX:",
                "            NORM[v] = s",
            ]
            body += _indent(decide)
            return [*head, *body, *missing, *slow]
        if kind == "number":
            _, nums, negate = how
            n = self.const("S", nums)
            decide = ["if v == v:", f"    if v {'not in' if negate else 'in'} {n}:", *_indent(_indent(yes))]
            decide += ["else:", *_indent(unk)]
            return [*head, "if type(v) is float or type(v) is int:", *_indent(decide), *missing, *slow]
        if kind == "range":
            _, lo, hi = how
            parts = [
                self.const("N", lo) if lo is not None else None,
                "v",
                self.const("N", hi) if hi is not None else None,
            ]
            check = " <= ".join(p for p in parts if p is not None)
            decide = [f"if {check}:", *_indent(yes), "elif v != v:", *_indent(unk)]
            return [*head, "if type(v) is float or type(v) is int:", *_indent(decide), *missing, *slow]
        if kind == "flag":
            want = bool(how[1])
            flag = [f"if v is {want}:", *_indent(yes), "elif v is None:", *_indent(unk)]
            return [*head, *flag, f"elif v is not {not want}:", *_indent(self.outcome(f"{fn}(v)", yes, unk))]
        if kind == "exists":
            return [
                *head,
                "if v is None:",
                "    pass",
                "elif type(v) is str:",
                "    if v.strip(WS):",
                *_indent(_indent(yes)),
                "elif type(v) is float or type(v) is int:",
                "    if v == v:",
                *_indent(_indent(yes)),
                *slow,
            ]
        if kind == "date":
            _, first, last = how
            lo, hi = self.const("D", first), self.const("D", last)
            date = self.const("DATE", dt.date)
            return [
                *head,
                f"if type(v) is {date}:",
                f"    if {lo} <= v <= {hi}:",
                *_indent(_indent(yes)),
                "elif type(v) is str and (iso := ISO(v)) is not None:",  # the usual text form, read in place
                f"    if {lo} <= iso <= {hi}:",
                *_indent(_indent(yes)),
                *missing,
                *slow,
            ]
        raise AssertionError(f"no fast path written for {kind!r}")  # pragma: no cover

    def conjunction(self, fields: list[str], tests: list[Test], yes: list[str], unk: list[str]) -> list[str]:
        """Kleene AND, stopping at the first no: ``c`` holds the outcome so far, ``d`` the next clause's."""
        lines = ["c = False", *self.clause(fields[0], tests[0], ["c = True"], ["c = None"], top=False)]
        for field, test in zip(fields[1:], tests[1:], strict=True):
            step = ["d = False", *self.clause(field, test, ["d = True"], ["d = None"], top=False)]
            lines += ["if c is not False:", *_indent([*step, "if d is not True:", "    c = d"])]
        return [*lines, "if c is True:", *_indent(yes), "elif c is None:", *_indent(unk)]


# clause kinds of the C walk (icpkit/_native.c), by the fast path a clause's closure describes
_KIND = {"text": 1, "number": 2, "range": 3, "items": 4, "flag": 5, "exists": 6, "date": 7}
_ITEMS_OP = {Op.CONTAINS_ANY: 0, Op.CONTAINS_ALL: 1, Op.CONTAINS_NONE: 2}


def _native_clause(field: str, test: Test) -> tuple[Any, ...]:
    """(field, kind, test, arg1, arg2, flag) for the C walk; kind 0 calls the test for every value."""
    how = getattr(test, "fast", None)
    if how is None:
        return (field, 0, test, None, None, 0)
    kind = how[0]
    if kind in ("text", "number"):
        return (field, _KIND[kind], test, how[1], None, int(how[2]))
    if kind in ("range", "date"):  # (lo, hi): bounds, or the first and last day
        return (field, _KIND[kind], test, how[1], how[2], 0)
    if kind == "items":
        return (field, _KIND[kind], test, how[2], None, _ITEMS_OP[how[1]])
    if kind == "flag":
        return (field, _KIND[kind], test, None, None, int(how[1]))
    return (field, _KIND[kind], test, None, None, 0)


class Scorer:
    """A spec compiled for scoring one record at a time: ``scorer(record) -> ScoreResult``.

    The spec becomes one generated straight-line function (no loop, no per-criterion call for the common value
    types), which is what brings a 20-criterion spec to a few microseconds. Only the code's *shape* is generated:
    every spec value, field name, id and route reaches it as a bound constant (an argument of the factory that
    builds it), never as source text, so nothing in a spec is evaluated.
    """

    __slots__ = ("_score", "as_of", "key", "native", "pinned", "source", "spec")

    def __init__(
        self,
        spec: ICPSpec,
        *,
        as_of: dt.date | None = None,
        native: bool | None = None,
        key: Callable[[str], str] | None = None,
    ) -> None:
        """``as_of``: the scoring date ``within_days`` counts back from; None means today, followed from one day to
        the next (a long-lived scorer recompiles when the date changes). ``native``: walk the clauses in C (default:
        whenever the extension is built). ``key``: a field name as the records' own key object, where a reader hands
        out one object per key (orjson does): the C walk's lookups then match by identity before comparing text.
        Only a speed-up; any equal text is found as well."""
        if native and not NATIVE:
            raise RuntimeError("icpkit._native is not built: reinstall icpkit where a C compiler is available")
        self.spec = spec
        self.pinned = as_of is not None
        self.as_of = scoring_date(as_of)
        self.native = NATIVE if native is None else native
        self.key = key
        self.source, score = self._generate()
        moving = not self.pinned and any(
            cl.op == Op.WITHIN_DAYS for _, _, c in criterion_ids(spec) for cl in c.clauses()
        )
        # only a spec with recency pays for following the calendar
        self._score = self._follow_calendar(score) if moving else score

    def _follow_calendar(
        self, score: Callable[[Mapping[str, Any]], ScoreResult]
    ) -> Callable[[Mapping[str, Any]], ScoreResult]:
        """``score`` behind a check of the clock: past the UTC midnight that ends the compiled day, the clauses
        are compiled for the new one. One clock read and a comparison per record."""
        state: list[Any] = [score, _day_end(self.as_of)]

        def dated(record: Mapping[str, Any]) -> ScoreResult:
            if _clock() >= state[1]:
                day = today()
                if day != self.as_of:
                    self.as_of = day
                    state[0] = self._generate()[1]
                state[1] = _day_end(day)
            return state[0](record)

        return dated

    def _compile(self, cl: Clause, cid: str) -> Test:
        try:
            return _compile_clause(cl, self.as_of)
        except SpecError as exc:
            raise SpecError(exc.message, field=cid) from None

    def _generate(self) -> tuple[str, Callable[[Mapping[str, Any]], ScoreResult]]:
        spec, w = self.spec, _Writer()
        totals = layer_totals(spec)
        if self.native:
            return self._generate_native(w, totals)
        layer_var = {layer: f"g{i}" for i, layer in enumerate(totals)}
        body = ["get = record.get", "matched = []", "unknown = []"]
        body += [f"{v} = 0" for v in layer_var.values()]
        loose = False  # points of criteria in layers without a layer score
        for cid, layer, c in criterion_ids(spec):
            id_name = w.const("I", cid)
            yes = [f"matched.append({id_name})"]
            if c.points:
                yes.append(f"{layer_var.get(layer, 'px')} += {int(c.points)}")
                loose = loose or layer not in layer_var
            unk = [f"unknown.append({id_name})"]
            clauses = c.clauses()
            tests = [self._compile(cl, cid) for cl in clauses]
            if len(clauses) > 1:
                body += w.conjunction([cl.field for cl in clauses], tests, yes, unk)
            else:
                body += w.clause(c.field, tests[0], yes, unk, top=True)
        if loose:
            body.insert(3, "px = 0")
        body.append("hit = []")
        for eid, e in exclusion_ids(spec):
            id_name = w.const("I", eid)
            body += w.clause(
                e.field, self._compile(e, eid), [f"hit.append({id_name})"], [f"unknown.append({id_name})"], top=True
            )
        sums = [*layer_var.values(), *(["px"] if loose else [])]
        body += [
            f"points = {' + '.join(sums) or '0'}",
            *self._tail(w, f"({', '.join(['layers', *layer_var.values()])},)"),
        ]
        return self._make(w, totals, body)

    def _generate_native(
        self, w: _Writer, totals: dict[str, int]
    ) -> tuple[str, Callable[[Mapping[str, Any]], ScoreResult]]:
        """The C walk reads the record and returns the ids and points; the tier, persona and result are as
        generated for the Python walk."""
        spec, slot = self.spec, {layer: i for i, layer in enumerate(totals)}
        loose = len(totals)  # points of criteria in layers without a layer score
        key = self.key or str
        criteria = [
            (
                cid,
                slot.get(layer, loose),
                int(c.points),
                [_native_clause(key(cl.field), self._compile(cl, cid)) for cl in c.clauses()],
            )
            for cid, layer, c in criterion_ids(spec)
        ]
        exclusions = [
            (eid, loose, 0, [_native_clause(key(e.field), self._compile(e, eid))]) for eid, e in exclusion_ids(spec)
        ]
        w.consts.update(PROGRAM=_Program, CRITERIA=criteria, EXCLUSIONS=exclusions, SLOTS=loose + 1, NORMF=norm_text)
        run = "    run = PROGRAM(CRITERIA, EXCLUSIONS, SLOTS, layers, NORM, NORM_MAX, NORMF, item_set, ISO).run\n"
        body = ["matched, unknown, hit, points, lazy = run(record)"]
        if spec.personas:
            body.append("get = record.get")
        return self._make(w, totals, [*body, *self._tail(w, "lazy")], run)

    def _tail(self, w: _Writer, lazy: str) -> list[str]:
        """From ``points`` and ``hit`` on: the score, tier, route, persona and the result."""
        spec = self.spec
        t = spec.tiers
        routes = {name: w.const("R", getattr(spec.routing, name)) for name in TIER_NAMES}
        body = [
            "score = 0 if points < 0 else 100 if points > 100 else points",
            "if hit:",
            f"    tier, route = 'excluded', {routes['excluded']}",
            f"elif score >= {int(t.tier1)}:",
            f"    tier, route = 'tier1', {routes['tier1']}",
            f"elif score >= {int(t.tier2)}:",
            f"    tier, route = 'tier2', {routes['tier2']}",
            f"elif score >= {int(t.tier3)}:",
            f"    tier, route = 'tier3', {routes['tier3']}",
            "else:",
            f"    tier, route = 'none', {routes['none']}",
        ]
        body += self._persona_lines(w)
        return [
            *body,
            "r = new(Result)",
            "r.persona = persona",
            "r.persona_match = pm",
            "r.score = score",
            "r.tier = tier",
            "r.route = route",
            "r.matched = matched",
            "r.unknown = unknown",
            "r.exclusions_hit = hit",
            f"r._lazy = {lazy}",
            "return r",
        ]

    def _make(
        self, w: _Writer, totals: dict[str, int], body: list[str], setup: str = ""
    ) -> tuple[str, Callable[[Mapping[str, Any]], ScoreResult]]:
        """Compile the scoring function; ``layers`` divides each layer's points by its total."""
        shares = [f"{w.const('L', layer)}: t[{i}] / {int(total)}" for i, (layer, total) in enumerate(totals.items(), 1)]
        names = list(w.consts)
        source = (
            f"def make({', '.join(names)}):\n"
            f"    def layers(t):\n        return {{{', '.join(shares)}}}\n"
            + setup
            + "    def score(record):\n"
            + "".join(f"        {line}\n" for line in body)
            + "    return score\n"
        )
        ns: dict[str, Any] = {}
        exec(compile(source, "<icpkit scorer>", "exec"), ns)
        return source, ns["make"](**w.consts)

    def _persona_lines(self, w: _Writer) -> list[str]:
        """``persona``, ``pm`` (strength, None without personas) and the rule-based ``route`` (score.persona)."""
        spec = self.spec
        if not spec.personas and not spec.routing_rules:
            return ["persona = pm = None"]
        lines = persona_lines(spec, w.const) if spec.personas else ["persona = pm = None"]
        if spec.routing_rules:
            lines.append(f"route = {w.const('RT', route_table(spec))}.get((tier, persona), route)")
        return lines

    def __call__(self, record: Mapping[str, Any]) -> ScoreResult:
        return self._score(record)

    def many(self, records: Iterable[Mapping[str, Any]]) -> list[ScoreResult]:
        score = self._score
        return [score(r) for r in records]

    def reasons(self, result: ScoreResult) -> list[str]:
        """The reasons of the exclusions a result hit, for the explanation shown to a person."""
        by_id = {eid: e.reason for eid, e in exclusion_ids(self.spec)}
        return [by_id[eid] for eid in result.exclusions_hit]


def compile_scorer(spec: ICPSpec, *, as_of: dt.date | None = None, key: Callable[[str], str] | None = None) -> Scorer:
    """Compile once, score many; ``as_of`` is the scoring date ``within_days`` counts back from (default: today,
    followed as the calendar moves; never the spec's build date).

    A multi-segment spec gets a scorer per segment that names the best-fitting one (``score.segments``).
    """
    if spec.segments is not None:
        from icpkit.score.segments import compile_segment_scorer

        return compile_segment_scorer(spec, as_of=as_of, key=key)  # type: ignore[return-value]
    return Scorer(spec, as_of=as_of, key=key)


def score_records(
    spec: ICPSpec, records: Iterable[Mapping[str, Any]], *, as_of: dt.date | None = None
) -> list[ScoreResult]:
    return compile_scorer(spec, as_of=as_of).many(records)
