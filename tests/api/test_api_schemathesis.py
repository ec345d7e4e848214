"""Schemathesis generates requests from the app's own OpenAPI schema, valid ones and broken ones: no 500s, the
responses match the schema, valid bodies are accepted, invalid ones refused, auth enforced where documented."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
import schemathesis
from api_support import AUTH, PERSONA_YAML, SEGMENTED_YAML, SPEC_YAML, TOKEN
from hypothesis import HealthCheck, given, settings

from icpkit.api import JsonLog, Limits, Tokens, create_app

UNIVERSE = pa.table({"domain": ["acme.com"], "industry": ["Software"], "employees": [120]})
_DIR = Path(tempfile.mkdtemp(prefix="icpkit-schemathesis-"))


def _app(name: str, yaml: str):
    (_DIR / f"{name}.yaml").write_text(yaml)
    return create_app(
        _DIR / f"{name}.yaml",
        tokens=Tokens(env=TOKEN),
        universe=UNIVERSE,
        limits=Limits(max_batch=20, max_fields=30, max_string=200, max_list=10),
        poll_seconds=0,
        log=JsonLog(None),
    )


def _operations(app) -> dict:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return {op.ok().label: op.ok() for op in schema.get_all_operations()}


OPERATIONS = _operations(_app("icp", SPEC_YAML))
# responses of a multi-segment spec and of one with personas hold the same schema (valid requests suffice)
OTHER_SPECS = {
    "segments": _operations(_app("segments", SEGMENTED_YAML)),
    "personas": _operations(_app("personas", PERSONA_YAML)),
}
EXAMPLES = 60


def test_every_endpoint_is_in_the_schema() -> None:
    assert set(OPERATIONS) == {"GET /healthz", "GET /v1/icp", "POST /v1/score", "POST /v1/score/batch"}


POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
# GET endpoints take no input to break: valid requests only
RUNS = [(label, POSITIVE) for label in sorted(OPERATIONS)] + [
    (label, NEGATIVE) for label in sorted(OPERATIONS) if label.startswith("POST")
]


@pytest.mark.parametrize(("label", "mode"), RUNS, ids=[f"{label} {mode.value}" for label, mode in RUNS])
def test_api_conforms_to_its_schema(label: str, mode: schemathesis.GenerationMode) -> None:
    operation = OPERATIONS[label]
    seen: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case) -> None:
        response = case.call_and_validate(headers=AUTH)
        seen.append(response.status_code)

    check()
    assert seen and 500 not in seen
    if mode == POSITIVE:
        assert 200 in seen
    else:
        assert 422 in seen, seen  # broken bodies reached validation, not just the auth check


OTHER_RUNS = [
    (spec, label) for spec in OTHER_SPECS for label in ("GET /v1/icp", "POST /v1/score", "POST /v1/score/batch")
]


@pytest.mark.parametrize(("spec", "label"), OTHER_RUNS, ids=[f"{spec} {label}" for spec, label in OTHER_RUNS])
def test_segment_and_persona_answers_conform_to_the_schema(spec: str, label: str) -> None:
    operation = OTHER_SPECS[spec][label]
    seen: list[int] = []

    @given(case=operation.as_strategy(generation_mode=POSITIVE))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case) -> None:
        seen.append(case.call_and_validate(headers=AUTH).status_code)

    check()
    assert seen and set(seen) == {200}
