"""List criteria tested on the raw list for the spellings the data holds, and the score read from the matched mask.

DuckDB reads a ``VARCHAR[]`` column's distinct items before scoring (pyarrow dictionaries for a Parquet file, a
``SELECT DISTINCT`` otherwise); each list criterion then tests the raw list for the items that normalise to its
values. These tests hold that rendering to the reference on messy items, on both ways of reading the items, on
many spellings of one value, on spellings that look like SQL, and when the items are too many to read first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from icpkit.score import duckdb_engine, score_record
from icpkit.score.duckdb_engine import describe, list_items, score_arrow, score_file
from icpkit.score.sql import EXPLAIN_COLUMNS, compile_sql
from icpkit.spec import ICPSpec

ITEMS = [
    "Salesforce",
    " salesforce",
    "SALESFORCE\t",
    "HubSpot",
    "hubspot ",
    "Marketo",
    " MARKETO\r\n",
    "dbt",
    "DBT",
    "",
    "   ",
    "İstanbul",
    "ΣΟΦΙΑ",
    "it's",
    "back\\slash",
    "x'); DROP TABLE t; --",
]


def _spec() -> ICPSpec:
    return ICPSpec.model_validate(
        {
            "name": "lists",
            "layers": {
                "technographic": [
                    {"field": "tech_stack", "op": "contains_any", "value": ["Salesforce", "HubSpot"], "points": 30},
                    {"field": "tech_stack", "op": "contains_all", "value": ["dbt", "Salesforce"], "points": 20},
                    {"field": "tech_stack", "op": "contains_none", "value": ["Marketo"], "points": 10},
                    {"field": "tech_stack", "op": "contains_any", "value": ["istanbul", "σοφια"], "points": 15},
                    {"field": "tech_stack", "op": "contains_any", "value": ["It's", "BACK\\SLASH"], "points": 5},
                    {"field": "tech_stack", "op": "contains_any", "value": ["Absent"], "points": 7},
                    {"field": "tech_stack", "op": "exists", "points": 3},
                ]
            },
            "exclusions": [
                {"field": "tech_stack", "op": "contains_any", "value": ["x'); drop table t; --"], "reason": "r"}
            ],
            "tiers": {"tier1": 60, "tier2": 40, "tier3": 20},
        }
    )


def _table() -> pa.Table:
    stacks: list[list[str | None] | None] = [None, [], [None], ["  "]]
    stacks += [[item] for item in ITEMS]
    stacks += [[ITEMS[i], ITEMS[(i * 7 + 3) % len(ITEMS)], ITEMS[(i * 5 + 1) % len(ITEMS)]] for i in range(len(ITEMS))]
    ids = [f"A{i}" for i in range(len(stacks))]
    schema = pa.schema([("account_id", pa.string()), ("tech_stack", pa.list_(pa.string()))])
    return pa.table({"account_id": ids, "tech_stack": stacks}, schema=schema)


def _reference(spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
    out = []
    for record in table.to_pylist():
        r = score_record(spec, record).as_dict()
        out.append({"account_id": record["account_id"], **{k: r[k] for k in ("score", "tier", *EXPLAIN_COLUMNS)}})
    return out


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    keep = ["account_id", "score", "tier", *EXPLAIN_COLUMNS]
    return sorted(table.select(keep).to_pylist(), key=lambda r: r["account_id"])


def test_raw_spellings_agree_with_the_reference_in_memory() -> None:
    spec, table = _spec(), _table()
    want = sorted(_reference(spec, table), key=lambda r: r["account_id"])
    assert _rows(score_arrow(spec, table)) == want
    lean = score_arrow(spec, table, explain=False)
    assert sorted(lean.select(["account_id", "score", "tier"]).to_pylist(), key=lambda r: r["account_id"]) == [
        {k: r[k] for k in ("account_id", "score", "tier")} for r in want
    ]


@pytest.mark.parametrize("dictionary", [True, False], ids=["dictionary-pages", "plain-pages"])
def test_raw_spellings_agree_with_the_reference_from_parquet(tmp_path: Path, dictionary: bool) -> None:
    """Parquet items are read from pyarrow's dictionaries, written with dictionary pages or without."""
    spec, table = _spec(), _table()
    source = tmp_path / "accounts.parquet"
    pq.write_table(table, source, use_dictionary=dictionary, row_group_size=7)
    con = duckdb_engine.connect()
    relation = f"SELECT * FROM read_parquet('{source}')"
    read = list_items(con, relation, describe(con, relation), ["tech_stack"], parquet=str(source))
    held = {i for s in table.column("tech_stack").to_pylist() for i in s or [] if i is not None}
    assert read == {"tech_stack": held}
    assert duckdb_engine._parquet_items(str(source), "tech_stack") == held  # from the file, row group by row group
    score_file(spec, source, tmp_path / "out.parquet", masks=False, progress=False)
    want = sorted(_reference(spec, table), key=lambda r: r["account_id"])
    assert _rows(pq.read_table(tmp_path / "out.parquet")) == want


