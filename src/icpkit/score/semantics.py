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
  not happened yet at ``as_of``, and a backtest must not see the future). ``as_of`` is the *scoring date*, a
  parameter of scoring, never the spec's build date: pinned by the caller (a backtest, a drift period, ``--as-of``)
  or else today (:func:`today`, the UTC calendar day), so a lead funded last month gets its trigger points whenever
  it is scored. This is the one place the core reads the clock. A timestamp counts by its own wall-clock day (a
  zoned one by the day in its zone).
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

Personas (who the lead is; never part of the score or tier):

* **Fields**: ``persona_fields`` names the title, seniority and department columns (default ``title``,
  ``seniority``, ``department``). Only text is read: a value that is not text (a number, a list) is missing.
* **Words**: a value is normalised to its words: every run of characters other than ASCII letters and digits
  becomes one space (so accented and other non-ASCII letters separate words too), then trimmed and lower-cased;
  empty -> missing. A pattern is normalised the same way; ``head of`` matches where those words appear
  consecutively (``Head of Sales``, ``head-of-sales``), ``chief*`` where a word starts with ``chief``. No regular
  expression from the spec is ever run.
* **A persona** lists ``titles``, ``seniority`` and ``department`` patterns (each optional, at least one).
  Each given list is yes when the field has a word match with one of its patterns, no when the field is present
  without one, unknown when missing. A title matching one of ``exclude_titles`` vetoes the persona. The persona
  matches when nothing vetoes it, no given list is no and at least one is yes.
* **Which persona**: the first that matches, in spec order (the order is the priority). ``persona_match`` is its
  strength, ``100 * yes // given`` (share of its given lists that matched, rounded down); no persona: ``persona``
  null and ``persona_match`` 0. A spec without personas leaves both out (``persona_match`` is ``None``).
* **Routing rules** are tried in order; the first whose ``tier`` list holds the record's tier and whose
  ``persona`` list holds its persona (``none`` = no persona) sets ``route``; an absent list matches anything.
  No rule matches -> ``routing`` by tier as before. Rules never change the score or tier.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from icpkit.spec.model import NO_PERSONA, Clause, Criterion, Exclusion, ICPSpec, Op, Persona, pattern_words

__all__ = [
    "FALSE_WORDS",
    "MISSING_OUTCOME",
    "NUMBER_PATTERN",
    "TIER_NAMES",
    "TRUE_WORDS",
    "WHITESPACE",
    "WORD_SEPARATORS",
    "Outcome",
    "ScoreResult",
    "SpecItem",
    "Tier",
    "clamp_score",
    "criterion_ids",
    "evaluate",
    "exclusion_ids",
    "finish",
    "has_personas",
    "kleene_and",
    "layer_totals",
    "lower_text",
    "match_persona",
    "needle",
    "norm_text",
    "parse_bool",
    "parse_date",
    "parse_number",
    "persona_words",
    "prepare_items",
    "route_for",
    "score_record",
    "scoring_date",
    "tier_for",
    "today",
    "with_persona",
]

Outcome = bool | None  # True = yes, False = no, None = unknown
Tier = Literal["tier1", "tier2", "tier3", "none", "excluded"]
TIER_NAMES: tuple[str, ...] = ("tier1", "tier2", "tier3", "none", "excluded")

WHITESPACE = " \t\n\r"
# Lenient number in text: optional sign, digits with an optional fraction, optional exponent. No thousands
# separators (ingest normalises "$1,200"), no inf/nan. The fraction is one optional group after the digits, never
# ``[0-9]+\.?[0-9]*``: that splits a run of digits two ways, which backtracking engines (Python, Java for Spark)
# try in quadratic time on a long run followed by a non-digit.
NUMBER_PATTERN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"
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
    persona: str | None = None  # the first matching persona's name; None when none matches
    persona_match: int | None = None  # its strength 0-100 (0: no persona); None when the spec has no personas

    def as_dict(self) -> dict[str, Any]:
        out = {
            "score": self.score,
            "tier": self.tier,
            "route": self.route,
            "layer_scores": dict(self.layer_scores),
            "matched": list(self.matched),
            "unknown": list(self.unknown),
            "exclusions_hit": list(self.exclusions_hit),
        }
        if self.persona_match is not None:
            out["persona"] = self.persona
            out["persona_match"] = self.persona_match
        return out


# ---------------------------------------------------------------------------------------------- value reading


# Python's str.lower applies Unicode's full case mapping: 'İ' becomes 'i' + a combining dot and a word-final 'Σ'
# becomes 'ς'. DuckDB, Arrow and PostgreSQL lower-case one code point at a time ('i', 'σ'); these two are the only
# characters where the two mappings differ, so reading them first makes the reference lower-case like the engines.
SIMPLE_CASE = str.maketrans({"\u0130": "i", "\u03a3": "\u03c3"})


