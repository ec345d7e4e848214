"""Compile an ICP spec to one SQL query, so scoring runs where the data already lives.

The query is built as a SQLGlot expression tree (``exp.column``, ``exp.convert``, ``exp.Case``): every spec value
is a literal node and every field an identifier node, so a value like ``x'; DROP TABLE accounts; --`` is data, never
code. It is rendered with ``unsupported_level=ErrorLevel.RAISE`` so a construct a dialect lacks fails loudly as
:class:`~icpkit.errors.UnsupportedOperatorError` instead of producing wrong SQL.

How the rules of :mod:`icpkit.score.semantics` map onto SQL:

* Each clause compiles to a boolean expression that is TRUE (yes), FALSE (no) or NULL (unknown), and NULL only when
  the value is missing. A conjunction is then plain SQL ``AND``, which is Kleene AND.
* Text is ``NULLIF(LOWER(TRIM(x, ' \\t\\n\\r')), '')``: the same four ASCII characters Python strips, so an empty
  value after trimming is missing.
* Without explanations only a yes counts (no and unknown both add 0 points and never exclude), so a clause need only
  be TRUE exactly on a yes: text is compared as ``LOWER(TRIM(x, …))`` without the ``NULLIF`` (a blank value equals
  no spec item; ``not_in`` also rejects ``''``). Measured on 2M rows of six dictionary-encoded Parquet text
  columns: ``LOWER(TRIM(…))`` costs ~0.1 s CPU (DuckDB evaluates it per dictionary entry), the ``NULLIF`` ~0.08 s.
* What a clause can mean depends on the column's type, which SQL fixes per column: pass ``columns`` (name -> type,
  e.g. from ``DESCRIBE``) to compile exactly for your table. Without it a field's type is its canonical kind
  (``employees`` numeric, ``tech_stack`` multi-valued…) or else what its first operator implies.
* Text columns are read leniently exactly as semantics reads text: a number by the same regular expression, then a
  cast guarded by it (no ``TRY_CAST`` needed, so Postgres behaves like DuckDB and Spark); yes/no words as booleans;
  ``YYYY-MM-DD`` prefixes as dates, with the calendar checked in arithmetic so ``2026-02-30`` is a no, not an error.
* ``within_days`` counts back from the scoring date: a pinned ``as_of`` compiles to date literals (no date
  arithmetic in SQL); without one the query reads ``CURRENT_DATE``, so a view stays right tomorrow. A timestamp
  counts by its date: a zoned one (``TIMESTAMP WITH TIME ZONE``) by its date in the zone ``zones`` names for the
  column, else in the session's time zone.
* Per-dialect choices (arrays, list tests, explanation form) are in :mod:`icpkit.score.dialects`.

Without ``columns`` the query is a single ``SELECT`` over the table (no helper columns to hide); clause expressions
repeat in the score, layer and explanation columns. With ``columns`` it is staged so each piece is computed once:
the field views (normalised text, numbers without NaN, the normalised list), then one outcome column per criterion
and exclusion, then each layer's points (the score is their sum, clamped), the exclusion flag and the explanation
bitmasks, and last the output columns, which list the input columns so no helper column reaches the output.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from icpkit.errors import InputError, SpecError, UnsupportedOperatorError
from icpkit.score.dialects import DialectRules, rules_for
from icpkit.score.persona_sql import attach_personas, persona_output_columns
from icpkit.score.semantics import (
    FALSE_WORDS,
    TIER_NAMES,
    TRUE_WORDS,
    WHITESPACE,
    SpecItem,
    criterion_ids,
    exclusion_ids,
    layer_totals,
    norm_text,
    prepare_items,
    today,
)
from icpkit.spec.model import FLAG_OPS, LAYERS, Clause, ICPSpec, Op

__all__ = [
    "EXPLAIN_COLUMNS",
    "KINDS",
    "check_outputs",
    "column_kind",
    "compile_expression",
    "compile_sql",
    "decode_masks_sql",
    "explanation_ids",
    "mask_type",
    "masks_fit",
    "output_columns",
]

EXPLAIN_COLUMNS = ("matched", "unknown", "exclusions_hit")
KINDS = ("text", "number", "float", "bool", "date", "timestamp", "list", "null", "other")
# semantics.NUMBER_PATTERN without backslashes (``[.]`` for ``\.``), so every dialect's string escaping agrees.
NUMBER_REGEX = "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"
DATE_REGEX = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ITEM = "_icp_item"

# Canonical columns (DESIGN.md) and their types after ingest, used when ``columns`` is not given.
_CANONICAL = {
    **dict.fromkeys(("employees", "annual_revenue", "founded_year", "arr", "expansion_arr"), "float"),
    **dict.fromkeys(("support_tickets", "gross_margin", "amount"), "float"),
    **dict.fromkeys(("customer_since", "churn_date", "created_date", "closed_date"), "date"),
    "churned": "bool",
    "tech_stack": "list",
}
_OP_KIND = {
    Op.BETWEEN: "float",
    Op.GTE: "float",
    Op.LTE: "float",
    Op.IS_TRUE: "bool",
    Op.IS_FALSE: "bool",
    Op.WITHIN_DAYS: "date",
    Op.CONTAINS_ANY: "list",
    Op.CONTAINS_ALL: "list",
    Op.CONTAINS_NONE: "list",
}


def column_kind(type_name: str) -> str:
    """The kind of a column from its type as DuckDB, Postgres, Spark, Arrow or a canonical kind name spells it."""
    t = type_name.strip().strip('"').lower()
    if t in KINDS:
        return t
    if t.endswith("[]") or t.startswith(("array", "list", "large_list", "fixed_size_list")) or t == "multi":
        return "list"
    if t in ("", "null", "void"):
        return "null"
    if t in ("bool", "boolean"):
        return "bool"
    if t.startswith("date"):
        return "date"
    if t.startswith("timestamp") or t == "datetime":
        return "timestamp"
    if t.startswith(("double", "float", "real", "numeric_float")) or t == "numeric":
        return "float"
    if t.startswith(("decimal", "numeric", "int", "bigint", "smallint", "tinyint", "hugeint", "uint", "ubigint")):
        return "number"
    if t.startswith(("usmallint", "utinyint", "long", "short", "byte")):
        return "number"
    if t.startswith(("varchar", "text", "string", "char", "large_string", "utf8", "bpchar", "character")):
        return "text"
    if t in ("id", "categorical"):
        return "text"
    if t == "boolean":
        return "bool"
    return "other"


def explanation_ids(spec: ICPSpec) -> dict[str, list[str]]:
    """The ids each explanation column can hold, in order; as a bitmask, bit ``i`` stands for the ``i``-th id."""
    crit = [cid for cid, _, _ in criterion_ids(spec)]
    excl = [eid for eid, _ in exclusion_ids(spec)]
    return {"matched": crit, "unknown": crit + excl, "exclusions_hit": excl}


def masks_fit(spec: ICPSpec) -> bool:
    """Whether every explanation column fits an integer bitmask (at most 62 ids each); segmented specs use lists."""
    if spec.segments is not None:
        return False
    return all(len(ids) <= _MAX_MASK_IDS for ids in explanation_ids(spec).values())


def decode_masks_sql(spec: ICPSpec | Mapping[str, Sequence[str]], *, dialect: str = "duckdb") -> dict[str, str]:
    """DuckDB expressions turning the integer (bitmask) explanation columns back into the lists of ids, by column name.

    ``spec`` is the spec that scored the file, or the ids per column (:func:`explanation_ids`, which a Parquet file
    scored by ``score_file`` keeps in its metadata). For a view over such a file::

        SELECT * REPLACE (<matched> AS matched, <unknown> AS unknown, <exclusions_hit> AS exclusions_hit)
        FROM 'scored.parquet'
    """
    if rules_for(dialect).ids != "mask_lookup":
        raise UnsupportedOperatorError(f"explanation bitmasks are decoded in DuckDB, not in {dialect}")
    ids_by_column = explanation_ids(spec) if isinstance(spec, ICPSpec) else spec
    out = {}
    for name, ids in ids_by_column.items():
        if len(ids) > _MAX_MASK_IDS:
            raise UnsupportedOperatorError(f"a bitmask holds at most {_MAX_MASK_IDS} ids; '{name}' has {len(ids)}")
        column = exp.column(name, quoted=True)
        if not ids:
            decoded: exp.Expression = exp.cast(exp.Array(expressions=[]), "VARCHAR[]", dialect="duckdb")
        else:
            decoded = _mask_lookup([(i, exp.true()) for i in ids], column)
        out[name] = render(decoded, dialect)
    return out


def output_columns(spec: ICPSpec, *, explain: bool = True) -> list[str]:
    """The columns scoring adds, in order: score, tier, route, layer_<name>…, the explanation, then personas."""
    cols = ["score", "tier", "route", *(f"layer_{layer}" for layer in layer_totals(spec))]
    return [*cols, *(EXPLAIN_COLUMNS if explain else ()), *persona_output_columns(spec)]


def check_outputs(spec: ICPSpec, outputs: Sequence[str] | None, *, explain: bool) -> list[str] | None:
    """The output columns asked for, in output order (None: all of them); an unknown name is an input error.

    A CRM field update needs only the id, score and tier; measured on 2M rows, ``route`` and five layer scores add
    ~11% CPU to a run writing those.
    """
    if outputs is None:
        return None
    known = output_columns(spec, explain=explain)
    unknown = [name for name in outputs if name not in known]
    if unknown or not outputs:
        problem = f"unknown output column(s) {', '.join(unknown)}" if unknown else "no output column chosen"
        raise InputError(f"{problem}: choose from {', '.join(known)}")
    return [name for name in known if name in outputs]


# ---------------------------------------------------------------------------------------------- small builders


def _lit(v: Any) -> exp.Expression:
    if isinstance(v, bool):
        return exp.true() if v else exp.false()
    return exp.convert(v)


def _null_bool() -> exp.Expression:
    return exp.cast(exp.null(), exp.DataType.Type.BOOLEAN)


def _case(cond: exp.Expression, then: exp.Expression, default: exp.Expression | None = None) -> exp.Case:
    case = exp.Case().when(cond, then)
    return case.else_(default) if default is not None else case


def _or(parts: Sequence[exp.Expression]) -> exp.Expression:
    return exp.or_(*parts, copy=False, wrap=True) if len(parts) > 1 else parts[0]


def _sum(terms: Sequence[exp.Expression]) -> exp.Expression:
    """``a + b + ...`` left to right; 0 for no terms."""
    if not terms:
        return exp.convert(0)
    total = terms[0]
    for t in terms[1:]:
        total = exp.Add(this=total, expression=t)
    return total


def _and(parts: Sequence[exp.Expression]) -> exp.Expression:
    return exp.and_(*parts, copy=False, wrap=True) if len(parts) > 1 else parts[0]


def _in(e: exp.Expression, values: Sequence[Any]) -> exp.Expression:
    if len(values) == 1:
        return exp.EQ(this=e, expression=_lit(values[0]))
    return exp.In(this=e, expressions=[_lit(v) for v in values])


def _norm(e: exp.Expression) -> exp.Expression:
    """Trim the ASCII whitespace semantics strips, then lower-case."""
    return exp.Lower(this=exp.Trim(this=e, expression=exp.Literal.string(WHITESPACE)))


def _regex(e: exp.Expression, pattern: str) -> exp.Expression:
    return exp.RegexpLike(this=e, expression=exp.Literal.string(pattern))


def _double(e: exp.Expression) -> exp.Expression:
    return exp.cast(e, exp.DataType.Type.DOUBLE)


def _date(d: dt.date) -> exp.Expression:
    return exp.cast(exp.Literal.string(d.isoformat()), exp.DataType.Type.DATE)


def _lambda(body: exp.Expression, var: str = _ITEM) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(var)])


def _guard(present: exp.Expression, known: exp.Expression) -> exp.Expression:
    """NULL (unknown) where the value is missing, else ``known`` read as FALSE where it is NULL."""
    return _case(present, exp.func("COALESCE", known, exp.false()))


def _split_items(items: Sequence[SpecItem]) -> tuple[list[str], list[float], list[bool]]:
    texts = list(dict.fromkeys(v for k, v in items if k == "text" and v))  # "" never matches a present value
    nums = list(dict.fromkeys(v for k, v in items if k == "number"))
    flags = list(dict.fromkeys(v for k, v in items if k == "bool"))
    return texts, nums, flags


# ---------------------------------------------------------------------------------------------- one field


class _Field:
    """A column read as each operator needs it, given its kind."""

    def __init__(self, compiler: _Compiler, name: str, kind: str) -> None:
        self.c = compiler
        self.name = name
        self.kind = kind
        self.col = compiler.column(name)

    # views of the value -------------------------------------------------------------------------------
    def text(self) -> exp.Expression:
        return self.c.helper(
            self.name, "t", lambda: exp.Nullif(this=_norm(self.col.copy()), expression=exp.Literal.string(""))
        )

    def lowered(self) -> exp.Expression:
        """The text trimmed and lower-cased, with ``''`` where it is blank: :meth:`text` without the NULLIF."""
        return self.c.helper(self.name, "s", lambda: _norm(self.col.copy()))

    def number(self) -> exp.Expression:
        """The value as a number (NaN as NULL); text read by the semantics' number pattern."""
        if self.kind == "float":
            if self.c.rules.nan == "is_nan":
                return self.c.helper(
                    self.name, "n", lambda: _case(exp.IsNan(this=self.col.copy()), exp.null(), self.col.copy())
                )
            return self.c.helper(
                self.name, "n", lambda: exp.Nullif(this=self.col.copy(), expression=_double(exp.Literal.string("NaN")))
            )
        if self.kind == "number":
            return self.col.copy()

        def lenient() -> exp.Expression:
            t = self.text()
            return _case(_regex(t, NUMBER_REGEX), _double(t.copy()))

        return self.c.helper(self.name, "n", lenient)

    def present(self) -> exp.Expression:
        if self.kind == "text":
            return exp.Not(this=exp.Is(this=self.text(), expression=exp.null()))
        if self.kind == "float":
            return exp.Not(this=exp.Is(this=self.number(), expression=exp.null()))
        return exp.Not(this=exp.Is(this=self.col.copy(), expression=exp.null()))

    def no_when_present(self) -> exp.Expression:
        return _case(self.present(), exp.false())

    # clauses -----------------------------------------------------------------------------------------
    def clause(self, op: Op, value: Any) -> exp.Expression:
        if self.kind == "null":
            return exp.false() if op == Op.EXISTS else _null_bool()
        if self.kind == "list":
            return self.c.lists.clause(self, op, value)
        if self.c.yes_only and self.kind == "text":
            quick = self.yes_only_text(op, value)
            if quick is not None:
                return quick
        if op == Op.EXISTS:
            return self.present()
        if op in (Op.EQUALS, Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_NONE):
            items = prepare_items([value] if op == Op.EQUALS else value)
            found = self.equals_any(items)
            return exp.Not(this=exp.paren(found)) if op in (Op.NOT_IN, Op.CONTAINS_NONE) else found
        if op == Op.CONTAINS_ALL:  # a scalar is a one-item list: every spec item must equal it
            return _and([exp.paren(self.equals_any([item])) for item in prepare_items(value)])
        if op in (Op.BETWEEN, Op.GTE, Op.LTE):
            lo, hi = value if op == Op.BETWEEN else (value, None) if op == Op.GTE else (None, value)
            return self.in_range(lo, hi)
        if op in (Op.IS_TRUE, Op.IS_FALSE):
            return self.flag(op == Op.IS_TRUE)
        if op == Op.WITHIN_DAYS:
            return self.within(self.c.window(value))
        raise UnsupportedOperatorError(f"operator '{op}' is not supported by the SQL compiler")

    def yes_only_text(self, op: Op, value: Any) -> exp.Expression | None:
        """A text clause that is TRUE exactly on a yes, where no and unknown may both read FALSE or NULL.

        Without explanations only a yes counts (no and unknown both add 0 points and never exclude), so the
        trimmed, lower-cased value is compared as it is: a blank value (``''``) equals no spec item, and
        ``not_in`` lists ``''`` among the values it rejects. That spares the ``NULLIF`` of :meth:`text`.
        Text compared with numbers or yes/no words keeps the exact rendering (None).
        """
        if op == Op.EXISTS:
            return exp.NEQ(this=self.lowered(), expression=exp.Literal.string(""))
        if op not in (Op.EQUALS, Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_NONE):
            return None
        texts, nums, flags = _split_items(prepare_items([value] if op == Op.EQUALS else value))
        if nums or flags or not texts:
            return None
        if op in (Op.NOT_IN, Op.CONTAINS_NONE):
            return exp.Not(this=exp.paren(_in(self.lowered(), [*texts, ""])))
        return _in(self.lowered(), texts)

    def equals_any(self, items: Sequence[SpecItem]) -> exp.Expression:
        """TRUE where the value equals a spec item, FALSE where present and not, NULL where missing."""
        texts, nums, flags = _split_items(items)
        if self.kind == "text":
            t = self.text()
            strict = [_in(t, texts)] if texts else []
            lenient = []
            if nums:
                lenient.append(_in(self.number(), nums))
            for want in flags:
                lenient.append(_in(self.text(), sorted(TRUE_WORDS if want else FALSE_WORDS)))
            if strict and not lenient:
                return strict[0]  # NULL exactly where missing: no guard needed
            return _guard(self.present(), _or([*strict, *lenient])) if strict or lenient else self.no_when_present()
        if self.kind in ("number", "float") and nums:
            return _in(self.number(), nums)
        if self.kind == "bool" and flags:
            if len(flags) == 1:
                return _in(self.col.copy(), flags)
            return _case(self.present(), exp.true())  # true and false: any flag is one, a missing flag unknown
        return self.no_when_present()

    def in_range(self, lo: float | None, hi: float | None) -> exp.Expression:
        if self.kind not in ("number", "float", "text"):
            return self.no_when_present()
        if self.kind == "float" and self.c.yes_only and self.c.rules.name == "duckdb":
            return self.yes_only_range(lo, hi)
        x = self.number()
        if lo is not None and hi is not None:
            test: exp.Expression = exp.Between(this=x, low=_lit(lo), high=_lit(hi))
        elif lo is not None:
            test = exp.GTE(this=x, expression=_lit(lo))
        else:
            test = exp.LTE(this=x, expression=_lit(hi))
        return _guard(self.present(), test) if self.kind == "text" else test

    def yes_only_range(self, lo: float | None, hi: float | None) -> exp.Expression:
        """A range on a DOUBLE column in DuckDB, TRUE exactly on a yes, read from the raw column (no ``NULLIF``).

        DuckDB orders NaN above every number, +infinity included, so a range with both ends is already FALSE on
        NaN, ``x <= hi`` too, and ``x >= lo`` becomes ``x BETWEEN lo AND +infinity``. Measured on 2M rows x 6
        such criteria: ~0.06 s CPU less than a ``NULLIF(x, 'NaN')`` view (~5% of score + tier).
        """
        x = self.col.copy()
        if lo is None:
            return exp.LTE(this=x, expression=_lit(hi))
        top = _lit(hi) if hi is not None else exp.cast(exp.Literal.string("Infinity"), exp.DataType.Type.DOUBLE)
        return exp.Between(this=x, low=_lit(lo), high=top)

    def flag(self, want: bool) -> exp.Expression:
        if self.kind == "bool":
            return self.col.copy() if want else exp.Not(this=self.col.copy())
        if self.kind == "text":
            return _guard(self.present(), _in(self.text(), sorted(TRUE_WORDS if want else FALSE_WORDS)))
        return self.no_when_present()

    def within(self, window: _Window) -> exp.Expression:
        if self.kind in ("date", "timestamp"):
            value = self.col.copy()
            zone = self.c.zones.get(self.name)
            if self.kind == "timestamp" and zone:  # the wall-clock day in the column's own zone
                value = exp.AtTimeZone(this=value, zone=exp.Literal.string(zone))
            if self.kind == "timestamp":
                value = exp.cast(value, exp.DataType.Type.DATE)
            return window.holds(value, window.first, window.last)
        if self.kind != "text":
            return self.no_when_present()
        day = exp.Substring(this=self.text(), start=exp.convert(1), length=exp.convert(10))
        in_window = exp.and_(_regex(day, DATE_REGEX), window.holds(day.copy(), window.first_text, window.last_text))
        return _guard(self.present(), _case(in_window, _valid_calendar_day(day), exp.false()))


