"""PostgreSQL computes each clause once per segment: its planner does not pull the query's stages up into one
expression per output (which repeated a clause ~10 times in a single-ICP plan and ~400 times in a 3-segment one)."""

from __future__ import annotations

from typing import Any

import pytest

from icpkit.score.segments import compile_segments_sql
from icpkit.score.sql import compile_sql
from icpkit.spec import ICPSpec, Segment

COLUMNS = {"industry": "text", "employees": "double precision", "tech_stack": "text[]"}
SPEC = ICPSpec.model_validate(
    {
        "name": "stages",
        "as_of": "2026-09-30",
        "layers": {
            "firmographic": [
                {"field": "industry", "op": "in", "value": ["zzindustry"], "points": 60},
                {"field": "employees", "op": "gte", "value": 50, "points": 40},
            ]
        },
        "exclusions": [{"field": "tech_stack", "op": "contains_any", "value": ["zzstack"], "reason": "r"}],
    }
)


@pytest.fixture
def accounts(pg_conn: Any) -> Any:
    pg_conn.execute("CREATE TEMP TABLE stage_accounts (industry text, employees double precision, tech_stack text[])")
    yield "stage_accounts"
    pg_conn.execute("DROP TABLE stage_accounts")


def _clause_copies(conn: Any, sql: str) -> tuple[int, int]:
    plan = "\n".join(row[0] for row in conn.execute("EXPLAIN (VERBOSE) " + sql).fetchall())
    return plan.count("zzindustry"), plan.count("zzstack")


@pytest.mark.parametrize("segments", [0, 1, 3])
def test_each_clause_is_planned_once_per_segment(pg_conn: Any, accounts: str, segments: int) -> None:
    if segments == 0:
        sql = compile_sql(SPEC, dialect="postgres", table=accounts, columns=COLUMNS)
    else:
        spec = ICPSpec(
            name="segmented",
            as_of=SPEC.as_of,
            segments=[Segment(name=f"s{k}", layers=SPEC.layers, exclusions=SPEC.exclusions) for k in range(segments)],
        )
        sql = compile_segments_sql(spec, dialect="postgres", table=accounts, columns=COLUMNS)
    assert _clause_copies(pg_conn, sql) == (max(segments, 1), max(segments, 1))
