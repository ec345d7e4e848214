"""Personas and routing rules in the compiled scoring query, by the rules of :mod:`icpkit.score.semantics`.

The fit query is built first (:mod:`icpkit.score.sql`, or the composed multi-segment query); this module then adds
``persona`` and ``persona_match`` to its output and wraps ``route`` in the routing rules, reading the tier the
query already computes. Word matching is portable SQL: the value's non-alphanumeric runs become one space
(``REGEXP_REPLACE`` with the fixed pattern ``[^A-Za-z0-9]+``), it is lower-cased, trimmed and padded with a space
each side, and each pattern is one ``STRPOS`` of ``' head of '`` (or ``' chief'`` for ``chief*``) in it. Patterns
only ever reach the query as string literals of letters, digits and spaces; no pattern is a regular expression.

When the query lists its columns (it was compiled with ``columns``), the padded words and the chosen persona are
helper columns of one extra stage, computed once per row; otherwise they are written inline.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlglot import exp

from icpkit.score.dialects import DialectRules, rules_for
from icpkit.score.semantics import WORD_SEPARATORS, needle
from icpkit.spec.model import NO_PERSONA, ICPSpec

__all__ = ["attach_personas", "persona_output_columns"]

_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _ident(name: str, rules: DialectRules, reserved: frozenset[str]) -> exp.Identifier:
    quoted = rules.quote_all or not _SAFE_NAME.match(name) or name.upper() in reserved
    return exp.to_identifier(name, quoted=quoted)


def _words(col: exp.Expression, rules: DialectRules) -> exp.Expression:
    """' w1 w2 ' for a text value with letters or digits, else NULL."""
    pattern, space = exp.Literal.string(WORD_SEPARATORS), exp.Literal.string(" ")
    if rules.name == "redshift":  # Redshift's 4th argument is a position: it replaces every match by default
        replaced: exp.Expression = exp.Anonymous(this="REGEXP_REPLACE", expressions=[col, pattern, space])
    else:
        replaced = exp.RegexpReplace(this=col, expression=pattern, replacement=space)
    words = exp.Nullif(this=exp.Trim(this=exp.Lower(this=replaced)), expression=exp.Literal.string(""))
    # ``||`` with NULL is NULL in every dialect here, so a missing value stays missing
    return exp.DPipe(this=exp.DPipe(this=space.copy(), expression=words, safe=True), expression=space.copy(), safe=True)


def _hit(words: exp.Expression | None, patterns: list[str]) -> exp.Expression:
    """TRUE where the padded words contain one of the patterns' needles; FALSE otherwise (also where missing)."""
    if words is None or not patterns:
        return exp.false()
    tests = [
        exp.GT(this=exp.StrPosition(this=words.copy(), substr=exp.Literal.string(needle(p))), expression=exp.convert(0))
        for p in patterns
    ]
    found = exp.or_(*tests, copy=False, wrap=True) if len(tests) > 1 else tests[0]
    return exp.func("COALESCE", found, exp.false())


def _present(words: exp.Expression | None) -> exp.Expression:
    return exp.false() if words is None else exp.Not(this=exp.Is(this=words.copy(), expression=exp.null()))


