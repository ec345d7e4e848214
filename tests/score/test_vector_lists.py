"""Arrow list layouts the vector engine must read like the reference, whatever their memory layout."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from icpkit.score.semantics import score_record
from icpkit.score.vector import score_table
from icpkit.spec import Criterion, Exclusion, ICPSpec

SPEC = ICPSpec(
    name="lists",
    layers={
        "technographic": [
            Criterion(field="tech_stack", op="contains_any", value=["HubSpot", "Slack"], points=40),
            Criterion(field="tech_stack", op="contains_all", value=["Zoom", "Jira"], points=30),
            Criterion(field="tech_stack", op="contains_none", value=["Marketo"], points=20),
            Criterion(field="tech_stack", op="exists", value=True, points=10),
        ]
    },
    exclusions=[Exclusion(field="tech_stack", op="contains_any", value=["Salesforce"], reason="test")],
)
VALUES = ["Salesforce", "x", "HubSpot", "Slack", "Zoom", "Jira", "Marketo", "Zoom", "Jira"]


def _masked() -> pa.Array:
    """Null slots that still own values in their offsets: [Salesforce, x] (null), [HubSpot], [Slack…] (null)…"""
    offsets = pa.array([0, 2, 3, 6, 7, 7, 9], pa.int32())
    mask = pa.array([True, False, True, False, False, False])
    return pa.ListArray.from_arrays(offsets, pa.array(VALUES), mask=mask)


def _layouts() -> dict[str, pa.Array | pa.ChunkedArray]:
    masked = _masked()
    large = pa.LargeListArray.from_arrays(
        pa.array([0, 2, 3, 6, 7, 7, 9], pa.int64()), pa.array(VALUES), mask=pa.array([True] + [False] * 5)
    )
    dense = pa.array([["a"], None, ["HubSpot", None], ["Zoom", "Jira"], [], None, [" slack "]])
    return {
        "null slot owning values": masked,
        "sliced": masked.slice(1, 4),
        "large list with null slot": large,
        "if_else over a list": pc.if_else(pa.array([True, False, True, True, False, True, True]), dense, None),
        "chunked": pa.chunked_array([masked.slice(0, 3), masked.slice(3)]),
    }


@pytest.mark.parametrize("layout", list(_layouts()))
def test_list_layouts_score_like_the_reference(layout: str) -> None:
    col = _layouts()[layout]
    table = pa.table({"tech_stack": col})
    out = score_table(SPEC, table).to_pylist()
    for row, record in zip(out, table.to_pylist(), strict=True):
        ref = score_record(SPEC, record).as_dict()
        got = {k: row[k] for k in ("score", "tier", "route", "matched", "unknown", "exclusions_hit")}
        assert got == {k: ref[k] for k in got}, (layout, record)


def test_null_slot_values_are_not_read_as_items() -> None:
    out = score_table(SPEC, pa.table({"tech_stack": _masked()}))
    # row 0 is null although its offsets span [Salesforce, x]: unknown, never excluded
    assert out["exclusions_hit"][0].as_py() == []
    assert "technographic.0" in out["unknown"][0].as_py()
    assert out["score"].to_pylist()[:2] == [0, 70]
