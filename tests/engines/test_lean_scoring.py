"""Scoring without explanations, and writing only some scoring columns: the bulk path, still the reference's answers.

Without explanations a text clause is compiled to be TRUE exactly on a yes (no NULLIF: a blank value equals no spec
item, ``not_in`` rejects ``''``); ``outputs`` keeps only the chosen scoring columns; Parquet output carries tier and
route as DuckDB ENUM constants, which Parquet stores as plain text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_support import EngineRunner

from icpkit.cli import main
from icpkit.errors import InputError, UnsupportedOperatorError
from icpkit.score import score_record
from icpkit.score.duckdb_engine import score_arrow, score_file
from icpkit.score.sql import EXPLAIN_COLUMNS, compile_expression, compile_sql, render
from icpkit.spec import ICPSpec

BLANKS = ["", " ", "\t\r\n ", None, "Marketplace", " marketplace\t", "B2B", "b2c ", "Software", "  SOFTWARE"]


def _spec(routing: dict[str, str] | None = None) -> ICPSpec:
    raw: dict[str, Any] = {
        "name": "lean",
        "layers": {
            "firmographic": [
                {"field": "industry", "op": "in", "value": ["Software", "Fintech"], "points": 30},
                {"field": "business_model", "op": "not_in", "value": ["Marketplace"], "points": 20},
                {"field": "business_model", "op": "equals", "value": "B2B", "points": 10},
                {"field": "champion_title", "op": "exists", "points": 15},
            ],
            "technographic": [{"field": "tech_stack", "op": "contains_none", "value": ["Marketo"], "points": 25}],
        },
        "exclusions": [{"field": "business_model", "op": "in", "value": ["B2C"], "reason": "churn"}],
        "tiers": {"tier1": 60, "tier2": 40, "tier3": 20},
    }
    if routing:
        raw["routing"] = routing
    return ICPSpec.model_validate(raw)


_SCHEMA = pa.schema(
    [
        ("account_id", pa.string()),
        ("industry", pa.string()),
        ("business_model", pa.string()),
        ("champion_title", pa.string()),
        ("tech_stack", pa.list_(pa.string())),
    ]
)


def _table() -> pa.Table:
    rows = []
    for i, v in enumerate(BLANKS):
        rows.append(
            {
                "account_id": f"A{i}",
                "industry": v,
                "business_model": v,
                "champion_title": v,
                "tech_stack": None if v is None else [v, " MARKETO" if i % 3 == 0 else "Slack"],
            }
        )
    return pa.Table.from_pylist(rows, schema=_SCHEMA)


def _reference(spec: ICPSpec, table: pa.Table, explain: bool) -> list[dict[str, Any]]:
    out = []
    for record in table.to_pylist():
        r = score_record(spec, record).as_dict()
        layers = {f"layer_{k}": v for k, v in r.pop("layer_scores").items()}
        row = {**r, **layers}
        out.append(row if explain else {k: v for k, v in row.items() if k not in EXPLAIN_COLUMNS})
    return out


def test_blank_text_scores_nothing_without_explanations(engine: EngineRunner) -> None:
    """Blank and whitespace-only text is unknown: no points from in, not_in, equals or exists, and no exclusion."""
    spec, table = _spec(), _table()
    assert engine(spec, table, explain=False) == _reference(spec, table, explain=False)
    assert engine(spec, table) == _reference(spec, table, explain=True)


def _columns(table: pa.Table) -> dict[str, str]:
    types = {pa.string(): "VARCHAR", pa.list_(pa.string()): "VARCHAR[]"}
    return {f.name: types[f.type] for f in table.schema}


def test_text_criteria_drop_the_nullif_only_without_explanations() -> None:
    spec, table = _spec(), _table()
    lean = compile_sql(spec, dialect="duckdb", columns=_columns(table), explain=False)
    full = compile_sql(spec, dialect="duckdb", columns=_columns(table), explain=True)
    assert "NULLIF" not in lean
    assert "NULLIF" in full
    assert "IN ('marketplace', '')" in lean  # a blank value is not 'not in' the list


def test_outputs_keep_only_the_chosen_scoring_columns() -> None:
    spec = _spec()
    query = compile_expression(spec, columns=_columns(_table()), explain=False, outputs=["tier", "score"])
    names = [e.alias_or_name for e in query.expressions]
    assert names == [*_columns(_table()), "score", "tier"]
    with pytest.raises(InputError, match=r"unknown output column.*tiers.*choose from score, tier, route"):
        compile_expression(spec, explain=False, outputs=["score", "tiers"])
    with pytest.raises(InputError, match="no output column"):
        compile_expression(spec, explain=False, outputs=[])
    with pytest.raises(InputError, match="matched"):  # explanation columns only exist with explanations
        compile_expression(spec, explain=False, outputs=["tier", "matched"])


def test_score_file_writes_the_id_score_and_tier_the_full_run_gives(tmp_path: Path) -> None:
    spec, table = _spec(), _table()
    full = score_file(spec, table, tmp_path / "full.parquet", explain=False, progress=False)
    lean = score_file(
        spec, table, tmp_path / "lean.parquet", explain=False, select=["account_id"], outputs=["score", "tier"]
    )
    got = pq.read_table(tmp_path / "lean.parquet")
    assert got.column_names == ["account_id", "score", "tier"]
    assert got.schema.field("tier").type == pa.string()  # an ENUM in DuckDB, plain text in the file
    want = pq.read_table(tmp_path / "full.parquet").select(["account_id", "score", "tier"])
    assert sorted(got.to_pylist(), key=str) == sorted(want.to_pylist(), key=str)
    assert lean.tier_counts == full.tier_counts
    expected = _reference(spec, table, explain=False)
    assert sorted((r["score"], r["tier"]) for r in got.to_pylist()) == sorted((r["score"], r["tier"]) for r in expected)
    with pytest.raises(InputError, match="must include tier"):
        score_file(spec, table, tmp_path / "x.parquet", outputs=["score"], progress=False)
    with pytest.raises(InputError, match="CRM export"):
        score_file(spec, table, tmp_path / "x.csv", crm="hubspot", outputs=["score", "tier"], progress=False)
    assert not (tmp_path / "x.parquet").exists()


def test_route_names_are_enum_constants_in_parquet_and_text_elsewhere(tmp_path: Path) -> None:
    """A route name with a quote and a formula prefix reaches Parquet intact and CSV neutralised, as before."""
    spec = _spec({"tier1": "AE's desk", "tier2": "=sales", "tier3": "nurture", "none": "nurture", "excluded": "drop"})
    table = _table()
    score_file(spec, table, tmp_path / "out.parquet", explain=False, progress=False)
    score_file(spec, table, tmp_path / "out.csv", explain=False, progress=False)
    parquet = pq.read_table(tmp_path / "out.parquet")
    assert parquet.schema.field("route").type == pa.string()
    expected = _reference(spec, table, explain=False)
    assert sorted(parquet.column("route").to_pylist()) == sorted(r["route"] for r in expected)
    csv_text = (tmp_path / "out.csv").read_text()
    assert "=sales" not in csv_text.replace("'=sales", "")
    sql = render(compile_expression(spec, columns=_columns(table), enum_labels=True), "duckdb")
    assert "ENUM('AE''s desk', '=sales', 'nurture', 'drop')" in sql
    with pytest.raises(UnsupportedOperatorError, match="DuckDB"):
        compile_expression(spec, dialect="postgres", enum_labels=True)


def test_cli_columns_option(tmp_path: Path) -> None:
    spec = tmp_path / "icp.yaml"
    spec.write_text("name: lean\nlayers:\n  firmographic:\n    - {field: industry, in: [Software], points: 100}\n")
    source = tmp_path / "accounts.parquet"
    pq.write_table(_table(), source)
    out = tmp_path / "scored.parquet"
    args = ["score", str(source), "--spec", str(spec), "--out", str(out), "--no-explain"]
    assert main([*args, "--columns", "score, tier"]) == 0
    assert pq.read_table(out).column_names[-2:] == ["score", "tier"]
    assert "route" not in pq.read_table(out).column_names
    assert main([*args, "--columns", "score,grade"]) == 2
    assert main([*args, "--columns", "score", "--engine", "spark"]) == 2


def test_ranges_on_doubles_read_nan_as_missing_and_infinity_as_a_number_without_explanations() -> None:
    """Without explanations DuckDB reads a DOUBLE range from the raw column: NaN (either sign) is unknown, never a
    yes, while +/-infinity are numbers like any other, as in the reference."""
    spec = ICPSpec.model_validate(
        {
            "name": "ranges",
            "layers": {
                "firmographic": [
                    {"field": "employees", "op": "gte", "value": 50, "points": 40},
                    {"field": "employees", "op": "lte", "value": 10, "points": 20},
                    {"field": "annual_revenue", "op": "between", "value": [5, 10], "points": 25},
                    {"field": "annual_revenue", "op": "between", "value": [0, None], "points": 15},
                ]
            },
            "tiers": {"tier1": 60, "tier2": 40, "tier3": 20},
        }
    )
    values = [float("nan"), -float("nan"), float("inf"), -float("inf"), 50.0, 49.9, 10.0, 5.0, 0.0, -0.0, None]
    rows = [
        {"account_id": f"A{i}-{j}", "employees": a, "annual_revenue": b}
        for i, a in enumerate(values)
        for j, b in enumerate(values)
    ]
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema([("account_id", pa.string()), ("employees", pa.float64()), ("annual_revenue", pa.float64())]),
    )
    sql = compile_sql(
        spec, columns={"account_id": "VARCHAR", "employees": "DOUBLE", "annual_revenue": "DOUBLE"}, explain=False
    )
    assert "NULLIF" not in sql and "'Infinity'" in sql
    want = {r["account_id"]: (r["score"], r["tier"]) for r in _reference_ids(spec, table)}
    got = score_arrow(spec, table, explain=False)
    assert {r["account_id"]: (r["score"], r["tier"]) for r in got.to_pylist()} == want
    assert want["A2-8"][0] == 55 and want["A0-8"][0] == 15  # +inf is a yes for gte 50; NaN earns nothing


def _reference_ids(spec: ICPSpec, table: pa.Table) -> list[dict[str, Any]]:
    return [{"account_id": r["account_id"], **score_record(spec, r).as_dict()} for r in table.to_pylist()]
