"""Whitespace, case and empty values at the edges of text and list items, on every engine.

The DuckDB compiler trims a list item only when its first or last character can be whitespace (a cheaper test than
trimming every item); these records put whitespace, control characters and multi-byte characters at both ends.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from engine_support import EngineRunner

from icpkit.score import score_record
from icpkit.spec import ICPSpec

ITEMS = [
    " Salesforce",
    "HUBSPOT\t",
    "\r\nsegment\n",
    "stripe\r",
    "",
    " ",
    "\t\n\r ",
    None,
    "!",
    " !",
    "\u00a0marketo",  # no-break space is not trimmed: never 'marketo'
    "gong\u0600 ",  # a prepended mark and the trailing space form one grapheme cluster
    "Ümlaut ",
    "x\x01",
    "\x1fgong",
    "gong\x1f",
    "out reach",
    "  Out Reach  ",
]


def _spec() -> ICPSpec:
    return ICPSpec.model_validate(
        {
            "name": "edges",
            "layers": {
                "technographic": [
                    {"field": "tech_stack", "op": "contains_any", "value": ["Salesforce", "HubSpot"], "points": 10},
                    {"field": "tech_stack", "op": "contains_all", "value": ["segment", "STRIPE"], "points": 10},
                    {"field": "tech_stack", "op": "contains_none", "value": ["marketo"], "points": 10},
                    {"field": "tech_stack", "op": "contains_any", "value": ["ümlaut", "!", "out reach"], "points": 10},
                    {
                        "field": "tech_stack",
                        "op": "contains_any",
                        "value": ["gong", "x\x01", "gong\u0600"],
                        "points": 10,
                    },
                    {"field": "tech_stack", "op": "exists", "points": 10},
                ],
                "firmographic": [
                    {"field": "industry", "op": "in", "value": [" Software", "out reach"], "points": 20},
                    {"field": "industry", "op": "not_in", "value": ["retail"], "points": 20},
                ],
            },
            "exclusions": [{"field": "industry", "op": "equals", "value": "GAMBLING ", "reason": "policy"}],
        }
    )


def _rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"industry": v, "tech_stack": [v]} for v in ITEMS]
    rows += [{"industry": None, "tech_stack": ITEMS[i : i + 3]} for i in range(len(ITEMS))]
    rows += [
        {"industry": "\tsoftware\r", "tech_stack": []},
        {"industry": " gambling", "tech_stack": None},
        {"industry": "RETAIL ", "tech_stack": [None, ""]},
        {"industry": "Out Reach", "tech_stack": ITEMS},
    ]
    return rows


_SCHEMA = pa.schema([("industry", pa.string()), ("tech_stack", pa.list_(pa.string()))])


def test_whitespace_and_case_at_item_edges(engine: EngineRunner) -> None:
    spec = _spec()
    table = pa.Table.from_pylist(_rows(), schema=_SCHEMA)
    got = engine(spec, table)
    for i, (g, record) in enumerate(zip(got, table.to_pylist(), strict=True)):
        r = score_record(spec, record).as_dict()
        layers = {f"layer_{k}": v for k, v in r.pop("layer_scores").items()}
        want = {**r, **layers}
        assert g == want, f"row {i}: {record}"


# 'İ' and a capital sigma: Python's own str.lower gives 'i̇' and, at a word's end, 'ς'; DuckDB, Arrow and PostgreSQL
# lower one code point at a time, Spark (Java) like Python. The semantics reads them as 'i' and 'σ' everywhere.
CASE_EDGES = ["İstanbul Yazılım", "ISTANBUL YAZILIM", "istanbul yazılım", "ΑΘΗΝΑΣ", "αθηνας", "Αθήνα", "ΣΑΣ"]


def test_special_case_mappings_read_alike(engine: EngineRunner) -> None:
    spec = ICPSpec.model_validate(
        {
            "name": "case",
            "layers": {
                "firmographic": [{"field": "city", "op": "in", "value": ["İstanbul Yazılım", "ΑΘΗΝΑΣ"], "points": 40}],
                "technographic": [{"field": "tags", "op": "contains_any", "value": ["ΣΑΣ"], "points": 30}],
            },
        }
    )
    schema = pa.schema([("city", pa.string()), ("tags", pa.list_(pa.string()))])
    table = pa.Table.from_pylist([{"city": v, "tags": [v]} for v in CASE_EDGES], schema=schema)
    got = engine(spec, table)
    scores = [g["score"] for g in got]
    assert scores == [score_record(spec, r).score for r in table.to_pylist()]
    # the spec's spelling matches itself in any case; dotless 'ı' is not 'i', and 'ς' typed as such is not 'σ'
    assert [s >= 40 for s in scores] == [True, False, True, True, False, False, False]
    assert scores[-1] == 30  # 'ΣΑΣ' in a list item
