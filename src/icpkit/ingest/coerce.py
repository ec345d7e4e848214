"""Turn the strings of a CRM export into typed columns, in one vectorised DuckDB pass, reporting what fails.

Exports are messy in predictable ways: ``$1,200,000`` and ``1.2M`` for revenue, ``51-200`` for employees, ``Yes``
for booleans, three date styles in one file. Each column kind has one SQL expression that parses every spelling
we know; the whole table is typed by a single ``SELECT`` (plus one aggregate over the columns whose reading
depends on the data: decimal comma, day-first dates, list separator). Values that do not parse become null and
are counted per column, with the first rows and values shown, so a user can fix the file or the mapping.

Conventions (documented for users in the ingest reference):

* null tokens: blank, ``n/a``, ``#n/a``, ``null``, ``none``, ``nan``, ``-``, ``--`` are missing, not bad.
* numbers: currency symbols and ISO codes, thousands separators (``,`` ``'`` and spaces), ``(1,200)`` negatives,
  suffixes ``k`` / ``m`` ``mm`` ``mn`` ``mio`` ``million`` / ``b`` ``bn`` ``billion`` / ``tn``. ``%`` divides by
  100 only when the spec asks for ``percent``. A comma followed by one or two digits is a decimal comma
  (``1,2 Mio``); a column is read as European (``1.234,56``) when it has such values and none in US form.
* bands: ``51-200`` → 125.5 (midpoint), ``10,001+`` → 10001 (the lower bound); the text is kept in
  ``<column>_band``.
* dates: ISO dates and datetimes, ``Jan 10, 2020``, and ``a/b/yyyy`` (also with ``.`` or ``-``): day-first when a
  first part exceeds 12, month-first when a second part does; when neither does, ``.`` means day-first and ``/``
  month-first, with a warning.
* severity: a column where more than half of the non-missing values cannot be read is an ``error`` (probably
  mis-mapped or the wrong kind); fewer is a ``warning``: the run goes on with those cells missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import BadValueError, MissingColumnError, Problem
from icpkit.ingest.readers import RawTable
from icpkit.ingest.schema import ColumnKind

__all__ = [
    "NULL_TOKENS",
    "CoerceResult",
    "CoerceSpec",
    "coerce_columns",
    "raise_for_problems",
]

NULL_TOKENS = ("", "n/a", "#n/a", "null", "none", "nan", "-", "--")
TRUE_TOKENS = ("yes", "y", "true", "t", "1", "1.0", "on", "checked", "x", "✓")
FALSE_TOKENS = ("no", "n", "false", "f", "0", "0.0", "off", "unchecked")
ERROR_SHARE = 0.5  # more than this share of unreadable values makes a column an error, not a warning
_EXAMPLES = 5

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


@dataclass
class CoerceResult:
    """The typed table, the kind of every typed column, and what could not be read."""

    table: pa.Table
    kinds: dict[str, ColumnKind]
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    def raise_for_errors(self) -> None:
        """Raise ``BadValueError`` listing every error-severity problem (warnings never raise)."""
        raise_for_problems(self.problems)


def raise_for_problems(problems: Iterable[Problem]) -> None:
    """Raise one ``BadValueError`` listing all error-severity problems, e.g. collected across several files."""
    errors = [p for p in problems if p.severity == "error"]
    if not errors:
        return
    first = errors[0]
    head = first.message if len(errors) == 1 else f"{len(errors)} columns have unreadable values"
    raise BadValueError(
        head,
        path=first.path,
        row=first.row if len(errors) == 1 else None,
        column=first.column if len(errors) == 1 else None,
        problems=errors,
    )


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
            aggs.append((c, "us", f"count_if(regexp_matches({ref}, {_lit(_US_RE)}))"))
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
        slow = f"CASE WHEN {closed} THEN ({lo_num} + {hi_num}) / 2 ELSE {lo_num} END"
        is_band = f"coalesce({closed} OR {is_open}, false)"
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
    parsed = q.helper(
        4,
        f"coalesce({fast}, CASE WHEN {parts}.a <> '' THEN try(make_date({year}, CAST({month} AS INTEGER), "
        f"CAST({day} AS INTEGER))) END, try_cast(try_cast({rest} AS TIMESTAMP) AS DATE), "
        f"CAST(try_strptime({rest}, {formats}) AS DATE))",
    )
    # DuckDB's cast reads "5/6/17" as the year 5: a date outside 1800-2200 is a misreading, not a date.
    out = q.helper(5, f"CASE WHEN year({parsed}) BETWEEN 1800 AND 2200 THEN {parsed} END")
    q.outputs.append(f"{out} AS {_q(c.target)}")
    q.flags.append(f"({s} IS NOT NULL AND {out} IS NULL) AS __icpflag_bad{c.index}")
    c.decided["order"] = order
    return problems


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
    if not c.text:
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


# ---------------------------------------------------------------------------------------------------- main


def coerce_columns(
    raw: RawTable | pa.Table,
    plan: Mapping[str, ColumnKind | CoerceSpec],
    *,
    path: str | None = None,
    first_row: int | None = None,
    keep_unplanned: bool = True,
) -> CoerceResult:
    """Type the columns named in ``plan`` (source column -> kind or spec) in one DuckDB pass.

    Columns outside the plan are passed through unchanged when ``keep_unplanned``. Problems name ``path``, the
    column, the count of unreadable values and the first rows (``first_row`` is the row number of record 0:
    taken from a ``RawTable``, else 2, as for a CSV with a header). Nothing is raised: call
    ``result.raise_for_errors()`` or collect ``result.problems`` across files and ``raise_for_problems``.
    """
    if isinstance(raw, RawTable):
        table, path, first_row = raw.table, path or raw.source or raw.path, first_row or raw.first_row
    else:
        table = raw
    first_row = 2 if first_row is None else first_row
    missing = [name for name in plan if name not in table.column_names]
    if missing:
        raise MissingColumnError(
            f"no column {', '.join(map(repr, missing))} (columns: {', '.join(table.column_names)})",
            path=path,
            column=missing[0],
        )
    trimmed = isinstance(raw, RawTable)
    cols: list[_Column] = []
    for i, (name, how) in enumerate(plan.items()):
        spec = how if isinstance(how, CoerceSpec) else CoerceSpec(ColumnKind(how))
        typ = table.schema.field(name).type
        text = _is_text(typ) or pa.types.is_null(typ)
        cols.append(_Column(name, spec, spec.target or name, text, i, typ, trimmed and text))

    # Plain text columns only need null tokens and a formula check: done in Arrow, zero-copy when clean.
    in_arrow = [c for c in cols if c.spec.kind in _TEXT_KINDS and not c.spec.split and _is_text(c.typ)]
    in_sql = [c for c in cols if c not in in_arrow]
    typed: dict[str, pa.ChunkedArray | pa.Array] = {}
    flags: dict[str, pa.ChunkedArray | pa.Array] = {}
    problems: list[Problem] = []
    for c in in_arrow:
        typed[c.target], flags[f"__icpflag_formula{c.index}"] = _arrow_text(table[c.source], c.trimmed)
    if in_sql:
        for name, array in _run_sql(table, in_sql, path, problems).items():
            (flags if name.startswith("__icpflag_") else typed)[name] = array

    problems += _collect(typed, flags, table, cols, path, first_row)
    keep_band = {
        f"{c.target}_band"
        for c in in_sql
        if "band_expr" in c.decided
        and (c.spec.bands or (c.spec.bands is None and pc.any(flags[f"__icpflag_band{c.index}"]).as_py()))
    }
    kinds: dict[str, ColumnKind] = {}
    names: list[str] = []
    arrays: list[pa.ChunkedArray | pa.Array] = []
    planned = {c.source: c for c in cols}
    for name in table.column_names:
        c = planned.get(name)
        if c is None:
            if keep_unplanned:
                names.append(name)
                arrays.append(table[name])
            continue
        outputs = {c.target: c.spec.kind}
        if f"{c.target}_band" in keep_band:
            outputs[f"{c.target}_band"] = ColumnKind.CATEGORICAL
        outputs |= {part: ColumnKind.CATEGORICAL for part in c.spec.split}
        for out, kind in outputs.items():
            names.append(out)
            arrays.append(typed[out])
            kinds[out] = kind
    out_table = pa.Table.from_arrays(arrays, names=names) if names else pa.table({})
    return CoerceResult(_normalise_types(out_table, cols), kinds, problems)


_TEXT_KINDS = (ColumnKind.ID, ColumnKind.TEXT, ColumnKind.CATEGORICAL)
_TOKEN_VARIANTS = sorted({v for t in NULL_TOKENS for v in (t, t.upper(), t.title())})
_FORMULA_ARROW_RE = r"^[=+\-@]\s*[A-Za-z_][A-Za-z0-9_.]*\s*[(|!]"


def _arrow_text(column: pa.ChunkedArray, trimmed: bool) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """(text with null tokens as null, formula-like mask): Arrow kernels, no copy when nothing changes."""
    if not trimmed:
        column = pc.utf8_trim(column, " \t\r\n\u00a0")
        column = pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)
    tokens = pc.is_in(column, value_set=pa.array(_TOKEN_VARIANTS, type=column.type))
    if pc.any(tokens).as_py():
        column = pc.if_else(tokens, pa.scalar(None, column.type), column)
    lead = pc.starts_with(column, "=")
    for ch in "+-@":
        lead = pc.or_(lead, pc.starts_with(column, ch))
    if not pc.any(lead).as_py():  # the usual case: one cheap pass, no regex
        return column, lead
    return column, pc.and_(lead, pc.match_substring_regex(column, _FORMULA_ARROW_RE))


DISTINCT_SHARE = 0.6  # parse the distinct values only, when there are fewer than this share of the rows


def _run_sql(
    table: pa.Table, cols: list[_Column], path: str | None, problems: list[Problem]
) -> dict[str, pa.ChunkedArray]:
    """Parse the columns that need it in DuckDB: typed outputs plus ``__icpflag_`` columns, by name.

    CRM columns repeat a few spellings ("51-200", "Yes", "Salesforce; HubSpot") over millions of rows, so a
    column with few distinct values is parsed once per distinct value and spread back with an Arrow ``take``.
    One narrow query per column: a single wide query carrying every helper measured about twice as slow.
    """
    con = duckdb.connect(config={"preserve_insertion_order": True})
    out: dict[str, pa.ChunkedArray] = {}
    try:
        for c in cols:
            column = table[c.source]
            indices = None
            if c.text and len(column) > 1000:
                encoded = pc.dictionary_encode(column.combine_chunks())
                if len(encoded.dictionary) < DISTINCT_SHARE * len(column):
                    column, indices = encoded.dictionary, encoded.indices
            con.register("__src", pa.table({c.source: column}))
            _stats(con, [c])
            q = _Query()
            kind = c.spec.kind
            if kind == ColumnKind.NUMERIC:
                _plan_numeric(q, c)
            elif kind == ColumnKind.DATE:
                problems += [
                    Problem(p.message, path=path, column=p.column, severity=p.severity) for p in _plan_date(q, c)
                ]
            elif kind == ColumnKind.BOOLEAN:
                _plan_boolean(q, c)
            elif kind == ColumnKind.MULTI:
                _plan_multi(q, c)
            else:
                _plan_text(q, c)
            if "band_expr" in c.decided:
                q.outputs.append(c.decided["band_expr"])
            q.outputs += c.decided.get("split_exprs", [])
            result = con.sql(q.sql("__src")).to_arrow_table()
            con.unregister("__src")
            for name in result.column_names:
                values = result[name]
                if indices is not None:  # spread the per-distinct-value results back over the rows
                    values = pa.chunked_array([values.combine_chunks().take(indices)])
                out[name] = values
        return out
    except duckdb.Error as exc:
        raise BadValueError(f"could not type the columns: {str(exc).splitlines()[0]}", path=path) from exc
    finally:
        con.close()


_KIND_NOUN = {
    ColumnKind.NUMERIC: "a number",
    ColumnKind.DATE: "a date",
    ColumnKind.BOOLEAN: "a yes/no value",
}


def _collect(
    typed: Mapping[str, pa.ChunkedArray | pa.Array],
    flags: Mapping[str, pa.ChunkedArray | pa.Array],
    source: pa.Table,
    cols: list[_Column],
    path: str | None,
    first_row: int,
) -> list[Problem]:
    problems = []
    for c in cols:
        for flag, is_formula in ((f"__icpflag_bad{c.index}", False), (f"__icpflag_formula{c.index}", True)):
            if flag not in flags:
                continue
            mask = pc.fill_null(flags[flag], False)
            bad = pc.sum(mask).as_py() or 0
            if not bad:
                continue
            idx = pc.indices_nonzero(mask)[:_EXAMPLES]
            values = source[c.source].take(idx).to_pylist()
            rows = [first_row + int(i) for i in idx.to_pylist()]
            shown = ", ".join(f"row {r} {str(v)[:40]!r}" for r, v in zip(rows, values, strict=True))
            more = ", …" if bad > _EXAMPLES else ""
            if is_formula:
                message = (
                    f"{bad} value(s) look like spreadsheet formulas (kept as text; exports neutralise them): "
                    f"{shown}{more}"
                )
                severity = "warning"
            else:
                present = typed[c.target].null_count
                non_missing = len(typed[c.target]) - present + bad
                share = bad / non_missing if non_missing else 1.0
                severity = "error" if share > ERROR_SHARE else "warning"
                message = (
                    f"{bad} of {non_missing} value(s) could not be read as {_KIND_NOUN[c.spec.kind]} "
                    f"and were left empty: {shown}{more}"
                )
            problems.append(Problem(message, path=path, row=rows[0], column=c.source, severity=severity))
    return problems


def _normalise_types(result: pa.Table, cols: list[_Column]) -> pa.Table:
    """Pin the documented Arrow types (float64, date32, bool, list<string>, string) whatever DuckDB chose."""
    wanted = {
        ColumnKind.NUMERIC: pa.float64(),
        ColumnKind.DATE: pa.date32(),
        ColumnKind.BOOLEAN: pa.bool_(),
        ColumnKind.MULTI: pa.list_(pa.string()),
    }
    fields = list(result.schema)
    targets = {c.target: wanted.get(c.spec.kind, pa.string()) for c in cols}
    for c in cols:
        for name in c.spec.split:
            targets[name] = pa.string()
    new = [pa.field(f.name, targets[f.name]) if f.name in targets else f for f in fields]
    schema = pa.schema(new)
    return result if schema.equals(result.schema) else result.cast(schema)