class _Window:
    """The days ``within_days`` accepts: as dates and as ``YYYY-MM-DD`` text; no first day = every past date."""

    def __init__(
        self,
        first: exp.Expression | None,
        last: exp.Expression,
        first_text: exp.Expression | None,
        last_text: exp.Expression,
    ) -> None:
        self.first, self.last, self.first_text, self.last_text = first, last, first_text, last_text

    @staticmethod
    def holds(value: exp.Expression, low: exp.Expression | None, high: exp.Expression) -> exp.Expression:
        if low is None:
            return exp.LTE(this=value, expression=high.copy())
        return exp.Between(this=value, low=low.copy(), high=high.copy())

    @classmethod
    def pinned(cls, as_of: dt.date, days: int) -> _Window:
        first = dt.date.min if days >= (as_of - dt.date.min).days else as_of - dt.timedelta(days=days)
        return cls(
            _date(first), _date(as_of), exp.Literal.string(first.isoformat()), exp.Literal.string(as_of.isoformat())
        )

    @classmethod
    def today(cls, days: int) -> _Window:
        """Counted back from ``CURRENT_DATE`` when the query runs. A window reaching before year 1 on the day of
        compiling does so on every later day too: it has no first day (no date arithmetic that would overflow)."""
        last = exp.CurrentDate()
        if days >= (today() - dt.date.min).days:
            return cls(None, last, None, _iso_text(last))
        first = exp.cast(
            exp.DateSub(this=exp.CurrentDate(), expression=exp.Literal.number(days), unit=exp.var("DAY")),
            exp.DataType.Type.DATE,
        )
        return cls(first, last, _iso_text(first), _iso_text(last))


