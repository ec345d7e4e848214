"""The personas, persona_fields and routing_rules sections: validation, YAML round-trip, errors and content hash."""

from __future__ import annotations

import json

import pytest

from icpkit.errors import SpecError
from icpkit.spec import ICPSpec, load_spec
from icpkit.spec.model import Evidence, Persona, PersonaFields, RoutingRule

BASE = """\
name: p
layers:
  firmographic:
    - {field: industry, in: [software], points: 80}
"""

PERSONAS = """\
personas:
  - name: decision_maker
    description: 'Signs: the contract'
    titles: [VP, vice president, chief*, head of]
    exclude_titles: [assistant]
    seniority: [c-level]
  - name: technical
    department: [engineering]
routing_rules:
  - {tier: [tier1], persona: [decision_maker], route: sales_now}
  - {persona: [none], route: research}
"""


def test_yaml_round_trip_keeps_every_persona_field() -> None:
    spec = load_spec(BASE + "persona_fields: {title: job_title, seniority: level, department: team}\n" + PERSONAS)
    spec = spec.model_copy(
        update={
            "personas": [
                spec.personas[0].model_copy(update={"evidence": Evidence(support=12, n=40, lift=2.5, q=0.001)}),
                spec.personas[1],
            ]
        }
    )
    text = spec.to_yaml()
    assert load_spec(text) == spec
    assert text.count("\npersonas:") == 1 and "persona_fields: {title: job_title" in text
    assert spec.to_yaml() == load_spec(text).to_yaml()  # same spec, same bytes


def test_defaults_are_not_written() -> None:
    text = load_spec(BASE + PERSONAS).to_yaml()
    assert "persona_fields" not in text
    assert "personas:" not in load_spec(BASE).to_yaml() and "routing_rules" not in load_spec(BASE).to_yaml()


def test_an_unknown_persona_in_a_rule_names_its_line() -> None:
    text = BASE + PERSONAS + "  - {persona: [decision_makr], route: x}\n"
    with pytest.raises(SpecError) as err:
        load_spec(text, path="icp.yaml")
    assert err.value.line == text.splitlines().index("  - {persona: [decision_makr], route: x}") + 1
    assert "unknown persona 'decision_makr'" in err.value.message
    assert err.value.field == "routing_rules[2].persona[0]"


@pytest.mark.parametrize(
    ("persona", "message"),
    [
        ({"name": "a", "titles": ["ch*ief"]}, "only at the end"),
        ({"name": "a", "titles": ["--"]}, "no letters or digits"),
        ({"name": "none", "titles": ["vp"]}, "reserved"),
        ({"name": "a"}, "needs titles, seniority or department"),
        ({"name": "a b", "titles": ["vp"]}, "string should match pattern"),
        ({"name": "a", "titles": ["vp"], "regex": "v.*"}, "unknown key 'regex'"),
    ],
)
def test_bad_personas_are_spec_errors(persona: dict, message: str) -> None:
    text = BASE + f"personas:\n  - {json.dumps(persona)}\n"
    with pytest.raises(SpecError) as err:
        load_spec(text)
    assert message in err.value.message.lower() or message in err.value.message
    assert err.value.line == 6


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"route": "x"}, "needs tier:, persona: or both"),
        ({"tier": ["tier0"], "route": "x"}, "unknown tier 'tier0'"),
        ({"tier": [], "route": "x"}, "at least one value"),
    ],
)
def test_bad_routing_rules_are_spec_errors(rule: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message) as err:
        load_spec(BASE + f"routing_rules:\n  - {json.dumps(rule)}\n")
    assert err.value.line == 6


def test_persona_names_are_unique() -> None:
    with pytest.raises(ValueError, match="repeated: dm"):
        ICPSpec(name="p", personas=[Persona(name="dm", titles=["vp"]), Persona(name="DM", titles=["cto"])])


def _hash(**update: object) -> str:
    return load_spec(BASE + PERSONAS).model_copy(update=update).content_hash()


def test_the_hash_covers_what_changes_persona_or_route() -> None:
    spec = load_spec(BASE + PERSONAS)
    base = spec.content_hash()
    assert base != load_spec(BASE).content_hash()
    dm, tech = spec.personas
    assert _hash(personas=[tech, dm]) != base  # order is priority
    assert _hash(personas=[dm.model_copy(update={"titles": ["vp"]}), tech]) != base
    assert _hash(personas=[dm.model_copy(update={"exclude_titles": []}), tech]) != base
    assert _hash(routing_rules=spec.routing_rules[:1]) != base
    assert _hash(routing_rules=[spec.routing_rules[0].model_copy(update={"route": "sales"})]) != base
    assert _hash(persona_fields=PersonaFields(title="job_title")) != base


def test_the_hash_ignores_what_cannot_change_a_result() -> None:
    spec = load_spec(BASE + PERSONAS)
    base = spec.content_hash()
    dm, tech = spec.personas
    same = dm.model_copy(
        update={
            "description": "changed",
            "evidence": Evidence(support=5),
            "titles": ["Head-Of", "CHIEF*", "vice  president", "VP", "vp "],
        }
    )
    assert _hash(personas=[same, tech]) == base
    rule = RoutingRule(tier=["tier1", "tier1"], persona=["decision_maker"], route="sales_now")
    assert _hash(routing_rules=[rule, spec.routing_rules[1]]) == base
