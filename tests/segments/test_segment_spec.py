"""The multi-segment spec: YAML round trip, line-numbered errors, and a single-ICP spec left exactly as it was."""

from __future__ import annotations

import pytest

from icpkit.errors import SpecError
from icpkit.spec import Criterion, ICPSpec, Segment, load_spec
from icpkit.synth import generate

TWO = """name: acme
version: 1
as_of: 2026-09-30
segments:
  - name: midmarket
    description: Software on HubSpot
    layers:
      firmographic:
        - {field: industry, in: [Software], points: 60}
    exclusions:
      - {field: business_model, in: [B2C], reason: churns}
    tiers: {tier1: 60, tier2: 40, tier3: 20}
    routing: {tier1: sales, tier2: sales, tier3: nurture, none: disqualify, excluded: disqualify}
  - name: enterprise
    layers:
      firmographic:
        - {field: industry, in: [Manufacturing], points: 60}
    exclusions: []
    tiers: {tier1: 70, tier2: 50, tier3: 30}
    routing: {tier1: sales, tier2: sales, tier3: nurture, none: disqualify, excluded: disqualify}
"""


def test_a_segmented_spec_round_trips_byte_for_byte() -> None:
    spec = load_spec(TWO)
    assert spec.to_yaml() == TWO
    assert [n for n, _ in spec.segment_specs()] == ["midmarket", "enterprise"]
    assert spec.fields() == ["industry", "business_model"]


def test_a_single_icp_spec_is_unchanged() -> None:
    spec = generate(1500, seed=2).truth
    assert spec.segments is None
    assert load_spec(spec.to_yaml()).to_yaml() == spec.to_yaml()
    assert "segments" not in spec.to_yaml()
    assert "segments" not in __import__("icpkit.spec.io", fromlist=["x"]).canonical_form(spec)


def test_the_hash_covers_segment_criteria_and_names_not_descriptions() -> None:
    spec = load_spec(TWO)
    described = load_spec(TWO.replace("Software on HubSpot", "other words"))
    assert described.content_hash() == spec.content_hash()
    assert load_spec(TWO.replace("points: 60}\n    exclusions:", "points: 61}\n    exclusions:")).content_hash() != (
        spec.content_hash()
    )
    assert load_spec(TWO.replace("name: enterprise", "name: large")).content_hash() != spec.content_hash()


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (("name: enterprise", "name: enterprise co"), 14, "segments[1].name"),
        (("tier3: 30}", "tier3: 30, tier4: 1}"), 19, "unknown key 'tier4'"),
        (("industry, in: [Manufacturing]", "industry, inn: [Manufacturing]"), 17, "unknown key 'inn'"),
        (("name: enterprise", "name: midmarket"), 1, "unique"),
        (("segments:", "layers: {firmographic: [{field: a, exists: true, points: 3}]}\nsegments:"), 1, "top level"),
    ],
)
def test_errors_name_the_line_and_field(edit: tuple[str, str], line: int, message: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(TWO.replace(*edit), path="acme.yaml")
    text = str(info.value)
    assert f"acme.yaml:{line}" in text and message in text


def test_an_empty_segment_list_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one segment"):
        ICPSpec(name="x", segments=[])


def test_a_segment_is_an_ordinary_spec_for_every_engine() -> None:
    seg = Segment(name="a", layers={"firmographic": [Criterion(field="industry", op="in", value=["x"], points=5)]})
    spec = ICPSpec(name="p", segments=[seg])
    ((name, single),) = spec.segment_specs()
    assert name == "a" and single.segments is None and single.layers == seg.layers
