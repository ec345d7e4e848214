"""The ICP in plain words, from templates: the sentence a sales team repeats and one line per clause.

Deterministic by construction (no model, no randomness): the same spec always reads the same. A criterion's
``label`` overrides the template, because the person who wrote it knows the business words best.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from icpkit.spec.model import NO_PERSONA, Clause, Criterion, Exclusion, ICPSpec, Op, Persona, RoutingRule

__all__ = [
    "clause_text",
    "criterion_text",
    "describe_spec",
    "format_number",
    "humanise_field",
    "icp_sentence",
    "persona_text",
    "routing_rule_text",
]

MONEY_FIELDS = frozenset(
    {"annual_revenue", "revenue", "arr", "mrr", "amount", "expansion_arr", "funding", "total_funding", "budget"}
)
PLACE_FIELDS = frozenset({"country", "region", "city", "state", "continent"})
HEAD_FIELDS = frozenset({"industry", "vertical", "sector"})  # read as the noun: "Software companies"
STACK_FIELDS = frozenset({"tech_stack", "technologies", "tools", "stack"})
COUNT_NOUNS = {"employees": "employees", "employee_count": "employees", "headcount": "employees"}
SENTENCE_PHRASES = 6  # a sentence a person can repeat holds about this many ideas
SENTENCE_SKIPS = frozenset({"behavioral"})  # how they bought, not who they are: listed, never in the sentence


def humanise_field(field: str) -> str:
    """``annual_revenue`` -> ``annual revenue``; date fields lose their ``last_`` / ``_date`` wrapping."""
    return field.strip().replace("_", " ").replace(".", " ").strip()


def _event(field: str) -> str:
    """``last_funding_date`` -> ``funding``: what happened, for 'in the last N days'."""
    f = field
    for prefix in ("last_", "latest_", "recent_"):
        f = f.removeprefix(prefix)
    for suffix in ("_date", "_at", "_on", "_time"):
        f = f.removesuffix(suffix)
    return humanise_field(f or field)


def format_number(x: float | int, *, money: bool = False) -> str:
    """1200 -> ``1,200``; 0.25 -> ``0.25``; with ``money``: 5_000_000 -> ``$5M``, 1_500 -> ``$1.5K``."""
    if money:
        for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
            if abs(x) >= size:
                return f"${_short(x / size)}{unit}"
        return f"${_short(x)}"
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.4g}" if abs(x) >= 1000 else f"{x:.4g}"


def _short(x: float) -> str:
    return f"{x:.3g}" if not float(x).is_integer() else f"{int(x)}"


def _value(v: Any, field: str) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int | float):
        return format_number(v, money=field in MONEY_FIELDS)
    return str(v).strip()


def _join(values: Sequence[Any], field: str, word: str = "or") -> str:
    parts = [_value(v, field) for v in values]
    if len(parts) <= 1:
        return "".join(parts)
    return f"{', '.join(parts[:-1])} {word} {parts[-1]}"


def _range(lo: Any, hi: Any, field: str) -> str:
    if lo is not None and hi is not None:
        return f"{_value(lo, field)} to {_value(hi, field)}"
    if lo is not None:
        return f"at least {_value(lo, field)}"
    return f"at most {_value(hi, field)}"


def _flag(field: str, positive: bool) -> str:
    words = humanise_field(field)
    for prefix, verb in (("is ", "are"), ("has ", "have"), ("uses ", "use")):
        if words.startswith(prefix):
            rest = words.removeprefix(prefix)
            if verb == "are":
                return f"that are {rest}" if positive else f"that are not {rest}"
            return f"that {verb} {rest}" if positive else f"that do not {verb} {rest}"
    return f"that are {words}" if positive else f"that are not {words}"


def clause_text(clause: Clause) -> str:
    """One clause as a phrase that reads after "companies": "with 50 to 500 employees", "running HubSpot"."""
    f, op, v = clause.field, clause.op, clause.value
    name = humanise_field(f)
    if op in (Op.EQUALS, Op.IN):
        values = [v] if op == Op.EQUALS else v
        if f in HEAD_FIELDS:
            return f"{_join(values, f)} companies"
        if f in PLACE_FIELDS:
            return f"in {_join(values, f)}"
        return f"with {name} {_join(values, f)}"
    if op == Op.NOT_IN:
        if f in HEAD_FIELDS:
            return f"outside {_join(v, f)}"
        if f in PLACE_FIELDS:
            return f"outside {_join(v, f)}"
        return f"with {name} other than {_join(v, f)}"
    if op in (Op.BETWEEN, Op.GTE, Op.LTE):
        lo, hi = v if op == Op.BETWEEN else (v, None) if op == Op.GTE else (None, v)
        if f in COUNT_NOUNS:
            return f"with {_range(lo, hi, f)} {COUNT_NOUNS[f]}"
        if f in MONEY_FIELDS:
            return f"with {_range(lo, hi, f)} {name}"
        return f"with {name} of {_range(lo, hi, f)}"
    if op in (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
        word = "and" if op == Op.CONTAINS_ALL else "or"
        items = _join(v, f, word)
        if f in STACK_FIELDS:
            return f"not running {items}" if op == Op.CONTAINS_NONE else f"running {items}"
        if op == Op.CONTAINS_NONE:
            return f"without {items} in {name}"
        return f"with {name} including {items}"
    if op == Op.IS_TRUE:
        return _flag(f, True)
    if op == Op.IS_FALSE:
        return _flag(f, False)
    if op == Op.EXISTS:
        return f"with a known {name}"
    if op == Op.WITHIN_DAYS:
        if v == 0:
            return f"with {_event(f)} today"
        return f"with {_event(f)} in the last {format_number(v)} day{'s' if v != 1 else ''}"
    return f"with {name} {op.value} {_value(v, f)}"


def criterion_text(c: Criterion) -> str:
    """The label when the spec has one, else every clause of the conjunction joined with "and"."""
    if c.label:
        return c.label.strip()
    return " and ".join(clause_text(cl) for cl in c.clauses())


def _exclusion_text(e: Exclusion) -> str:
    if e.op in (Op.EQUALS, Op.IN):
        return f"not {_join([e.value] if e.op == Op.EQUALS else e.value, e.field)}"
    return f"not {clause_text(e)}"


def describe_spec(spec: ICPSpec) -> list[tuple[str, str, int]]:
    """(layer, text, points) for every criterion in spec order, then ("exclusion", text (reason), 0) per exclusion."""
    rows = [(layer, criterion_text(c), c.points) for layer, c in spec.criteria()]
    rows += [("exclusion", f"{_exclusion_text(e)} ({e.reason.strip()})", 0) for e in spec.exclusions]
    return rows


def icp_sentence(spec: ICPSpec, *, max_phrases: int = SENTENCE_PHRASES) -> str:
    """One sentence: the strongest criteria (by points, spec order on ties), then "; not" and the exclusions.

    The sentence says who the company is, so criteria of the ``behavioral`` layer (how an account bought: the
    source or motion of its first deal) stay out of it; ``describe_spec`` still lists them under their layer.
    """
    who = [(layer, c) for layer, c in spec.criteria() if layer not in SENTENCE_SKIPS]
    ranked = sorted(enumerate(who), key=lambda ic: (-ic[1][1].points, ic[0]))
    chosen = sorted(ranked[:max_phrases], key=lambda ic: ic[0])
    phrases = [criterion_text(c) for _, (_, c) in chosen]
    head_at = next((i for i, p in enumerate(phrases) if p.endswith(" companies")), None)
    head = phrases.pop(head_at) if head_at is not None else "Companies"
    head = head[0].upper() + head[1:] if head else head
    sentence = f"{head} {', '.join(phrases)}" if phrases else head
    if spec.exclusions:
        sentence += "; " + ", ".join(_exclusion_text(e) for e in spec.exclusions)
    return sentence


def _patterns(patterns: Sequence[str]) -> str:
    """``['vp', 'chief*']`` -> ``"vp" or a word starting "chief"``."""
    parts = [f'a word starting "{p.strip()[:-1].strip()}"' if p.strip().endswith("*") else f'"{p}"' for p in patterns]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" or {parts[-1]}"


def persona_text(p: Persona) -> str:
    """One line: ``title has "vp" or "vice president" (not "assistant"); seniority has "vp"``."""
    parts = []
    if p.titles:
        parts.append(f"title has {_patterns(p.titles)}")
    if p.seniority:
        parts.append(f"seniority has {_patterns(p.seniority)}")
    if p.department:
        parts.append(f"department has {_patterns(p.department)}")
    text = "; ".join(parts)
    if p.exclude_titles:
        text += f" (not when the title has {_patterns(p.exclude_titles)})"
    return text


def routing_rule_text(rule: RoutingRule) -> str:
    """``tier tier1 or tier2, persona decision_maker → sales_now`` (first matching rule wins)."""
    conds = []
    if rule.tier is not None:
        conds.append(f"tier {' or '.join(rule.tier)}")
    if rule.persona is not None:
        conds.append(f"persona {' or '.join('none' if n == NO_PERSONA else n for n in rule.persona)}")
    return f"{', '.join(conds)} → {rule.route}"
