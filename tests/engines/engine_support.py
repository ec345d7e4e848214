"""Engine runners shared by the engine tests: each scores an Arrow table to plain rows of outputs.

Ibis-style: each engine scores an Arrow table to plain rows, and tests compare every output field of every row with
the Python reference. PostgreSQL is a real server started by ``scripts/postgres.sh`` (or ``ICPKIT_PG_DSN``); Spark
is one local session for the whole test session.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from icpkit.score import score_table
from icpkit.score.duckdb_engine import arrow_zones
from icpkit.score.sql import compile_sql
from icpkit.spec import ICPSpec

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = ("score", "tier", "route", "matched", "unknown", "exclusions_hit", "persona", "persona_match")


def load_strategies() -> Any:
    """The random specs × typed records strategies of tests/score, shared rather than copied."""
    path = REPO / "tests" / "score" / "test_engines_agree.py"
    spec = importlib.util.spec_from_file_location("_icp_agree_strategies", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class EngineRunner:
    name: str
    run: Callable[..., list[dict[str, Any]]]

    def __call__(
        self, spec: ICPSpec, table: pa.Table, as_of: dt.date | None = None, *, explain: bool = True
    ) -> list[dict[str, Any]]:
        """Rows of outputs; ``explain=False`` compiles the query without explanation columns (a leaner query)."""
        return self.run(spec, table, as_of, explain=explain)


def outputs_only(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k in OUTPUTS or k.startswith("layer_")} for r in rows]


def _python(spec: ICPSpec, table: pa.Table, as_of: dt.date | None, *, explain: bool = True) -> list[dict[str, Any]]:
    return outputs_only(score_table(spec, table, as_of=as_of, explain=explain).to_pylist())


def _duckdb(spec: ICPSpec, table: pa.Table, as_of: dt.date | None, *, explain: bool = True) -> list[dict[str, Any]]:
    from icpkit.score.duckdb_engine import score_arrow

    return outputs_only(score_arrow(spec, table, as_of=as_of, explain=explain).to_pylist())


# ---------------------------------------------------------------------------------------------- postgres

_PG_TYPES = {
    pa.string(): "text",
    pa.large_string(): "text",
    pa.float64(): "double precision",
    pa.int64(): "bigint",
    pa.bool_(): "boolean",
    pa.date32(): "date",
    pa.timestamp("us"): "timestamp",
    pa.timestamp("us", tz="UTC"): "timestamptz",
    pa.timestamp("us", tz="America/New_York"): "timestamptz",
    pa.list_(pa.string()): "text[]",
    pa.null(): "text",
}
_tables = itertools.count()


def _pg_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def postgres_load(conn: Any, table: pa.Table) -> tuple[str, dict[str, str]]:
    """A temporary table typed like the Arrow table, holding its rows; returns its name and column types."""
    name = f"icp_t{next(_tables)}"
    types = {f.name: _PG_TYPES[f.type] for f in table.schema}
    cols = ", ".join(f"{_pg_ident(c)} {t}" for c, t in types.items())
    conn.execute(f"CREATE TEMP TABLE {name} ({cols})")
    if table.num_rows:
        marks = ", ".join(["%s"] * len(types))
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {name} VALUES ({marks})", [tuple(r.values()) for r in table.to_pylist()])
    return name, types


def postgres_rows(conn: Any, table: pa.Table, sql_for: Callable[[str, dict[str, str]], str]) -> list[dict[str, Any]]:
    """``table`` loaded into a temporary table, the query ``sql_for(name, column types)`` run on it, as dicts."""
    name, types = postgres_load(conn, table)
    try:
        with conn.cursor() as cur:
            cur.execute(sql_for(name, types))
            names = [d.name for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        conn.execute(f"DROP TABLE {name}")


def _postgres_runner(conn: Any) -> Callable[..., list[dict[str, Any]]]:
    def run(spec: ICPSpec, table: pa.Table, as_of: dt.date | None, *, explain: bool = True) -> list[dict[str, Any]]:
        rows = postgres_rows(
            conn,
            table,
            lambda name, types: compile_sql(
                spec,
                dialect="postgres",
                table=name,
                as_of=as_of,
                columns=types,
                explain=explain,
                zones=arrow_zones(table.schema),
            ),
        )
        return outputs_only(rows)

    return run


# ---------------------------------------------------------------------------------------------- spark


def _spark(spec: ICPSpec, table: pa.Table, as_of: dt.date | None, *, explain: bool = True) -> list[dict[str, Any]]:
    from icpkit.score.spark import score_arrow

    return outputs_only(score_arrow(spec, table, as_of=as_of, explain=explain).to_pylist())