def _iso_text(day: exp.Expression) -> exp.Expression:
    return exp.TimeToStr(this=day.copy(), format=exp.Literal.string("%Y-%m-%d"))


def _valid_calendar_day(day: exp.Expression) -> exp.Expression:
    """Whether a ``YYYY-MM-DD`` string (digits already checked) names a real day: month 1-12, day within it."""

    def part(start: int, length: int) -> exp.Expression:
        sub = exp.Substring(this=day.copy(), start=exp.convert(start), length=exp.convert(length))
        return exp.cast(sub, exp.DataType.Type.INT)

    y, m, d = part(1, 4), part(6, 2), part(9, 2)

    def divisible(n: int) -> exp.Expression:
        return exp.EQ(this=exp.Mod(this=y.copy(), expression=exp.convert(n)), expression=exp.convert(0))

    leap = exp.or_(
        exp.and_(
            divisible(4), exp.NEQ(this=exp.Mod(this=y.copy(), expression=exp.convert(100)), expression=exp.convert(0))
        ),
        divisible(400),
    )
    days_in_month = (
        exp.Case()
        .when(exp.In(this=m.copy(), expressions=[exp.convert(v) for v in (4, 6, 9, 11)]), exp.convert(30))
        .when(exp.EQ(this=m.copy(), expression=exp.convert(2)), _case(leap, exp.convert(29), exp.convert(28)))
        .else_(exp.convert(31))
    )
    return exp.and_(
        exp.Between(this=m, low=exp.convert(1), high=exp.convert(12)),
        exp.Between(this=d, low=exp.convert(1), high=days_in_month),
    )


