"""Spec values and field names never change what compiled SQL means, on real DuckDB and real PostgreSQL.

Each hostile string is used as a column name, as a value in ``in`` / ``equals`` / ``not_in`` / ``contains_any``
and in an exclusion; the query compiled for the engine must be one statement, leave a sentinel table intact and
give, row for row, the score, tier and route of the Python reference.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot

from icpkit.score import score_record
from icpkit.score.sql import compile_sql
from icpkit.spec import Criterion, Exclusion, ICPSpec, Op

HOSTILE = [
    "x'; DROP TABLE icp_sentinel; --",
    'a"b"; DROP TABLE icp_sentinel; --',
    "/* open comment",
    "*/ OR 1=1 --",
    "-- trailing comment",
    "; SELECT 1;",
    "select",
    "NULL",
    "\\'; DROP TABLE icp_sentinel; --",
    "back\\slash\\",
    "$$; DROP TABLE icp_sentinel; $$",
    "$q$ dollar $q$",
    "E'\\x41'",
    "%s %(x)s {0}",
    "`tick` [bracket]",
    "naïve café 日本 🚀",
    "\u202eevil",
    "two\nlines",
    "' OR '1'='1",
    "U&'\\0041'",
]
AS_OF = dt.date(2026, 9, 30)


def _case(s: str) -> tuple[ICPSpec, pa.Table, dict[str, str]]:
    text, items, number = s, f"{s} list", f"n {s}"
    spec = ICPSpec(
        name="injection",
        as_of=AS_OF,
        layers={
            "firmographic": [
                Criterion(field=text, op=Op.IN, value=[s, "other"], points=40),
                Criterion(field=text, op=Op.EQUALS, value=s, points=10),
                Criterion(field=number, op=Op.BETWEEN, value=[1, 10], points=20),
            ],
            "technographic": [Criterion(field=items, op=Op.CONTAINS_ANY, value=[s], points=30)],
        },
        exclusions=[
            Exclusion(field=text, op=Op.NOT_IN, value=[s, s.upper(), "other"], reason=f"{s} excluded"),
        ],
    )
    table = pa.table(
        {
            text: [s, s.upper(), f" {s} ", "other", "unrelated", None],
            items: pa.array([[s], ["x", s.upper()], None, [], ["other"], [s]], pa.list_(pa.string())),
            number: [5.0, 11.0, None, 1.0, 10.0, 0.0],
        }
    )
    return spec, table, {text: "text", items: "text[]", number: "double precision"}


def _reference(spec: ICPSpec, table: pa.Table) -> list[tuple[Any, ...]]:
    return [(r.score, r.tier, r.route) for r in (score_record(spec, rec, as_of=AS_OF) for rec in table.to_pylist())]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.mark.parametrize("s", HOSTILE)
def test_hostile_names_and_values_run_as_data_on_duckdb(s: str) -> None:
    spec, table, _ = _case(s)
    con = duckdb.connect()
    try:
        con.execute("CREATE TABLE icp_sentinel AS SELECT 42 AS x")
        con.register("injection_input", table)
        types = {r[0]: r[1] for r in con.execute("DESCRIBE injection_input").fetchall()}
        sql = compile_sql(spec, dialect="duckdb", table="injection_input", columns=types)
        assert len(duckdb.extract_statements(sql)) == 1
        got = con.execute(f"SELECT score, tier, route FROM ({sql})").fetchall()
        assert con.execute("SELECT x FROM icp_sentinel").fetchall() == [(42,)]
    finally:
        con.close()
    assert got == _reference(spec, table)
    assert [r[0] for r in got[:5:3]] == [100, 60] and got[4][1] == "excluded"  # the hostile value really matched


@pytest.mark.parametrize("s", HOSTILE)
def test_hostile_names_and_values_run_as_data_on_postgres(s: str, pg_conn: Any) -> None:
    spec, table, types = _case(s)
    pg_conn.execute("CREATE TEMP TABLE IF NOT EXISTS icp_sentinel (x int)")
    pg_conn.execute("DELETE FROM icp_sentinel")
    pg_conn.execute("INSERT INTO icp_sentinel VALUES (42)")
    pg_conn.execute("DROP TABLE IF EXISTS injection_input")
    pg_conn.execute(f"CREATE TEMP TABLE injection_input ({', '.join(f'{_ident(c)} {t}' for c, t in types.items())})")
    with pg_conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO injection_input VALUES (%s, %s, %s)", [tuple(r.values()) for r in table.to_pylist()]
        )
    sql = compile_sql(spec, dialect="postgres", table="injection_input", columns=types)
    assert len(sqlglot.parse(sql, read="postgres")) == 1
    with pg_conn.cursor() as cur:
        cur.execute(f"SELECT score, tier, route FROM ({sql}) AS scored")
        got = cur.fetchall()
    assert pg_conn.execute("SELECT x FROM icp_sentinel").fetchall() == [(42,)]
    assert got == _reference(spec, table)


@pytest.mark.parametrize("dialect", ["duckdb", "postgres", "snowflake", "bigquery", "spark", "tsql"])
def test_every_dialect_compiles_hostile_specs_to_one_statement(dialect: str) -> None:
    for s in HOSTILE:
        spec, _, types = _case(s)
        sql = compile_sql(spec, dialect=dialect, columns={c: "text" for c in types})
        assert len(sqlglot.parse(sql, read=dialect)) == 1, (dialect, s)
