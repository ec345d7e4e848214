"""YAML round-trip, line-numbered validation errors, safe loading and the content hash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icpkit.errors import SpecError
from icpkit.spec import (
    Clause,
    Criterion,
    Evidence,
    Exclusion,
    ICPSpec,
    Routing,
    Tiers,
    content_hash,
    dump_spec,
    load_spec,
)

ACME = ICPSpec(
    name="acme-icp",
    version=3,
    parent="9f2c",
    as_of=dt.date(2026, 9, 30),
    layers={
        "trigger": [Criterion(field="last_funding_date", op="within_days", value=180, points=10)],
        "firmographic": [
            Criterion(
                field="industry",
                op="in",
                value=["Software", "Fintech"],
                points=20,
                evidence=Evidence(support=48, signal_rate=0.412345678, base_rate=0.17, lift=2.4, p=0.0004, q=0.003),
            ),
            Criterion(field="employees", op="between", value=[50.0, 500.0], points=15),
        ],
        "technographic": [
            Criterion(
                field="tech_stack",
                op="contains_any",
                value=["Salesforce", "HubSpot"],
                points=15,
                also=[Clause(field="sdr_openings", op="gte", value=3)],
                label="running a CRM and hiring SDRs",
            )
        ],
    },
    exclusions=[Exclusion(field="business_model", op="in", value=["B2C"], reason="churned 62% vs 18% (n=21)")],
)

ACME_YAML = """\
name: acme-icp
version: 3
parent: 9f2c
as_of: 2026-09-30
layers:
  firmographic:
    - {field: industry, in: [Software, Fintech], points: 20,
       evidence: {support: 48, signal_rate: 0.4123, base_rate: 0.17, lift: 2.4, p: 0.0004, q: 0.003}}
    - {field: employees, between: [50, 500], points: 15}
  technographic:
    - {field: tech_stack, contains_any: [Salesforce, HubSpot], points: 15, also: [{field: sdr_openings, gte: 3}], \
label: running a CRM and hiring SDRs}
  trigger:
    - {field: last_funding_date, within_days: 180, points: 10}
exclusions:
  - {field: business_model, in: [B2C], reason: churned 62% vs 18% (n=21)}
tiers: {tier1: 70, tier2: 50, tier3: 30}
routing: {tier1: sales, tier2: sales, tier3: nurture, none: disqualify, excluded: disqualify}
"""


def test_dump_has_the_documented_shape() -> None:
    assert dump_spec(ACME) == ACME_YAML
    assert ACME.to_yaml() == ACME_YAML


def test_round_trip_is_stable() -> None:
    loaded = load_spec(ACME_YAML)
    assert dump_spec(loaded) == ACME_YAML
    assert loaded.layers["firmographic"][0].evidence.signal_rate == 0.4123
    assert loaded.as_of == dt.date(2026, 9, 30)
    assert content_hash(loaded) == content_hash(ACME)


def test_load_from_file_and_path_in_errors(tmp_path: Path) -> None:
    f = tmp_path / "acme-icp.yaml"
    f.write_text(ACME_YAML, encoding="utf-8")
    assert load_spec(f) == load_spec(str(f)) == ICPSpec.from_yaml(f)
    f.write_text(ACME_YAML.replace("[50, 500]", "[500, 50]"), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(f)
    assert info.value.path == str(f) and info.value.line == 9
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "missing.yaml")
    (tmp_path / "latin1.yaml").write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(tmp_path / "latin1.yaml")


BASE = """\
name: acme-icp
as_of: 2026-09-30
layers:
  firmographic:
    - {field: industry, in: [Software], points: 20}
    - {field: employees, between: [50, 500], points: 15}