# ---------------------------------------------------------------------------------------------- list fields


class _Lists:
    """Multi-valued fields: a list value is a set of trimmed, lower-cased, non-empty text items."""

    def __init__(self, rules: DialectRules) -> None:
        self.rules = rules

    def clause(self, f: _Field, op: Op, value: Any) -> exp.Expression:
        if op == Op.EXISTS:
            return exp.func("COALESCE", self.any_item(f, self.item_present), exp.false())
        if op not in (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
            return _case(exp.Not(this=exp.Is(this=f.col.copy(), expression=exp.null())), exp.false())
        texts, nums, flags = _split_items(prepare_items(value))
        preds = [*(("text", t) for t in texts), *(("number", n) for n in nums), *(("bool", b) for b in flags)]
        if not preds:  # only empty spec items: nothing can match
            found: exp.Expression = _case(exp.Not(this=exp.Is(this=f.col.copy(), expression=exp.null())), exp.false())
            return exp.Not(this=exp.paren(found)) if op == Op.CONTAINS_NONE else found
        if op == Op.CONTAINS_ALL:
            return _and([exp.paren(self.has(f, [p])) for p in preds])
        found = self.has(f, preds)
        return exp.Not(this=exp.paren(found)) if op == Op.CONTAINS_NONE else found

    @staticmethod
    def item_present(e: exp.Expression) -> exp.Expression:
        return exp.NEQ(this=_norm(e), expression=exp.Literal.string(""))

    @staticmethod
    def item_equals(e: exp.Expression, preds: Sequence[tuple[str, Any]]) -> exp.Expression:
        ne = _norm(e)
        texts = [v for k, v in preds if k == "text"]
        parts = [_in(ne, texts)] if texts else []
        for kind, v in preds:
            if kind == "number":
                parts.append(
                    _case(
                        _regex(ne.copy(), NUMBER_REGEX),
                        exp.EQ(this=_double(ne.copy()), expression=_lit(v)),
                        exp.false(),
                    )
                )
            elif kind == "bool":
                parts.append(_in(ne.copy(), sorted(TRUE_WORDS if v else FALSE_WORDS)))
        return exp.func("COALESCE", _or(parts), exp.false())

    def has(self, f: _Field, preds: Sequence[tuple[str, Any]]) -> exp.Expression:
        """TRUE where the list has an item equal to one of ``preds``; NULL where the list is NULL."""
        if self.rules.list_any == "list_contains" and all(k == "text" for k, _ in preds):
            spellings = f.c.spellings(f.name)
            if spellings is not None:
                return self.has_spelling(f, [s for _, v in preds for s in spellings.get(v, ())])
            normalised = f.c.helper(
                f.name, "l", lambda: exp.Transform(this=f.col.copy(), expression=_lambda(_norm_item(exp.column(_ITEM))))
            )
            return _or([exp.ArrayContains(this=normalised.copy(), expression=_lit(v)) for _, v in preds])
        if self.rules.list_any == "delimited":
            return self.delimited_has(f, preds)
        return self.any_item(f, lambda e: self.item_equals(e, preds))

    @staticmethod
    def has_spelling(f: _Field, raw: Sequence[str]) -> exp.Expression:
        """The raw list tested for the items as the data spells them: no item is normalised per row.

        ``raw`` are the column's distinct items whose normalised form is a wanted value (see ``list_items`` of
        :func:`compile_expression`). Measured on 2M rows x 5 list criteria: trimming and lower-casing every item
        (a ``list_transform``) cost ~0.4 s CPU of a ~1.5 s run, nearly all of it ``LOWER``; reading the distinct items
        first costs ~0.09 s. Up to ``_OR_CHAIN`` spellings an OR of ``list_contains`` (~12 ns per row each), past
        that one ``list_has_any`` (~80 ns, whatever the count).
        """
        if not raw:
            return _case(exp.Not(this=exp.Is(this=f.col.copy(), expression=exp.null())), exp.false())
        if len(raw) > _OR_CHAIN:
            wanted = exp.Array(expressions=[exp.Literal.string(v) for v in raw])
            return exp.ArrayOverlaps(this=f.col.copy(), expression=wanted)
        return _or([exp.ArrayContains(this=f.col.copy(), expression=exp.Literal.string(v)) for v in raw])

    def any_item(self, f: _Field, pred: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
        x = f.col.copy()
        item = exp.column(_ITEM)
        how = self.rules.list_any
        if how == "delimited":
            if pred is self.item_present:
                return _regex_any(x, "[^; \t\n\r]")
            raise UnsupportedOperatorError("only text items can be tested in a ';'-joined multi-valued field")
        if how in ("list_contains", "filter_size"):
            kept = exp.ArrayFilter(this=x, expression=_lambda(pred(item)))
            if how == "list_contains":
                return exp.GT(this=exp.ArraySize(this=kept), expression=exp.convert(0))
            # the size of an empty list is NULL where it renders as ARRAY_LENGTH(list, 1) (PostgreSQL-like dialects)
            # and SIZE(NULL) is -1 in Hive-like ones: no item found is 0, a NULL list stays unknown
            size = exp.func("COALESCE", exp.ArraySize(this=kept), exp.convert(0))
            present = exp.Not(this=exp.Is(this=x.copy(), expression=exp.null()))
            return _case(present, exp.GT(this=size, expression=exp.convert(0)))
        if how == "exists_lambda":
            return exp.Anonymous(this="EXISTS", expressions=[x, _lambda(pred(item))])
        if how == "unnest":
            alias = exp.TableAlias(this=exp.to_identifier("_icp_u"), columns=[exp.to_identifier(_ITEM)])
            sub = exp.select(exp.convert(1)).from_(exp.Unnest(expressions=[x], alias=alias)).where(pred(item))
            found = exp.Exists(this=sub)
            if self.rules.null_list_is_empty:
                return found
            return _case(exp.Not(this=exp.Is(this=f.col.copy(), expression=exp.null())), found)
        raise UnsupportedOperatorError(f"no list rendering '{how}'")

    def delimited_has(self, f: _Field, preds: Sequence[tuple[str, Any]]) -> exp.Expression:
        if any(k != "text" for k, _ in preds):
            raise UnsupportedOperatorError(
                f"'{f.name}' is a ';'-joined list in {self.rules.name}: only text items can be tested, "
                "not numbers or booleans"
            )
        if any(";" in v for _, v in preds):
            raise UnsupportedOperatorError(f"an item containing ';' cannot be found in the ';'-joined '{f.name}'")
        ws = "[ \t\n\r]*"
        joined = exp.RegexpReplace(
            this=_norm(f.col.copy()), expression=exp.Literal.string(f"{ws};{ws}"), replacement=exp.Literal.string(";")
        )
        wrapped = exp.DPipe(
            this=exp.DPipe(this=exp.Literal.string(";"), expression=joined, safe=True),
            expression=exp.Literal.string(";"),
            safe=True,
        )
        hits = [
            exp.GT(
                this=exp.Anonymous(this="STRPOS", expressions=[wrapped.copy(), exp.Literal.string(f";{v};")]),
                expression=exp.convert(0),
            )
            for _, v in preds
        ]
        return _or(hits)


def _norm_item(e: exp.Expression) -> exp.Expression:
    """``_norm`` of a list item, trimming only items that can need it (DuckDB's ``list_contains`` rendering).

    ``TRIM`` with a character set is the costly part of normalising a list (measured on 2M rows: ~0.8 s CPU of a
    ~1.1 s ``list_transform``; with this guard the whole transform costs ~0.35 s). An item needs trimming only when
    its first or last character is one of ``" \t\n\r"``, all code points up to 32, so ``ORD(item) <= 32`` (first
    code point; -1 for the empty item) and ``ORD(item[-1]) <= 32`` (last code point) select every such item
    without a character-set scan of the others, whatever collation the session compares strings with.
    (``REVERSE`` is cheaper but reverses grapheme clusters, and a cluster can end with a space; ``item[-1]`` is the
    last code point, and measured on 2M rows costs ~0.04 s CPU where ``RIGHT(item, 1)`` cost ~0.2 s.) The result
    equals ``_norm`` for every item.
    """

    def code(x: exp.Expression) -> exp.Expression:
        return exp.LTE(this=exp.Anonymous(this="ORD", expressions=[x]), expression=exp.convert(32))

    edge = exp.or_(code(e.copy()), code(exp.Bracket(this=e.copy(), expressions=[exp.convert(-1)], offset=1)))
    trimmed = exp.Trim(this=e.copy(), expression=exp.Literal.string(WHITESPACE))
    return exp.Lower(this=_case(edge, trimmed, e.copy()))


def _regex_any(x: exp.Expression, pattern: str) -> exp.Expression:
    return exp.RegexpLike(this=x, expression=exp.Literal.string(pattern))


# ---------------------------------------------------------------------------------------------- the query


class _Compiler:
    def __init__(
        self,
        spec: ICPSpec,
        rules: DialectRules,
        as_of: dt.date | None,
        columns: Mapping[str, str] | None,
        zones: Mapping[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.rules = rules
        self.as_of = as_of  # the scoring date; None: CURRENT_DATE when the query runs (never the spec's as_of)
        self.zones = dict(zones or {})
        self.columns = {k: column_kind(v) for k, v in columns.items()} if columns is not None else None
        self.list_items: Mapping[str, Collection[str]] = {}
        self._spellings: dict[str, dict[str, list[str]]] = {}
        self.lists = _Lists(rules)
        self.fields: dict[str, _Field] = {}
        self.current = ""
        # Staged (columns known): each field view is computed once as a helper column, each outcome once, and the
        # final projection lists the input columns so helpers never reach the output.
        self.staged = self.columns is not None
        # Without explanations a clause need only be TRUE exactly on a yes (see _Field.yes_only_text).
        self.yes_only = False
        self.enum_labels = False
        self.helpers: dict[str, exp.Expression] = {}
        self._helper_names: dict[tuple[str, str], str] = {}

    def helper(self, field: str, view: str, build: Callable[[], exp.Expression]) -> exp.Expression:
        """A view of a field: inline, or (staged) a reference to a helper column defined once."""
        if not self.staged:
            return build()
        key = (field, view)
        if key not in self._helper_names:
            self.staged = False  # a definition reads raw columns only: helpers of one stage cannot see each other
            try:
                definition = build()
            finally:
                self.staged = True
            name = f"_icp_{view}{len(self._helper_names)}"
            self._helper_names[key] = name
            self.helpers[name] = definition
        return exp.column(self._helper_names[key], quoted=True)

    def spellings(self, name: str) -> dict[str, list[str]] | None:
        """Normalised item -> the distinct raw items of list column ``name`` that read as it (None: not known)."""
        if name not in self.list_items:
            return None
        if name not in self._spellings:
            found: dict[str, list[str]] = {}
            for raw in sorted(self.list_items[name]):
                found.setdefault(norm_text(raw), []).append(raw)
            self._spellings[name] = found
        return self._spellings[name]

    def identifier(self, name: str) -> exp.Identifier:
        quoted = self.rules.quote_all or not _SAFE_NAME.match(name) or name.upper() in _RESERVED
        return exp.to_identifier(name, quoted=quoted)

    def column(self, name: str) -> exp.Column:
        return exp.Column(this=self.identifier(name))

    def field(self, name: str, first_op: Op) -> _Field:
        if name not in self.fields:
            if self.columns is not None:
                kind = self.columns.get(name, "null")  # absent from the table: missing in every row
            else:
                kind = _CANONICAL.get(name) or _OP_KIND.get(first_op, "text")
            self.fields[name] = _Field(self, name, kind)
        return self.fields[name]

    def window(self, days: int) -> _Window:
        return _Window.today(days) if self.as_of is None else _Window.pinned(self.as_of, days)

    def outcome(self, clauses: Sequence[Clause], cid: str) -> exp.Expression:
        self.current = cid
        parts = []
        for cl in clauses:
            if cl.op in FLAG_OPS and cl.value is not True:
                raise SpecError(f"'{cl.op}' takes the value true", field=cid)
            parts.append(exp.paren(self.field(cl.field, cl.op).clause(cl.op, cl.value)))
        return _and(parts) if len(parts) > 1 else parts[0].this

    def ids(self, pairs: Sequence[tuple[str, exp.Expression]], mask: exp.Expression | None = None) -> exp.Expression:
        """The ids whose condition holds, in order, in the dialect's explanation form."""
        how = self.rules.ids
        if how == "delimited":
            if not pairs:
                return exp.Literal.string("")
            pieces = [_case(cond, exp.Literal.string(f"{i};"), exp.Literal.string("")) for i, cond in pairs]
            joined = pieces[0]
            for p in pieces[1:]:
                joined = exp.DPipe(this=joined, expression=p, safe=True)
            return exp.Trim(this=joined, expression=exp.Literal.string(";"), position="TRAILING")
        if how == "mask_lookup" and 0 < len(pairs) <= _MAX_MASK_IDS:
            return _mask_lookup(pairs, mask)
        items: list[exp.Expression] = [_case(cond, exp.Literal.string(i)) for i, cond in pairs]
        if not items:
            items = [exp.cast(exp.null(), exp.DataType.Type.TEXT)]
        if how == "construct_compact":
            return exp.Anonymous(this="ARRAY_CONSTRUCT_COMPACT", expressions=items)
        if how == "array_compact":
            return exp.Anonymous(this="ARRAY_COMPACT", expressions=[exp.Array(expressions=items)])
        if how == "array_remove":
            return exp.Anonymous(this="ARRAY_REMOVE", expressions=[exp.Array(expressions=items), exp.null()])
        keep = exp.Not(this=exp.Is(this=exp.column("_icp_id"), expression=exp.null()))
        return exp.ArrayFilter(this=exp.Array(expressions=items), expression=_lambda(keep, "_icp_id"))

    @staticmethod
    def explanation_pairs(
        crit: Sequence[tuple[str, str, Any, exp.Expression]], excl: Sequence[tuple[str, exp.Expression]]
    ) -> dict[str, list[tuple[str, exp.Expression]]]:
        """(id, condition) for each explanation column, in id order."""
        unknown = [(cid, exp.Is(this=exp.paren(o.copy()), expression=exp.null())) for cid, _, _, o in crit]
        unknown += [(eid, exp.Is(this=exp.paren(o.copy()), expression=exp.null())) for eid, o in excl]
        return {
            "matched": [(cid, o.copy()) for cid, _, _, o in crit],
            "unknown": unknown,
            "exclusions_hit": [(eid, o.copy()) for eid, o in excl],
        }

    def build(
        self, table: str | exp.Expression, explain: bool, select: str | Sequence[str], masks: bool = False
    ) -> exp.Select:
        spec = self.spec
        self.yes_only = not explain
        crit = [(cid, layer, c, self.outcome(c.clauses(), cid)) for cid, layer, c in criterion_ids(spec)]
        excl = [(eid, self.outcome([e], eid)) for eid, e in exclusion_ids(spec)]
        source: exp.Expression = table if isinstance(table, exp.Expression) else _table(table, self)

        if self.staged:
            # stage 1: field views; stage 2: one outcome column per criterion and exclusion, which the explanation
            # reads again. Without explanations each outcome is read once, by its points (measured on 2M rows: ~8%
            # less CPU with the outcomes inline than as a stage of their own).
            stage1 = exp.select(exp.Star(), *(exp.alias_(d, n, quoted=True) for n, d in self.helpers.items()))
            stage1 = stage1.from_(source)
            if explain:
                outcome_cols = [exp.alias_(o, f"_icp_c{j}", quoted=True) for j, (*_, o) in enumerate(crit)]
                outcome_cols += [exp.alias_(o, f"_icp_e{j}", quoted=True) for j, (_, o) in enumerate(excl)]
                source = exp.select(exp.Star(), *outcome_cols).from_(stage1.subquery("_icp_s1"))
                crit = [(cid, lay, c, exp.column(f"_icp_c{j}", quoted=True)) for j, (cid, lay, c, _) in enumerate(crit)]
                excl = [(eid, exp.column(f"_icp_e{j}", quoted=True)) for j, (eid, _) in enumerate(excl)]
            else:
                source = exp.select(exp.Star()).from_(stage1.subquery("_icp_s1"))

        def points_of(rows: Sequence[tuple[str, str, Any, exp.Expression]]) -> exp.Expression:
            return _sum([_case(o.copy(), exp.convert(c.points), exp.convert(0)) for _, _, c, o in rows if c.points])

        def clamped(raw: exp.Expression) -> exp.Expression:
            max_points = sum(c.points for _, _, c, _ in crit)
            return exp.func("LEAST", raw, exp.convert(100)) if max_points > 100 else raw

        totals = layer_totals(spec)
        layer_points = {layer: points_of([row for row in crit if row[1] == layer]) for layer in totals}
        score: exp.Expression = clamped(points_of(crit))
        # read only as a CASE condition, where NULL (unknown) is not taken, just as FALSE
        excluded = _or([exp.paren(o.copy()) for _, o in excl]) if excl else None
        if explain and masks and not masks_fit(spec):
            raise UnsupportedOperatorError(
                f"explanations as bitmasks hold at most {_MAX_MASK_IDS} ids per column: write them as lists"
            )
        mask_columns: dict[str, exp.Expression] = {}
        if self.staged:
            # stage 3: each layer's points once (the score is their sum: every criterion with points is in a layer
            # with a total), the exclusion flag and the explanation masks; stage 4: the score, read by tier and route
            extra = [exp.alias_(got, f"_icp_p{j}", quoted=True) for j, got in enumerate(layer_points.values())]
            layer_points = {layer: exp.column(f"_icp_p{j}", quoted=True) for j, layer in enumerate(layer_points)}
            if explain and (masks or self.rules.ids == "mask_lookup"):
                for name, pairs in self.explanation_pairs(crit, excl).items():
                    if 0 < len(pairs) <= _MAX_MASK_IDS:
                        extra.append(exp.alias_(_mask(pairs), f"_icp_{name}", quoted=True))
                        mask_columns[name] = exp.column(f"_icp_{name}", quoted=True)
            if excluded is not None:
                extra.append(exp.alias_(excluded, "_icp_x", quoted=True))
                excluded = exp.column("_icp_x", quoted=True)
            stage3 = exp.select(exp.Star(), *extra).from_(source.subquery("_icp_s2"))
            total = _sum([got.copy() for got in layer_points.values()])
            if "matched" in mask_columns and len(crit) <= _MAX_MASK_IDS:
                total = _points_from_mask([c.points for _, _, c, _ in crit], mask_columns["matched"])
            stage4 = exp.select(exp.Star(), exp.alias_(clamped(total), "_icp_score", quoted=True))
            source = stage4.from_(stage3.subquery("_icp_s3")).subquery("_icp_s4")
            score = exp.column("_icp_score", quoted=True)

        def by_tier(values: Mapping[str, exp.Expression]) -> exp.Case:
            case = exp.Case()
            if excluded is not None:
                case = case.when(excluded.copy(), values["excluded"])
            t = spec.tiers
            for name, minimum in (("tier1", t.tier1), ("tier2", t.tier2), ("tier3", t.tier3)):
                case = case.when(exp.GTE(this=exp.paren(score.copy()), expression=exp.convert(minimum)), values[name])
            return case.else_(values["none"])

        routes = {n: getattr(spec.routing, n) for n in TIER_NAMES}
        outputs: list[exp.Expression] = [
            exp.alias_(exp.paren(score.copy()) if isinstance(score, exp.Add) else score, self.identifier("score")),
            exp.alias_(by_tier(_labels({n: n for n in TIER_NAMES}, self.enum_labels)), self.identifier("tier")),
            exp.alias_(by_tier(_labels(routes, self.enum_labels and not spec.routing_rules)), self.identifier("route")),
        ]
        for layer, points in totals.items():
            ratio = exp.Div(this=_double(layer_points[layer].copy()), expression=exp.convert(float(points)))
            outputs.append(exp.alias_(ratio, self.identifier(f"layer_{layer}")))
        if explain:
            for name, pairs in self.explanation_pairs(crit, excl).items():
                if not masks:
                    ids = self.ids(pairs, mask_columns.get(name))
                elif not pairs:
                    ids = exp.cast(exp.convert(0), exp.DataType.Type.INT)
                else:
                    ids = mask_columns[name] if name in mask_columns else _mask(pairs)
                outputs.append(exp.alias_(ids, self.identifier(name)))

        replaced = {*output_columns(spec, explain=True), *(f"layer_{layer}" for layer in LAYERS)}
        if isinstance(select, str) and select == "*":
            if self.columns is None:
                keep: list[exp.Expression] = [exp.Star()]
            else:
                keep = [self.column(c) for c in self.columns if c not in replaced]
        else:
            names = [select] if isinstance(select, str) else list(select)
            keep = [self.column(c) for c in names]
        return exp.select(*keep, *outputs).from_(source)


_MAX_MASK_IDS = 62
_INT_MASK_IDS = 31
_CHUNK = 6
_OR_CHAIN = 6


def _labels(names: Mapping[str, str], enum: bool) -> dict[str, exp.Expression]:
    """Tier or route names as text literals, or (``enum``) as constants of a DuckDB ENUM of those names.

    Measured on 2M rows written to Parquet: a text tier costs ~0.15 s CPU (the writer hashes every string into
    its dictionary), an ENUM ~0.04 s (its codes are the dictionary). Parquet stores it as plain text either way.
    """
    if not enum:
        return {k: exp.Literal.string(v) for k, v in names.items()}
    kind = exp.DataType(
        this=exp.DataType.Type.ENUM, expressions=[exp.Literal.string(v) for v in dict.fromkeys(names.values())]
    )
    return {k: exp.cast(exp.Literal.string(v), kind) for k, v in names.items()}


def mask_type(ids: int) -> str:
    """The integer type of a bitmask of ``ids`` bits: INTEGER up to 31, else BIGINT (up to 62).

    Measured on 2M rows x 20 criteria: three INTEGER masks cost ~0.12 s CPU less than BIGINT ones to build and
    write (~7% of a run with explanations).
    """
    return "INTEGER" if ids <= _INT_MASK_IDS else "BIGINT"


def _mask(pairs: Sequence[tuple[str, exp.Expression]]) -> exp.Expression:
    """One integer with bit ``i`` set where the ``i``-th condition holds (INTEGER or BIGINT: :func:`mask_type`)."""
    wide = mask_type(len(pairs)) == "BIGINT"
    terms = []
    for bit, (_, cond) in enumerate(pairs):
        value = exp.cast(exp.convert(1 << bit), exp.DataType.Type.BIGINT) if wide else exp.convert(1 << bit)
        terms.append(_case(cond, value, exp.convert(0)))
    assert terms
    return _sum(terms)


def _points_from_mask(points: Sequence[int], mask: exp.Expression) -> exp.Expression:
    """The points of the criteria whose bits are set, read 8 bits at a time from constant tables of sums.

    With explanations the ``matched`` bitmask is built anyway; measured on 2M rows x 20 criteria, three table
    lookups cost ~0.1 s CPU less than a ``CASE`` per criterion (the layer scores keep theirs, computed only when
    written).
    """
    parts: list[exp.Expression] = []
    for start in range(0, len(points), _POINTS_CHUNK):
        chunk = points[start : start + _POINTS_CHUNK]
        if not any(chunk):
            continue
        sums = [sum(p for b, p in enumerate(chunk) if n >> b & 1) for n in range(1 << len(chunk))]
        bits = exp.BitwiseAnd(
            this=exp.paren(exp.BitwiseRightShift(this=mask.copy(), expression=exp.convert(start))),
            expression=exp.convert((1 << len(chunk)) - 1),
        )
        index = exp.Add(this=exp.paren(bits), expression=exp.convert(1))
        table = exp.Array(expressions=[exp.convert(v) for v in sums])
        parts.append(exp.Anonymous(this="LIST_EXTRACT", expressions=[table, index]))
    return _sum(parts)


_POINTS_CHUNK = 8


def _mask_lookup(pairs: Sequence[tuple[str, exp.Expression]], mask: exp.Expression | None = None) -> exp.Expression:
    """The ids as a bitmask decoded through constant tables of 2**6 id lists per 6 bits (DuckDB).

    Measured on 10M rows x 22 ids: building a list of 22 CASEs and filtering out the NULLs costs ~3x the scoring
    itself; one integer and a few constant-list lookups per row cost a fraction of that.
    """
    mask = mask if mask is not None else _mask(pairs)
    ids = [i for i, _ in pairs]
    parts = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        table = exp.Array(
            expressions=[
                exp.cast(
                    exp.Array(expressions=[exp.Literal.string(i) for b, i in enumerate(chunk) if n >> b & 1]),
                    "VARCHAR[]",
                    dialect="duckdb",
                )
                for n in range(1 << len(chunk))
            ]
        )
        index = exp.Add(
            this=exp.paren(
                exp.BitwiseAnd(
                    this=exp.paren(exp.BitwiseRightShift(this=exp.paren(mask.copy()), expression=exp.convert(start))),
                    expression=exp.convert((1 << len(chunk)) - 1),
                )
            ),
            expression=exp.convert(1),
        )
        parts.append(exp.Anonymous(this="LIST_EXTRACT", expressions=[table, index]))
    out = parts[0]
    for p in parts[1:]:
        out = exp.Anonymous(this="LIST_CONCAT", expressions=[out, p])
    return out


_RESERVED = frozenset(
    [
        "ALL",
        "ALTER",
        "AND",
        "ANY",
        "AS",
        "ASC",
        "BETWEEN",
        "BY",
        "CASE",
        "CAST",
        "CHECK",
        "COLUMN",
        "CONSTRAINT",
        "CREATE",
        "CROSS",
        "CURRENT",
        "DEFAULT",
        "DELETE",
        "DESC",
        "DISTINCT",
        "DROP",
        "ELSE",
        "END",
        "EXCEPT",
        "EXISTS",
        "FALSE",
        "FETCH",
        "FOR",
        "FROM",
        "FULL",
        "GRANT",
        "GROUP",
        "HAVING",
        "IN",
        "INNER",
        "INSERT",
        "INTERSECT",
        "INTO",
        "IS",
        "JOIN",
        "LATERAL",
        "LEFT",
        "LIKE",
        "LIMIT",
        "NATURAL",
        "NOT",
        "NULL",
        "OF",
        "ON",
        "OR",
        "ORDER",
        "OUTER",
        "QUALIFY",
        "REVOKE",
        "RIGHT",
        "ROW",
        "ROWS",
        "SAMPLE",
        "SELECT",
        "SET",
        "SOME",
        "START",
        "TABLE",
        "TABLESAMPLE",
        "THEN",
        "TO",
        "TRIGGER",
        "TRUE",
        "TRY_CAST",
        "UNION",
        "UNIQUE",
        "UPDATE",
        "USING",
        "VALUES",
        "VIEW",
        "WHEN",
        "WHENEVER",
        "WHERE",
        "WITH",
    ]
)


def _table(name: str, compiler: _Compiler) -> exp.Table:
    """A possibly qualified table name (``db.schema.table``), each part quoted as an identifier."""
    parts = [p for p in name.split(".")]
    if not parts or any(not p for p in parts) or len(parts) > 3:
        raise UnsupportedOperatorError(f"not a table name: {name!r}")
    ids = [compiler.identifier(p) for p in parts]
    while len(ids) < 3:
        ids.insert(0, None)  # type: ignore[arg-type]
    catalog, db, this = ids
    return exp.Table(this=this, db=db, catalog=catalog)


def compile_expression(
    spec: ICPSpec,
    *,
    dialect: str = "duckdb",
    table: str | exp.Expression = "accounts",
    as_of: dt.date | None = None,
    explain: bool = True,
    columns: Mapping[str, str] | None = None,
    select: str | Sequence[str] = "*",
    masks: bool = False,
    outputs: Sequence[str] | None = None,
    enum_labels: bool = False,
    list_items: Mapping[str, Collection[str]] | None = None,
    zones: Mapping[str, str] | None = None,
) -> exp.Select:
    """The scoring query as a SQLGlot expression, for callers that wrap it (a view, a dbt model, a COPY).

    ``masks`` writes each explanation column as an integer bitmask (bit ``i`` = the ``i``-th id of
    :func:`explanation_ids`) instead of a list of ids: measured on 10M rows, building and writing three lists of ids
    costs more than scoring itself, a bitmask about a third of it. :func:`decode_masks_sql` reads them back.
    ``outputs`` keeps only those scoring columns (:func:`check_outputs`); ``enum_labels`` (DuckDB) gives tier and
    route as ENUM constants, which Parquet writes as text at a fraction of the cost.
    ``list_items`` (DuckDB) names, per multi-valued ``VARCHAR[]`` column, every distinct item the table holds (as
    read from the data, e.g. by :func:`icpkit.score.duckdb_engine.list_items`): a list criterion then tests the raw
    list for the spellings that normalise to its values instead of normalising every item of every row. An item
    missing from it would go unmatched, so pass it only for the exact table scored.
    ``as_of`` pins the scoring date; without it ``within_days`` reads ``CURRENT_DATE``. ``zones`` names the time
    zone of ``TIMESTAMP WITH TIME ZONE`` columns whose days count in that zone (else the session's).

    A multi-segment spec compiles to the composed query of ``score.segments`` (every input column, lists of ids).
    """
    if spec.segments is not None:
        if masks or select != "*":
            raise SpecError("a multi-segment spec is scored with every input column and lists of ids (no masks)")
        from icpkit.score.segments import compile_segments_expression

        query = compile_segments_expression(
            spec, dialect=dialect, table=table, as_of=as_of, explain=explain, columns=columns, zones=zones
        )
    else:
        if enum_labels and rules_for(dialect).name != "duckdb":
            raise UnsupportedOperatorError(f"tier and route as ENUMs are DuckDB's, not {dialect}'s")
        compiler = _Compiler(spec, rules_for(dialect), as_of, columns, zones)
        compiler.enum_labels = enum_labels
        if list_items:
            if rules_for(dialect).list_any != "list_contains":
                raise UnsupportedOperatorError(f"list items known in advance are DuckDB's rendering, not {dialect}'s")
            known = compiler.columns
            compiler.list_items = {k: v for k, v in list_items.items() if known is None or k in known}
        query = compiler.build(table, explain, select, masks)
    query = attach_personas(query, spec, dialect=dialect, columns=columns, reserved=_RESERVED)
    wanted = check_outputs(spec, outputs, explain=explain)
    if wanted is not None:  # unused columns are pruned by the engine: nothing is computed for them
        left_out = set(output_columns(spec, explain=explain)) - set(wanted)
        query.set("expressions", [e for e in query.expressions if e.alias_or_name not in left_out])
    return query


def _simple_case_lower(node: exp.Expression) -> exp.Expression:
    """``LOWER(x)`` as ``LOWER(TRANSLATE(x, 'İΣ', 'iσ'))``: one code point at a time, like the reference."""
    if not isinstance(node, exp.Lower):
        return node
    chars = exp.Literal.string("\u0130\u03a3"), exp.Literal.string("i\u03c3")
    return exp.Lower(this=exp.Anonymous(this="TRANSLATE", expressions=[node.this, *chars]))


def _fence(node: exp.Expression) -> exp.Expression:
    """A subquery as ``… OFFSET 0``, which PostgreSQL plans as a step of its own (see ``icpkit.score.dialects``)."""
    select = node.this if isinstance(node, exp.Subquery) else None
    if isinstance(select, exp.Select) and not select.args.get("limit") and not select.args.get("offset"):
        select.set("offset", exp.Offset(expression=exp.Literal.number(0)))
    return node


def _escape_string(node: exp.Expression) -> exp.Expression:
    """A text literal with a backslash as PostgreSQL's E'…' (backslash and quote doubled): the same string
    whatever ``standard_conforming_strings`` says, so a value cannot end the literal on a legacy server."""
    if isinstance(node, exp.Literal) and node.is_string and "\\" in node.this:
        return exp.Var(this="E'" + node.this.replace("\\", "\\\\").replace("'", "''") + "'")
    return node


def render(expression: exp.Expression, dialect: str, *, pretty: bool = False) -> str:
    """SQL text for ``dialect``; a construct the dialect lacks raises ``UnsupportedOperatorError``."""
    rules = rules_for(dialect)
    if rules.full_case_lower:
        expression = expression.transform(_simple_case_lower)
    if rules.fence_subqueries:
        expression = expression.transform(_fence)
    if rules.escape_strings:
        expression = expression.transform(_escape_string)
    try:
        return expression.sql(dialect=rules.name, unsupported_level=ErrorLevel.RAISE, pretty=pretty)
    except SqlglotError as exc:
        raise UnsupportedOperatorError(f"{rules.name} cannot express part of this spec: {exc}") from exc


def compile_sql(
    spec: ICPSpec,
    *,
    dialect: str = "duckdb",
    table: str | exp.Expression = "accounts",
    as_of: dt.date | None = None,
    explain: bool = True,
    columns: Mapping[str, str] | None = None,
    select: str | Sequence[str] = "*",
    pretty: bool = False,
    masks: bool = False,
    list_items: Mapping[str, Collection[str]] | None = None,
    zones: Mapping[str, str] | None = None,
) -> str:
    """The scoring query for ``dialect``: every selected input column plus score, tier, route, layers, explanation.

    ``columns`` (name -> type) compiles each clause for the column's real type and lists the input columns
    explicitly (replacing output columns a table scored before already has); without it ``SELECT *`` is used.
    ``masks`` writes the explanation columns as integer bitmasks and ``list_items`` tests lists for the spellings the
    data holds, ``as_of`` pins the scoring date (else ``CURRENT_DATE``) and ``zones`` the days of zoned timestamps
    (see :func:`compile_expression`).
    """
    expression = compile_expression(
        spec,
        dialect=dialect,
        table=table,
        as_of=as_of,
        explain=explain,
        columns=columns,
        select=select,
        masks=masks,
        list_items=list_items,
        zones=zones,
    )
    return render(expression, dialect, pretty=pretty)
