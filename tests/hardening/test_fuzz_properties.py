"""Property-based fuzzing of the four surfaces that read untrusted text: type coercion, CSV reading, the spec
parser and the SQL compiler. Each either gives a result that keeps its invariants or raises icpkit's own error;
any other exception is a crash (the ones found so far are pinned in ``test_fuzz_regressions.py``).
"""

from __future__ import annotations

import datetime as dt
import gzip
import math
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from hostile_files import SPEC
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icpkit.errors import IcpkitError, InputError, SpecError, UnsupportedOperatorError
from icpkit.ingest.coerce import coerce_columns
from icpkit.ingest.readers import read_raw
from icpkit.ingest.schema import ColumnKind
from icpkit.score import score_record
from icpkit.score.sql import compile_sql
from icpkit.spec import Criterion, Exclusion, ICPSpec, Op
from icpkit.spec.io import content_hash, dump_spec, load_spec


def budget(examples: int) -> settings:
    """A bounded run: the suite spends a few seconds per surface (the atheris targets dig deeper)."""
    return settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))


# ------------------------------------------------------------------------------------------------- coercion

PIECES = [*"0123456789-+.,/$€%kKmMbB ()'\":T\t;|", "1e309", "inf", "NaN", "n/a", "0000-01-01", "9999-12-31",
          "31/12/9999", "Jan 10, 0000", "10,001+", "51-200", "yes", "\x00", "\u00a0", "9" * 30, "=cmd|",
          "\u202e"]  # fmt: skip
cells = st.none() | st.lists(st.sampled_from(PIECES), max_size=8).map("".join) | st.text(max_size=12)
DOCUMENTED = {
    ColumnKind.NUMERIC: pa.float64(),
    ColumnKind.DATE: pa.date32(),
    ColumnKind.BOOLEAN: pa.bool_(),
    ColumnKind.MULTI: pa.list_(pa.string()),
}


@budget(60)
@given(values=st.lists(cells, min_size=1, max_size=40), kind=st.sampled_from(list(ColumnKind)))
def test_coercion_of_any_text_types_the_column_and_never_raises(values: list[str | None], kind: ColumnKind) -> None:
    result = coerce_columns(pa.table({"c": pa.array(values, pa.string())}), {"c": kind})
    column = result.table["c"]
    assert len(column) == len(values)
    assert column.type == DOCUMENTED.get(kind, pa.string())
    assert all(p.column == "c" and p.row is not None and 2 <= p.row <= len(values) + 1 for p in result.problems)
    if kind is ColumnKind.NUMERIC:
        assert all(math.isfinite(v) for v in column.to_pylist() if v is not None)


typed_arrays = st.one_of(
    st.lists(st.none() | st.integers(-(2**63), 2**63 - 1), min_size=1).map(lambda v: pa.array(v, pa.int64())),
    st.lists(st.none() | st.floats(), min_size=1).map(lambda v: pa.array(v, pa.float64())),
    st.lists(st.none() | st.booleans(), min_size=1).map(lambda v: pa.array(v, pa.bool_())),
    st.lists(st.none() | st.dates(), min_size=1).map(lambda v: pa.array(v, pa.date32())),
    st.lists(st.none() | st.lists(st.none() | st.text(max_size=5), max_size=3), min_size=1).map(
        lambda v: pa.array(v, pa.list_(pa.string()))
    ),
    st.lists(st.none() | st.fixed_dictionaries({"a": st.integers(-(2**63), 2**63 - 1)}), min_size=1).map(pa.array),
)


@budget(60)
@given(array=typed_arrays, kind=st.sampled_from(list(ColumnKind)))
def test_coercion_of_typed_columns_types_or_names_the_column(array: pa.Array, kind: ColumnKind) -> None:
    try:
        result = coerce_columns(pa.table({"c": array}), {"c": kind}, path="x.parquet")
    except IcpkitError as exc:
        assert exc.column == "c" and "x.parquet" in str(exc)  # type: ignore[attr-defined]
        return
    assert len(result.table["c"]) == len(array)
    assert result.table["c"].type == DOCUMENTED.get(kind, pa.string())


# ------------------------------------------------------------------------------------------------ CSV files

CSV_CELLS = st.one_of(
    st.text(max_size=8),
    st.sampled_from(['"', '""', '"a,b"', "a\nb", "\r", "\ufeff", "\x00", "=1+1", "é", "€", ";", "\t", "|", ""]),
)


@st.composite
def csv_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=600))
    width = draw(st.integers(1, 5))
    rows = draw(st.lists(st.lists(CSV_CELLS, min_size=1, max_size=width + 1), min_size=1, max_size=8))
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    body = end.join(sep.join(row) for row in rows) + draw(st.sampled_from(["", end]))
    codec = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]))
    data = body.encode(codec, errors="replace")
    cut = draw(st.integers(0, len(data)))
    return data[:cut] if draw(st.booleans()) else data


