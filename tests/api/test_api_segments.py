"""Multi-segment specs and buyer personas over HTTP: the best segment, every segment's score, the persona, with
the same answers as the scoring engine, on the fast path and through FastAPI alike."""

from __future__ import annotations

import datetime as dt

import pytest
from api_support import AUTH, PERSONA_YAML, SEGMENTED_YAML, SPEC_YAML

from icpkit.api import Limits
from icpkit.score.python import compile_scorer
from icpkit.spec import load_spec
from icpkit.words import criterion_text

AS_OF = dt.date(2026, 9, 30)
SEGMENTED = load_spec(SEGMENTED_YAML)
PERSONAS = load_spec(PERSONA_YAML)
SEGMENT_LEADS = [
    {"industry": "Software", "employees": 120, "tech_stack": ["HubSpot"]},
    {"industry": "Manufacturing", "employees": 5000},
    {"industry": "Software", "employees": 5000, "business_model": "B2C"},
    {"industry": "Retail", "business_model": "B2C"},
    {},
]
PERSONA_LEADS = [
    {"industry": "Software", "employees": 120, "country": "US", "tech_stack": ["HubSpot"], "title": "VP Sales"},
    {"industry": "Software", "employees": 120, "title": "Sales Manager", "department": "Sales"},
    {"industry": "Software", "title": "Assistant to the VP"},
    {"industry": "Retail"},
]


def _spec_file(tmp_path, text: str):
    path = tmp_path / "icp.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "fastapi routes"])
def test_a_segmented_spec_answers_with_the_best_segment_and_every_segments_score(make_client, tmp_path, fast) -> None:
    client = make_client(spec=_spec_file(tmp_path, SEGMENTED_YAML), as_of=AS_OF, fast=fast)
    reference = compile_scorer(SEGMENTED, as_of=AS_OF)
    segments = dict(SEGMENTED.segment_specs())
    for record in SEGMENT_LEADS:
        r = client.post("/v1/score", json={"record": record}, headers=AUTH)
        assert r.status_code == 200, r.text
        body, want = r.json(), reference(record)
        assert (body["score"], body["tier"], body["route"]) == (want.score, want.tier, want.route)
        assert body["segment"] == want.segment and body["segment_scores"] == want.segment_scores
        assert body["layer_scores"] == pytest.approx(want.layer_scores)
        # explanation ids and words are the best segment's own
        words = {f"{layer}.{i}": c for layer, cs in segments[want.segment].layers.items() for i, c in enumerate(cs)}
        matched = body["explanation"]["matched"]
        assert [m["id"] for m in matched] == want.matched
        assert [m["text"] for m in matched] == [criterion_text(words[i]) for i in want.matched]
        assert [u["id"] for u in body["explanation"]["unknown"]] == want.unknown
        assert [h["id"] for h in body["explanation"]["exclusions_hit"]] == want.exclusions_hit
        assert body["persona"] is None and body["persona_match"] is None
    picked = client.post("/v1/score", json={"record": SEGMENT_LEADS[1]}, headers=AUTH).json()
    assert (picked["segment"], picked["route"], picked["segment_scores"]) == (
        "enterprise",
        "enterprise_ae",
        {"midmarket": 0, "enterprise": 100},
    )


def test_a_segmented_batch_gives_what_single_calls_give(make_client, tmp_path) -> None:
    client = make_client(spec=_spec_file(tmp_path, SEGMENTED_YAML), as_of=AS_OF, limits=Limits(max_batch=10))
    batch = client.post("/v1/score/batch", json={"records": SEGMENT_LEADS}, headers=AUTH).json()["results"]
    singles = [client.post("/v1/score", json={"record": r}, headers=AUTH).json() for r in SEGMENT_LEADS]
    for one in singles:
        del one["spec"], one["as_of"]
    assert batch == singles
    assert [b["segment"] for b in batch] == [compile_scorer(SEGMENTED, as_of=AS_OF)(r).segment for r in SEGMENT_LEADS]


