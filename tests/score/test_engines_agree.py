"""Random specs over every operator and random typed records: reference, Python (the C clause walk and the generated
Python one) and Arrow agree row for row."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from icpkit.score import compile_scorer, score_record, score_table
from icpkit.score.python import Scorer
from icpkit.spec import Clause, Criterion, Exclusion, ICPSpec, Op, Routing, Tiers

AS_OF = dt.date(2026, 9, 30)
WORDS = ["Software", "Fintech", "Retail", "B2C", "HubSpot", "Salesforce", "yes", "no", "500", "50"]


def _variants(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.lower(), word.upper(), f" {word}", f"{word}\t", f"\n{word} "])


text = st.one_of(st.sampled_from(WORDS).flatmap(_variants), st.sampled_from(["", "  ", "ß", "é", "x y"]))
numbers = st.one_of(
    st.sampled_from([0.0, 49.999, 50.0, 50.0001, 500.0, 500.5, -1.0, 1e9, math.nan]),
    st.floats(-1000, 1000, allow_nan=False),
)
numeric_text = st.sampled_from(["50", " 500 ", "+50", "5e1", "50.0", ".5", "1.", "abc", "1,200", "", "-0"])
EDGE_DAYS = [-366, -365, -181, -180, -179, -31, -30, -29, -1, 0, 1, 2]
UTC = dt.UTC


def _days(day: dt.date) -> st.SearchStrategy[dt.date]:
    return st.one_of(st.sampled_from(EDGE_DAYS), st.integers(-400, 40)).map(lambda d: day + dt.timedelta(days=d))


def _instants(day: dt.date) -> st.SearchStrategy[dt.datetime]:
    """Moments near the edges of a window's days, so a zoned value's own day and its UTC day often differ."""
    hours = st.one_of(st.sampled_from([-5, -4, 0, 3, 4, 5, 19, 20, 23]), st.integers(-30, 30))
    return st.tuples(_days(day), hours).map(
        lambda dh: dt.datetime.combine(dh[0], dt.time(), tzinfo=UTC) + dt.timedelta(hours=dh[1], minutes=30)
    )


def fields(day: dt.date) -> dict[str, tuple[pa.DataType, st.SearchStrategy[Any]]]:
    """field -> (arrow type, value strategy), dates drawn around ``day``; every value may also be null."""
    dates = _days(day)
    date_text = st.one_of(
        dates.map(lambda d: d.isoformat()),
        dates.map(lambda d: d.isoformat() + "T10:00:00"),
        st.sampled_from(["2026-02-30", "soon", "", "0000-01-01", "2026-9-1"]),
    )
    return {
        "industry": (pa.string(), text),
        "employees": (pa.float64(), numbers),
        "seats": (pa.int64(), st.integers(-5, 600)),
        "size_text": (pa.string(), numeric_text),
        "tech_stack": (pa.list_(pa.string()), st.lists(st.one_of(st.none(), text), max_size=4)),
        "flag": (pa.bool_(), st.booleans()),
        "flag_text": (pa.string(), bool_text),
        "funded": (pa.date32(), dates),
        "funded_text": (pa.string(), date_text),
        # timestamps count by their own wall-clock day: naive, in UTC, and in a zone west of UTC
        "funded_at": (pa.timestamp("us"), _instants(day).map(lambda t: t.replace(tzinfo=None))),
        "funded_utc": (pa.timestamp("us", tz="UTC"), _instants(day)),
        "funded_ny": (pa.timestamp("us", tz="America/New_York"), _instants(day)),
        "blank": (pa.null(), st.none()),
    }


bool_text = st.sampled_from(["yes", "No", " TRUE ", "f", "1", "0", "maybe", ""])
FIELDS = fields(AS_OF)
FIELD_NAMES = [*FIELDS, "absent"]
_SCALARS = ["industry", "employees", "seats", "size_text", "flag_text", "tech_stack"]
# Mostly draw fields an operator is meant for, so matches and edges are frequent; sometimes any field.
FITTING: dict[Op, list[str]] = {
    Op.EQUALS: _SCALARS,
    Op.IN: _SCALARS,
    Op.NOT_IN: _SCALARS,
    Op.BETWEEN: ["employees", "seats", "size_text"],
    Op.GTE: ["employees", "seats", "size_text"],
    Op.LTE: ["employees", "seats", "size_text"],
    Op.CONTAINS_ANY: ["tech_stack", "industry"],
    Op.CONTAINS_ALL: ["tech_stack", "industry"],
    Op.CONTAINS_NONE: ["tech_stack", "industry"],
    Op.IS_TRUE: ["flag", "flag_text"],
    Op.IS_FALSE: ["flag", "flag_text"],
    Op.EXISTS: FIELD_NAMES,
    Op.WITHIN_DAYS: ["funded", "funded_text", "funded_at", "funded_utc", "funded_ny"],
}

spec_text = st.sampled_from(WORDS).flatmap(_variants)
spec_scalar = st.one_of(spec_text, st.sampled_from([50, 500, 50.0, 0, 1, True, False]))
spec_list = st.lists(spec_scalar, min_size=1, max_size=3)
bound = st.one_of(st.none(), st.sampled_from([0, 50, 50.0001, 500, -1]), st.integers(-10, 600))


@st.composite
def clauses(draw: st.DrawFn) -> dict[str, Any]:
    op = draw(st.sampled_from(list(Op)))
    fld = draw(st.sampled_from(FIELD_NAMES if draw(st.integers(0, 4)) == 0 else FITTING[op]))
    if op == Op.EQUALS:
        value: Any = draw(spec_scalar)
    elif op in (Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
        value = draw(spec_list)
    elif op == Op.BETWEEN:
        lo, hi = draw(bound), draw(bound)
        if lo is None and hi is None:
            hi = 100
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        value = [lo, hi]
    elif op in (Op.GTE, Op.LTE):
        value = draw(st.one_of(st.integers(-10, 600), st.sampled_from([49.999, 50.0])))
    elif op == Op.WITHIN_DAYS:
        value = draw(st.sampled_from([0, 1, 30, 180, 365]))
    else:
        value = True
    return {"field": fld, "op": op, "value": value}


@st.composite
def specs(draw: st.DrawFn) -> ICPSpec:
    layers: dict[str, list[Criterion]] = {}
    for layer in draw(st.lists(st.sampled_from(["firmographic", "technographic", "trigger"]), unique=True)):
        layers[layer] = [
            Criterion(
                **draw(clauses()),
                points=draw(st.integers(0, 40)),
                also=[Clause(**c) for c in draw(st.lists(clauses(), max_size=2))],
            )
            for _ in range(draw(st.integers(1, 4)))
        ]
    exclusions = [Exclusion(**c, reason="r") for c in draw(st.lists(clauses(), max_size=2))]
    t = sorted(draw(st.lists(st.integers(0, 100), min_size=3, max_size=3)), reverse=True)
    return ICPSpec(
        name="random",
        as_of=AS_OF,
        layers=layers,
        exclusions=exclusions,
        tiers=Tiers(tier1=t[0], tier2=t[1], tier3=t[2]),
        routing=Routing(tier1="a", tier2="b", tier3="c", none="d", excluded="e"),
    )


def records_around(day: dt.date) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Records whose dates fall around ``day`` (the scoring date of the test)."""
    return st.lists(
        st.fixed_dictionaries({name: st.one_of(st.none(), strat) for name, (_, strat) in fields(day).items()}),
        min_size=1,
        max_size=12,
    )


