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
_CLOSED_BAND_RE = r"^([^\-–—]*\d[^\-–—]*?)(?:-|–|—|to)([^\-–—]*\d[^\-–—]*)$"
_OPEN_BAND_RE = r"^(>=?|over|morethan|above)?([^+]*\d[^+]*?)(\+?)$"
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
        self.layers: list[list[str]] = [[], [], [], []]
        self.outputs: list[str] = []
        self.flags: list[str] = []
        self._n = 0

    def helper(self, layer: int, expr: str) -> str:
        self._n += 1
        name = f"__h{self._n}"
        self.layers[layer].append(f"{expr} AS {name}")
        return name

    def sql(self, source: str) -> str:
        sql = f"SELECT * FROM {source}"
        for layer in self.layers:
            if layer:
                sql = f"SELECT *, {', '.join(layer)} FROM ({sql})"
        return f"SELECT {', '.join(self.outputs + self.flags)} FROM ({sql})"


def _clean_text(ref: str) -> str:
    trimmed = f"trim(CAST({ref} AS VARCHAR), ' \t\r\n\u00a0')"
    return f"CASE WHEN {_in(f'lower({trimmed})', NULL_TOKENS)} THEN NULL ELSE {trimmed} END"


def _number(st: str, euro: bool) -> str:
    """DOUBLE from a struct extracted with ``_NUM_RE`` (NULL when it did not match)."""
    num = f"{st}.num"
    if euro:
        digits = f"replace(replace(replace({num}, '''', ''), '.', ''), ',', '.')"
    else:
        digits = (
            f"CASE WHEN regexp_full_match({num}, '\\d+,\\d{{1,2}}') THEN replace({num}, ',', '.') "
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
    decided: dict[str, object] = field(default_factory=dict)


def _stats(con: duckdb.DuckDBPyConnection, cols: list[_Column]) -> None:
    """One aggregate over the columns whose reading depends on their values (decimal comma, date order, lists)."""
    aggs: list[tuple[_Column, str, str]] = []
    for c in cols:
        if not c.text:
            continue
        ref = _q(c.source)
        if c.spec.kind == ColumnKind.NUMERIC and c.spec.decimal is None:
            aggs.append((c, "euro", f"count_if(regexp_matches({ref}, {_lit(_EURO_RE)}))"))
            aggs.append((c, "us", f"count_if(regexp_matches({ref}, {_lit(_US_RE)}))"))
        elif c.spec.kind == ColumnKind.DATE and c.spec.date_order is None:
            for key, group in (("max_a", 1), ("max_b", 2)):
                part = f"regexp_extract(trim({ref}), {_lit(_DMY_RE)}, {group})"
                aggs.append((c, key, f"max(try_cast({part} AS INTEGER))"))
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
    s = q.helper(0, f"lower(regexp_replace({_clean_text(ref)}, '[\\s\u00a0\u202f]+', '', 'g'))")
    bands = c.spec.bands is not False
    if bands:
        closed = q.helper(1, f"regexp_extract({s}, {_lit(_CLOSED_BAND_RE)}, ['lo', 'hi'])")
        opened = q.helper(1, f"regexp_extract({s}, {_lit(_OPEN_BAND_RE)}, ['pre', 'lo', 'plus'])")
        is_open = f"({opened}.pre <> '' OR {opened}.plus <> '')"
        lo_tok = f"CASE WHEN {closed}.lo <> '' THEN {closed}.lo WHEN {is_open} THEN {opened}.lo ELSE {s} END"
        lo = q.helper(2, f"regexp_extract({lo_tok}, {_lit(_NUM_RE)}, {_NUM_FIELDS!r})")
        hi = q.helper(2, f"regexp_extract({closed}.hi, {_lit(_NUM_RE)}, {_NUM_FIELDS!r})")
        value = (
            f"CASE WHEN {closed}.lo <> '' THEN ({_number(lo, euro)} + {_number(hi, euro)}) / 2 "
            f"ELSE {_number(lo, euro)} END"
        )
        is_band = f"({closed}.lo <> '' OR {is_open})"
    else:
        lo = q.helper(2, f"regexp_extract({s}, {_lit(_NUM_RE)}, {_NUM_FIELDS!r})")
        value, is_band = _number(lo, euro), "false"
    factor = f"{float(c.spec.scale)!r}"
    if c.spec.percent:
        factor = f"{factor} * CASE WHEN {lo}.pct = '%' THEN 0.01 ELSE 1.0 END"
    out = q.helper(3, f"({value}) * {factor}")
    q.outputs.append(f"{out} AS {_q(c.target)}")
    q.flags.append(f"({s} IS NOT NULL AND {out} IS NULL) AS __bad{c.index}")
    if bands:
        q.flags.append(f"{is_band} AS __band{c.index}")
        c.decided["band_expr"] = f"CASE WHEN {is_band} THEN {_clean_text(ref)} END AS {_q(c.target + '_band')}"


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
    s = q.helper(0, _clean_text(ref))
    parts = q.helper(1, f"regexp_extract({s}, {_lit(_DMY_RE)}, ['a', 'b', 'y'])")
    month, day = (f"{parts}.a", f"{parts}.b") if order == "mdy" else (f"{parts}.b", f"{parts}.a")
    year = (
        f"CASE WHEN length({parts}.y) = 2 THEN (CASE WHEN CAST({parts}.y AS INTEGER) < 70 THEN 2000 ELSE 1900 END)"
        f" + CAST({parts}.y AS INTEGER) ELSE CAST({parts}.y AS INTEGER) END"
    )
    formats = "[" + ", ".join(_lit(f) for f in _MONTH_FORMATS) + "]"
    parsed = q.helper(
        2,
        f"coalesce(CASE WHEN {parts}.a <> '' THEN try(make_date({year}, CAST({month} AS INTEGER), "
        f"CAST({day} AS INTEGER))) END, try_cast({s} AS DATE), try_cast(try_cast({s} AS TIMESTAMP) AS DATE), "
        f"CAST(try_strptime({s}, {formats}) AS DATE))",
    )
    # DuckDB's cast reads "5/6/17" as the year 5: a date outside 1800-2200 is a misreading, not a date.
    value = f"CASE WHEN year({parsed}) BETWEEN 1800 AND 2200 THEN {parsed} END"
    out = q.helper(3, value)
    q.outputs.append(f"{out} AS {_q(c.target)}")
    q.flags.append(f"({s} IS NOT NULL AND {out} IS NULL) AS __bad{c.index}")
    c.decided["order"] = order
    return problems


def _plan_boolean(q: _Query, c: _Column) -> None:
    ref = _q(c.source)
    if pa.types.is_boolean(c.typ):
        q.outputs.append(f"{ref} AS {_q(c.target)}")
        return
    if c.text:
        s = q.helper(0, f"lower({_clean_text(ref)})")
        truth = f"CASE WHEN {_in(s, TRUE_TOKENS)} THEN true WHEN {_in(s, FALSE_TOKENS)} THEN false END"
    else:
        s = q.helper(0, ref)
        truth = f"CASE WHEN {ref} = 1 THEN true WHEN {ref} = 0 THEN false END"
    out = q.helper(1, truth)
    q.outputs.append(f"{out} AS {_q(c.target)}")
    q.flags.append(f"({s} IS NOT NULL AND {out} IS NULL) AS __bad{c.index}")


def _plan_multi(q: _Query, c: _Column) -> None:
    ref = _q(c.source)
    if not c.text:
        items = f"list_transform({ref}, lambda x: trim(CAST(x AS VARCHAR)))"
    else:
        sep = c.spec.separator or (";" if c.decided.get("semi") else "|" if c.decided.get("pipe") else ",")
        items = f"list_transform(string_split({_clean_text(ref)}, {_lit(sep)}), lambda x: trim(x))"
    kept = q.helper(0, f"list_filter({items}, lambda x: x <> '' AND x IS NOT NULL)")
    q.outputs.append(f"CASE WHEN len({kept}) > 0 THEN {kept} END AS {_q(c.target)}")


def _plan_text(q: _Query, c: _Column) -> None:
    ref = _q(c.source)
    s = q.helper(0, _clean_text(ref))
    q.outputs.append(f"{s} AS {_q(c.target)}")
    if c.text:
        q.flags.append(f"regexp_matches(lower({s}), {_lit(_FORMULA_RE)}) AS __formula{c.index}")
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
    cols: list[_Column] = []
    for i, (name, how) in enumerate(plan.items()):
        spec = how if isinstance(how, CoerceSpec) else CoerceSpec(ColumnKind(how))
        typ = table.schema.field(name).type
        cols.append(_Column(name, spec, spec.target or name, _is_text(typ) or pa.types.is_null(typ), i, typ))

    con = duckdb.connect(config={"preserve_insertion_order": True})
    try:
        con.register("__src", table)
        _stats(con, cols)
        q = _Query()
        problems: list[Problem] = []
        for c in cols:
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
        planned = {c.source: c for c in cols}
        outputs: list[str] = []
        typed = iter(q.outputs)
        by_source = {}
        for c in cols:
            by_source[c.source] = [next(typed)]
            if "band_expr" in c.decided:
                by_source[c.source].append(c.decided["band_expr"])
            by_source[c.source] += c.decided.get("split_exprs", [])
        for name in table.column_names:
            if name in planned:
                outputs += by_source[name]
            elif keep_unplanned:
                outputs.append(_q(name))
        q.outputs = outputs
        result = con.sql(q.sql("__src")).to_arrow_table()
    except duckdb.Error as exc:
        raise BadValueError(f"could not type the columns: {str(exc).splitlines()[0]}", path=path) from exc
    finally:
        con.close()

    problems += _collect(result, table, cols, path, first_row)
    drop = [n for n in result.column_names if n.startswith(("__bad", "__band", "__formula"))]
    keep_band = {
        f"{c.target}_band"
        for c in cols
        if "band_expr" in c.decided
        and (c.spec.bands or (c.spec.bands is None and pc.any(result[f"__band{c.index}"]).as_py()))
    }
    drop += [f"{c.target}_band" for c in cols if "band_expr" in c.decided and f"{c.target}_band" not in keep_band]
    result = result.drop_columns(drop)
    result = _normalise_types(result, cols)
    kinds = {c.target: c.spec.kind for c in cols}
    for c in cols:
        if f"{c.target}_band" in keep_band:
            kinds[f"{c.target}_band"] = ColumnKind.CATEGORICAL
        for name in c.spec.split:
            kinds[name] = ColumnKind.CATEGORICAL
    return CoerceResult(result, kinds, problems)


_KIND_NOUN = {
    ColumnKind.NUMERIC: "a number",
    ColumnKind.DATE: "a date",
    ColumnKind.BOOLEAN: "a yes/no value",
}


def _collect(
    result: pa.Table, source: pa.Table, cols: list[_Column], path: str | None, first_row: int
) -> list[Problem]:
    problems = []
    for c in cols:
        for flag, is_formula in ((f"__bad{c.index}", False), (f"__formula{c.index}", True)):
            if flag not in result.column_names:
                continue
            mask = pc.fill_null(result[flag], False)
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
                present = result[c.target].null_count
                non_missing = result.num_rows - present + bad
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
