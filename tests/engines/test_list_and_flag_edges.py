"""Empty and null lists, and flags listed with both values, on every engine: the outcomes docs/reference.md states.

An empty list is a known empty set (``contains_any`` / ``contains_all`` no, ``contains_none`` yes, ``exists`` no),
a null list is unknown (``exists`` no); the scalar operators read a list as no. ``in`` / ``not_in`` /
``contains_*`` listing both ``true`` and ``false`` are decided for every present flag and unknown for a missing one
(the SQL compiler once read a missing flag as no there, so ``not_in: [true, false]`` matched and excluded it).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from engine_support import EngineRunner
from test_agree import _reference

from icpkit.spec import ICPSpec

LISTS = pa.schema([("tech_stack", pa.list_(pa.string())), ("employees", pa.float64())])
LIST_ROWS = {"empty": [], "null": None, "blank items": [None, "  "], "one item": [" HubSpot"]}
YES, NO, UNKNOWN = "yes", "no", "unknown"
# operator -> (value, outcome on each row of LIST_ROWS)
LIST_CASES: dict[str, tuple[Any, dict[str, str]]] = {
    "contains_any": (["hubspot", "Salesforce"], {"empty": NO, "null": UNKNOWN, "blank items": NO, "one item": YES}),
    "contains_all": (["hubspot", "Salesforce"], {"empty": NO, "null": UNKNOWN, "blank items": NO, "one item": NO}),
    "contains_none": (["hubspot", "Salesforce"], {"empty": YES, "null": UNKNOWN, "blank items": YES, "one item": NO}),
    "exists": (True, {"empty": NO, "null": NO, "blank items": NO, "one item": YES}),
    "in": (["hubspot"], {"empty": NO, "null": UNKNOWN, "blank items": NO, "one item": NO}),
    "not_in": (["hubspot"], {"empty": NO, "null": UNKNOWN, "blank items": NO, "one item": NO}),
    "equals": ("hubspot", {"empty": NO, "null": UNKNOWN, "blank items": NO, "one item": NO}),
    "between": ([0, 10], {"empty": NO, "null": UNKNOWN, "blank items": NO, "one item": NO}),
}


def _one_clause_spec(field: str, op: str, value: Any) -> ICPSpec:
    """The clause as a criterion in a conjunction with a known yes, and as an exclusion."""
    clause = {"field": field, "op": op, "value": value}
    also = [{"field": "employees", "op": "lte", "value": 0}]
    return ICPSpec.model_validate(
        {
            "name": "edges",
            "as_of": "2026-09-30",
            "layers": {
                "firmographic": [{"field": "employees", "op": "lte", "value": 0, "points": 35}],
                "technographic": [
                    {"field": "employees", "op": "lte", "value": 0, "points": 1},
                    {**clause, "points": 14, "also": also},
                ],
            },
            "exclusions": [{**clause, "reason": "edge"}],
        }
    )


def _outcome(row: dict[str, Any]) -> str:
    if "technographic.1" in row["matched"]:
        return YES
    return UNKNOWN if "technographic.1" in row["unknown"] else NO


def _excluded(row: dict[str, Any]) -> str:
    if row["exclusions_hit"]:
        return YES
    return UNKNOWN if "exclusion.0" in row["unknown"] else NO


def _case(field: str, op: str, value: Any, rows: dict[str, Any], schema: pa.Schema) -> tuple[ICPSpec, pa.Table]:
    """The one-clause spec on ``field`` and a table of ``rows`` (name -> value of the field)."""
    table = pa.Table.from_pylist([{field: v, "employees": -1.0} for v in rows.values()], schema=schema)
    return _one_clause_spec(field, op, value), table


def _check(
    engine: EngineRunner, spec: ICPSpec, table: pa.Table, rows: dict[str, Any], outcomes: dict[str, str]
) -> list[dict[str, Any]]:
    """The engine's rows: equal to the reference's, with the stated outcome as a criterion and as an exclusion."""
    got = engine(spec, table)
    assert got == _reference(spec, table)
    assert {name: _outcome(r) for name, r in zip(rows, got, strict=True)} == outcomes
    assert {name: _excluded(r) for name, r in zip(rows, got, strict=True)} == outcomes
    return got


@pytest.mark.parametrize("op", list(LIST_CASES))
def test_empty_and_null_lists_on_every_operator(engine: EngineRunner, op: str) -> None:
    value, outcomes = LIST_CASES[op]
    spec, table = _case("tech_stack", op, value, LIST_ROWS, LISTS)
    got = _check(engine, spec, table, LIST_ROWS, outcomes)
    assert [r["score"] for r in got] == [36 + (14 if outcomes[name] == YES else 0) for name in LIST_ROWS]


FLAGS = pa.schema([("flag", pa.bool_()), ("employees", pa.float64())])
FLAG_ROWS = {"missing": None, "true": True, "false": False}
BOTH = [True, False]
FLAG_CASES: dict[str, tuple[Any, dict[str, str]]] = {
    "in": (BOTH, {"missing": UNKNOWN, "true": YES, "false": YES}),
    "not_in": (BOTH, {"missing": UNKNOWN, "true": NO, "false": NO}),
    "contains_any": (BOTH, {"missing": UNKNOWN, "true": YES, "false": YES}),
    "contains_none": (BOTH, {"missing": UNKNOWN, "true": NO, "false": NO}),
    "contains_all": (BOTH, {"missing": UNKNOWN, "true": NO, "false": NO}),
    "equals": (False, {"missing": UNKNOWN, "true": NO, "false": YES}),
}


@pytest.mark.parametrize("op", list(FLAG_CASES))
def test_flags_listed_with_both_values(engine: EngineRunner, op: str) -> None:
    value, outcomes = FLAG_CASES[op]
    spec, table = _case("flag", op, value, FLAG_ROWS, FLAGS)
    _check(engine, spec, table, FLAG_ROWS, outcomes)


@pytest.mark.parametrize("dialect", ["materialize", "risingwave"])
@pytest.mark.parametrize("op", ["contains_any", "contains_all", "contains_none", "exists"])
def test_postgres_like_dialects_of_the_generic_rendering(pg_conn: Any, dialect: str, op: str) -> None:
    """Dialects on the generic array rendering that PostgreSQL also runs: ``ARRAY_LENGTH(list, 1)`` of a list where
    no item matches is NULL there, which must read as no (it once read as unknown), and a null list stays unknown."""
    from engine_support import postgres_rows

    from icpkit.score.sql import compile_sql

    value, outcomes = LIST_CASES[op]
    spec, table = _case("tech_stack", op, value, LIST_ROWS, LISTS)
    got = postgres_rows(pg_conn, table, lambda name, cols: compile_sql(spec, dialect=dialect, table=name, columns=cols))
    want = _reference(spec, table)
    assert [{k: r[k] for k in w} for r, w in zip(got, want, strict=True)] == want
    assert {name: _outcome(r) for name, r in zip(LIST_ROWS, got, strict=True)} == outcomes
