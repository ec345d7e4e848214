"""Valid but hostile JSON and small gaps of the service, in process: every answer a 2xx or a 4xx naming the
problem, never a 500."""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from icpkit.api import JsonLog, create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SPEC = """name: t
version: 1
as_of: 2026-09-30
layers:
  firmographic:
    - {field: employees, in: [100, 200], points: 20}
    - {field: founded_year, equals: 2001, points: 10}
    - {field: employees, gte: 10, points: 10}
  technographic:
    - {field: tech_stack, contains_any: [Salesforce, "5"], points: 20}
  trigger:
    - {field: last_funding_date, within_days: 180, points: 20}
    - {field: churned, is_true: true, points: 5}
tiers: {tier1: 70, tier2: 50, tier3: 30}
routing: {tier1: sales, tier2: sales, tier3: nurture, none: disqualify, excluded: disqualify}
"""
UNIVERSE = pa.table({"domain": ["acme.com"], "industry": ["Software"], "employees": [120]})
TWO_64 = str(1 << 64)
HUGE = "1" + "0" * 400


@pytest.fixture(params=["fast", "framework"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    spec = tmp_path / "icp.yaml"
    spec.write_text(SPEC)
    app = create_app(
        spec,
        insecure_no_auth=True,
        universe=UNIVERSE,
        log=JsonLog(io.StringIO()),
        poll_seconds=0,
        as_of="spec",
        fast=request.param == "fast",
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _post(client: TestClient, body: str | bytes, path: str = "/v1/score") -> tuple[int, dict]:
    r = client.post(path, content=body, headers={"content-type": "application/json"})
    return r.status_code, r.json()


@pytest.mark.parametrize("field", ["employees", "founded_year", "tech_stack", "last_funding_date", "churned"])
@pytest.mark.parametrize("number", [TWO_64, "-" + TWO_64, "[" + TWO_64 + "]"])
def test_integers_beyond_64_bits_are_scored(client: TestClient, field: str, number: str) -> None:
    status, out = _post(client, f'{{"record": {{"{field}": {number}}}}}')
    assert status == 200, out
    status, out = _post(client, f'{{"records": [{{"{field}": {number}}}]}}', "/v1/score/batch")
    assert status == 200, out


@pytest.mark.parametrize("field", ["employees", "tech_stack", "last_funding_date", "churned"])
@pytest.mark.parametrize("number", [HUGE, "[" + HUGE + "]"])
def test_integers_beyond_a_double_are_refused(client: TestClient, field: str, number: str) -> None:
    status, out = _post(client, f'{{"record": {{"{field}": {number}}}}}')
    assert status == 422
    assert out["detail"].startswith("numbers must be finite")


def test_a_big_integer_compares_as_the_number_it_is(client: TestClient) -> None:
    status, out = _post(client, f'{{"record": {{"employees": {TWO_64}}}}}')
    assert status == 200
    assert out["score"] == 10  # employees >= 10 matches; in [100, 200] does not


@pytest.mark.parametrize("field", ["domain", "email"])
def test_a_lone_surrogate_in_a_domain_is_no_domain(client: TestClient, field: str) -> None:
    value = "\\ud800.com" if field == "domain" else "jane@\\udfff.com"
    status, out = _post(client, f'{{"record": {{"{field}": "{value}"}}}}')
    assert status == 200, out
    assert out["enrichment"]["status"] == "no_domain"


@pytest.mark.parametrize(
    "body",
    ['\ufeff{"record": {}}'.encode(), '{"record": {}}'.encode("utf-16"), '{"record": {}}'.encode("utf-32")],
    ids=["utf-8 bom", "utf-16", "utf-32"],
)
def test_bodies_are_utf8_without_a_bom(client: TestClient, body: bytes) -> None:
    status, out = _post(client, body)
    assert status == 422
    assert out["field"] == "body"


def test_head_healthz(client: TestClient) -> None:
    assert client.head("/healthz").status_code == 200
    assert client.get("/healthz").json()["status"] == "ok"


def test_docs_can_be_turned_off(tmp_path: Path) -> None:
    spec = tmp_path / "icp.yaml"
    spec.write_text(SPEC)
    app = create_app(spec, insecure_no_auth=True, log=JsonLog(io.StringIO()), poll_seconds=0, docs=False)
    with TestClient(app, raise_server_exceptions=False) as c:
        assert c.get("/docs").status_code == 404
        assert c.get("/docs/oauth2-redirect").status_code == 404
        assert c.get("/openapi.json").status_code == 200
