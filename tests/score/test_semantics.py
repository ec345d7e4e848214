"""The operator truth table, run on every engine: reference, compiled Python, and vectorised Arrow."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

from icpkit.score import compile_scorer, score_record, score_table
from icpkit.spec import Clause, Criterion, Exclusion, ICPSpec, Routing, Tiers

AS_OF = dt.date(2026, 9, 30)
Y, N, U = True, False, None

# (operator, spec value, record value, expected outcome)
CASES: list[tuple[str, Any, Any, bool | None]] = [
    # text: trimmed, case-insensitive, on both sides
    ("equals", " Software", "  SOFTWARE ", Y),
    ("equals", "Software", "Soft ware", N),
    ("equals", "Software", None, U),
    ("equals", "Software", "   ", U),
    ("equals", "Software", "", U),
    ("in", ["Software", "Fintech"], "fintech", Y),
    ("in", ["Software", "Fintech"], "Retail", N),
    ("in", ["500"], 500, N),  # text never equals a number
    ("in", [500], " 500 ", Y),  # numeric text read leniently
    ("in", [500], "500.0", Y),
    ("in", [500], "five hundred", N),
    ("in", ["Software"], ["Software"], N),  # a list is not a scalar
    ("not_in", ["B2C"], "b2b", Y),
    ("not_in", ["B2C"], " b2c", N),
    ("not_in", ["B2C"], None, U),
    ("not_in", ["B2C"], 7, Y),
    ("not_in", ["B2C"], [], N),
    ("equals", True, "yes", Y),
    ("equals", 3, 3.0, Y),
    ("equals", 3, True, N),  # booleans are not numbers
    # numbers: inclusive, open ends, NaN is missing
    ("between", [50, 500], 50, Y),
    ("between", [50, 500], 500.0, Y),
    ("between", [50, 500], 500.0001, N),
    ("between", [50, 500], 49.999, N),
    ("between", [50, None], 10**9, Y),
    ("between", [None, 500], -3, Y),
    ("between", [50, 500], float("nan"), U),
    ("between", [50, 500], "120", Y),
    ("between", [50, 500], "+1.2e2", Y),
    ("between", [50, 500], "1,200", N),
    ("between", [50, 500], "lots", N),
    ("between", [50, 500], True, N),
    ("gte", 10, 10, Y),
    ("gte", 10, 9.5, N),
    ("lte", 10, 10, Y),
    ("lte", 10, 10.5, N),
    # lists: items trimmed, case-insensitive; empty list is known; null list is unknown; scalar = one item
    ("contains_any", ["Salesforce", "HubSpot"], [" hubspot", "Slack"], Y),
    ("contains_any", ["Salesforce", "HubSpot"], ["Slack"], N),
    ("contains_any", ["Salesforce", "HubSpot"], [], N),
    ("contains_any", ["Salesforce", "HubSpot"], None, U),
    ("contains_any", ["Salesforce", "HubSpot"], [None, ""], N),
    ("contains_any", ["Salesforce", "HubSpot"], "salesforce", Y),
    ("contains_all", ["Salesforce", "HubSpot"], ["HUBSPOT", "salesforce ", "x"], Y),
    ("contains_all", ["Salesforce", "HubSpot"], ["HubSpot"], N),
    ("contains_all", ["Salesforce"], "Salesforce", Y),
    ("contains_all", ["Salesforce"], [], N),
    ("contains_none", ["Salesforce"], [], Y),
    ("contains_none", ["Salesforce"], ["slack"], Y),
    ("contains_none", ["Salesforce"], ["SalesForce"], N),
    ("contains_none", ["Salesforce"], None, U),
    ("contains_none", ["Salesforce"], " ", U),
    # booleans, leniently from yes/no text
    ("is_true", True, True, Y),
    ("is_true", True, False, N),
    ("is_true", True, " Yes", Y),
    ("is_true", True, "maybe", N),
    ("is_true", True, None, U),
    ("is_false", True, "no", Y),
    ("is_false", True, False, Y),
    ("is_false", True, 0, N),  # numbers are not booleans
    # exists is never unknown
    ("exists", True, None, N),
    ("exists", True, "  ", N),
    ("exists", True, [], N),
    ("exists", True, [None], N),
    ("exists", True, ["x"], Y),
    ("exists", True, 0, Y),
    ("exists", True, False, Y),
    ("exists", True, float("nan"), N),
    # within_days: as_of - N <= date <= as_of; the future does not match
    ("within_days", 180, AS_OF, Y),
    ("within_days", 180, AS_OF - dt.timedelta(days=180), Y),
    ("within_days", 180, AS_OF - dt.timedelta(days=181), N),
    ("within_days", 180, AS_OF + dt.timedelta(days=1), N),
    ("within_days", 0, AS_OF, Y),
    ("within_days", 180, "2026-09-01", Y),
    ("within_days", 180, "2026-09-01T23:59:00", Y),
    ("within_days", 180, "2026-02-30", N),
    ("within_days", 180, "last week", N),
    ("within_days", 180, None, U),
    ("within_days", 180, dt.datetime(2026, 9, 30, 23, 0), Y),
]


def _spec(op: str, value: Any) -> ICPSpec:
    return ICPSpec(
        name="t",
        as_of=AS_OF,
        layers={"firmographic": [Criterion(field="f", op=op, value=value, points=40)]},
        tiers=Tiers(tier1=40, tier2=40, tier3=40),
    )


def _outcome(result: Any) -> bool | None:
    if "firmographic.0" in result["matched"]:
        return True
    return None if "firmographic.0" in result["unknown"] else False


@pytest.mark.parametrize("engine", ["reference", "python", "vector"])
@pytest.mark.parametrize(("op", "value", "record", "expected"), CASES)
def test_truth_table(engine: str, op: str, value: Any, record: Any, expected: bool | None) -> None:
    spec = _spec(op, value)
    if engine == "reference":
        got = score_record(spec, {"f": record}, as_of=AS_OF).as_dict()
    elif engine == "python":
        got = compile_scorer(spec, as_of=AS_OF)({"f": record}).as_dict()
    else:
        got = score_table(spec, pa.Table.from_pylist([{"f": record}]), as_of=AS_OF).to_pylist()[0]
    assert _outcome(got) is expected
    assert got["score"] == (40 if expected else 0)


def test_conjunction_is_kleene_and() -> None:
    spec = ICPSpec(
        name="t",
        layers={
            "firmographic": [
                Criterion(field="a", op="equals", value="x", points=10, also=[Clause(field="b", op="gte", value=3)])
            ]
        },
    )
    scorer = compile_scorer(spec)
    assert scorer({"a": "x", "b": 3}).matched == ["firmographic.0"]
    assert scorer({"a": "x", "b": None}).unknown == ["firmographic.0"]
    assert scorer({"a": "y", "b": None}).unknown == []  # a definite no wins over unknown
    assert scorer({"a": None, "b": 1}).unknown == []


def _full_spec() -> ICPSpec:
    return ICPSpec(
        name="t",
        as_of=AS_OF,
        layers={
            "firmographic": [
                Criterion(field="industry", op="in", value=["Software"], points=40),
                Criterion(field="employees", op="between", value=[50, 500], points=30),
            ],
            "technographic": [Criterion(field="tech_stack", op="contains_any", value=["HubSpot"], points=50)],
            "behavioral": [Criterion(field="visited", op="exists", points=0)],
        },
        exclusions=[Exclusion(field="business_model", op="in", value=["B2C"], reason="churned 62% vs 18%")],
        tiers=Tiers(tier1=90, tier2=60, tier3=30),
        routing=Routing(tier1="ae", tier2="sdr", tier3="nurture", none="drop", excluded="block"),
    )


@pytest.mark.parametrize("engine", ["reference", "python", "vector"])
def test_score_tiers_routes_and_layers(engine: str) -> None:
    spec = _full_spec()
    records = [
        {"industry": "software", "employees": 100, "tech_stack": ["hubspot"], "business_model": "B2B"},
        {"industry": "software", "employees": 100, "tech_stack": None, "business_model": "B2B"},
        {"industry": "software", "employees": 10, "tech_stack": None, "business_model": None},
        {"industry": "retail", "employees": 10, "tech_stack": [], "business_model": "b2c"},
    ]
    if engine == "vector":
        rows = score_table(spec, pa.Table.from_pylist(records)).to_pylist()
        got = [
            (r["score"], r["tier"], r["route"], r["layer_firmographic"], r["layer_technographic"], r["unknown"])
            for r in rows
        ]
        assert "layer_behavioral" not in rows[0]  # a layer without points gets no layer score
    else:
        score = score_record if engine == "reference" else (lambda s, r: compile_scorer(s)(r))
        results = [score(spec, r) for r in records]
        got = [
            (
                r.score,
                r.tier,
                r.route,
                r.layer_scores["firmographic"],
                r.layer_scores["technographic"],
                r.unknown,
            )
            for r in results
        ]
        assert "behavioral" not in results[0].layer_scores
    assert got == [
        (100, "tier1", "ae", 1.0, 1.0, []),  # 120 points clamped to 100
        (70, "tier2", "sdr", 1.0, 0.0, ["technographic.0"]),
        (40, "tier3", "nurture", 40 / 70, 0.0, ["technographic.0", "exclusion.0"]),
        (0, "excluded", "block", 0.0, 0.0, []),
    ]


def test_excluded_keeps_its_fit_score_and_reason() -> None:
    spec = _full_spec()
    scorer = compile_scorer(spec)
    r = scorer({"industry": "Software", "employees": 60, "business_model": " B2C "})
    assert (r.score, r.tier, r.route, r.exclusions_hit) == (70, "excluded", "block", ["exclusion.0"])
    assert scorer.reasons(r) == ["churned 62% vs 18%"]


def test_within_days_counts_from_today_unless_pinned() -> None:
    """The scoring date is today (UTC) when nothing pins it: never the spec's build date, which only says when the
    history ended. A spec without as_of scores as well as one with it."""
    today = dt.datetime.now(dt.UTC).date()
    for spec in (_spec("within_days", 10), _spec("within_days", 10).model_copy(update={"as_of": None})):
        week_ago, at_build = today - dt.timedelta(days=7), AS_OF - dt.timedelta(days=3)
        assert score_record(spec, {"f": week_ago}).score == 40
        assert compile_scorer(spec)({"f": week_ago}).score == 40
        assert score_table(spec, pa.table({"f": [week_ago]}))["score"].to_pylist() == [40]
        assert compile_scorer(spec)({"f": at_build}).score == 0  # recent at the build date, long ago today
        assert compile_scorer(spec, as_of=AS_OF)({"f": at_build}).score == 40


def test_as_of_parameter_overrides_the_spec() -> None:
    spec = _spec("within_days", 10)
    later = AS_OF + dt.timedelta(days=11)
    assert compile_scorer(spec, as_of=AS_OF)({"f": AS_OF}).score == 40
    assert compile_scorer(spec, as_of=later)({"f": AS_OF}).score == 0
    assert score_table(spec, pa.table({"f": [AS_OF]}), as_of=later)["score"].to_pylist() == [0]


def test_an_unpinned_scorer_follows_the_calendar(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scorer compiled once (the API's, a router's) counts from the day each record arrives, not the day it was
    compiled: on a new day its clauses are compiled for that day."""
    import icpkit.score.python as python_scorer

    day = [AS_OF]
    monkeypatch.setattr(python_scorer, "today", lambda: day[0])
    monkeypatch.setattr("icpkit.score.semantics.today", lambda: day[0])
    epoch = dt.date(1970, 1, 1).toordinal()
    monkeypatch.setattr(python_scorer, "_clock", lambda: (day[0].toordinal() - epoch) * 86400.0 + 43200.0)  # noon
    for native in (False, True) if python_scorer.NATIVE else (False,):
        day[0] = AS_OF
        scorer = python_scorer.Scorer(_spec("within_days", 10), native=native)
        assert scorer({"f": AS_OF - dt.timedelta(days=10)}).score == 40
        day[0] = AS_OF + dt.timedelta(days=1)
        assert scorer({"f": AS_OF - dt.timedelta(days=10)}).score == 0
        assert scorer.as_of == day[0]
        pinned = python_scorer.Scorer(_spec("within_days", 10), as_of=AS_OF, native=native)
        assert pinned({"f": AS_OF - dt.timedelta(days=10)}).score == 40


