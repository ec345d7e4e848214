"""The SQL that parses each column kind: DuckDB expressions built per column, layered so each step runs once.

Kept apart from ``coerce`` (which decides what runs where and reports problems) so the spelling rules — which
currency strings, bands, date orders and list separators are understood — read in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import pyarrow as pa

from icpkit.errors import Problem
from icpkit.ingest.schema import ColumnKind

__all__ = ["FALSE_TOKENS", "NULL_TOKENS", "TRUE_TOKENS", "CoerceSpec"]


NULL_TOKENS = ("", "n/a", "#n/a", "null", "none", "nan", "-", "--")
TRUE_TOKENS = ("yes", "y", "true", "t", "1", "1.0", "on", "checked", "x", "✓")
FALSE_TOKENS = ("no", "n", "false", "f", "0", "0.0", "off", "unchecked")

_CUR = r"(?:us\$|a\$|c\$|r\$|[$€£¥₹]|usd|eur|gbp|cad|aud|chf|jpy|inr|brl|sek|nok|dkk|mxn|sgd|nzd|zar)"
_SUFFIX = r"k|thousands?|mm|mn|mio|mil|millions?|m|bn|bln|billions?|mrd|b|tn|trillions?"
_NUM_RE = rf"^([-+]?)(\(?)([-+]?){_CUR}?([-+]?)(\d[\d.,']*|[.,]\d+)({_SUFFIX})?(%)?{_CUR}?(\)?)$"
_NUM_FIELDS = ["s1", "po", "s2", "s3", "num", "suf", "pct", "pc"]
# "51-200", "1k to 5k" (closed: pre and plus empty, hi set) or "10,001+", ">500", "over 1000" (open)
_BAND_RE = r"^(>=?|over|morethan|above)?([^\-–—+]*?\d[^\-–—+]*?)(?:(?:-|–|—|to)([^\-–—+]*\d[^\-–—+]*)|(\+))?$"
_US_AMOUNT_RE = r"[$€£¥₹]?\s?\d{1,3}(?:,\d{3})+(?:\.\d+)?"
_EURO_RE = r"\d\.\d{3},\d|^[^.]*\d,\d{1,2}(?:\D|$)"
_US_RE = r"\d,\d{3}\.\d|\d\.\d{1,2}(?:\D|$)|\d\.\d{4,}"
_DMY_RE = r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:[ tT].*)?$"
# periods, read as their first day: "2012-06" / "2012/6" (a month), "2012-Q2" / "2012 q2" / "Q2 2012" (a quarter)
_MONTH_RE = r"^(\d{4})[/\-](\d{1,2})$"
_QUARTER_RE = r"^(?:(\d{4})\s*[/\-]?\s*q([1-4])|q([1-4])\s*[/\-]?\s*(\d{4}))$"
_FORMULA_RE = r"^[=+\-@]\s*[a-z_][a-z0-9_.]*\s*[(|!]"
_MONTH_FORMATS = ["%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y", "%d %b %Y", "%d %B %Y", "%d-%b-%Y",
                  "%d-%b-%y", "%Y/%m/%d", "%b %Y", "%B %Y"]  # fmt: skip
_MULTIPLIERS = {
    1e3: ("k", "thousand", "thousands"),
    1e6: ("m", "mm", "mn", "mio", "mil", "million", "millions"),
    1e9: ("b", "bn", "bln", "billion", "billions", "mrd"),
    1e12: ("tn", "trillion", "trillions"),
}


@dataclass(frozen=True)
class CoerceSpec:
    """How to type one column; a bare ``ColumnKind`` in a plan means ``CoerceSpec(kind)``.

    ``decimal`` / ``date_order`` / ``separator`` left as None are decided from the column's values.
    ``split`` names the columns a ``"city, region, country"`` value is split into, right-aligned (the last part
    is the country). ``bands`` None keeps ``<target>_band`` only when the column holds bands.
    """

    kind: ColumnKind
    target: str | None = None
    scale: float = 1.0
    percent: bool = False
    decimal: Literal[".", ","] | None = None
    date_order: Literal["mdy", "dmy"] | None = None
    separator: str | None = None
    bands: bool | None = None
    split: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------------- sql


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def _in(expr: str, tokens: Iterable[str]) -> str:
    return f"{expr} IN ({', '.join(_lit(t) for t in tokens)})"


def _is_text(typ: pa.DataType) -> bool:
    return pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_string_view(typ)


class _Query:
    """Layers of ``SELECT *, helpers FROM (...)`` so each parse step is named once and computed once."""

    def __init__(self) -> None:
        self.layers: list[list[str]] = [[] for _ in range(7)]
        self.outputs: list[str] = []
        self.flags: list[str] = []
        self._n = 0

    def helper(self, layer: int, expr: str) -> str:
        self._n += 1
        name = f"__icph{self._n}"
        self.layers[layer].append(f"{expr} AS {name}")
        return name

    def sql(self, source: str) -> str:
        sql = f"SELECT * FROM {source}"
        for layer in self.layers:
            if layer:
                sql = f"SELECT *, {', '.join(layer)} FROM ({sql})"
        return f"SELECT {', '.join(self.outputs + self.flags)} FROM ({sql})"


_WS = "' \t\r\n\u00a0'"


def _clean_text(ref: str, trimmed_already: bool = False) -> str:
    """Trimmed text with null tokens as NULL; the costly trim and lower run only on the few cells that need them."""
    v = f"CAST({ref} AS VARCHAR)"
    longest = max(len(t.encode()) for t in NULL_TOKENS)
    if trimmed_already:
        return f"CASE WHEN strlen({v}) <= {longest} AND {_in(f'lower({v})', NULL_TOKENS)} THEN NULL ELSE {v} END"
    trimmed = f"trim({v}, {_WS})"
    ragged = " OR ".join(
        [f"prefix({v}, {_lit(ch)}) OR suffix({v}, {_lit(ch)})" for ch in (" ", "\t")]
        + [f"contains({v}, {_lit(ch)})" for ch in ("\n", "\r", "\u00a0")]
    )
    return (
        f"CASE WHEN {v} IS NULL THEN NULL "
        f"WHEN strlen({v}) <= {longest} AND {_in(f'lower({v})', NULL_TOKENS)} THEN NULL "
        f"WHEN {ragged} THEN (CASE WHEN {_in(f'lower({trimmed})', NULL_TOKENS)} THEN NULL ELSE {trimmed} END) "
        f"ELSE {v} END"
    )


def _number(st: str, euro: bool) -> str:
    """DOUBLE from a struct extracted with ``_NUM_RE`` (NULL when it did not match)."""
    num = f"{st}.num"
    if euro:
        digits = f"replace(replace(replace({num}, '''', ''), '.', ''), ',', '.')"
    else:
        digits = (
            f"CASE WHEN NOT contains({num}, ',') AND NOT contains({num}, '.') THEN replace({num}, '''', '') "
            f"WHEN regexp_full_match({num}, '\\d+,\\d{{1,2}}') THEN replace({num}, ',', '.') "
            f"WHEN regexp_full_match({num}, '\\d{{1,3}}(\\.\\d{{3}}){{2,}}') THEN replace({num}, '.', '') "
            f"ELSE replace(replace({num}, ',', ''), '''', '') END"
        )
    mult = " ".join(f"WHEN {_in(f'{st}.suf', words)} THEN {factor!r}" for factor, words in _MULTIPLIERS.items())
    sign = f"CASE WHEN '-' IN ({st}.s1, {st}.s2, {st}.s3) OR {st}.po = '(' THEN -1.0 ELSE 1.0 END"
    return (
        f"CASE WHEN {num} = '' OR ({st}.po = '(') <> ({st}.pc = ')') THEN NULL "
        f"ELSE try_cast({digits} AS DOUBLE) * (CASE {mult} ELSE 1.0 END) * {sign} END"
    )


# ---------------------------------------------------------------------------------------------------- stats


@dataclass
class _Column:
    source: str
    spec: CoerceSpec
    target: str
    text: bool
    index: int
    typ: pa.DataType
    trimmed: bool = False  # text already trimmed with blanks as null (a RawTable from read_raw)
    decided: dict[str, object] = field(default_factory=dict)


def _stats(con: duckdb.DuckDBPyConnection, cols: list[_Column]) -> None:
    """One aggregate over the columns whose reading depends on their values (decimal comma, date order, lists)."""
    aggs: list[tuple[_Column, str, str]] = []
    for c in cols:
        if not c.text:
            continue
        ref = _q(c.source)
        if c.spec.kind == ColumnKind.NUMERIC and c.spec.decimal is None:
            # only cells that are not plain numbers can tell a decimal comma from a thousands separator
            odd = f"contains({ref}, ',') OR regexp_matches({ref}, '\\.\\d{{3}}(?:\\D|$)')"
            aggs.append((c, "euro", f"count_if(CASE WHEN {odd} THEN regexp_matches({ref}, {_lit(_EURO_RE)}) END)"))
            # every US-only form has a '.': the regex runs on those cells alone
            us = f"contains({ref}, '.') AND regexp_matches({ref}, {_lit(_US_RE)})"
            aggs.append((c, "us", f"count_if(CASE WHEN contains({ref}, '.') THEN {us} END)"))
        elif c.spec.kind == ColumnKind.DATE and c.spec.date_order is None:
            shaped = f"substr(trim({ref}), 5, 1) <> '-'"  # ISO dates cannot tell day from month order
            for key, group in (("max_a", 1), ("max_b", 2)):
                part = f"regexp_extract(trim({ref}), {_lit(_DMY_RE)}, {group})"
                aggs.append((c, key, f"max(CASE WHEN {shaped} THEN try_cast({part} AS INTEGER) END)"))
            aggs.append((c, "dots", f"count_if(regexp_matches(trim({ref}), '^\\d{{1,2}}\\.\\d{{1,2}}\\.'))"))
        elif c.spec.kind == ColumnKind.MULTI and c.spec.separator is None:
            aggs.append((c, "semi", f"count_if(contains({ref}, ';'))"))
            aggs.append((c, "pipe", f"count_if(contains({ref}, '|'))"))
    if not aggs:
        return
    row = con.sql(f"SELECT {', '.join(expr for _, _, expr in aggs)} FROM __src").fetchall()[0]
    for (c, key, _), value in zip(aggs, row, strict=True):
        c.decided[key] = value


# ---------------------------------------------------------------------------------------------------- kinds


def _plan_numeric(q: _Query, c: _Column) -> None:
    ref = _q(c.source)
    if not c.text:
        q.outputs.append(f"CAST({ref} AS DOUBLE) * {float(c.spec.scale)!r} AS {_q(c.target)}")
        return
    euro = c.spec.decimal == "," or (c.spec.decimal is None and bool(c.decided.get("euro")) and not c.decided.get("us"))
    t = q.helper(0, _clean_text(ref, c.trimmed))
    # Fast path: most cells are plain numbers; only the rest go through the currency / band / suffix regexes.
    plain = f"try_cast({t} AS DOUBLE)"
    if euro:
        plain = f"CASE WHEN NOT contains({t}, '.') AND NOT contains({t}, ',') THEN {plain} END"
    else:  # "$1,200,000": a currency sign and thousands commas, the most common non-plain amount
        plain = (
            f"coalesce({plain}, CASE WHEN regexp_full_match({t}, {_lit(_US_AMOUNT_RE)}) "
            f"THEN try_cast(replace(ltrim({t}, '$€£¥₹ '), ',', '') AS DOUBLE) END)"
        )
    fast = q.helper(1, plain)
    s = q.helper(2, f"CASE WHEN {fast} IS NULL THEN lower(regexp_replace({t}, '[\\s\u00a0\u202f]+', '', 'g')) END")
    bands = c.spec.bands is not False
    if bands:
        marks = " OR ".join(f"contains({s}, {_lit(m)})" for m in ("-", "+", "–", "—", "to", ">", "over", "above"))
        band = q.helper(
            3, f"CASE WHEN {marks} THEN regexp_extract({s}, {_lit(_BAND_RE)}, ['pre', 'lo', 'hi', 'plus']) END"
        )
        closed = f"coalesce({band}.hi <> '', false)"
        is_open = f"coalesce({band}.pre <> '' OR {band}.plus <> '', false)"
        lo_tok = q.helper(4, f"CASE WHEN {closed} OR {is_open} THEN {band}.lo ELSE {s} END")
        hi_tok = q.helper(4, f"CASE WHEN {closed} THEN {band}.hi END")
        lo = q.helper(5, f"regexp_extract({lo_tok}, {_lit(_NUM_RE)}, {_NUM_FIELDS!r})")
        hi = q.helper(5, f"regexp_extract({hi_tok}, {_lit(_NUM_RE)}, {_NUM_FIELDS!r})")
        lo_num = f"coalesce(try_cast({lo_tok} AS DOUBLE), {_number(lo, euro)})" if not euro else _number(lo, euro)
        hi_num = f"coalesce(try_cast({hi_tok} AS DOUBLE), {_number(hi, euro)})" if not euro else _number(hi, euro)
        # a band needs lo <= hi: "2012-06" is a month, not the band "2012 to 6", and stays unread as a number
        ordered = f"coalesce({lo_num} <= {hi_num}, false)"
        slow = f"CASE WHEN {closed} THEN (CASE WHEN {ordered} THEN ({lo_num} + {hi_num}) / 2 END) ELSE {lo_num} END"
        is_band = f"coalesce(({closed} AND {ordered}) OR {is_open}, false)"
    else:
        lo = q.helper(5, f"regexp_extract({s}, {_lit(_NUM_RE)}, {_NUM_FIELDS!r})")
        slow, is_band = _number(lo, euro), "false"
    factor = f"{float(c.spec.scale)!r}"
    slow_factor = factor
    if c.spec.percent:
        slow_factor = f"{factor} * CASE WHEN {lo}.pct = '%' THEN 0.01 ELSE 1.0 END"
    out = q.helper(
        6,
        f"CASE WHEN {fast} IS NOT NULL THEN (CASE WHEN isfinite({fast}) THEN {fast} * {factor} END) "
        f"ELSE ({slow}) * {slow_factor} END",
    )
    q.outputs.append(f"{out} AS {_q(c.target)}")
    q.flags.append(f"({t} IS NOT NULL AND {out} IS NULL) AS __icpflag_bad{c.index}")
    if bands:
        q.flags.append(f"{is_band} AS __icpflag_band{c.index}")
        c.decided["band_expr"] = f"CASE WHEN {is_band} THEN {t} END AS {_q(c.target + '_band')}"


def _plan_date(q: _Query, c: _Column) -> list[Problem]:
    ref = _q(c.source)
    if not c.text:
        q.outputs.append(f"try_cast({ref} AS DATE) AS {_q(c.target)}")
        return []
    problems = []
    order = c.spec.date_order
    if order is None:
        max_a, max_b = c.decided.get("max_a"), c.decided.get("max_b")
        if max_a is None:
            order = "mdy"
        elif max_a > 12 and (max_b or 0) <= 12:
            order = "dmy"
        elif (max_b or 0) > 12 and max_a <= 12:
            order = "mdy"
        elif max_a <= 12 and (max_b or 0) <= 12:
            order = "dmy" if c.decided.get("dots") else "mdy"
            if not c.decided.get("dots"):
                problems.append(
                    Problem(
                        "dates like 03/04/2020 are ambiguous; read as month/day/year. "
                        "Set date_order='dmy' for this column if they are day-first",
                        column=c.source,
                        severity="warning",
                    )
                )
        else:
            order = "mdy"  # both parts exceed 12 somewhere: mixed styles; the minority is reported as bad
    s = q.helper(0, _clean_text(ref, c.trimmed))
    # Fast path: ISO dates (the common case) cast directly; other spellings go through the regex and formats.
    fast = q.helper(1, f"CASE WHEN substr({s}, 5, 1) = '-' THEN try_cast({s} AS DATE) END")
    rest = q.helper(2, f"CASE WHEN {fast} IS NULL THEN {s} END")
    parts = q.helper(3, f"regexp_extract({rest}, {_lit(_DMY_RE)}, ['a', 'b', 'y'])")
    month, day = (f"{parts}.a", f"{parts}.b") if order == "mdy" else (f"{parts}.b", f"{parts}.a")
    year = (
        f"CASE WHEN length({parts}.y) = 2 THEN (CASE WHEN CAST({parts}.y AS INTEGER) < 70 THEN 2000 ELSE 1900 END)"
        f" + CAST({parts}.y AS INTEGER) ELSE CAST({parts}.y AS INTEGER) END"
    )
    formats = "[" + ", ".join(_lit(f) for f in _MONTH_FORMATS) + "]"
    period = _period_start(q, rest)
    parsed = q.helper(
        4,
        f"coalesce({fast}, CASE WHEN {parts}.a <> '' THEN try(make_date({year}, CAST({month} AS INTEGER), "
        f"CAST({day} AS INTEGER))) END, try_cast(try_cast({rest} AS TIMESTAMP) AS DATE), "
        f"CAST(try_strptime({rest}, {formats}) AS DATE), {period})",
    )
    # DuckDB's cast reads "5/6/17" as the year 5: a date outside 1800-2200 is a misreading, not a date.
    out = q.helper(5, f"CASE WHEN year({parsed}) BETWEEN 1800 AND 2200 THEN {parsed} END")
    q.outputs.append(f"{out} AS {_q(c.target)}")
    q.flags.append(f"({s} IS NOT NULL AND {out} IS NULL) AS __icpflag_bad{c.index}")
    c.decided["order"] = order
    return problems


def _period_start(q: _Query, rest: str) -> str:
    """The first day of a month (``2012-06``) or quarter (``2012-Q2``, ``Q2 2012``) written as text, else NULL.

    A period is a date at a coarser grain, not the band "2012 to 6" a number reader would make of it; its first day
    keeps it comparable with the full dates of the same attribute. Each pattern is matched once, as a helper beside
    the day/month/year parts, and only on text short enough to be such a period (a month is at most 7 characters,
    a quarter holds a 'q').
    """
    month = q.helper(3, f"CASE WHEN length({rest}) <= 7 THEN regexp_extract({rest}, {_lit(_MONTH_RE)}, ['y', 'm']) END")
    quarter = q.helper(
        3,
        f"CASE WHEN length({rest}) <= 12 AND contains(lower({rest}), 'q') "
        f"THEN regexp_extract(lower({rest}), {_lit(_QUARTER_RE)}, ['y1', 'q1', 'q2', 'y2']) END",
    )
    q_year = f"coalesce(nullif({quarter}.y1, ''), nullif({quarter}.y2, ''))"
    q_num = f"coalesce(nullif({quarter}.q1, ''), nullif({quarter}.q2, ''))"
    return (
        f"CASE WHEN {month}.y <> '' THEN try(make_date(CAST({month}.y AS INTEGER), CAST({month}.m AS INTEGER), 1)) "
        f"WHEN {q_year} IS NOT NULL THEN make_date(CAST({q_year} AS INTEGER), 3 * CAST({q_num} AS INTEGER) - 2, 1) "
        "END"
    )


def _plan_boolean(q: _Query, c: _Column) -> None:
    ref = _q(c.source)
    if pa.types.is_boolean(c.typ):
        q.outputs.append(f"{ref} AS {_q(c.target)}")
        return
    if c.text:
        s = q.helper(0, f"lower({_clean_text(ref, c.trimmed)})")
        truth = f"CASE WHEN {_in(s, TRUE_TOKENS)} THEN true WHEN {_in(s, FALSE_TOKENS)} THEN false END"
    else:
        s = q.helper(0, ref)
        truth = f"CASE WHEN {ref} = 1 THEN true WHEN {ref} = 0 THEN false END"
    out = q.helper(1, truth)
    q.outputs.append(f"{out} AS {_q(c.target)}")
    q.flags.append(f"({s} IS NOT NULL AND {out} IS NULL) AS __icpflag_bad{c.index}")


def _plan_multi(q: _Query, c: _Column) -> None:
    ref = _q(c.source)
    if not c.text and not (pa.types.is_list(c.typ) or pa.types.is_large_list(c.typ)):
        items = f"[trim(CAST({ref} AS VARCHAR))]"  # a number or date column read as a one-item list
    elif not c.text:
        items = f"list_transform({ref}, lambda x: trim(CAST(x AS VARCHAR)))"
    else:
        sep = c.spec.separator or (";" if c.decided.get("semi") else "|" if c.decided.get("pipe") else ",")
        items = f"list_transform(string_split({_clean_text(ref, c.trimmed)}, {_lit(sep)}), lambda x: trim(x))"
    kept = q.helper(0, f"list_filter({items}, lambda x: x <> '' AND x IS NOT NULL)")
    q.outputs.append(f"CASE WHEN len({kept}) > 0 THEN {kept} END AS {_q(c.target)}")


def _plan_text(q: _Query, c: _Column) -> None:
    ref = _q(c.source)
    s = q.helper(0, _clean_text(ref, c.trimmed))
    q.outputs.append(f"{s} AS {_q(c.target)}")
    if c.text:
        first = f"left({s}, 1)"
        q.flags.append(
            f"(CASE WHEN {_in(first, '=+-@')} THEN regexp_matches({s}, {_lit(_FORMULA_RE)}, 'i') ELSE false END)"
            f" AS __icpflag_formula{c.index}"
        )
    if c.spec.split:
        # "Austin, TX, USA": the first part is the city, the last the country, anything between the region.
        parts = q.helper(1, f"list_transform(string_split({s}, ','), lambda x: nullif(trim(x), ''))")
        n = f"len({parts})"
        pieces = {
            "city": f"CASE WHEN {n} >= 2 THEN {parts}[1] END",
            "region": f"CASE WHEN {n} >= 3 THEN array_to_string({parts}[2:{n} - 1], ', ') END",
            "country": f"{parts}[{n}]",
        }
        names = list(c.spec.split)
        roles = dict(zip(("city", "region", "country")[-len(names) :], names, strict=True))
        c.decided["split_exprs"] = [f"{pieces[role]} AS {_q(name)}" for role, name in roles.items()]