def lower_text(s: str) -> str:
    """Lower-case one code point at a time, as the SQL engines and Arrow do (see ``SIMPLE_CASE``)."""
    return s.lower() if s.isascii() else s.translate(SIMPLE_CASE).lower()


def norm_text(s: str) -> str:
    return lower_text(s.strip(WHITESPACE))


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


def today() -> dt.date:
    """The scoring date when none is pinned: the UTC calendar day (as the API and every engine read it)."""
    return dt.datetime.now(dt.UTC).date()


def scoring_date(as_of: dt.date | None) -> dt.date:
    """The date recency is counted from: ``as_of`` when pinned, else today. Never the spec's build date, which
    is when the history ended, not when the record is scored."""
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    return today() if as_of is None else as_of


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
        return 0 <= (scoring_date(as_of) - d).days <= spec_value
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


# ---------------------------------------------------------------------------------------------- personas

WORD_SEPARATORS = "[^A-Za-z0-9]+"
_SEPARATORS = re.compile(WORD_SEPARATORS)


def persona_words(v: Any) -> str | None:
    """A persona field as its words padded with one space each side (``" vp sales "``), or None when missing."""
    if not isinstance(v, str):
        return None
    words = _SEPARATORS.sub(" ", v).strip(" ").lower()
    return f" {words} " if words else None


def needle(pattern: str) -> str:
    """What a pattern looks for in the padded words: ``" head of "``, or ``" chief"`` for ``chief*``."""
    words, prefix = pattern_words(pattern)
    return f" {words}" if prefix else f" {words} "


def _list_outcome(patterns: Sequence[str], words: str | None) -> Outcome:
    if words is None:
        return None
    return any(needle(p) in words for p in patterns)


def has_personas(spec: ICPSpec) -> bool:
    """Whether scoring adds ``persona`` and ``persona_match`` (the spec defines personas)."""
    return bool(spec.personas)


def _persona_strength(p: Persona, title: str | None, seniority: str | None, department: str | None) -> int | None:
    """The persona's strength when it matches, else None."""
    if title is not None and any(needle(x) in title for x in p.exclude_titles):
        return None
    given = [(pats, v) for pats, v in ((p.titles, title), (p.seniority, seniority), (p.department, department)) if pats]
    outcomes = [_list_outcome(pats, v) for pats, v in given]
    if False in outcomes or True not in outcomes:
        return None
    return 100 * outcomes.count(True) // len(outcomes)


def match_persona(spec: ICPSpec, record: Mapping[str, Any]) -> tuple[str | None, int]:
    """(name, strength) of the first persona matching the record, or (None, 0)."""
    pf = spec.persona_fields
    title = persona_words(record.get(pf.title))
    seniority = persona_words(record.get(pf.seniority))
    department = persona_words(record.get(pf.department))
    for p in spec.personas:
        strength = _persona_strength(p, title, seniority, department)
        if strength is not None:
            return p.name, strength
    return None, 0


def route_for(spec: ICPSpec, tier: str, persona: str | None, default: str) -> str:
    """The route of the first routing rule matching (tier, persona), else ``default`` (routing by tier)."""
    who = NO_PERSONA if persona is None else persona
    for rule in spec.routing_rules:
        if (rule.tier is None or tier in rule.tier) and (rule.persona is None or who in rule.persona):
            return rule.route
    return default


def with_persona(spec: ICPSpec, result: ScoreResult, record: Mapping[str, Any]) -> ScoreResult:
    """The result with its persona, strength and rule-based route (unchanged for a spec without either)."""
    if not spec.personas and not spec.routing_rules:
        return result
    persona, strength = match_persona(spec, record) if spec.personas else (None, 0)
    result.route = route_for(spec, result.tier, persona, result.route)
    if spec.personas:
        result.persona, result.persona_match = persona, strength
    return result


def _clause_outcome(clauses: Sequence[Clause], record: Mapping[str, Any], as_of: dt.date | None) -> Outcome:
    return kleene_and(evaluate(cl.op, cl.value, record.get(cl.field), as_of) for cl in clauses)


def score_record(spec: ICPSpec, record: Mapping[str, Any], as_of: dt.date | None = None) -> ScoreResult:
    """Score one record by the reference rules (slow, obviously correct; engines are tested against it).

    ``as_of`` is the scoring date (default today, see :func:`scoring_date`)."""
    as_of = scoring_date(as_of)
    crit = [_clause_outcome(c.clauses(), record, as_of) for _, _, c in criterion_ids(spec)]
    excl = [_clause_outcome([e], record, as_of) for _, e in exclusion_ids(spec)]
    return with_persona(spec, finish(spec, crit, excl), record)
