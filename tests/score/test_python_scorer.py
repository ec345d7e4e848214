"""The compiled per-record scorer: its written-out fast paths agree with the reference on every value shape, and
its result behaves like a ``ScoreResult`` (equality, lazy layer scores, copy, pickle, replace)."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import itertools
import math
import pickle
from typing import Any

import numpy as np
import pytest

from icpkit.score import ScoreResult, compile_scorer, score_record
from icpkit.score.python import NATIVE, Scorer
from icpkit.spec import Clause, Criterion, Exclusion, ICPSpec

AS_OF = dt.date(2026, 9, 30)

# Every shape a record value takes: the types the fast paths handle, and the ones they hand to the reference.
VALUES: list[Any] = [
    None,
    math.nan,
    "",
    "  ",
    "Software",
    " SOFTWARE\t",
    "software ",
    "b2c",
    "50",
    " 500 ",
    "yes",
    "No",
    "2026-09-01",
    0,
    50,
    50.0,
    500,
    49.999,
    -1,
    1e9,
    True,
    False,
    np.float64(50.0),
    np.int64(500),
    np.bool_(True),
    np.float64("nan"),
    AS_OF,
    AS_OF - dt.timedelta(days=30),
    AS_OF - dt.timedelta(days=31),
    AS_OF + dt.timedelta(days=1),
    dt.date(1, 1, 1),
    dt.datetime(2026, 9, 29, 12, 0),
    [],
    ["Software"],
    [" hubspot", "Slack"],
    ["HubSpot", None],
    ["", "  "],
    ["HubSpot", 5],
    ("HubSpot",),
    {"hubspot"},
    object(),
]

# (operator, spec value): each operator with text, number and mixed spec values
CLAUSES: list[tuple[str, Any]] = [
    ("equals", "Software"),
    ("equals", 50),
    ("equals", True),
    ("in", ["Software", "Fintech"]),
    ("in", [50, 500]),
    ("in", ["Software", 50]),
    ("not_in", ["B2C"]),
    ("not_in", [50]),
    ("between", [50, 500]),
    ("between", [50, None]),
    ("between", [None, 500]),
    ("gte", 50),
    ("lte", 50.0),
    ("contains_any", ["HubSpot", "Software"]),
    ("contains_all", ["HubSpot", "Slack"]),
    ("contains_none", ["Slack"]),
    ("contains_any", ["HubSpot", 5]),
    ("is_true", None),
    ("is_false", None),
    ("exists", None),
    ("within_days", 30),
    ("within_days", 10**6),  # reaches back past the first representable date
]


def _spec(op: str, value: Any, *, exclusion: bool = False) -> ICPSpec:
    fields = {"field": "f", "op": op, **({} if value is None else {"value": value})}
    if exclusion:
        return ICPSpec(name="t", as_of=AS_OF, exclusions=[Exclusion(**fields, reason="r")])
    return ICPSpec(name="t", as_of=AS_OF, layers={"firmographic": [Criterion(**fields, points=40)]})


@pytest.mark.parametrize("exclusion", [False, True], ids=["criterion", "exclusion"])
@pytest.mark.parametrize(("op", "value"), CLAUSES, ids=[f"{op}-{v!r}" for op, v in CLAUSES])
def test_every_value_shape_agrees_with_the_reference(op: str, value: Any, exclusion: bool) -> None:
    spec = _spec(op, value, exclusion=exclusion)
    scorer = compile_scorer(spec)
    for v in VALUES:
        record = {"f": v}
        assert scorer(record).as_dict() == score_record(spec, record).as_dict(), repr(v)
    assert scorer({}).as_dict() == score_record(spec, {}).as_dict()  # an absent field is missing


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(range(0, len(CLAUSES), 2), 2))[:40])
def test_conjunctions_agree_with_the_reference(first: int, second: int) -> None:
    (op1, v1), (op2, v2) = CLAUSES[first], CLAUSES[second]
    spec = ICPSpec(
        name="t",
        as_of=AS_OF,
        layers={
            "firmographic": [
                Criterion(
                    field="a",
                    op=op1,
                    **({} if v1 is None else {"value": v1}),
                    points=30,
                    also=[Clause(field="b", op=op2, **({} if v2 is None else {"value": v2}))],
                )
            ]
        },
    )
    scorer = compile_scorer(spec)
    for a, b in itertools.product(VALUES[::3], VALUES[1::3]):
        record = {"a": a, "b": b}
        assert scorer(record).as_dict() == score_record(spec, record).as_dict(), (a, b)


def _layered() -> ICPSpec:
    return ICPSpec(
        name="t",
        as_of=AS_OF,
        layers={
            "firmographic": [
                Criterion(field="industry", op="in", value=["Software"], points=30),
                Criterion(field="employees", op="between", value=[50, 500], points=10),
            ],
            "technographic": [
                Criterion(field="stack", op="contains_any", value=["HubSpot"], points=20),
                Criterion(field="stack", op="contains_none", value=["Marketo"], points=5),
            ],
            "behavioral": [Criterion(field="visited", op="exists")],  # no points: no layer score
        },
        exclusions=[Exclusion(field="model", op="in", value=["B2C"], reason="churns")],
    )


def test_result_is_a_score_result_equal_to_the_reference() -> None:
    spec = _layered()
    record = {"industry": " software", "employees": 80.0, "stack": ["hubspot"], "model": None}
    got, want = compile_scorer(spec)(record), score_record(spec, record)
    assert isinstance(got, ScoreResult)
    assert got == want and want == got
    assert got.layer_scores == {"firmographic": 1.0, "technographic": 1.0}
    assert got.layer_scores is got.layer_scores  # divided out once, then kept
    assert (got.matched, got.unknown) == (
        ["firmographic.0", "firmographic.1", "technographic.0", "technographic.1"],
        ["exclusion.0"],
    )
    assert got != dataclasses.replace(want, score=1)
    assert repr(got).startswith(f"{type(got).__name__}(score=65") and "'technographic': 1.0" in repr(got)


def test_result_copies_pickles_replaces_and_accepts_new_layer_scores() -> None:
    got = compile_scorer(_layered())({"industry": "Retail", "employees": 100, "stack": []})
    assert got.layer_scores == {"firmographic": 10 / 40, "technographic": 5 / 25}
    for clone in (copy.copy(got), copy.deepcopy(got), pickle.loads(pickle.dumps(got))):
        assert clone == got and clone.as_dict() == got.as_dict()
    lazy = compile_scorer(_layered())({"industry": "Retail"})
    assert pickle.loads(pickle.dumps(lazy)).layer_scores == {"firmographic": 0.0, "technographic": 0.0}
    changed = dataclasses.replace(got, score=99, layer_scores={"x": 0.5})
    assert (changed.score, changed.layer_scores, changed.tier) == (99, {"x": 0.5}, got.tier)
    got.layer_scores = {"y": 1.0}
    assert got.as_dict()["layer_scores"] == {"y": 1.0}


def test_list_field_read_once_serves_every_contains_criterion_and_the_exclusion() -> None:
    spec = ICPSpec(
        name="t",
        as_of=AS_OF,
        layers={
            "technographic": [
                Criterion(field="stack", op="contains_any", value=["HubSpot", "Salesforce"], points=20),
                Criterion(field="stack", op="contains_all", value=["HubSpot", "Slack"], points=20),
            ]
        },
        exclusions=[Exclusion(field="stack", op="contains_any", value=["Competitor"], reason="rival")],
    )
    scorer = Scorer(spec, native=False)  # the generated Python walk (the C walk reads the field per clause)
    assert scorer.source.count("item_set(") == 1
    r = scorer({"stack": ["Slack ", " HUBSPOT", "competitor", None]})  # a null item: the reference decides
    assert (r.matched, r.exclusions_hit, r.tier) == (
        ["technographic.0", "technographic.1"],
        ["exclusion.0"],
        "excluded",
    )
    assert scorer({"stack": None}).unknown == ["technographic.0", "technographic.1", "exclusion.0"]
    assert scorer({"stack": []}).as_dict() == score_record(spec, {"stack": []}).as_dict()


def test_no_spec_value_reaches_the_generated_source() -> None:
    marker = "zz_marker_zz"
    spec = ICPSpec(
        name=marker,
        as_of=AS_OF,
        layers={
            "firmographic": [
                Criterion(field=marker, op="in", value=[marker], points=10),
                Criterion(field=f"{marker}2", op="contains_any", value=[marker], points=10),
                Criterion(field=f"{marker}3", op="between", value=[12345, 67890], points=10),
                Criterion(field=f"{marker}4", op="within_days", value=4321, points=10),
            ]
        },
        exclusions=[Exclusion(field=marker, op="equals", value=marker, reason=marker)],
    )
    for native in {False, NATIVE}:
        source = Scorer(spec, native=native).source
        for literal in (marker, "12345", "67890", "4321"):
            assert literal not in source


def test_remembered_spellings_score_as_fresh_ones_before_and_after_the_memory_is_full() -> None:
    from icpkit.score.python import NORM_MAX

    spec = _spec("in", ["Software", "fintech"])
    scorer = compile_scorer(spec)
    spellings = [" SOFTWARE", "software\t", "Fintech ", "Retail", " ", "İstanbul"]
    fillers = [f"industry {i}" for i in range(NORM_MAX + 10)]
    for text in [*spellings, *fillers[::97], *spellings]:  # repeated: the second time from memory
        assert scorer({"f": text}).as_dict() == score_record(spec, {"f": text}).as_dict(), text
    for text in fillers:
        scorer({"f": text})
    for text in [*spellings, "SoftWare  ", "  fintech"]:  # the memory is full: new spellings are still read right
        assert scorer({"f": text}).as_dict() == score_record(spec, {"f": text}).as_dict(), text
