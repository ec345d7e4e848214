"""Schemathesis generates requests from the app's own OpenAPI schema, valid ones and broken ones: no 500s, the
responses match the schema, valid bodies are accepted, invalid ones refused, auth enforced where documented."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pytest
import schemathesis
from api_support import AUTH, SPEC_YAML, TOKEN
from hypothesis import HealthCheck, given, settings

from icpkit.api import JsonLog, Limits, Tokens, create_app

UNIVERSE = pa.table({"domain": ["acme.com"], "industry": ["Software"], "employees": [120]})
_DIR = Path(tempfile.mkdtemp(prefix="icpkit-schemathesis-"))
(_DIR / "icp.yaml").write_text(SPEC_YAML)
APP = create_app(
    _DIR / "icp.yaml",
    tokens=Tokens(env=TOKEN),
    universe=UNIVERSE,
    limits=Limits(max_batch=20, max_fields=30, max_string=200, max_list=10),
    poll_seconds=0,
    log=JsonLog(None),
)
SCHEMA = schemathesis.openapi.from_asgi("/openapi.json", APP)
OPERATIONS = {op.ok().label: op.ok() for op in SCHEMA.get_all_operations()}
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
