"""Every engine returns the reference's score, tier, route, layer scores and explanation, row for row.

Random specs over every operator (with conjunctions, exclusions and tiers) × random typed records (missing
values, NaN, boundary numbers, mixed case and whitespace, empty and null lists, dates at the edges of
``within_days``, numeric / yes-no / ISO-date text read leniently) — the strategies of tests/score.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest
from engine_support import EngineRunner, load_strategies, outputs_only
from hypothesis import HealthCheck, assume, example, given, settings

from icpkit.score import score_record
from icpkit.score.sql import EXPLAIN_COLUMNS
from icpkit.spec import ICPSpec

S = load_strategies()
EXAMPLES = {"python": 200, "duckdb": 200, "postgres": 150, "spark": 12}

# Found by a random draw (in a segmented spec, on PostgreSQL): the SQL read a missing flag against
# ``not_in: [true, false]`` as a yes, and as a hit when it was an exclusion. Replayed on every run.
FOUND_SPEC = ICPSpec.model_validate(
    {
        "name": "found",
        "as_of": S.AS_OF,
        "layers": {
            "technographic": [
                {"field": "employees", "op": "lte", "value": 0, "points": 35},
                {"field": "flag", "op": "not_in", "value": [True, False], "points": 14},
            ]
        },
        "exclusions": [{"field": "flag", "op": "contains_none", "value": [False, True], "reason": "r"}],
    }
)
FOUND_ROWS = [{**dict.fromkeys(S.FIELDS), "tech_stack": [], "employees": -1.0, "funded": S.AS_OF}]


def _reference(spec: ICPSpec, table: pa.Table, as_of: dt.date | None = S.AS_OF) -> list[dict[str, Any]]:
    out = []
    for record in table.to_pylist():
        r = score_record(spec, record, as_of=as_of).as_dict()
        layers = {f"layer_{k}": v for k, v in r.pop("layer_scores").items()}
        out.append({**r, **layers})
    return out


def test_engines_agree_with_the_reference(engine: EngineRunner) -> None:
    @settings(
        max_examples=EXAMPLES[engine.name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @example(spec=FOUND_SPEC, rows=FOUND_ROWS)
    @given(spec=S.specs(), rows=S.records)
    def check(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(rows, schema=S.SCHEMA)
        got = engine(spec, table, S.AS_OF)
        want = _reference(spec, table)
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g == w, f"row {i}: {rows[i]}"

    check()


def test_scores_without_explanations_agree(engine: EngineRunner) -> None:
    """The leaner query compiled without explanation columns gives the reference's score, tier, route and layers."""

    @settings(
        max_examples=EXAMPLES[engine.name] // 2,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @example(spec=FOUND_SPEC, rows=FOUND_ROWS)
    @given(spec=S.specs(), rows=S.records)
    def check(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(rows, schema=S.SCHEMA)
        got = engine(spec, table, S.AS_OF, explain=False)
        want = [{k: v for k, v in r.items() if k not in EXPLAIN_COLUMNS} for r in _reference(spec, table)]
        assert got == want

    check()


@pytest.mark.parametrize("rows", [0, 1])
def test_empty_and_single_row_tables(engine: EngineRunner, rows: int) -> None:
    spec = _fixed_spec()
    table = pa.Table.from_pylist([{"industry": " SOFTWARE", "employees": 50.0}][:rows], schema=_SCHEMA)
    assert engine(spec, table, S.AS_OF) == _reference(spec, table)


_SCHEMA = pa.schema([("industry", pa.string()), ("employees", pa.float64())])


def _fixed_spec() -> ICPSpec:
    return ICPSpec.model_validate(
        {
            "name": "fixed",
            "layers": {
                "firmographic": [
                    {"field": "industry", "op": "in", "value": ["Software"], "points": 60},
                    {"field": "employees", "op": "between", "value": [50, 500], "points": 40},
                ]
            },
            "exclusions": [{"field": "industry", "op": "in", "value": ["Gambling"], "reason": "policy"}],
        }
    )


@pytest.mark.parametrize("criteria", [1, 6, 7, 62, 70])
def test_explanation_encodings_at_their_edges(engine: EngineRunner, criteria: int) -> None:
    """DuckDB decodes explanations from bitmasks in chunks of 6 ids up to 62 ids, and builds lists beyond."""
    spec = ICPSpec.model_validate(
        {
            "name": "wide",
            "layers": {
                "firmographic": [{"field": "employees", "op": "gte", "value": i, "points": 1} for i in range(criteria)]
            },
            "exclusions": [{"field": "industry", "op": "equals", "value": "Gambling", "reason": "policy"}],
        }
    )
    table = pa.Table.from_pylist(
        [{"industry": None, "employees": float(v)} for v in (0, 5, 6, 61, 69, 100)] + [{"industry": "x"}],
        schema=_SCHEMA,
    )
    assert engine(spec, table, S.AS_OF) == _reference(spec, table)


def test_bitmask_explanations_decode_to_the_reference() -> None:
    """DuckDB's integer bitmask explanations (Parquet's default form) decode to the reference's lists of ids."""
    from icpkit.score.duckdb_engine import decode_explanations, score_arrow

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(spec=S.specs(), rows=S.records)
    def check(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(rows, schema=S.SCHEMA)
        masked = score_arrow(spec, table, as_of=S.AS_OF, masks=True)
        assert all(pa.types.is_integer(masked.schema.field(c).type) for c in ("matched", "unknown", "exclusions_hit"))
        got = outputs_only(decode_explanations(masked, spec).to_pylist())
        assert got == _reference(spec, table)

    check()


def test_engines_agree_on_today(engine: EngineRunner) -> None:
    """Unpinned, every engine counts ``within_days`` from today, as the reference does: PostgreSQL through the
    query's own ``CURRENT_DATE`` (a view stays right tomorrow), the others from the day they run."""

    @settings(
        max_examples=EXAMPLES[engine.name] // 2,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @given(spec=S.specs(), rows=S.records_around(dt.datetime.now(dt.UTC).date()))
    def check(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
        day = dt.datetime.now(dt.UTC).date()
        table = pa.Table.from_pylist(rows, schema=S.SCHEMA)
        got = engine(spec, table, None)
        want = _reference(spec, table, None)
        assume(dt.datetime.now(dt.UTC).date() == day)  # the calendar did not turn during the example
        assert want == _reference(spec, table, day)  # unpinned means today, not the spec's as_of
        assert got == want

    check()


def test_a_duckdb_view_counts_from_current_date() -> None:
    """The SQL ``icpkit sql`` prints for a view, run on DuckDB: the reference's answers for today."""
    import duckdb

    from icpkit.score.duckdb_engine import arrow_zones
    from icpkit.score.sql import compile_sql

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
    @given(spec=S.specs(), rows=S.records_around(dt.datetime.now(dt.UTC).date()))
    def check(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
        day = dt.datetime.now(dt.UTC).date()
        table = pa.Table.from_pylist(rows, schema=S.SCHEMA)
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.register("leads", table)
            types = {r[0]: r[1] for r in con.sql("DESCRIBE leads").fetchall()}
            sql = compile_sql(spec, table="leads", columns=types, zones=arrow_zones(table.schema))
            assert "CURRENT_DATE" in sql or not any(c.op == "within_days" for c in _clauses(spec))
            got = outputs_only(con.sql(sql).to_arrow_table().to_pylist())
        finally:
            con.close()
        assume(dt.datetime.now(dt.UTC).date() == day)
        assert got == _reference(spec, table, None)

    check()


def _clauses(spec: ICPSpec) -> list[Any]:
    return [cl for cs in spec.layers.values() for c in cs for cl in c.clauses()] + list(spec.exclusions)


def test_a_zoned_timestamp_counts_by_its_own_day(engine: EngineRunner) -> None:
    """Funded at 22:00 in New York on the scoring date (02:00 UTC the next day): recent on every engine. DuckDB
    read it by its UTC day, after the scoring date, and gave 0 where the reference gives 50."""
    spec = ICPSpec.model_validate(
        {
            "name": "zoned",
            "layers": {"trigger": [{"field": "funded", "op": "within_days", "value": 30, "points": 50}]},
        }
    )
    day = dt.date(2025, 6, 30)
    moments = [dt.datetime(2025, 7, 1, 2, tzinfo=dt.UTC), dt.datetime(2025, 7, 1, 5, tzinfo=dt.UTC)]
    table = pa.table({"funded": pa.array(moments, pa.timestamp("us", tz="America/New_York"))})
    got = engine(spec, table, day)
    assert got == _reference(spec, table, day)
    assert [r["score"] for r in got] == [50, 0]  # 01:00 in New York on July 1st is after the scoring date
