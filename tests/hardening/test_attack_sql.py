"""The number pattern on 40 KB digit strings and hostile backslash literals, in the SQL of every runnable engine:
DuckDB, PostgreSQL (under both settings of ``standard_conforming_strings``) and Spark. Each must give the Python
reference's score on every row; the work stays linear (see ``test_regex_complexity.py``, which counts it)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from icpkit.score.sql import compile_sql
from icpkit.score.vector import score_table
from icpkit.spec.io import load_spec

HOSTILE_TEXT = ["a\\", "\\' OR 1=1 --", "x\\'; DROP TABLE icp_sentinel; --", "\\\\", "E'\\x41'", "Software"]
SPEC = load_spec(
    "name: attack\nversion: 1\nlayers:\n  firmographic:\n"
    "    - {field: employees, gte: 10, points: 40}\n"
    "    - {field: industry, in: " + "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in HOSTILE_TEXT) + "]"
    ", points: 60}\n"
    "tiers: {tier1: 90, tier2: 50, tier3: 30}\n"
)
DIGITS = 40_000
# a 40,000-digit number itself is left out: PostgreSQL refuses to cast it to double precision (out of range),
# where the others read infinity; a known gap, see docs/reliability.md
EMPLOYEES = ["1" * DIGITS + "x", "1" * 300, "9" * 300 + "e", "1" * DIGITS + "." + "1" * DIGITS + "e", "12.5", "1e3"]
TABLE = pa.table(
    {
        "account_id": [f"a{i}" for i in range(len(EMPLOYEES) * 2)],
        "employees": EMPLOYEES * 2,
        "industry": [*HOSTILE_TEXT, "other", "a", "x", "\\", "'", "e"],
    }
)


def _scores(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return sorted((r["account_id"], int(r["score"])) for r in rows)


REFERENCE = _scores(score_table(SPEC, TABLE).to_pylist())


def test_the_reference_reads_the_numbers_it_should() -> None:
    # employees >= 10 (40 points) only where the whole cell is a number; every hostile industry matches (60) as text
    assert [score for _, score in sorted(REFERENCE, key=lambda r: int(r[0][1:]))] == [
        *[60, 100, 60, 60, 100, 100],
        *[0, 40, 0, 0, 40, 40],
    ]


def test_duckdb() -> None:
    from icpkit.score.duckdb_engine import score_arrow

    assert _scores(score_arrow(SPEC, TABLE).to_pylist()) == REFERENCE


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_postgres(pg_conn: Any, conforming: str) -> None:
    pg_conn.execute("CREATE TEMP TABLE IF NOT EXISTS icp_sentinel (x int)")
    pg_conn.execute("CREATE TEMP TABLE icp_attack (account_id text, employees text, industry text)")
    try:
        with pg_conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO icp_attack VALUES (%s, %s, %s)", [tuple(r.values()) for r in TABLE.to_pylist()]
            )
        pg_conn.execute(f"SET standard_conforming_strings = {conforming}")
        query = compile_sql(
            SPEC, dialect="postgres", table="icp_attack", columns=dict.fromkeys(TABLE.column_names, "text")
        )
        with pg_conn.cursor() as cur:
            cur.execute(query)
            names = [d.name for d in cur.description]
            rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        assert _scores(rows) == REFERENCE
        assert pg_conn.execute("SELECT count(*) FROM icp_sentinel").fetchone() == (0,)
    finally:
        pg_conn.execute("SET standard_conforming_strings = on")
        pg_conn.execute("DROP TABLE icp_attack")


def test_spark(spark_session: Any) -> None:
    from icpkit.score.spark import score_arrow

    assert _scores(score_arrow(SPEC, TABLE).to_pylist()) == REFERENCE