records = records_around(AS_OF)
SCHEMA = pa.schema([(name, typ) for name, (typ, _) in FIELDS.items()])


def _flatten(r: dict[str, Any], spec: ICPSpec) -> dict[str, Any]:
    layers = {f"layer_{k}": v for k, v in r.pop("layer_scores").items()}
    assert set(layers) == {f"layer_{k}" for k, cs in spec.layers.items() if sum(c.points for c in cs) > 0}
    return {**r, **layers}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), rows=records)
def test_engines_agree_row_for_row(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    typed = table.to_pylist()  # the values exactly as an Arrow reader hands them to Python
    scorer = compile_scorer(spec, as_of=AS_OF)  # the C clause walk where it is built
    twin = Scorer(spec, as_of=AS_OF, native=False)  # the generated Python walk
    vector = score_table(spec, table, as_of=AS_OF).drop_columns(table.column_names).to_pylist()
    for record, vec in zip(typed, vector, strict=True):
        reference = score_record(spec, record, as_of=AS_OF).as_dict()
        assert scorer(record).as_dict() == reference
        assert twin(record).as_dict() == reference
        assert vec == _flatten(reference, spec)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), rows=records_around(dt.datetime.now(dt.UTC).date()))
def test_engines_agree_on_today(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
    """Unpinned, every engine counts from the same today (the spec's own as_of is long past)."""
    day = dt.datetime.now(dt.UTC).date()
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    typed = table.to_pylist()
    scorer, twin = compile_scorer(spec), Scorer(spec, native=False)
    vector = score_table(spec, table).drop_columns(table.column_names).to_pylist()
    for record, vec in zip(typed, vector, strict=True):
        reference = score_record(spec, record).as_dict()
        assume(dt.datetime.now(dt.UTC).date() == day)  # the calendar did not turn during the example
        assert reference == score_record(spec, record, as_of=day).as_dict()
        assert scorer(record).as_dict() == reference
        assert twin(record).as_dict() == reference
        assert vec == _flatten(reference, spec)