tiers: {tier1: 70, tier2: 50, tier3: 30}
"""


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("[50, 500]", "[500, 50]", 6, "layers.firmographic[1].between", "lower bound 500 > upper 50"),
        ("between:", "betwen:", 6, "layers.firmographic[1].betwen", "unknown key 'betwen' (did you mean 'between'?)"),
        ("points: 20", "pionts: 20", 5, "layers.firmographic[0].pionts", "did you mean 'points'?"),
        ("points: 20", "points: lots", 5, "layers.firmographic[0].points", "valid integer"),
        ("points: 20", "points: 120", 5, "layers.firmographic[0].points", "less than or equal to 100"),
        ("in: [Software]", "in: Software", 5, "layers.firmographic[0].in", "needs a non-empty list"),
        ("firmographic:", "firmographics:", 4, "layers.firmographics", "did you mean 'firmographic'?"),
        ("tier1: 70", "tier1: 10", 7, "tiers", "tier1 >= tier2 >= tier3"),
        ("tier3: 30", "tier4: 30", 7, "tiers.tier4", "unknown key 'tier4'"),
        ("as_of: 2026-09-30", "as_of: 2026-09-30\nname: again", 3, None, 'duplicate key "name"'),
        ("[Software]", "[Software", 5, None, "expected ','"),
        ("2026-09-30", "2026-13-30", 2, None, "not a valid date"),
        ("points: 20}", "points: 20, in: [x]}", 5, None, 'duplicate key "in"'),
        ("in: [Software], ", "", 5, "layers.firmographic[0]", "no operator"),
        ("points: 20}", "points: 20, equals: x}", 5, "layers.firmographic[0]", "one operator per clause"),
        ("points: 20}", "points: 20, also: [{field: x, gte: abc}]}", 5, "layers.firmographic[0].also[0].gte", "number"),
        (
            "points: 20}",
            "points: 20, evidence: {support: 3, lfit: 2}}",
            5,
            "layers.firmographic[0].evidence.lfit",
            "lift",
        ),
        ("name: acme-icp\n", "", 1, "name", "required"),
        ("tiers:", "tierz:", 7, "tierz", "did you mean 'tiers'?"),
        ("in: [Software]", "in: &x [Software]", 6, None, None),  # an anchor alone is fine ...
    ],
)
def test_errors_name_line_and_field(old: str, new: str, line: int, field: str | None, message: str | None) -> None:
    text = BASE.replace(old, new, 1)
    assert text != BASE
    if message is None:
        load_spec(text)
        return
    with pytest.raises(SpecError) as info:
        load_spec(text, path="acme-icp.yaml")
    err = info.value
    assert (err.path, err.line, err.field) == ("acme-icp.yaml", line, field)
    assert message in str(err)
    assert str(err).startswith(f"acme-icp.yaml:{line}")


def test_error_message_reads_like_the_issue() -> None:
    with pytest.raises(SpecError) as info:
        load_spec(BASE.replace("[50, 500]", "[500, 50]"), path="acme-icp.yaml")
    assert str(info.value) == "acme-icp.yaml:6 layers.firmographic[1].between: lower bound 500 > upper 50"


def test_several_errors_are_all_listed_in_line_order() -> None:
    text = BASE.replace("[50, 500]", "[500, 50]").replace("points: 20", "points: lots")
    with pytest.raises(SpecError) as info:
        load_spec(text, path="s.yaml")
    assert info.value.line == 5
    assert "and 1 more:\n  s.yaml:6 layers.firmographic[1].between: lower bound 500 > upper 50" in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &a [1, 1]\nb: [*a, *a]\n", "aliases"),  # no alias expansion: a billion-laughs file fails at once
        ("name: !!python/object/apply:os.system [ls]\n", "tags"),
        ("name: !custom x\n", "tags"),
        ("name: a\n---\nname: b\n", "second YAML document"),
        ("- a\n", "a YAML mapping"),
        ("", "empty"),
        ("name: x\nlayers: [1]\n", "layers is a mapping"),
        ("name: x\n1: y\n", "keys must be text"),
    ],
)
def test_unsafe_or_malformed_yaml_is_refused(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_spec(text)


def test_empty_layer_and_flag_operators_load() -> None:
    spec = load_spec("name: x\nlayers:\n  behavioral:\n  trigger:\n    - {field: hiring, is_true: true, points: 5}\n")
    assert spec.layers["behavioral"] == []
    assert spec.layers["trigger"][0].value is True
    assert load_spec(dump_spec(spec)) == spec


def test_content_hash_covers_the_filter_only() -> None:
    h = content_hash(ACME)
    assert len(h) == 64 and h == ACME.content_hash()
    same_filter = ACME.model_copy(
        update={"name": "renamed", "version": 9, "parent": None, "description": "notes", "exclusions": []}
    )
    assert content_hash(same_filter) != h  # exclusions are part of the filter
    docs_only = ACME.model_copy(update={"name": "renamed", "version": 9, "parent": "abc", "description": "notes"})
    assert content_hash(docs_only) == h
    recased = load_spec(ACME_YAML.replace("[Software, Fintech]", "[' fintech', SOFTWARE, Software]"))
    assert content_hash(recased) == h  # same set, as scoring reads it
    for old, new in [
        ("points: 20", "points: 21"),
        ("[50, 500]", "[50, 501]"),
        ("tier1: 70", "tier1: 71"),
        ("none: disqualify", "none: nurture"),
        ("as_of: 2026-09-30", "as_of: 2026-10-01"),
        ("gte: 3", "gte: 4"),
    ]:
        assert content_hash(load_spec(ACME_YAML.replace(old, new, 1))) != h, old
    for old, new in [
        ("lift: 2.4", "lift: 9.9"),
        ("reason: churned 62% vs 18% (n=21)", "reason: churns a lot"),
        ("label: running a CRM and hiring SDRs", "label: other words"),
    ]:
        assert content_hash(load_spec(ACME_YAML.replace(old, new, 1))) == h, old


def test_reordering_criteria_changes_the_hash_because_ids_follow_order() -> None:
    two = ICPSpec(
        name="x",
        layers={
            "firmographic": [
                Criterion(field="a", op="exists", points=1),
                Criterion(field="b", op="exists", points=1),
            ]
        },
    )
    swapped = ICPSpec(name="x", layers={"firmographic": list(reversed(two.layers["firmographic"]))})
    assert content_hash(two) != content_hash(swapped)


# Random specs: dump -> load -> dump is byte-identical, the hash survives, and the model is equal.
text_values = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
scalars = st.one_of(
    text_values, st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
)
fields = st.from_regex(r"[a-z][a-z_]{0,14}", fullmatch=True)


@st.composite
def random_clause(draw: st.DrawFn) -> dict:
    op = draw(
        st.sampled_from(["equals", "in", "not_in", "between", "gte", "lte", "contains_any", "exists", "within_days"])
    )
    if op == "equals":
        value = draw(scalars)
    elif op in ("in", "not_in", "contains_any"):
        value = draw(st.lists(scalars, min_size=1, max_size=4))
    elif op == "between":
        lo, hi = sorted(draw(st.lists(st.floats(-1e9, 1e9), min_size=2, max_size=2)))
        value = [draw(st.sampled_from([lo, None])), hi]
    elif op in ("gte", "lte"):
        value = draw(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False)))
    elif op == "within_days":
        value = draw(st.integers(0, 10_000))
    else:
        value = True
    return {"field": draw(fields), "op": op, "value": value}


evidence = st.builds(
    Evidence,
    support=st.integers(0, 10_000),
    lift=st.one_of(st.none(), st.floats(0, 1e6)),
    p=st.one_of(st.none(), st.floats(0, 1)),
    q=st.one_of(st.none(), st.floats(1e-300, 1)),
)


@st.composite
def random_spec(draw: st.DrawFn) -> ICPSpec:
    layers = {}
    for layer in draw(st.lists(st.sampled_from(["firmographic", "behavioral", "economic"]), unique=True)):
        layers[layer] = [
            Criterion(
                **draw(random_clause()),
                points=draw(st.integers(0, 100)),
                also=[Clause(**c) for c in draw(st.lists(random_clause(), max_size=2))],
                label=draw(st.one_of(st.none(), text_values)),
                evidence=draw(st.one_of(st.none(), evidence)),
            )
            for _ in range(draw(st.integers(0, 3)))
        ]
    t = sorted(draw(st.lists(st.integers(0, 100), min_size=3, max_size=3)), reverse=True)
    return ICPSpec(
        name=draw(text_values),
        version=draw(st.integers(1, 1000)),
        description=draw(st.one_of(st.none(), st.text(max_size=40))),
        as_of=draw(st.one_of(st.none(), st.dates())),
        layers=layers,
        exclusions=[
            Exclusion(**draw(random_clause()), reason=draw(text_values)) for _ in range(draw(st.integers(0, 2)))
        ],
        tiers=Tiers(tier1=t[0], tier2=t[1], tier3=t[2]),
        routing=Routing(none=draw(text_values)),
    )


@settings(max_examples=150, deadline=None)
@given(spec=random_spec())
def test_random_specs_round_trip(spec: ICPSpec) -> None:
    text = dump_spec(spec)
    again = load_spec(text)
    assert dump_spec(again) == text
    assert content_hash(again) == content_hash(spec)
    assert again.model_dump(exclude={"layers", "exclusions"}) == spec.model_dump(exclude={"layers", "exclusions"})
    for (_, a), (_, b) in zip(again.criteria(), spec.criteria(), strict=True):
        assert (a.field, a.op, a.value, a.points, a.also, a.label) == (
            b.field,
            b.op,
            b.value,
            b.points,
            b.also,
            b.label,
        )


def test_awkward_strings_survive_a_round_trip() -> None:
    spec = ICPSpec(
        name="a\u2028b",
        description="x\x85\x85 y",
        layers={"economic": [Criterion(field="f", op="in", value=["p\u2029q", "?A", "- x", "#1"], label="l\x85")]},
        routing=Routing(none="?>"),
    )
    text = dump_spec(spec)
    assert load_spec(text) == spec
    assert dump_spec(load_spec(text)) == text