def test_spellings_are_literals_and_many_become_one_list_has_any() -> None:
    spec = _spec()
    many = {" " * (k % 2) + "SALESFORCE"[:k] + "salesforce"[k:] for k in range(10)}
    items = {"tech_stack": {*ITEMS, *many}}
    sql = compile_sql(spec, columns={"account_id": "VARCHAR", "tech_stack": "VARCHAR[]"}, list_items=items)
    assert "LIST_TRANSFORM" not in sql.upper()
    assert "'it''s'" in sql and "'x''); DROP TABLE t; --'" in sql
    assert " && " in sql  # thirteen spellings of 'salesforce': one list_has_any instead of an OR of thirteen
    without = compile_sql(spec, columns={"account_id": "VARCHAR", "tech_stack": "VARCHAR[]"})
    assert "LIST_TRANSFORM" in without.upper()
    rows = [[s] for s in sorted(items["tech_stack"])] + [None, []]
    table = pa.table({"account_id": [f"A{i}" for i in range(len(rows))], "tech_stack": rows})
    con = duckdb.connect()
    con.register("accounts", table)
    got = con.sql(sql).to_arrow_table()
    want = sorted(_reference(spec, table), key=lambda r: r["account_id"])
    assert _rows(got) == want


def test_too_many_distinct_items_are_normalised_per_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, table = _spec(), _table()
    monkeypatch.setattr(duckdb_engine, "_MAX_LIST_ITEMS", 3)
    con = duckdb.connect()
    con.register("t", table)
    assert list_items(con, "SELECT * FROM t", {"tech_stack": "VARCHAR[]"}, ["tech_stack"]) == {}
    source = tmp_path / "accounts.parquet"
    pq.write_table(table, source)
    assert list_items(con, "SELECT * FROM t", {"tech_stack": "VARCHAR[]"}, ["tech_stack"], parquet=str(source)) == {}
    score_file(spec, source, tmp_path / "out.parquet", masks=False, progress=False)
    want = sorted(_reference(spec, table), key=lambda r: r["account_id"])
    assert _rows(pq.read_table(tmp_path / "out.parquet")) == want


def test_score_read_from_the_matched_mask_is_clamped_and_agrees() -> None:
    """With explanations the score is summed from the matched bitmask 8 bits at a time; past 100 it is clamped."""
    criteria = [{"field": f"f{i}", "op": "is_true", "points": 3 + i} for i in range(19)]
    criteria.append({"field": "f19", "op": "is_true", "points": 0})
    spec = ICPSpec.model_validate(
        {"name": "wide", "layers": {"behavioral": criteria}, "tiers": {"tier1": 90, "tier2": 50, "tier3": 20}}
    )
    rows = [{f"f{i}": (None if (r + i) % 5 == 0 else (r >> (i % 7)) & 1 == 1) for i in range(20)} for r in range(64)]
    table = pa.Table.from_pylist([{"account_id": f"A{r}", **row} for r, row in enumerate(rows)])
    want = sorted(_reference(spec, table), key=lambda r: r["account_id"])
    assert any(r["score"] == 100 for r in want) and len({r["score"] for r in want}) > 10
    assert _rows(score_arrow(spec, table, masks=False)) == want
    sql = compile_sql(spec, columns={"account_id": "VARCHAR", **{f"f{i}": "BOOLEAN" for i in range(20)}}, masks=True)
    assert sql.count("LIST_EXTRACT([0, 3, 4, 7,") == 1  # the first 8 criteria's points, looked up from the mask


@pytest.mark.parametrize(("criteria", "matched", "unknown"), [(30, "int32", "int32"), (31, "int32", "int64")])
def test_masks_are_integer_up_to_31_ids_and_bigint_beyond(
    tmp_path: Path, criteria: int, matched: str, unknown: str
) -> None:
    """``unknown`` holds every criterion and exclusion: with 31 criteria and one exclusion it needs 32 bits."""
    spec = ICPSpec.model_validate(
        {
            "name": "edge",
            "layers": {"behavioral": [{"field": f"f{i}", "op": "is_true", "points": 1} for i in range(criteria)]},
            "exclusions": [{"field": "f0", "op": "is_false", "reason": "r"}],
        }
    )
    rows = [
        {"account_id": f"A{r}", **{f"f{i}": None if (r + i) % 4 == 0 else (r + i) % 3 == 0 for i in range(criteria)}}
        for r in range(12)
    ]
    table = pa.Table.from_pylist(rows)
    out = tmp_path / "out.parquet"
    score_file(spec, table, out, progress=False)
    written = pq.read_table(out)
    assert str(written.schema.field("matched").type) == matched
    assert str(written.schema.field("unknown").type) == unknown
    assert written.column("unknown").to_pylist() and max(written.column("unknown").to_pylist()) > 0
    decoded = duckdb_engine.decode_explanations(out)
    want = sorted(_reference(spec, table), key=lambda r: r["account_id"])
    assert _rows(decoded) == want
