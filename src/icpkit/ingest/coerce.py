"""Turn the strings of a CRM export into typed columns, vectorised, reporting what fails.

Exports are messy in predictable ways: ``$1,200,000`` and ``1.2M`` for revenue, ``51-200`` for employees, ``Yes``
for booleans, three date styles in one file. Each column kind has one DuckDB expression that parses every
spelling we know (``parse_sql``), run once per distinct value when a column repeats itself, after one aggregate
that settles what depends on the data (decimal comma, day-first dates, list separator). Plain text columns stay
in Arrow. Values that do not parse become null and are counted per column, with the first rows and values
shown, so a user can fix the file or the mapping.

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

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import BadValueError, MissingColumnError, Problem
from icpkit.ingest.parse_sql import (
    FALSE_TOKENS,
    NULL_TOKENS,
    TRUE_TOKENS,
    CoerceSpec,
    _Column,
    _is_text,
    _plan_boolean,
    _plan_date,
    _plan_multi,
    _plan_numeric,
    _plan_text,
    _Query,
    _stats,
)
from icpkit.ingest.raw_table import _connect
from icpkit.ingest.readers import RawTable
from icpkit.ingest.schema import ColumnKind

__all__ = [
    "FALSE_TOKENS",
    "NULL_TOKENS",
    "TRUE_TOKENS",
    "CoerceResult",
    "CoerceSpec",
    "check_flat",
    "coerce_columns",
    "raise_for_problems",
]

ERROR_SHARE = 0.5  # more than this share of unreadable values makes a column an error, not a warning
_EXAMPLES = 5


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


def _is_list(t: pa.DataType) -> bool:
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def _is_nested(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return pa.types.is_struct(t) or pa.types.is_map(t) or pa.types.is_union(t) or _is_list(t)


def check_flat(
    column: pa.Array | pa.ChunkedArray,
    kind: ColumnKind | None,
    *,
    path: str | None,
    name: str,
    first_row: int,
) -> None:
    """Refuse a column of JSON objects (or lists, where one value is expected) with the row of the first one.

    JSON and Parquet can nest where a CSV cannot; typing a ``{"a": 1}`` id or employee count as text would score
    nonsense silently, so the user is told which column to flatten or leave out. A list is fine for a
    multi-valued column (``kind`` MULTI, or ``None`` for "to be inferred") as long as its items are plain values.
    """
    typ = column.type
    list_ok = kind in (None, ColumnKind.MULTI) and _is_list(typ) and not _is_nested(typ.value_type)
    if not _is_nested(typ) or list_ok:
        return
    shape = "lists" if _is_list(typ) and not _is_nested(typ.value_type) else "JSON objects or nested lists"
    valid = pc.indices_nonzero(pc.is_valid(column))
    row = first_row + int(valid[0].as_py()) if len(valid) else None
    raise BadValueError(
        f"holds {shape} ({typ}) where one plain value per cell is expected; flatten the export, or leave the "
        f"column out with a mapping file ('{name}: null')",
        path=path,
        row=row,
        column=name,
    )


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
        check_flat(table[name], spec.kind, path=path, name=name, first_row=first_row)
        if pa.types.is_dictionary(table.schema.field(name).type):  # typed as its values
            values = pc.cast(table[name], table[name].type.value_type)
            table = table.set_column(table.column_names.index(name), name, values)
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
    keep_band = {f"{c.target}_band" for c in in_sql if f"{c.target}_band" in typed}
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
    """Parse the columns that need it in DuckDB: typed outputs plus the ``__icpflag_`` columns that flag a row.

    CRM columns repeat a few spellings ("51-200", "Yes", "Salesforce; HubSpot") over millions of rows, so a
    column with few distinct values is parsed once per distinct value and spread back with an Arrow ``take``.
    One narrow query per column: a single wide query carrying every helper measured about twice as slow.
    """
    con = _connect()
    out: dict[str, pa.ChunkedArray] = {}
    try:
        for c in cols:
            column = table[c.source]
            indices = None
            if c.text and len(column) > 1000:
                # chunk by chunk, no concatenated copy: every output chunk shares the one final dictionary
                encoded = pc.dictionary_encode(column)
                dictionary = encoded.chunks[-1].dictionary
                if len(dictionary) < DISTINCT_SHARE * len(column):
                    column, indices = dictionary, pa.chunked_array([ch.indices for ch in encoded.chunks])
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
            flags = [name for name in result.column_names if name.startswith("__icpflag_")]
            raised = {name for name in flags if pc.any(result[name]).as_py()}
            for name in result.column_names:
                if name in flags and name not in raised:
                    continue  # nothing flagged: no row mask to spread back or report from
                if name == f"{c.target}_band" and not (c.spec.bands or f"__icpflag_band{c.index}" in raised):
                    continue  # no band in the column: its band text is not kept
                values = result[name]
                if indices is not None:  # spread the per-distinct-value results back over the rows
                    values = pc.take(values.combine_chunks(), indices)
                out[name] = values
        return out
    except duckdb.Error as exc:
        kind = c.spec.kind.value
        raise BadValueError(
            f"could not read the column as {kind}: {str(exc).splitlines()[0]}", path=path, column=c.source
        ) from exc
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
