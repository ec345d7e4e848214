"""PostgreSQL: the scoring query with each stage fenced (``OFFSET 0``, what icpkit renders) against the same query
unfenced, which the planner pulls up into one expression per output that repeats every clause.

    python bench/pg_stages.py [--rows 20000] [--segments 1,3] [--timeout 120]

Needs a PostgreSQL server: ``ICPKIT_PG_DSN``, or one started by ``scripts/postgres.sh``. The baseline is the
unfenced query (plain SQLGlot rendering of the same expression), timed with JIT off and on; a run past
``--timeout`` seconds is cancelled and shown as ``>timeout``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import time
from pathlib import Path

COLUMNS = {
    "industry": "text",
    "employees": "double precision",
    "seats": "bigint",
    "size_text": "text",
    "tech_stack": "text[]",
    "flag": "boolean",
    "funded": "date",
}
AS_OF = dt.date(2026, 9, 30)


def _spec(segments: int):  # type: ignore[no-untyped-def]
    """A spec of ``segments`` segments, each 3 layers x 3 criteria with conjunctions, over every column kind."""
    from icpkit.spec import ICPSpec, Segment

    def criteria(k: int, layer: int) -> list[dict]:
        base = k * 10 + layer * 3
        return [
            {
                "field": "industry",
                "op": "in",
                "value": [f"industry{base % 7}", "Software"],
                "points": 9,
                "also": [{"field": "employees", "op": "between", "value": [base, 500 + base]}],
            },
            {
                "field": "tech_stack",
                "op": "contains_any",
                "value": [f"tool{base % 5}", "HubSpot"],
                "points": 7,
                "also": [{"field": "size_text", "op": "gte", "value": base}],
            },
            {
                "field": "funded",
                "op": "within_days",
                "value": 180 + base,
                "points": 11,
                "also": [
                    {"field": "flag", "op": "is_true", "value": True},
                    {"field": "seats", "op": "lte", "value": 400},
                ],
            },
        ]

    layers = ("firmographic", "technographic", "trigger")
    segs = [
        Segment.model_validate(
            {
                "name": f"segment{k}",
                "layers": {name: criteria(k, j) for j, name in enumerate(layers)},
                "exclusions": [{"field": "industry", "op": "in", "value": [f"banned{k}"], "reason": "policy"}],
            }
        )
        for k in range(segments)
    ]
    if segments == 1:
        return ICPSpec.model_validate({"name": "bench", "as_of": AS_OF, "layers": segs[0].layers})
    return ICPSpec(name="bench", as_of=AS_OF, segments=segs)


def _dsn() -> str:
    if os.environ.get("ICPKIT_PG_DSN"):
        return os.environ["ICPKIT_PG_DSN"]
    script = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"
    return subprocess.run([str(script)], capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]


def _load(conn, rows: int) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    rng = np.random.default_rng(0)
    conn.execute("DROP TABLE IF EXISTS bench_stages")
    conn.execute("CREATE TABLE bench_stages (" + ", ".join(f'"{c}" {t}' for c, t in COLUMNS.items()) + ")")
    industries = np.array(["Software", "Retail", *(f"industry{i}" for i in range(7)), " software ", ""])
    tools = np.array(["HubSpot", "Salesforce", *(f"tool{i}" for i in range(5))])
    with conn.cursor().copy("COPY bench_stages FROM STDIN") as copy:
        for _ in range(rows):
            copy.write_row(
                (
                    str(rng.choice(industries)),
                    float(rng.integers(1, 5000)),
                    int(rng.integers(0, 600)),
                    str(rng.integers(0, 300)),
                    [str(t) for t in rng.choice(tools, size=int(rng.integers(0, 4)))],
                    bool(rng.integers(0, 2)),
                    AS_OF - dt.timedelta(days=int(rng.integers(0, 700))),
                )
            )
    conn.execute("ANALYZE bench_stages")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--segments", default="1,3")
    ap.add_argument("--timeout", type=int, default=120)
    args = ap.parse_args()

    import psycopg

    from icpkit.score.sql import compile_expression, render

    conn = psycopg.connect(_dsn(), autocommit=True)
    conn.execute(f"SET statement_timeout = '{args.timeout}s'")
    _load(conn, args.rows)

    def timed(sql: str) -> float | None:
        start = time.perf_counter()
        try:
            conn.execute(f"SELECT sum(length(scored::text)) FROM ({sql}) AS scored").fetchone()  # every column
        except psycopg.errors.QueryCanceled:
            return None
        return time.perf_counter() - start

    def shown(t: float | None) -> str:
        return f">{args.timeout}s" if t is None else f"{t:.2f}s"

    print(f"{args.rows} rows; baseline: the same query unfenced")
    print(f"{'spec':<14}{'jit':<5}{'unfenced':>11}{'fenced':>10}{'ratio':>10}")
    for k in (int(s) for s in args.segments.split(",")):
        expression = compile_expression(_spec(k), dialect="postgres", table="bench_stages", columns=COLUMNS)
        fenced, unfenced = render(expression, "postgres"), expression.sql(dialect="postgres")
        for jit in ("off", "on"):
            conn.execute(f"SET jit = {jit}")
            base, new = timed(unfenced), timed(fenced)
            ratio = f"{base / new:.1f}x" if base and new else (f">{args.timeout / new:.0f}x" if new else "-")
            name = f"{k} segment{'s' if k > 1 else ''}"
            print(f"{name:<14}{jit:<5}{shown(base):>11}{shown(new):>10}{ratio:>10}", flush=True)
    conn.execute("DROP TABLE bench_stages")


if __name__ == "__main__":
    main()
