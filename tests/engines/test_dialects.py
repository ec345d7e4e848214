"""One case per operator per dialect, SQLGlot-style: the rendering each dialect gets, or the error it must raise."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlglot

from icpkit.errors import UnsupportedOperatorError
from icpkit.score.dialects import DIALECTS, rules_for
from icpkit.score.sql import column_kind, compile_sql, output_columns
from icpkit.spec import Criterion, ICPSpec, Op

AS_OF = dt.date(2026, 9, 30)
DIALECT_NAMES = ["duckdb", "postgres", "snowflake", "bigquery", "redshift", "spark", "databricks", "trino"]

# operator -> (field, its type, spec value)
OPERATORS: dict[Op, tuple[str, str, Any]] = {
    Op.EQUALS: ("industry", "text", "Software"),
    Op.IN: ("industry", "text", ["Software", "Fintech"]),
    Op.NOT_IN: ("business_model", "text", ["B2C"]),
    Op.BETWEEN: ("employees", "float", [50, 500]),
    Op.GTE: ("employees", "float", 50),
    Op.LTE: ("employees", "float", 500),
    Op.CONTAINS_ANY: ("tech_stack", "list", ["Salesforce", "HubSpot"]),
    Op.CONTAINS_ALL: ("tech_stack", "list", ["Salesforce", "HubSpot"]),
    Op.CONTAINS_NONE: ("tech_stack", "list", ["Marketo"]),
    Op.IS_TRUE: ("demo_requested", "bool", True),
    Op.IS_FALSE: ("demo_requested", "bool", True),
    Op.EXISTS: ("tech_stack", "list", True),
    Op.WITHIN_DAYS: ("last_funding_date", "date", 180),
}

# What each (operator, dialect) must contain; UnsupportedOperatorError where the dialect cannot express it.
EXPECTED: dict[tuple[Op, str], str | type[Exception]] = {
    (Op.CONTAINS_ANY, "duckdb"): "ARRAY_CONTAINS(",
    (Op.CONTAINS_ANY, "postgres"): "EXISTS(SELECT 1 FROM UNNEST(",
    (Op.CONTAINS_ANY, "spark"): "EXISTS(`tech_stack`, _icp_item ->",
    (Op.CONTAINS_ANY, "bigquery"): "EXISTS(SELECT 1 FROM UNNEST(`tech_stack`)",
    (Op.CONTAINS_ANY, "snowflake"): "ARRAY_SIZE(FILTER(tech_stack",
    (Op.CONTAINS_ANY, "redshift"): "STRPOS(';' || REGEXP_REPLACE(",
    (Op.EXISTS, "redshift"): "COALESCE(",
    (Op.WITHIN_DAYS, "duckdb"): "BETWEEN CAST('2026-04-03' AS DATE) AND CAST('2026-09-30' AS DATE)",
    (Op.BETWEEN, "postgres"): "NULLIF(\"employees\", CAST('NaN' AS DOUBLE PRECISION))",
    (Op.BETWEEN, "bigquery"): "IS_NAN(`employees`)",
    (Op.IN, "postgres"): "NULLIF(LOWER(TRIM(",
}


def _spec(op: Op, field: str, value: Any) -> ICPSpec:
    return ICPSpec(
        name="t", as_of=AS_OF, layers={"firmographic": [Criterion(field=field, op=op, value=value, points=50)]}
    )


@pytest.mark.parametrize("dialect", DIALECT_NAMES)
@pytest.mark.parametrize("op", list(Op))
def test_every_operator_renders_in_every_dialect(op: Op, dialect: str) -> None:
    field, kind, value = OPERATORS[op]
    spec = _spec(op, field, value)
    expected = EXPECTED.get((op, dialect))
    if isinstance(expected, type):
        with pytest.raises(expected):
            compile_sql(spec, dialect=dialect, columns={field: kind})
        return
    sql = compile_sql(spec, dialect=dialect, columns={field: kind}, as_of=AS_OF)
    if expected:
        assert expected in sql
    # the output parses back in its own dialect: well-formed, one statement (pinned, and counted from CURRENT_DATE)
    assert len(sqlglot.parse(sql, read=rules_for(dialect).name)) == 1
    moving = compile_sql(spec, dialect=dialect, columns={field: kind})
    assert len(sqlglot.parse(moving, read=rules_for(dialect).name)) == 1
    assert ("CURRENT_DATE" in moving.upper()) == (op == Op.WITHIN_DAYS)
    if dialect in ("spark", "databricks", "bigquery"):
        assert "&&" not in sql  # list_has_any's rendering, which Spark rejects


def test_redshift_multi_valued_fields_are_delimited_text_and_refuse_numbers() -> None:
    spec = _spec(Op.CONTAINS_ANY, "tech_stack", ["HubSpot", 5])
    with pytest.raises(UnsupportedOperatorError, match="only text items"):
        compile_sql(spec, dialect="redshift", columns={"tech_stack": "list"})
    spec = _spec(Op.CONTAINS_ANY, "tech_stack", ["a;b"])
    with pytest.raises(UnsupportedOperatorError, match="';'"):
        compile_sql(spec, dialect="redshift", columns={"tech_stack": "list"})
    sql = compile_sql(_spec(Op.CONTAINS_ANY, "tech_stack", ["HubSpot"]), dialect="redshift")
    assert "matched" in sql and "ARRAY" not in sql.upper().replace("ARRAY_", "")


def test_unknown_dialect_is_an_engine_error() -> None:
    with pytest.raises(UnsupportedOperatorError, match="unknown SQL dialect"):
        compile_sql(_spec(Op.EXISTS, "x", True), dialect="cobol")


def test_dialect_without_arrays_fails_loudly() -> None:
    with pytest.raises(UnsupportedOperatorError):
        compile_sql(_spec(Op.CONTAINS_ANY, "tech_stack", ["a"]), dialect="mysql")


def test_within_days_reads_current_date_unless_pinned() -> None:
    """Unpinned, a view counts back from CURRENT_DATE, so it is still right tomorrow; pinned, from date literals."""
    spec = ICPSpec(
        name="t", as_of=AS_OF, layers={"trigger": [Criterion(field="d", op="within_days", value=3, points=5)]}
    )
    assert "CURRENT_DATE" in compile_sql(spec) and "2026-09-" not in compile_sql(spec)
    pinned = compile_sql(spec, as_of=AS_OF)
    assert "2026-09-27" in pinned and "CURRENT_DATE" not in pinned


def test_column_kinds_from_every_engines_type_names() -> None:
    cases = {
        "VARCHAR": "text",
        "text": "text",
        "string": "text",
        "large_string": "text",
        "DOUBLE": "float",
        "double precision": "float",
        "float64": "float",
        "BIGINT": "number",
        "int64": "number",
        "DECIMAL(18,2)": "number",
        "BOOLEAN": "bool",
        "bool": "bool",
        "DATE": "date",
        "date32[day]": "date",
        "TIMESTAMP WITH TIME ZONE": "timestamp",
        "VARCHAR[]": "list",
        "text[]": "list",
        "array<string>": "list",
        "list<item: string>": "list",
        '"NULL"': "null",
        "void": "null",
        "STRUCT(a INT)": "other",
    }
    assert {t: column_kind(t) for t in cases} == cases


def test_output_columns_and_documented_dialects() -> None:
    spec = _spec(Op.EXISTS, "x", True)
    assert output_columns(spec) == [
        "score",
        "tier",
        "route",
        "layer_firmographic",
        "matched",
        "unknown",
        "exclusions_hit",
    ]
    assert set(DIALECTS) >= {"duckdb", "postgres", "snowflake", "bigquery", "redshift", "spark"}
    doc = __import__("icpkit.score.dialects", fromlist=["x"]).__doc__
    assert all(name in doc for name in DIALECTS)
