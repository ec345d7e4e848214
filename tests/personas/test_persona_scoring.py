"""What a persona matches, its strength and the rule-based route, by the reference and by every in-process engine."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from icpkit.score import compile_scorer, score_record, score_table
from icpkit.score.duckdb_engine import score_arrow
from icpkit.spec import load_spec

SPEC = load_spec(
    """\
name: p
layers:
  firmographic:
    - {field: industry, in: [software], points: 80}
personas:
  - name: decision_maker
    titles: [vp, vice president, chief*, head of]
    exclude_titles: [assistant, chief of staff]
    seniority: [vp, c level, director]
  - name: technical
    titles: [engineer*, it]
    department: [engineering, it]
routing_rules:
  - {tier: [tier1], persona: [decision_maker], route: sales_now}
  - {persona: [technical], route: sales_engineer}
  - {tier: [tier1], persona: [none], route: research}
"""
)


def _persona(title: Any = None, seniority: Any = None, department: Any = None) -> tuple[str | None, int | None]:
    r = score_record(SPEC, {"title": title, "seniority": seniority, "department": department})
    return r.persona, r.persona_match


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"title": "VP, Sales"}, ("decision_maker", 50)),  # seniority missing: unknown, neither blocks nor counts
        ({"title": "VP, Sales", "seniority": "C-Level"}, ("decision_maker", 100)),
        ({"title": "VP, Sales", "seniority": "Manager"}, (None, 0)),  # a given list that says no
        ({"title": "  HEAD-of   growth "}, ("decision_maker", 50)),
        ({"title": "headofsales"}, (None, 0)),  # words, not substrings
        ({"title": "Chief Revenue Officer"}, ("decision_maker", 50)),  # prefix wildcard
        ({"title": "Chief of Staff"}, (None, 0)),  # excluded title
        ({"title": "Executive Assistant to the VP"}, (None, 0)),
        ({"title": "Security Engineer", "department": "IT"}, ("technical", 100)),
        ({"title": "Security lead", "department": "IT"}, (None, 0)),  # "it" is not inside "security"
        ({"seniority": "director"}, ("decision_maker", 50)),  # no title: the seniority alone decides
        ({"title": 42, "seniority": "VP"}, ("decision_maker", 50)),  # a number is not a title: missing
        ({"title": "", "seniority": "  "}, (None, 0)),
        ({"title": "Vice-Président"}, (None, 0)),  # accents are not folded: "président" is not "president"
        ({"title": "Chief Président"}, ("decision_maker", 50)),
    ],
)
def test_what_a_persona_matches(record: dict[str, Any], expected: tuple[str | None, int]) -> None:
    assert _persona(**record) == expected


def test_the_first_matching_persona_wins() -> None:
    spec = SPEC.model_copy(update={"personas": list(reversed(SPEC.personas))})
    record = {"title": "VP Engineering", "department": "engineering"}
    assert score_record(SPEC, record).persona == "decision_maker"
    assert score_record(spec, record).persona == "technical"


@pytest.mark.parametrize(
    ("record", "route"),
    [
        ({"industry": "Software", "title": "VP Sales"}, "sales_now"),
        ({"industry": "Software", "title": "Engineer", "department": "IT"}, "sales_engineer"),
        ({"industry": "Retail", "title": "Engineer", "department": "IT"}, "sales_engineer"),
        ({"industry": "Software", "title": "Office manager"}, "research"),
        ({"industry": "Retail", "title": "VP Sales"}, "disqualify"),  # no rule: routing by tier
    ],
)
def test_routing_rules_first_match_wins(record: dict[str, Any], route: str) -> None:
    result = score_record(SPEC, record)
    assert result.route == route
    assert result.score == score_record(SPEC.model_copy(update={"personas": [], "routing_rules": []}), record).score


def test_a_spec_without_personas_adds_nothing() -> None:
    plain = SPEC.model_copy(update={"personas": [], "routing_rules": []})
    result = compile_scorer(plain)({"industry": "software", "title": "VP"})
    assert result.persona is None and result.persona_match is None
    assert "persona" not in result.as_dict()
    table = pa.table({"industry": ["software"], "title": ["VP"]})
    assert "persona" not in score_table(plain, table).column_names
    assert "persona" not in score_arrow(plain, table).column_names


ROWS = [
    {"industry": ind, "title": t, "seniority": s, "department": d}
    for ind in ("Software", None)
    for t in ("VP, Sales", "Chief of Staff", "Engineer", "  ", None, "Vice-Président", "İT lead")
    for s in ("C-Level", "Manager", None)
    for d in ("IT", None)
]


def _outputs(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["score"], r["tier"], r["route"], r["persona"], r["persona_match"]) for r in rows]


def test_python_scorer_arrow_and_duckdb_agree_with_the_reference() -> None:
    want = [score_record(SPEC, r).as_dict() for r in ROWS]
    scorer = compile_scorer(SPEC)
    assert [scorer(r).as_dict() for r in ROWS] == want
    table = pa.Table.from_pylist(ROWS)
    assert _outputs(score_table(SPEC, table).to_pylist()) == _outputs(want)
    assert _outputs(score_arrow(SPEC, table).to_pylist()) == _outputs(want)


def test_persona_fields_map_other_column_names() -> None:
    spec = SPEC.model_copy(update={"persona_fields": SPEC.persona_fields.model_copy(update={"title": "job_title"})})
    rows = [{"job_title": "VP Sales", "title": "Engineer"}]
    assert score_record(spec, rows[0]).persona == "decision_maker"
    assert score_table(spec, pa.Table.from_pylist(rows)).column("persona").to_pylist() == ["decision_maker"]
    assert score_arrow(spec, pa.Table.from_pylist(rows)).column("persona").to_pylist() == ["decision_maker"]


SEGMENTED = load_spec(
    """\
name: seg
segments:
  - name: smb
    layers:
      firmographic:
        - {field: industry, in: [software], points: 80}
  - name: ent
    layers:
      firmographic:
        - {field: employees, gte: 1000, points: 80}
personas:
  - name: dm
    titles: [vp, chief*]
routing_rules:
  - {tier: [tier1], persona: [dm], route: sales_now}
  - {persona: [none], route: research}
"""
)


def test_segmented_specs_share_the_personas_in_every_engine() -> None:
    rows = [
        {"industry": "Software", "employees": 10.0, "title": "VP Sales"},
        {"industry": "Retail", "employees": 5000.0, "title": "Chief of staff"},
        {"industry": "Retail", "employees": 5.0, "title": "Engineer"},
    ]
    keys = ("segment", "tier", "route", "persona", "persona_match")
    scorer = compile_scorer(SEGMENTED)
    want = [tuple(scorer(r).as_dict()[k] for k in keys) for r in rows]
    assert want == [
        ("smb", "tier1", "sales_now", "dm", 100),
        ("ent", "tier1", "sales_now", "dm", 100),
        ("smb", "none", "research", None, 0),
    ]
    table = pa.Table.from_pylist(rows)
    for got in (score_table(SEGMENTED, table), score_arrow(SEGMENTED, table)):
        assert [tuple(r[k] for k in keys) for r in got.to_pylist()] == want
