"""Spec values and field names are data: quotes, semicolons, comments and keywords compile to literals and quoted
identifiers, and DuckDB and PostgreSQL execute the query with the same result as the reference."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from engine_support import EngineRunner

from icpkit.score import score_record
from icpkit.score.sql import compile_sql
from icpkit.spec import Criterion, Exclusion, ICPSpec

NASTY = [
    "x'; DROP TABLE accounts; --",
    'a"b',
    "/* comment */ 1=1",
    "select",
    "') OR 1=1 --",
    "\\'; --",
    "$$; DROP TABLE accounts; $$",
]
FIELDS = ["select", 'we"ird', "from; drop table accounts --", "Order", "a b"]


def _spec() -> ICPSpec:
    return ICPSpec(
        name="evil",
        as_of=dt.date(2026, 9, 30),
        layers={
            "firmographic": [
                Criterion(field=FIELDS[0], op="in", value=NASTY, points=30),
                Criterion(field=FIELDS[1], op="equals", value=NASTY[1], points=20),
                Criterion(field=FIELDS[2], op="not_in", value=[NASTY[3]], points=20),
                Criterion(field=FIELDS[3], op="contains_any", value=NASTY[4:], points=20),
            ]
        },
        exclusions=[Exclusion(field=FIELDS[4], op="in", value=[NASTY[0]], reason="'; DROP TABLE x; --")],
    )


def _table() -> pa.Table:
    return pa.table(
        {
            FIELDS[0]: [NASTY[0], "ok", None, NASTY[2]],
            FIELDS[1]: ['A"B', "x", None, 'a"b '],
            FIELDS[2]: ["SELECT", "other", None, "x"],
            FIELDS[3]: pa.array([[NASTY[4]], ["x"], None, [NASTY[5].upper()]], pa.list_(pa.string())),
            FIELDS[4]: [None, NASTY[0], "x", NASTY[0]],
        }
    )


def test_values_and_names_are_quoted_in_every_dialect() -> None:
    for dialect in ("duckdb", "postgres", "snowflake", "bigquery", "spark"):
        sql = compile_sql(_spec(), dialect=dialect, columns={c: "text" for c in FIELDS[:3]} | {FIELDS[3]: "list"})
        assert "DROP TABLE accounts; --'" not in sql.replace("''", "")  # never a closed literal followed by code


@pytest.mark.parametrize("engine", ["python", "duckdb", "postgres", "spark"], indirect=True)
def test_malicious_spec_runs_as_data(engine: EngineRunner, request: pytest.FixtureRequest) -> None:
    table = _table()
    got = engine(_spec(), table)
    want = []
    for record in table.to_pylist():
        r = score_record(_spec(), record).as_dict()
        layers = {f"layer_{k}": v for k, v in r.pop("layer_scores").items()}
        want.append({**r, **layers})
    assert got == want
    assert [r["score"] for r in got] == [70, 20, 0, 90]
    if engine.name == "postgres":  # the server is intact: the sentinel table still answers
        conn = request.getfixturevalue("pg_conn")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS accounts (x int)")
        assert conn.execute("SELECT count(*) FROM accounts").fetchone() == (0,)
