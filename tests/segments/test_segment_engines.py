"""Every engine scores a multi-segment spec exactly as the per-record reference does, row for row.

Random segments are the random single-ICP specs of tests/score (every operator, conjunctions, exclusions, tiers);
the records are its random typed records. The reference scores each segment with ``score_record`` (the semantics
module) and picks the best by the rule of ``icpkit.score.segments``; the engines under test are the Python
scorer, the Arrow engine and the composed SQL on DuckDB, PostgreSQL and Spark.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from engine_support import load_strategies, postgres_rows
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from icpkit.score import score_record
from icpkit.score.duckdb_engine import arrow_zones
from icpkit.score.segments import (
    TIER_RANK,
    compile_segment_scorer,
    compile_segments_sql,
    score_segments_duckdb,
    score_segments_spark,
    score_segments_table,
    segment_output_columns,
)
from icpkit.spec import Clause, Criterion, Exclusion, ICPSpec, Segment, Tiers

S = load_strategies()
NAMES = ["midmarket", "enterprise", "smb"]


@st.composite
def segmented_specs(draw: st.DrawFn) -> ICPSpec:
    parts = draw(st.lists(S.specs(), min_size=1, max_size=3))
    segments = [
        Segment(name=NAMES[i], layers=p.layers, exclusions=p.exclusions, tiers=p.tiers, routing=p.routing)
        for i, p in enumerate(parts)
    ]
    return ICPSpec(name="random", as_of=S.AS_OF, segments=segments)


def reference(spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
    """The rule written out plainly on top of the single-ICP reference."""
    segs = spec.segment_specs()
    layer_cols = [c for c in segment_output_columns(spec) if c.startswith("layer_")]
    out = []
    for record in table.to_pylist():
        results = [score_record(s, record, as_of=S.AS_OF) for _, s in segs]
        order = sorted(range(len(segs)), key=lambda k: (TIER_RANK[results[k].tier], -results[k].score, k))
        best = results[order[0]].as_dict()
        layers = best.pop("layer_scores")
        row = {"segment": segs[order[0]][0], **best}
        row.update({c: layers.get(c[6:]) for c in layer_cols})
        row.update({f"score_{name}": r.score for (name, _), r in zip(segs, results, strict=True)})
        out.append(row)
    return out


def outputs(rows: list[dict[str, Any]], spec: ICPSpec) -> list[dict[str, Any]]:
    cols = segment_output_columns(spec)
    return [{c: r[c] for c in cols} for r in rows]


def _python(spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
    layer_cols = [c for c in segment_output_columns(spec) if c.startswith("layer_")]
    out = []
    for r in compile_segment_scorer(spec, as_of=S.AS_OF).many(table.to_pylist()):
        d = r.as_dict()
        layers, scores = d.pop("layer_scores"), d.pop("segment_scores")
        out.append({**d, **{c: layers.get(c[6:]) for c in layer_cols}, **{f"score_{k}": v for k, v in scores.items()}})
    return out


def _arrow(spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
    return outputs(score_segments_table(spec, table, as_of=S.AS_OF).to_pylist(), spec)


def _duckdb(spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
    return outputs(score_segments_duckdb(spec, table, as_of=S.AS_OF).to_pylist(), spec)


def _spark(spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
    return outputs(score_segments_spark(spec, table, as_of=S.AS_OF).to_pylist(), spec)


def _postgres(conn: Any) -> Any:
    def run(spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
        return outputs(_postgres_rows(conn, spec, table), spec)

    return run


EXAMPLES = {"python": 150, "arrow": 150, "duckdb": 120, "postgres": 80, "spark": 4}

# Every engine scores as of the strategies' pinned date (the scoring date; see tests/score).
# A disagreement a random draw found on PostgreSQL (score 49 where the reference says 35): the SQL read a missing
# flag against ``not_in: [true, false]`` as a yes. The row also holds an empty list, a negative count and a date at
# ``as_of``, each decided (not unknown) by every engine.
FOUND_ROW = {**dict.fromkeys(S.FIELDS), "tech_stack": [], "employees": -1.0, "funded": S.AS_OF}


def _found_spec() -> ICPSpec:
    technographic = [
        Criterion(field="employees", op="lte", value=0, points=35),
        Criterion(
            field="flag",
            op="not_in",
            value=[True, False],
            points=14,
            also=[Clause(field="tech_stack", op="contains_none", value=["HubSpot"])],
        ),
    ]
    return ICPSpec(
        name="found",
        as_of=S.AS_OF,
        segments=[
            Segment(
                name="midmarket", layers={"technographic": technographic}, tiers=Tiers(tier1=45, tier2=30, tier3=10)
            ),
            Segment(
                name="enterprise", layers={"trigger": [Criterion(field="funded", op="within_days", value=0, points=30)]}
            ),
        ],
    )


@pytest.fixture(params=list(EXAMPLES))
def engine(request: pytest.FixtureRequest) -> tuple[str, Any]:
    name = request.param
    if name == "postgres":
        return name, _postgres(request.getfixturevalue("pg_conn"))
    if name == "spark":
        request.getfixturevalue("spark_session")
    return name, {"python": _python, "arrow": _arrow, "duckdb": _duckdb, "spark": _spark}[name]


def test_engines_agree_on_segmented_specs(engine: tuple[str, Any]) -> None:
    name, run = engine

    @settings(
        max_examples=EXAMPLES[name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @example(spec=_found_spec(), rows=[FOUND_ROW])
    @given(spec=segmented_specs(), rows=S.records)
    def check(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(rows, schema=S.SCHEMA)
        got = run(spec, table)
        want = reference(spec, table)
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g == w, f"row {i}: {rows[i]}"

    check()


def test_the_found_disagreement(engine: tuple[str, Any]) -> None:
    """The found row and its neighbours, with the outcome docs/reference.md gives, on every engine."""
    _, run = engine
    spec = _found_spec()
    rows = [
        FOUND_ROW,
        {**FOUND_ROW, "flag": True},
        {**FOUND_ROW, "tech_stack": None},
        {**FOUND_ROW, "tech_stack": ["x"]},
    ]
    table = pa.Table.from_pylist(rows, schema=S.SCHEMA)
    got = run(spec, table)
    assert got == reference(spec, table)
    cols = ("segment", "score", "tier", "matched", "unknown", "score_enterprise")
    assert [tuple(r[c] for c in cols) for r in got] == [
        ("midmarket", 35, "tier2", ["technographic.0"], ["technographic.1"], 30),  # missing flag: unknown
        ("midmarket", 35, "tier2", ["technographic.0"], [], 30),  # a flag is always one of true, false
        ("midmarket", 35, "tier2", ["technographic.0"], ["technographic.1"], 30),
        ("midmarket", 35, "tier2", ["technographic.0"], ["technographic.1"], 30),
    ]


def _two_segments() -> ICPSpec:
    def seg(name: str, industry: str, tier1: int) -> Segment:
        return Segment(
            name=name,
            layers={"firmographic": [Criterion(field="industry", op="in", value=[industry], points=60)]},
            exclusions=[Exclusion(field="business_model", op="in", value=["B2C"], reason="churns")],
            tiers=Tiers(tier1=tier1, tier2=40, tier3=20),
        )

    return ICPSpec(name="two", segments=[seg("midmarket", "Software", 60), seg("enterprise", "Manufacturing", 50)])


@pytest.mark.parametrize(
    ("record", "segment", "tier"),
    [
        ({"industry": "Software"}, "midmarket", "tier1"),
        ({"industry": " manufacturing "}, "enterprise", "tier1"),
        ({"industry": "Retail"}, "midmarket", "none"),  # a full tie: the first segment in spec order
        ({"industry": "Manufacturing", "business_model": "B2C"}, "enterprise", "excluded"),  # excluded everywhere
    ],
)
def test_the_best_segment_rule(record: dict[str, Any], segment: str, tier: str) -> None:
    r = _two_segments().score(record)
    assert (r.segment, r.tier) == (segment, tier)


def test_excluded_in_one_segment_only_is_not_excluded() -> None:
    spec = _two_segments()
    one = spec.segments[1].model_copy(update={"exclusions": []})
    spec = spec.model_copy(update={"segments": [spec.segments[0], one]})
    r = spec.score({"industry": "Software", "business_model": "B2C"})
    assert (r.segment, r.tier, r.score) == ("enterprise", "none", 0)
    assert r.segment_scores == {"midmarket": 60, "enterprise": 0}


def test_sql_needs_the_input_columns() -> None:
    from icpkit.errors import SpecError

    with pytest.raises(SpecError, match="columns"):
        compile_segments_sql(_two_segments())


def test_shared_personas_and_routing_rules_in_every_segment_engine(pg_conn: Any) -> None:
    """Personas sit above the segments: every engine matches them once and routes on the best segment's tier."""
    from icpkit.spec.model import Persona, RoutingRule

    spec = _two_segments().model_copy(
        update={
            "personas": [
                Persona(name="dm", titles=["vp", "chief*"], exclude_titles=["assistant"]),
                Persona(name="ops", titles=["revops"], department=["operations"]),
            ],
            "routing_rules": [
                RoutingRule(tier=["tier1"], persona=["dm"], route="sales_now"),
                RoutingRule(persona=["none"], route="nurture_only"),
            ],
        }
    )
    rows = [
        {"industry": "Software", "business_model": None, "title": " VP, Sales ", "department": None},
        {"industry": "Manufacturing", "business_model": None, "title": "Assistant to the VP", "department": "Ops"},
        {"industry": "Retail", "business_model": None, "title": "RevOps lead", "department": "Operations"},
        {"industry": "manufacturing", "business_model": "B2B", "title": "Chief Revenue Officer", "department": None},
        {"industry": None, "business_model": None, "title": None, "department": None},
    ]
    table = pa.Table.from_pylist(rows)
    cols = ["segment", "tier", "route", "persona", "persona_match"]
    want = [{c: getattr(r, c) for c in cols} for r in compile_segment_scorer(spec).many(rows)]
    assert [w["persona"] for w in want] == ["dm", None, "ops", "dm", None]
    assert want[0]["route"] == "sales_now" and want[1]["route"] == "nurture_only"

    def pick(got: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{c: r[c] for c in cols} for r in got]

    assert pick(score_segments_table(spec, table).to_pylist()) == want
    assert pick(score_segments_duckdb(spec, table).to_pylist()) == want
    assert pick(_postgres_rows(pg_conn, spec, table)) == want


def _postgres_rows(conn: Any, spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
    return postgres_rows(
        conn,
        table,
        lambda name, types: compile_segments_sql(
            spec, dialect="postgres", table=name, columns=types, as_of=S.AS_OF, zones=arrow_zones(table.schema)
        ),
    )
