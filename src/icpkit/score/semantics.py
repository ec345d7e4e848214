"""The one definition of scoring. Every engine (Python, Arrow, SQL, Spark) must agree with it row for row.

This module is deliberately small and slow: it is the executable specification. ``evaluate`` decides one clause on
one record value; ``finish`` turns per-criterion outcomes into a :class:`ScoreResult`. Fast engines compile the same
rules and are tested against this module.

Decisions (each one is a rule every engine implements):

* **Three outcomes.** A clause is ``True`` (yes), ``False`` (no) or ``None`` (unknown).
* **Missing** = ``None``, NaN, or text that is empty after trimming. A missing value is unknown for every operator
  except ``exists``, which is never unknown (missing -> no). ``not_in`` on a missing value is unknown, not a match.
* **Text** compares after trimming ASCII whitespace (``" \\t\\n\\r"``) and lower-casing (``str.lower``, Arrow
  ``utf8_lower``, SQL ``LOWER``), on both the record value and the spec value.
* **Kinds.** A spec item is text, a number or a boolean; it equals a record value of the same kind. Text never
  equals a number (``"500"`` in a spec does not match 500). A text record value is read leniently as a number
  (``" 1e3 "``, ``"+5"``) when the spec item is a number, as a boolean (yes/no, true/false, y/n, t/f, 1/0) when
  the operator or spec item is boolean, and as an ISO date (``YYYY-MM-DD``, time part ignored) for
  ``within_days``. A value of the wrong kind is a known value that does not match: no, not unknown.
* **not_in** on a present scalar value is the negation of ``in`` (so ``not_in: [B2C]`` on a number is yes).
* **Lists.** ``contains_*`` read a list value as a set of items: null items and items empty after trimming are
  dropped. An empty list is a known empty set (``contains_any`` / ``contains_all`` -> no, ``contains_none`` ->
  yes); a null list is unknown. A present scalar counts as a one-item list. The scalar operators (``equals``,
  ``in``, ``not_in``, ``between``, ``gte``, ``lte``, ``is_true``, ``is_false``, ``within_days``) on a list
  value -> no.
* **Numbers**: ``between`` is inclusive with ``null`` as an open end; booleans are not numbers.
* **exists**: yes when the value is present (non-null, non-empty text, a list with at least one item).
* **within_days N**: yes when ``as_of - N days <= date <= as_of``. A date after ``as_of`` does not match (it has
  not happened yet at ``as_of``, and a backtest must not see the future). ``as_of`` is a parameter of scoring;
  the core never reads the clock.
* **Conjunctions** (``also``): any clause no -> no; else any unknown -> unknown; else yes (Kleene AND).
* **Score** = sum of points of matched criteria, clamped to [0, 100]. **Layer scores** = matched points / total
  points of the layer, for each layer whose criteria carry points; a layer with no points is omitted (0 would read
  as a failed layer, 1 as a perfect one).
* **Exclusions**: only a yes excludes (a missing value never excludes). An excluded record keeps its fit score
  and layer scores, gets tier ``excluded`` and ``routing.excluded``. Unknown exclusions are listed in
  ``unknown`` next to unknown criteria, so a reviewer sees which disqualifier could not be checked.
* **Ids**: criterion ``<layer>.<index>`` (index within its layer, from 0), exclusion ``exclusion.<index>``.
  ``matched``, ``unknown`` and ``exclusions_hit`` list ids in spec order (layers in ``LAYERS`` order).
* **Tier**: the highest tier whose minimum the score reaches (tier1 >= tier2 >= tier3), else ``none``.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from icpkit.spec.model import Clause, Criterion, Exclusion, ICPSpec, Op

__all__ = [
    "FALSE_WORDS",
    "MISSING_OUTCOME",
    "NUMBER_PATTERN",
    "TIER_NAMES",
    "TRUE_WORDS",
    "WHITESPACE",
    "Outcome",
    "ScoreResult",
    "SpecItem",
    "Tier",
    "clamp_score",
    "criterion_ids",
    "evaluate",
    "exclusion_ids",
    "finish",
    "kleene_and",
    "layer_totals",
    "norm_text",
    "parse_bool",
    "parse_date",
    "parse_number",
    "prepare_items",
    "score_record",
    "tier_for",
]

Outcome = bool | None  # True = yes, False = no, None = unknown
Tier = Literal["tier1", "tier2", "tier3", "none", "excluded"]
TIER_NAMES: tuple[str, ...] = ("tier1", "tier2", "tier3", "none", "excluded")

WHITESPACE = " \t\n\r"
# Lenient number in text: optional sign, digits with an optional fraction, optional exponent. No thousands
# separators (ingest normalises "$1,200"), no inf/nan.
NUMBER_PATTERN = r"^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
_NUMBER_RE = re.compile(NUMBER_PATTERN)
_DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}")
TRUE_WORDS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "no", "n", "0"})

# What each operator says about a missing value. Everything is unknown except exists.
MISSING_OUTCOME: Mapping[Op, Outcome] = {op: (False if op == Op.EXISTS else None) for op in Op}

SpecItem = tuple[Literal["text", "number", "bool"], Any]


@dataclass(slots=True)
class ScoreResult:
    """The score of one record with its explanation; identical across engines."""

    score: int
    tier: str
    route: str
    layer_scores: dict[str, float] = field(default_factory=dict)
    matched: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    exclusions_hit: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "tier": self.tier,
            "route": self.route,
            "layer_scores": dict(self.layer_scores),
            "matched": list(self.matched),
            "unknown": list(self.unknown),
            "exclusions_hit": list(self.exclusions_hit),
        }


# ---------------------------------------------------------------------------------------------- value reading


def norm_text(s: str) -> str:
    return s.strip(WHITESPACE).lower()


def parse_number(s: str) -> float | None:
    """A number read leniently from normalised text, or None."""
    return float(s) if _NUMBER_RE.match(s) else None


def parse_bool(s: str) -> bool | None:
    if s in TRUE_WORDS:
        return True
    if s in FALSE_WORDS:
        return False
    return None


def parse_date(s: str) -> dt.date | None:
    if not _DATE_RE.match(s):
        return None
    try:
        return dt.date.fromisoformat(s[:10])
    except ValueError:
        return None


_MISSING = ("missing", None)


def _classify(v: Any) -> tuple[str, Any]:
    """(kind, normalised value); kinds: missing, text, number, bool, date, list, other."""
    if v is None:
        return _MISSING
    if isinstance(v, bool) or type(v).__name__ in ("bool_", "bool"):
        return ("bool", bool(v))
    if isinstance(v, str):
        s = norm_text(v)
        return ("text", s) if s else _MISSING
    if isinstance(v, numbers.Real):
        f = float(v)
        return _MISSING if math.isnan(f) else ("number", f)
    if isinstance(v, dt.datetime):
        return _MISSING if v != v else ("date", v.date())  # v != v: pandas NaT
    if isinstance(v, dt.date):
        return ("date", v)
    if isinstance(v, list | tuple | set | frozenset) or type(v).__name__ == "ndarray":
        items = [c for c in map(_classify, list(v)) if c[0] != "missing"]
        return ("list", items)
    if type(v).__name__ in ("NAType", "NaTType"):
        return _MISSING
    return ("other", v)


def prepare_items(values: Iterable[Any]) -> list[SpecItem]:
    """Spec values normalised once: text trimmed and lower-cased, numbers as float."""
    out: list[SpecItem] = []
    for x in values:
        if isinstance(x, bool):
            out.append(("bool", x))
        elif isinstance(x, int | float):
            out.append(("number", float(x)))
        else:
            out.append(("text", norm_text(str(x))))
    return out


def _equal(kind: str, nv: Any, item: SpecItem) -> bool:
    ikind, iv = item
    if ikind == "text":
        return kind == "text" and nv == iv
    if ikind == "number":
        if kind == "number":
            return nv == iv
        return kind == "text" and parse_number(nv) == iv
    if kind == "bool":
        return nv == iv
    return kind == "text" and parse_bool(nv) == iv


def _as_number(kind: str, nv: Any) -> float | None:
    if kind == "number":
        return nv
    if kind == "text":
        return parse_number(nv)
    return None


# ---------------------------------------------------------------------------------------------- one clause


def evaluate(op: Op, spec_value: Any, value: Any, as_of: dt.date | None = None) -> Outcome:
    """The outcome of ``value`` against ``op spec_value``: the reference every engine is tested against."""
    kind, nv = _classify(value)
    if kind == "missing":
        return MISSING_OUTCOME[op]
    if op == Op.EXISTS:
        return kind != "list" or bool(nv)
    if op in (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
        items = nv if kind == "list" else [(kind, nv)]
        wanted = prepare_items(spec_value)
        hits = [any(_equal(k, v, w) for k, v in items) for w in wanted]
        if op == Op.CONTAINS_ANY:
            return any(hits)
        if op == Op.CONTAINS_ALL:
            return all(hits)
        return not any(hits)
    if kind == "list":
        return False
    if op in (Op.EQUALS, Op.IN, Op.NOT_IN):
        wanted = prepare_items([spec_value] if op == Op.EQUALS else spec_value)
        found = any(_equal(kind, nv, w) for w in wanted)
        return not found if op == Op.NOT_IN else found
    if op in (Op.BETWEEN, Op.GTE, Op.LTE):
        x = _as_number(kind, nv)
        if x is None:
            return False
        lo, hi = spec_value if op == Op.BETWEEN else (spec_value, None) if op == Op.GTE else (None, spec_value)
        return (lo is None or x >= lo) and (hi is None or x <= hi)
    if op in (Op.IS_TRUE, Op.IS_FALSE):
        b = nv if kind == "bool" else parse_bool(nv) if kind == "text" else None
        return b is (op == Op.IS_TRUE)
    if op == Op.WITHIN_DAYS:
        d = nv if kind == "date" else parse_date(nv) if kind == "text" else None
        if d is None:
            return False
        if as_of is None:
            raise ValueError("within_days needs an as_of date to score against")
        return 0 <= (as_of - d).days <= spec_value
    raise ValueError(f"unknown operator {op!r}")


def kleene_and(outcomes: Iterable[Outcome]) -> Outcome:
    """All must hold: any no -> no; else any unknown -> unknown; else yes."""
    unknown = False
    for o in outcomes:
        if o is False:
            return False
        if o is None:
            unknown = True
    return None if unknown else True


# ---------------------------------------------------------------------------------------------- a whole record


def criterion_ids(spec: ICPSpec) -> list[tuple[str, str, Criterion]]:
    """(id, layer, criterion) in spec order; the id is ``<layer>.<index>``."""
    return [(f"{layer}.{i}", layer, c) for layer, cs in spec.layers.items() for i, c in enumerate(cs)]


def exclusion_ids(spec: ICPSpec) -> list[tuple[str, Exclusion]]:
    return [(f"exclusion.{i}", e) for i, e in enumerate(spec.exclusions)]


def layer_totals(spec: ICPSpec) -> dict[str, int]:
    """Total points per layer, for layers that carry points (the layers that get a layer score)."""
    totals = {layer: sum(c.points for c in cs) for layer, cs in spec.layers.items()}
    return {layer: t for layer, t in totals.items() if t > 0}


def clamp_score(points: int) -> int:
    return max(0, min(100, points))


def tier_for(score: int, spec: ICPSpec) -> str:
    t = spec.tiers
    if score >= t.tier1:
        return "tier1"
    if score >= t.tier2:
        return "tier2"
    if score >= t.tier3:
        return "tier3"
    return "none"


def finish(
    spec: ICPSpec,
    criteria: Sequence[Outcome],
    exclusions: Sequence[Outcome],
) -> ScoreResult:
    """Turn per-criterion and per-exclusion outcomes (in id order) into the result."""
    ids = criterion_ids(spec)
    totals = layer_totals(spec)
    got = dict.fromkeys(totals, 0)
    matched, unknown, points = [], [], 0
    for (cid, layer, c), o in zip(ids, criteria, strict=True):
        if o is True:
            matched.append(cid)
            points += c.points
            if layer in got:
                got[layer] += c.points
        elif o is None:
            unknown.append(cid)
    hit = []
    for (eid, _), o in zip(exclusion_ids(spec), exclusions, strict=True):
        if o is True:
            hit.append(eid)
        elif o is None:
            unknown.append(eid)
    score = clamp_score(points)
    tier = "excluded" if hit else tier_for(score, spec)
    return ScoreResult(
        score=score,
        tier=tier,
        route=getattr(spec.routing, tier),
        layer_scores={layer: got[layer] / totals[layer] for layer in totals},
        matched=matched,
        unknown=unknown,
        exclusions_hit=hit,
    )


def _clause_outcome(clauses: Sequence[Clause], record: Mapping[str, Any], as_of: dt.date | None) -> Outcome:
    return kleene_and(evaluate(cl.op, cl.value, record.get(cl.field), as_of) for cl in clauses)


def score_record(spec: ICPSpec, record: Mapping[str, Any], as_of: dt.date | None = None) -> ScoreResult:
    """Score one record by the reference rules (slow, obviously correct; engines are tested against it)."""
    as_of = as_of or spec.as_of
    crit = [_clause_outcome(c.clauses(), record, as_of) for _, _, c in criterion_ids(spec)]
    excl = [_clause_outcome([e], record, as_of) for _, e in exclusion_ids(spec)]
    return finish(spec, crit, excl)