def _matches(spec: ICPSpec, words: list[exp.Expression | None]) -> list[tuple[exp.Expression, exp.Expression]]:
    """(matches, strength) per persona: no veto, no given list a no, at least one a yes."""
    out = []
    for p in spec.personas:
        lists = [(i, pats) for i, pats in enumerate((p.titles, p.seniority, p.department)) if pats]
        yes = [exp.paren(_hit(words[i], pats)) for i, pats in lists]
        no = [exp.and_(_present(words[i]), exp.Not(this=y.copy())) for (i, _), y in zip(lists, yes, strict=True)]
        parts: list[exp.Expression] = [exp.Not(this=exp.paren(exp.or_(*no, wrap=True)))]
        parts.append(exp.paren(exp.or_(*(y.copy() for y in yes), wrap=True)))
        if p.exclude_titles:
            parts.insert(0, exp.Not(this=exp.paren(_hit(words[0], p.exclude_titles))))
        count: exp.Expression = exp.convert(0)
        for y in yes:
            count = exp.Add(this=count, expression=exp.Case().when(y.copy(), exp.convert(1)).else_(exp.convert(0)))
        strength = exp.Case(this=exp.paren(count))
        for k in range(1, len(lists) + 1):
            strength = strength.when(exp.convert(k), exp.convert(100 * k // len(lists)))
        out.append((exp.and_(*parts, wrap=True), strength.else_(exp.convert(0))))
    return out


def attach_personas(
    select: exp.Select, spec: ICPSpec, *, dialect: str, columns: Mapping[str, str] | None, reserved: frozenset[str]
) -> exp.Select:
    """The scoring ``select`` with ``persona`` / ``persona_match`` appended and ``route`` following the rules."""
    if not spec.personas and not spec.routing_rules:
        return select
    from icpkit.score.sql import column_kind

    rules = rules_for(dialect)
    staged = not any(isinstance(e, exp.Star) for e in select.expressions)
    pf = spec.persona_fields
    helpers: list[exp.Expression] = []
    words: list[exp.Expression | None] = []
    for i, name in enumerate((pf.title, pf.seniority, pf.department)):
        kind = "text" if columns is None else column_kind(columns.get(name, "null"))
        if kind != "text" or not spec.personas:
            words.append(None)  # only text is read: anything else is missing in every row
            continue
        w = _words(exp.Column(this=_ident(name, rules, reserved)), rules)
        if staged:
            helpers.append(exp.alias_(w, f"_icp_pw{i}", quoted=True))
            w = exp.column(f"_icp_pw{i}", quoted=True)
        words.append(w)
    matches = _matches(spec, words)
    which: exp.Expression = exp.null()
    strength: exp.Expression = exp.convert(0)
    if matches:
        which_case, strength_case = exp.Case(), exp.Case()
        for k, (m, s) in enumerate(matches):
            which_case = which_case.when(m.copy(), exp.convert(k))
            strength_case = strength_case.when(m.copy(), s)
        which, strength = which_case, strength_case.else_(exp.convert(0))
    if staged and matches:
        source = select.args["from_"].this
        stage = exp.select(exp.Star(), *helpers).from_(source.copy()).subquery("_icp_pw")
        chosen_stage = exp.select(
            exp.Star(), exp.alias_(which, "_icp_pk", quoted=True), exp.alias_(strength, "_icp_pm", quoted=True)
        ).from_(stage)
        select.set("from_", exp.From(this=chosen_stage.subquery("_icp_pp")))
        which, strength = exp.column("_icp_pk", quoted=True), exp.column("_icp_pm", quoted=True)

    def chosen(k: int | None) -> exp.Expression:
        if k is None:
            return exp.Is(this=exp.paren(which.copy()), expression=exp.null())
        return exp.EQ(this=exp.paren(which.copy()), expression=exp.convert(k))

    names = {p.name: k for k, p in enumerate(spec.personas)}
    aliases = {e.alias_or_name: e for e in select.expressions if isinstance(e, exp.Alias)}
    if spec.routing_rules:
        tier = aliases["tier"].this
        route_alias = aliases["route"]
        case = exp.Case()
        for rule in spec.routing_rules:
            cond: list[exp.Expression] = []
            if rule.tier is not None:
                cond.append(exp.In(this=exp.paren(tier.copy()), expressions=[exp.Literal.string(t) for t in rule.tier]))
            if rule.persona is not None:
                who = [chosen(None if n == NO_PERSONA else names[n]) for n in rule.persona]
                cond.append(exp.paren(exp.or_(*who, wrap=True)))
            case = case.when(exp.and_(*cond, wrap=True), exp.Literal.string(rule.route))
        route_alias.set("this", case.else_(route_alias.this))
    if spec.personas:
        name_case = exp.Case()
        for k, p in enumerate(spec.personas):
            name_case = name_case.when(chosen(k), exp.Literal.string(p.name))
        name_case = name_case.else_(exp.cast(exp.null(), exp.DataType.Type.TEXT))
        select.select(
            exp.alias_(name_case, _ident("persona", rules, reserved)),
            exp.alias_(strength.copy(), _ident("persona_match", rules, reserved)),
            copy=False,
        )
    return select


def persona_output_columns(spec: ICPSpec) -> list[str]:
    """The columns personas add to the query's output (after the fit columns)."""
    return ["persona", "persona_match"] if spec.personas else []
