"""Scoring over HTTP gives what the scoring engine gives, with the explanation in plain words."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from api_support import AUTH, SPEC_YAML

from icpkit.api import Limits
from icpkit.score.semantics import score_record
from icpkit.spec import load_spec
from icpkit.words import criterion_text, icp_sentence

SPEC = load_spec(SPEC_YAML)
AS_OF = dt.date(2026, 9, 30)
LEADS = [
    {"industry": "Software", "employees": 120, "country": "US", "tech_stack": ["HubSpot", "Slack"]},
    {"industry": " fintech ", "employees": 4000, "last_funding_date": "2026-08-01"},
    {"industry": "Retail", "business_model": "B2C", "employees": 80},
    {},
    {"industry": "Software", "employees": 300, "country": "GB", "tech_stack": "Salesforce", "last_funding_date": None},
]


def _post(client, record, **extra):
    return client.post("/v1/score", json={"record": record, **extra}, headers=AUTH)


@pytest.mark.parametrize("record", LEADS)
def test_score_agrees_with_the_reference_semantics(make_client, record) -> None:
    client = make_client(as_of=AS_OF)
    r = _post(client, record)
    assert r.status_code == 200, r.text
    body = r.json()
    want = score_record(SPEC, record, AS_OF)
    assert (body["score"], body["tier"], body["route"]) == (want.score, want.tier, want.route)
    assert body["layer_scores"] == pytest.approx(want.layer_scores)
    ex = body["explanation"]
    assert [m["id"] for m in ex["matched"]] == want.matched
    assert [u["id"] for u in ex["unknown"]] == want.unknown
    assert [h["id"] for h in ex["exclusions_hit"]] == want.exclusions_hit
    assert body["spec"] == {"hash": SPEC.content_hash(), "version": 3, "name": "acme-icp"}
    assert body["as_of"] == "2026-09-30"
    assert body["enrichment"] is None


def test_explanation_reads_in_plain_words_with_points_and_reasons(make_client) -> None:
    body = _post(make_client(as_of=AS_OF), {"industry": "Software", "employees": 99, "business_model": "b2c"}).json()
    texts = {c_id: criterion_text(c) for c_id, c in zip(
        ["firmographic.0", "firmographic.1", "firmographic.2", "technographic.0", "trigger.0"],
        [c for _, c in SPEC.criteria()], strict=True)}  # fmt: skip
    assert body["explanation"]["matched"] == [
        {"id": "firmographic.0", "layer": "firmographic", "points": 30, "text": texts["firmographic.0"]},
        {"id": "firmographic.1", "layer": "firmographic", "points": 20, "text": "with 50 to 500 employees"},
    ]
    assert body["explanation"]["exclusions_hit"] == [
        {
            "id": "exclusion.0",
            "text": "Companies with business model B2C",
            "reason": "churned 62% vs 18% baseline (n=21, q=0.01)",
        }
    ]
    assert (body["tier"], body["route"]) == ("excluded", "disqualify")
    assert body["score"] == 50  # an excluded lead keeps its fit score


def test_within_days_counts_back_from_today_by_default_or_the_spec_date(make_client) -> None:
    today = dt.datetime.now(dt.UTC).date()
    recent = {"last_funding_date": (today - dt.timedelta(days=10)).isoformat()}
    live = _post(make_client(), recent).json()
    assert live["as_of"] == today.isoformat()
    assert [m["id"] for m in live["explanation"]["matched"]] == ["trigger.0"]
    spec_dated = _post(make_client(as_of="spec"), {"last_funding_date": "2026-06-01"}).json()
    assert spec_dated["as_of"] == "2026-09-30"
    assert [m["id"] for m in spec_dated["explanation"]["matched"]] == ["trigger.0"]


def test_batch_scores_each_record_in_order_like_single_calls(make_client) -> None:
    client = make_client(as_of=AS_OF)
    r = client.post("/v1/score/batch", json={"records": LEADS}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["spec"]["hash"] == SPEC.content_hash() and body["as_of"] == "2026-09-30"
    singles = [_post(client, rec).json() for rec in LEADS]
    for got, one in zip(body["results"], singles, strict=True):
        assert got == {k: v for k, v in one.items() if k not in ("spec", "as_of")}


def test_batch_in_a_worker_thread_gives_the_same_answers(make_client) -> None:
    client = make_client(as_of=AS_OF)
    records = LEADS * 200  # a body large enough to be scored off the event loop
    big = client.post("/v1/score/batch", json={"records": records}, headers=AUTH).json()["results"]
    small = client.post("/v1/score/batch", json={"records": LEADS}, headers=AUTH).json()["results"]
    assert big == small * 200


REQUESTS = [
    ("POST", "/v1/score", {"record": LEADS[0]}),
    ("POST", "/v1/score", {"record": LEADS[2], "enrich": False}),
    ("POST", "/v1/score/batch", {"records": LEADS}),
    ("POST", "/v1/score", {"record": {"industry": {"nested": 1}}}),
    ("POST", "/v1/score", {"records": []}),
    ("POST", "/v1/score/batch", {"records": [{}] * 6}),
    ("POST", "/v1/score", {"record": {"industry": "x" * 3000}}),
    ("GET", "/v1/icp", None),
]


def test_fast_path_and_fastapi_routes_answer_alike(make_client) -> None:
    fast = make_client(as_of=AS_OF, limits=Limits(max_batch=5))
    routed = make_client(as_of=AS_OF, limits=Limits(max_batch=5), fast=False)
    for method, path, body in REQUESTS:
        a = fast.request(method, path, json=body, headers=AUTH)
        b = routed.request(method, path, json=body, headers=AUTH)
        assert a.status_code == b.status_code, (path, body)
        ja, jb = a.json(), b.json()
        ja.pop("request_id", None), jb.pop("request_id", None)
        assert ja == jb, (path, body)
    wrong_type = {"content": b'{"record": {}}', "headers": {**AUTH, "content-type": "text/plain"}}
    assert fast.post("/v1/score", **wrong_type).status_code == routed.post("/v1/score", **wrong_type).status_code == 415


def test_icp_endpoint_holds_the_spec_in_plain_words(client) -> None:
    r = client.get("/v1/icp", headers=AUTH)
    assert r.status_code == 200
    icp = r.json()
    assert icp["sentence"] == icp_sentence(SPEC)
    assert [layer["name"] for layer in icp["layers"]] == ["firmographic", "technographic", "trigger"]
    firmo = icp["layers"][0]
    assert firmo["points"] == 60
    assert [(c["id"], c["points"]) for c in firmo["criteria"]] == [
        ("firmographic.0", 30),
        ("firmographic.1", 20),
        ("firmographic.2", 10),
    ]
    assert firmo["criteria"][1]["text"] == "with 50 to 500 employees"
    assert icp["exclusions"] == [
        {
            "id": "exclusion.0",
            "text": "Companies with business model B2C",
            "reason": "churned 62% vs 18% baseline (n=21, q=0.01)",
            "field": "business_model",
        }
    ]
    assert icp["tiers"] == {"tier1": 70, "tier2": 50, "tier3": 30}
    assert icp["routing"]["tier3"] == "nurture"
    kinds = {f["name"]: f["kind"] for f in icp["fields"]}
    assert kinds == {
        "industry": "text",
        "employees": "number",
        "country": "text",
        "tech_stack": "list",
        "last_funding_date": "date",
        "business_model": "text",
    }
    assert next(f for f in icp["fields"] if f["name"] == "industry")["suggestions"] == ["Software", "Fintech"]
    assert icp["definition"]["layers"]["firmographic"][0]["value"] == ["Software", "Fintech"]
    assert icp["enrichment"] is False
    assert icp["spec"]["hash"] == SPEC.content_hash()


def test_healthz_is_open_and_names_the_version(client) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "spec": {"hash": SPEC.content_hash(), "version": 3, "name": "acme-icp"}}


UNIVERSE = pa.table(
    {
        "domain": ["acme.com", "shopco.com"],
        "name": ["Acme", "ShopCo"],
        "industry": ["Software", "Retail"],
        "employees": [120, 40],
        "business_model": ["B2B", "B2C"],
    }
)


def test_enrichment_by_email_fills_firmographics_before_scoring(make_client) -> None:
    client = make_client(as_of=AS_OF, universe=UNIVERSE)
    body = _post(client, {"email": "jane@eu.acme.com", "country": "US"}).json()
    assert body["enrichment"] == {
        "status": "matched",
        "domain": "acme.com",
        "filled": {"domain": "acme.com", "name": "Acme", "industry": "Software", "employees": 120,
                   "business_model": "B2B"},
    }  # fmt: skip
    assert [m["id"] for m in body["explanation"]["matched"]] == ["firmographic.0", "firmographic.1", "firmographic.2"]
    assert body["score"] == 60
    # the lead's own values win over the universe's
    own = _post(client, {"email": "jane@acme.com", "employees": 5000}).json()
    assert "employees" not in own["enrichment"]["filled"]
    assert "firmographic.1" not in [m["id"] for m in own["explanation"]["matched"]]
    shop = _post(client, {"domain": "https://www.shopco.com/"}).json()
    assert shop["tier"] == "excluded"
    assert _post(client, {"email": "jane@gmail.com"}).json()["enrichment"]["status"] == "free_mail"
    assert _post(client, {"email": "jane@unknown-co.io"}).json()["enrichment"]["status"] == "no_match"
    assert _post(client, {"industry": "Software"}).json()["enrichment"]["status"] == "no_domain"
    off = _post(client, {"email": "jane@acme.com"}, enrich=False).json()
    assert off["enrichment"] is None and off["score"] == 0
    assert client.get("/v1/icp", headers=AUTH).json()["enrichment"] is True
    batch = client.post("/v1/score/batch", json={"records": [{"email": "a@acme.com"}, {}]}, headers=AUTH).json()
    assert [r["enrichment"]["status"] for r in batch["results"]] == ["matched", "no_domain"]


def test_openapi_documents_the_scoring_bodies_and_the_limits(make_client) -> None:
    doc = make_client(limits=Limits(max_batch=250, max_fields=40)).get("/openapi.json").json()
    assert {"/healthz", "/v1/icp", "/v1/score", "/v1/score/batch"} <= set(doc["paths"])
    score = doc["paths"]["/v1/score"]["post"]
    schema = score["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["record"] and schema["additionalProperties"] is False
    assert schema["properties"]["record"]["maxProperties"] == 40
    batch = doc["paths"]["/v1/score/batch"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert batch["properties"]["records"]["maxItems"] == 250
    assert {"200", "401", "413", "415", "422"} <= set(score["responses"])
    assert score["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert "ScoreResponse" in doc["components"]["schemas"]