def test_score_table_replaces_earlier_output_and_keeps_input() -> None:
    spec = _full_spec()
    table = pa.table({"account_id": ["a", "b"], "industry": ["Software", "x"], "score": [5, 5]})
    out = score_table(spec, table, explain=False)
    layers = ["layer_firmographic", "layer_technographic"]
    assert out.column_names == ["account_id", "industry", "score", "tier", "route", *layers]
    assert out["score"].to_pylist() == [40, 0]
    again = score_table(spec, out)
    assert again.column_names.count("score") == 1
    assert again["matched"].type == pa.list_(pa.string())


def test_score_table_handles_dictionary_large_string_and_timestamps() -> None:
    spec = ICPSpec(
        name="t",
        as_of=AS_OF,
        layers={
            "firmographic": [Criterion(field="industry", op="in", value=["Software"], points=50)],
            "trigger": [Criterion(field="ts", op="within_days", value=5, points=50)],
        },
    )
    table = pa.table(
        {
            "industry": pa.array(["Software", None, "x"]).dictionary_encode(),
            "ts": pa.array([dt.datetime(2026, 9, 29, 12), None, dt.datetime(2026, 10, 1)], pa.timestamp("us")),
        }
    )
    assert score_table(spec, table, as_of=AS_OF)["score"].to_pylist() == [100, 0, 0]
    big = table.set_column(0, "industry", pa.array(["Software", None, "x"], pa.large_string()))
    assert score_table(spec, big, as_of=AS_OF)["score"].to_pylist() == [100, 0, 0]


def test_empty_table_and_empty_spec() -> None:
    spec = _full_spec()
    schema = pa.schema([("industry", pa.string())])
    out = score_table(spec, schema.empty_table())
    assert out.num_rows == 0 and "matched" in out.column_names
    bare = ICPSpec(name="bare")
    r = compile_scorer(bare)({})
    assert (r.score, r.tier, r.layer_scores) == (0, "none", {})
    assert score_table(bare, pa.table({"x": [1]}))["tier"].to_pylist() == ["none"]


def test_spec_text_is_data_never_code() -> None:
    tricky = 'x"); import os; os._exit(3); ("'
    spec = ICPSpec(
        name=tricky,
        layers={"firmographic": [Criterion(field=tricky, op="in", value=[tricky, "a'b"], points=50)]},
        exclusions=[Exclusion(field="y", op="equals", value="}{", reason=tricky)],
        routing=Routing(tier2=tricky),
    )
    scorer = compile_scorer(spec)
    assert tricky not in scorer.source
    r = scorer({tricky: f"  {tricky.upper()} "})
    assert (r.score, r.route) == (50, tricky)
    assert scorer({tricky: "A'B", "y": "}{"}).exclusions_hit == ["exclusion.0"]