@budget(100)
@given(
    data=csv_bytes(),
    name=st.sampled_from(["a.csv", "a.tsv", "a.txt", "a.csv.gz", "a.json", "a.jsonl"]),
    encoding=st.sampled_from([None, None, "utf-8", "cp1252", "utf-16"]),
    gz=st.booleans(),
)
def test_reading_any_bytes_gives_a_table_or_an_input_error(
    data: bytes, name: str, encoding: str | None, gz: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(gzip.compress(data) if gz and name.endswith(".gz") else data)
        try:
            raw = read_raw(path, encoding=encoding)
        except InputError as exc:
            assert exc.path is not None and exc.path.endswith(name)
            return
    assert raw.num_rows > 0
    assert all(raw.columns) and len(set(raw.columns)) == len(raw.columns)
    assert raw.table.column_names == raw.columns


# -------------------------------------------------------------------------------------------- spec parsing

YAMLISH = ["&a ", "*a", "!!python/object:os.system ", "!!str ", "[", "]", "{", "}", ": ", "- ", "\n", "\t", "  ",
           "'", '"', "#", "---\n", "...\n", "? ", "|\n  ", ">-\n  ", ".nan", ".inf", "-1e999", "~", "null", "<<: ",
           "\\0", "é", "\u2028", "0000-01-01", "2026-13-01", "points", "field", "in", "between", "also"]  # fmt: skip


@st.composite
def yamlish(draw: st.DrawFn) -> str:
    """The example spec with random YAML syntax spliced in, cut out or repeated."""
    text = SPEC
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        how = draw(st.integers(0, 2))
        if how == 0:
            text = text[:at] + draw(st.sampled_from(YAMLISH) | st.text(max_size=6)) + text[at:]
        elif how == 1:
            text = text[:at] + text[at + draw(st.integers(1, 20)) :]
        else:
            text = text[:at] + text[at : at + draw(st.integers(1, 40))] * draw(st.integers(2, 5)) + text[at:]
    return text


@budget(100)
@given(text=yamlish())
def test_any_yaml_gives_a_spec_that_round_trips_or_a_spec_error(text: str) -> None:
    try:
        spec = load_spec(text, path="fuzz.yaml")
    except SpecError as exc:
        assert str(exc).startswith("fuzz.yaml")
        return
    again = load_spec(dump_spec(spec), path="again.yaml")
    assert again == spec and content_hash(again) == content_hash(spec)


# ---------------------------------------------------------------------------------------------- SQL compiler

HOSTILE = ["x'; DROP TABLE t; --", 'a"b', "/* c */", "*/", "--", ";", "select", "FROM", "\\", "\\'", "$$", "é",
           "\u202e", "NULL", "' OR '1'='1", "%s", "{0}", "`", "[x]", "\n"]  # fmt: skip
# unassigned code points (Cn) are left out: letters newer than this Python's Unicode tables, which DuckDB and Arrow
# may already lower-case
hostile_text = st.sampled_from([*HOSTILE, "İ", "ΑΣ"]) | st.text(
    alphabet=st.characters(blacklist_categories=["Cs", "Cc", "Cn"]), max_size=8
)
spec_words = hostile_text.filter(lambda s: s.strip(" \t\r\n") != "")
names = st.lists(hostile_text.filter(lambda s: s.strip() != ""), min_size=3, max_size=3, unique_by=str.lower)
AS_OF = dt.date(2026, 9, 30)


@st.composite
def spec_and_table(draw: st.DrawFn) -> tuple[ICPSpec, pa.Table]:
    text_field, num_field, list_field = draw(names)
    words = draw(st.lists(spec_words, min_size=1, max_size=3))
    lo = draw(st.integers(-5, 50))
    criteria = [
        Criterion(field=text_field, op=draw(st.sampled_from([Op.IN, Op.NOT_IN])), value=words, points=30),
        Criterion(field=text_field, op=Op.EQUALS, value=words[0], points=10),
        Criterion(field=num_field, op=Op.BETWEEN, value=[lo, lo + draw(st.integers(0, 50))], points=20),
        Criterion(field=list_field, op=draw(st.sampled_from([Op.CONTAINS_ANY, Op.CONTAINS_ALL])), value=words,
                  points=25),
        Criterion(field=list_field, op=Op.EXISTS, points=5),
    ]  # fmt: skip
    exclusion = Exclusion(field=text_field, op=Op.IN, value=[draw(spec_words)], reason=draw(hostile_text) or "x")
    spec = ICPSpec(name="fuzz", as_of=AS_OF, layers={"firmographic": criteria}, exclusions=[exclusion])
    cell = st.none() | st.sampled_from(words) | hostile_text
    n = draw(st.integers(1, 6))
    table = pa.table(
        {
            text_field: pa.array(draw(st.lists(cell, min_size=n, max_size=n)), pa.string()),
            num_field: pa.array(draw(st.lists(st.none() | st.floats(-10, 120), min_size=n, max_size=n)), pa.float64()),
            list_field: pa.array(draw(st.lists(st.none() | st.lists(cell, max_size=3), min_size=n, max_size=n)),
                                 pa.list_(pa.string())),
        }
    )  # fmt: skip
    return spec, table


def reference(spec: ICPSpec, table: pa.Table) -> list[tuple[Any, ...]]:
    return [(r.score, r.tier, r.route) for r in (score_record(spec, rec, as_of=AS_OF) for rec in table.to_pylist())]


@budget(25)
@given(case=spec_and_table(), dialect=st.sampled_from(["postgres", "snowflake", "bigquery", "spark", "tsql"]))
def test_compiled_sql_runs_on_duckdb_and_agrees_with_the_reference(
    case: tuple[ICPSpec, pa.Table], dialect: str
) -> None:
    spec, table = case
    columns = {table.column_names[0]: "VARCHAR", table.column_names[1]: "DOUBLE", table.column_names[2]: "VARCHAR[]"}
    sql = compile_sql(spec, dialect="duckdb", table="fuzz_input", columns=columns)
    con = duckdb.connect()
    try:
        con.register("fuzz_input", table)
        got = con.execute(f"SELECT score, tier, route FROM ({sql})").fetchall()
        assert con.execute("SELECT count(*) FROM fuzz_input").fetchone() == (table.num_rows,)
    finally:
        con.close()
    assert got == reference(spec, table)
    try:
        text = compile_sql(spec, dialect=dialect, columns={table.column_names[0]: "text"})
    except UnsupportedOperatorError:
        return
    assert len(sqlglot.parse(text, read=dialect)) == 1  # one statement, whatever the names and values hold
