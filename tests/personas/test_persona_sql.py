"""Personas in the compiled SQL: every dialect renders, spec text stays data, helper columns never leak."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from icpkit.score import score_record
from icpkit.score.dialects import DIALECTS
from icpkit.score.duckdb_engine import score_arrow
from icpkit.score.sql import compile_sql, output_columns
from icpkit.spec import load_spec

SPEC = load_spec(
    """\
name: p
layers:
  firmographic:
    - {field: industry, in: [software], points: 80}
personas:
  - {name: decision_maker, titles: ["VP'; DROP TABLE t; --", chief*], exclude_titles: [assistant], seniority: [vp]}
routing_rules:
  - {tier: [tier1], persona: [decision_maker], route: "sales'; DROP TABLE t; --"}
  - {persona: [none], route: research}
"""
)
COLUMNS = {"industry": "VARCHAR", "title": "VARCHAR", "seniority": "VARCHAR", "employees": "DOUBLE"}


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_every_dialect_renders_personas_and_rules(dialect: str) -> None:
    sql = compile_sql(SPEC, dialect=dialect, columns=COLUMNS)
    assert "persona_match" in sql and "research" in sql
    for needle in ("' vp drop table t '", "' chief'", "' assistant '"):  # patterns arrive as their words only
        assert needle in sql
    assert "[^A-Za-z0-9]+" in sql


def test_spec_text_is_data_and_helpers_do_not_leak() -> None:
    table = pa.table(
        {
            "industry": ["software", "software", "retail"],
            "title": ["VP drop-table t", "Assistant to the VP", None],
            "seniority": ["VP", None, None],
            "employees": [10.0, 20.0, 30.0],
        }
    )
    got = score_arrow(SPEC, table)
    assert got.column_names == [*table.column_names, *output_columns(SPEC)]
    assert got.column("route").to_pylist() == ["sales'; DROP TABLE t; --", "research", "research"]
    assert got.column("persona").to_pylist() == ["decision_maker", None, None]
    assert [score_record(SPEC, r).route for r in table.to_pylist()] == got.column("route").to_pylist()


def test_rescoring_a_scored_table_replaces_the_persona_columns() -> None:
    table = pa.table({"industry": ["software"], "title": ["Chief of Sales"], "persona": ["old"], "persona_match": [1]})
    got = score_arrow(SPEC, table)
    assert got.column_names.count("persona") == 1 and got.column("persona").to_pylist() == ["decision_maker"]


def test_a_view_over_the_query_runs_without_column_types() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE accounts (industry VARCHAR, title VARCHAR, seniority VARCHAR)")
    con.execute("INSERT INTO accounts VALUES ('software', 'CHIEF-EXECUTIVE', 'vp'), ('software', NULL, NULL)")
    rows = con.sql(compile_sql(SPEC, dialect="duckdb")).fetchall()
    names = [d[0] for d in con.sql(compile_sql(SPEC, dialect="duckdb")).description]
    by = [dict(zip(names, r, strict=True)) for r in rows]
    assert [(r["persona"], r["persona_match"]) for r in by] == [("decision_maker", 100), (None, 0)]
    assert not any(n.startswith("_icp_") for n in names)
