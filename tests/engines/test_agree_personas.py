"""Every engine gives the reference's persona, persona_match and rule-based route, row for row.

Random fit specs (the strategies of tests/score) gain random personas (title, seniority and department patterns,
prefix wildcards, exclusions) and routing rules; random records gain messy titles: punctuation, runs of spaces,
case, accents and other non-ASCII letters, numbers where text is expected, missing and empty values.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from engine_support import EngineRunner, load_strategies
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from icpkit.score import score_record
from icpkit.spec import ICPSpec
from icpkit.spec.model import Persona, RoutingRule

S = load_strategies()
EXAMPLES = {"python": 150, "duckdb": 150, "postgres": 100, "spark": 10}

WORDS = ["vp", "vice president", "head of", "chief", "director", "sales", "engineering", "it", "c level", "manager"]
WORDS += ["of", "officer", "staff", "general", "k", "i"]
PATTERNS = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(["chief*", "dir*", "eng*", "VP,", "Head-Of", "c-level", "ÉTÉ", "sr."]),
)
MESSY = st.sampled_from(
    [
        "VP, Sales",
        "  Vice-President   of IT ",
        "Head of Engineering",
        "HEAD-OF-SALES",
        "headofsales",
        "Chief Revenue Officer",
        "Chief-of-Staff",
        "Assistant to the VP",
        "Sr. Director, Engineering",
        "Directeur Général",
        "Geschäftsführer",
        "été director",
        "İT manager",
        "\u212a manager",  # Kelvin sign: lower-cases to an ASCII k in Python
        "C-Level",
        "c_level",
        "manager",
        "",
        "   ",
        "---",
    ]
)
TITLES = st.one_of(MESSY, MESSY, MESSY, st.text(alphabet=st.sampled_from(list("aAvVpP- ,./éß_1")), max_size=12))


@st.composite
def personas(draw: st.DrawFn) -> list[Persona]:
    out = []
    for k in range(draw(st.integers(0, 3))):
        sometimes = st.one_of(st.just([]), st.just([]), st.lists(PATTERNS, min_size=1, max_size=2))
        lists = {
            "titles": draw(st.lists(PATTERNS, max_size=4)),
            **{key: draw(sometimes) for key in ("exclude_titles", "seniority", "department")},
        }
        if not (lists["titles"] or lists["seniority"] or lists["department"]):
            lists["titles"] = [draw(PATTERNS)]
        out.append(Persona(name=f"p{k}", **lists))
    return out


@st.composite
def persona_specs(draw: st.DrawFn) -> ICPSpec:
    base = draw(S.specs())
    ps = draw(personas())
    names = [p.name for p in ps] + ["none"]
    rules = []
    for _ in range(draw(st.integers(0, 3))):
        tier = draw(st.one_of(st.none(), st.lists(st.sampled_from(["tier1", "tier2", "tier3", "none"]), min_size=1)))
        persona = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2))
        if tier is not None and draw(st.booleans()):
            persona = None
        rules.append(RoutingRule(tier=tier, persona=persona, route=f"r{len(rules)}"))
    return base.model_copy(update={"personas": ps, "routing_rules": rules})


LEVELS = st.one_of(
    st.sampled_from(["VP", " c-level", "Director", "Sales", "engineering ", "IT", "Vice President"]), TITLES
)
PERSON_FIELDS = {"title": TITLES, "seniority": LEVELS, "department": LEVELS}
SCHEMA = pa.schema([*S.SCHEMA, *((name, pa.string()) for name in PERSON_FIELDS)])
people = st.fixed_dictionaries({name: st.one_of(st.none(), strat) for name, strat in PERSON_FIELDS.items()})
records = st.tuples(S.records, st.lists(people, min_size=12, max_size=12)).map(
    lambda pair: [{**fit, **person} for fit, person in zip(pair[0], pair[1], strict=False)]
)


def _reference(spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
    out = []
    for record in table.to_pylist():
        r = score_record(spec, record).as_dict()
        layers = {f"layer_{k}": v for k, v in r.pop("layer_scores").items()}
        out.append({**r, **layers})
    return out


def test_personas_and_routing_rules_agree_with_the_reference(engine: EngineRunner) -> None:
    @settings(
        max_examples=EXAMPLES[engine.name],
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )
    @given(spec=persona_specs(), rows=records)
    def check(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
        table = pa.Table.from_pylist(rows, schema=SCHEMA)
        got = engine(spec, table)
        want = _reference(spec, table)
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert g == w, f"row {i}: {rows[i]}"

    check()


def test_a_persona_field_of_another_type_is_missing(engine: EngineRunner) -> None:
    """Titles stored as numbers are missing: no persona, and a rule on 'none' routes the row."""
    spec = ICPSpec(
        name="typed",
        personas=[Persona(name="dm", titles=["1"], seniority=["vp"])],
        routing_rules=[RoutingRule(persona=["none"], route="research")],
    )
    table = pa.table({"title": pa.array([1, None], pa.int64()), "seniority": ["VP", None]})
    got = engine(spec, table)
    assert [(r["persona"], r["persona_match"], r["route"]) for r in got] == [
        ("dm", 50, "disqualify"),
        (None, 0, "research"),
    ]
    assert got == _reference(spec, table)


def test_messy_titles_agree_row_for_row(engine: EngineRunner) -> None:
    """Every messy title × seniority × department on a fixed spec: many matches, every engine as the reference."""
    spec = ICPSpec(
        name="fixed",
        layers={"firmographic": [{"field": "industry", "op": "in", "value": ["software"], "points": 80}]},
        personas=[
            Persona(
                name="decision_maker",
                titles=["vp", "vice president", "chief*", "head of", "director"],
                exclude_titles=["assistant", "chief of staff"],
                seniority=["vp", "c level", "director"],
            ),
            Persona(name="technical", titles=["eng*", "it"], department=["engineering", "it"]),
        ],
        routing_rules=[
            RoutingRule(tier=["tier1"], persona=["decision_maker"], route="sales_now"),
            RoutingRule(persona=["technical"], route="sales_engineer"),
            RoutingRule(tier=["tier1"], persona=["none"], route="research"),
        ],
    )
    titles = [*MESSY.elements, None]  # type: ignore[attr-defined]
    levels = [None, "VP", " c-level", "Manager", "Engineering ", 7]
    rows = [
        {"industry": ind, "title": t, "seniority": s if isinstance(s, str) else None, "department": d}
        for ind in ("Software", None)
        for t in titles
        for s in levels
        for d in (None, "IT", "Sales")
    ]
    table = pa.Table.from_pylist(rows)
    got = engine(spec, table)
    want = _reference(spec, table)
    assert got == want
    found = {(r["persona"], r["route"]) for r in want}
    assert {("decision_maker", "sales_now"), ("technical", "sales_engineer"), (None, "research")} <= found
    assert {r["persona_match"] for r in want} >= {0, 50, 100}
