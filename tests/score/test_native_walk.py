"""The C clause walk (``icpkit._native``) against the generated Python walk and the reference, on values no reader
hands out as well as the usual ones: both walks call the clause's own test for anything they do not decide, so they
must agree on every value, raise alike, and leak nothing."""

from __future__ import annotations

import datetime as dt
import decimal
import gc
import math
import tracemalloc
from collections import UserDict
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engines_agree import AS_OF, FIELD_NAMES, specs

from icpkit.score import score_record
from icpkit.score.python import NATIVE, Scorer
from icpkit.spec import Criterion, Exclusion, ICPSpec

pytestmark = pytest.mark.skipif(not NATIVE, reason="icpkit._native is not built on this machine")

text = st.sampled_from(
    ["Software", " software\t", "FINTECH", "", "  ", "ß", "İstanbul", "x y", "500", " 5e1 ", "yes", "No", "maybe"]
)
date_text = st.sampled_from(
    [
        "2026-09-30",
        "2026-09-29",
        "2026-04-03",
        "2024-02-29",  # a leap day
        "2023-02-29",  # no such day: the reference decides
        "2026-02-30",
        "0000-01-01",
        "9999-12-31",
        "2026-13-01",
        "2026-9-1",
        "2026/09/30",
        "２０２６-09-30",  # full-width digits
        "2026-09-30T10:00:00",
        "20260930",
    ]
)
odd = st.sampled_from(
    [
        True,
        False,
        0,
        1,
        -0.0,
        2**70,
        -(2**70),
        math.inf,
        -math.inf,
        math.nan,
        np.float64(500.0),
        np.int64(50),
        np.bool_(True),
        decimal.Decimal("50"),
        dt.datetime(2026, 9, 30, 10),
        dt.date(2026, 9, 1),
        dt.date(1, 1, 1),
        ("Software",),
        frozenset({"hubspot"}),
        {"nested": 1},
        b"bytes",
    ]
)
scalar = st.one_of(st.none(), text, date_text, st.floats(allow_nan=True), st.integers(-1000, 1000), odd)
value = st.one_of(scalar, st.lists(st.one_of(text, st.none(), st.integers(0, 3)), max_size=4))
record = st.dictionaries(st.sampled_from(FIELD_NAMES), value, max_size=len(FIELD_NAMES))


def _outcome(scorer: Any, rec: Any) -> Any:
    try:
        return scorer(rec).as_dict()
    except Exception as exc:  # the two walks must fail alike, where the reference itself fails on a value
        return type(exc)


class _Frozen(UserDict):  # a mapping that is not a dict
    pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), rows=st.lists(record, min_size=1, max_size=8))
def test_c_walk_agrees_with_the_python_walk_on_any_value(spec: ICPSpec, rows: list[dict[str, Any]]) -> None:
    c_walk, py_walk = Scorer(spec, as_of=AS_OF, native=True), Scorer(spec, as_of=AS_OF, native=False)
    for rec in rows:
        got = _outcome(c_walk, rec)
        assert got == _outcome(py_walk, rec), rec
        assert _outcome(c_walk, _Frozen(rec)) == got, rec  # a Mapping that is not a dict: read through .get
        if isinstance(got, dict):
            assert got == score_record(spec, rec, as_of=AS_OF).as_dict(), rec


def test_a_value_the_reference_cannot_read_raises_the_same_way_on_both_walks() -> None:
    spec = ICPSpec(
        name="t",
        as_of=AS_OF,
        layers={"technographic": [Criterion(field="stack", op="contains_any", value=["HubSpot"], points=10)]},
    )
    for native in (True, False):
        with pytest.raises(TypeError):
            Scorer(spec, native=native)({"stack": ["HubSpot", b"bytes"]})  # bytes.strip takes bytes


def _dated() -> ICPSpec:
    return ICPSpec(
        name="t",
        as_of=AS_OF,
        layers={"trigger": [Criterion(field="funded", op="within_days", value=180, points=10)]},
        exclusions=[Exclusion(field="competitor", op="is_true", value=True, reason="rival")],
    )


@pytest.mark.parametrize(
    ("day", "matched"),
    [
        ("2026-09-30", True),  # as_of itself
        ("2026-04-03", True),  # 180 days back
        ("2026-04-02", False),
        ("2026-10-01", False),  # after as_of
        ("2024-02-29", False),
        (" 2026-09-30", True),  # not the plain form: the reference reads it (trimmed)
        (None, None),
        ("2026-02-30", False),  # no such day: the reference reads it, as not recent
    ],
)
def test_dates_read_in_c_match_the_reference(day: str | None, matched: bool | None) -> None:
    spec = _dated()
    got = Scorer(spec, as_of=AS_OF, native=True)({"funded": day})
    assert got.as_dict() == score_record(spec, {"funded": day}, as_of=AS_OF).as_dict()
    assert ("trigger.0" in got.matched, "trigger.0" in got.unknown) == (matched is True, matched is None)


def test_the_c_walk_leaks_nothing() -> None:
    spec = _dated().model_copy(
        update={
            "layers": {
                "firmographic": [
                    Criterion(field="industry", op="in", value=["Software"], points=10),
                    Criterion(field="employees", op="between", value=[50, 500], points=10),
                ],
                "technographic": [Criterion(field="stack", op="contains_all", value=["HubSpot", "Slack"], points=10)],
                "trigger": [Criterion(field="funded", op="within_days", value=180, points=10)],
            }
        }
    )
    scorer = Scorer(spec, native=True)
    rows = [
        {"industry": " Software", "employees": 120.0, "stack": ["hubspot", "Slack "], "funded": "2026-05-01"},
        {"industry": "Retail", "employees": "120", "stack": "HubSpot", "funded": dt.date(2026, 5, 1)},
        {"industry": None, "employees": math.nan, "stack": ["HubSpot", None], "funded": "soon", "competitor": "yes"},
        {"stack": ("x",), "competitor": True},
    ]

    def run(n: int) -> None:
        for _ in range(n):
            for r in rows:
                scorer(r).layer_scores  # noqa: B018

    run(200)  # warm: memo of spellings, caches
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    run(5_000)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename") if s.size_diff > 0)
    assert grown < 64 * 1024, f"{grown:,} bytes more after 20,000 scorings"