def test_icp_of_a_segmented_spec_lists_each_segment_with_its_own_words(make_client, tmp_path) -> None:
    body = make_client(spec=_spec_file(tmp_path, SEGMENTED_YAML)).get("/v1/icp", headers=AUTH).json()
    assert body["layers"] == [] and body["exclusions"] == []
    mid, ent = body["segments"]
    assert (mid["name"], mid["description"], ent["name"], ent["description"]) == (
        "midmarket",
        "Software on HubSpot",
        "enterprise",
        None,
    )
    assert [c["id"] for layer in mid["layers"] for c in layer["criteria"]] == [
        "firmographic.0",
        "firmographic.1",
        "technographic.0",
    ]
    assert [c["text"] for c in ent["layers"][0]["criteria"]] == [
        criterion_text(c) for c in SEGMENTED.segments[1].layers["firmographic"]
    ]
    assert mid["exclusions"][0]["reason"] == "churns" and ent["exclusions"] == []
    assert ent["tiers"] == {"tier1": 80, "tier2": 50, "tier3": 30} and ent["routing"]["tier1"] == "enterprise_ae"
    assert body["sentence"] == f"{mid['sentence']} · {ent['sentence']}"
    # the form asks for what any segment reads, each field once
    assert [f["name"] for f in body["fields"]] == ["industry", "employees", "tech_stack", "business_model"]
    assert body["fields"][0]["suggestions"] == ["Software", "Manufacturing"]


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "fastapi routes"])
def test_personas_come_back_with_their_match_and_the_rule_based_route(make_client, tmp_path, fast) -> None:
    client = make_client(spec=_spec_file(tmp_path, PERSONA_YAML), as_of=AS_OF, fast=fast)
    reference = compile_scorer(PERSONAS, as_of=AS_OF)
    got = []
    for record in PERSONA_LEADS:
        body = client.post("/v1/score", json={"record": record}, headers=AUTH).json()
        want = reference(record)
        assert (body["score"], body["tier"], body["route"]) == (want.score, want.tier, want.route)
        assert (body["persona"], body["persona_match"]) == (want.persona, want.persona_match)
        assert body["segment"] is None and body["segment_scores"] is None
        got.append((body["persona"], body["persona_match"], body["route"]))
    assert got[0] == ("economic_buyer", 100, "account_executive")  # tier1 + economic buyer: the rule's route
    assert got[1][:2] == ("champion", 100)
    assert got[2][:2] == (None, 0)  # an assistant's title is vetoed


def test_icp_lists_personas_and_the_form_asks_for_their_fields(make_client, tmp_path) -> None:
    body = make_client(spec=_spec_file(tmp_path, PERSONA_YAML)).get("/v1/icp", headers=AUTH).json()
    assert [p["name"] for p in body["personas"]] == ["economic_buyer", "champion"]
    assert body["personas"][0] == {
        "name": "economic_buyer",
        "description": "signs the contract",
        "titles": ["vp", "chief*", "head of"],
        "seniority": [],
        "department": [],
        "exclude_titles": ["assistant"],
    }
    assert body["routing_rules"] == [{"tier": ["tier1"], "persona": ["economic_buyer"], "route": "account_executive"}]
    assert [f["name"] for f in body["fields"]][-3:] == ["title", "seniority", "department"]
    assert body["segments"] is None


def test_a_single_icp_without_personas_says_null_for_segment_and_persona(make_client, tmp_path) -> None:
    client = make_client(spec=_spec_file(tmp_path, SPEC_YAML), as_of=AS_OF)
    body = client.post("/v1/score", json={"record": {"industry": "Software", "title": "VP"}}, headers=AUTH).json()
    assert {k: body[k] for k in ("segment", "segment_scores", "persona", "persona_match")} == dict.fromkeys(
        ("segment", "segment_scores", "persona", "persona_match")
    )
    icp = client.get("/v1/icp", headers=AUTH).json()
    assert icp["segments"] is None and icp["personas"] == [] and icp["routing_rules"] == []
    assert "title" not in [f["name"] for f in icp["fields"]]


def test_a_segmented_spec_with_personas_names_both(make_client, tmp_path) -> None:
    yaml = SEGMENTED_YAML + PERSONA_YAML[PERSONA_YAML.index("personas:") :]
    spec = load_spec(yaml)
    client = make_client(spec=_spec_file(tmp_path, yaml), as_of=AS_OF)
    record = {"industry": "Manufacturing", "employees": 5000, "title": "Chief Operating Officer"}
    body = client.post("/v1/score", json={"record": record}, headers=AUTH).json()
    want = compile_scorer(spec, as_of=AS_OF)(record)
    assert (body["segment"], body["persona"], body["persona_match"], body["route"]) == (
        want.segment,
        want.persona,
        want.persona_match,
        want.route,
    )
    assert (body["segment"], body["persona"], body["route"]) == ("enterprise", "economic_buyer", "account_executive")
    icp = client.get("/v1/icp", headers=AUTH).json()
    assert [s["name"] for s in icp["segments"]] == ["midmarket", "enterprise"]
    assert [p["name"] for p in icp["personas"]] == ["economic_buyer", "champion"]
