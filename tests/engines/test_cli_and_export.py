"""``icpkit score`` and ``icpkit sql`` end to end, and the CRM export (ids, icp_* columns, formula cells)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from icpkit.cli import main
from icpkit.errors import EngineError
from icpkit.score.duckdb_engine import decode_explanations
from icpkit.score.engines import ENGINES, get_engine
from icpkit.score.export import describe_clause, neutralise, reason_texts
from icpkit.spec import Clause, load_spec

SPEC = """\
name: acme-icp
as_of: 2026-09-30
layers:
  firmographic:
    - {field: industry, in: [Software, Fintech], points: 40}
    - {field: employees, between: [50, 500], points: 30}
  technographic:
    - {field: tech_stack, contains_any: [Salesforce, HubSpot], points: 30}
exclusions:
  - {field: business_model, in: [B2C], reason: "churned 62% vs 18% baseline"}
"""

CSV = """\
account_id,name,industry,employees,tech_stack,business_model
101,"=HYPERLINK(""http://x"")",Software,120,Salesforce;Slack,B2B
102,Beta,retail,10,,B2C
103,Gamma, fintech ,,HubSpot,B2B
"""


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "icp.yaml").write_text(SPEC)
    (tmp_path / "accounts.csv").write_text(CSV)
    return tmp_path


def _run(*args: str) -> int:
    return main([str(a) for a in args])


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_score_csv_to_parquet_keeps_ids_and_counts_tiers(
    files: Path, engine: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = files / "scored.parquet"
    code = _run(
        "score", files / "accounts.csv", "--spec", files / "icp.yaml", "--out", out, "--engine", engine, "--json"
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 3 and summary["tiers"]["tier1"] == 2 and summary["tiers"]["excluded"] == 1
    table = pq.read_table(out)
    rows = table.to_pylist()
    assert [r["account_id"] for r in rows] == ["101", "102", "103"]
    assert [(r["score"], r["tier"]) for r in rows] == [(100, "tier1"), (0, "excluded"), (70, "tier1")]
    # Parquet keeps explanations as bitmasks (bit i = i-th id, named in the file's metadata) until decoded
    assert table.schema.field("matched").type == pa.int32()  # INTEGER up to 31 ids
    assert rows[1]["exclusions_hit"] == 1 and rows[2]["unknown"] == 0b10
    decoded = decode_explanations(out).to_pylist()
    assert decoded[1]["exclusions_hit"] == ["exclusion.0"] and decoded[2]["unknown"] == ["firmographic.1"]
    assert decoded[0]["matched"] == ["firmographic.0", "firmographic.1", "technographic.0"]
    assert not [p for p in files.iterdir() if p.name.startswith(".")]  # no temp or spill files left behind


def test_score_parquet_to_csv_joins_lists_and_neutralises_formulas(files: Path) -> None:
    src = files / "in.parquet"
    pq.write_table(
        pa.table({"account_id": ["a1", "-a2"], "industry": ["Software", "@evil"], "tech_stack": [["HubSpot"], []]}),
        src,
    )
    out = files / "scored.csv"
    assert _run("score", src, "--spec", files / "icp.yaml", "--out", out, "--keep-order") == 0
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["matched"] == "firmographic.0;technographic.0"
    assert rows[1]["account_id"] == "'-a2" and rows[1]["industry"] == "'@evil"


@pytest.mark.parametrize(("fmt", "header"), [("hubspot", "Record ID"), ("salesforce", "Id"), ("csv", "account_id")])
def test_crm_export_updates_records_in_place(files: Path, fmt: str, header: str) -> None:
    out = files / f"{fmt}.csv"
    assert _run("score", files / "accounts.csv", "--spec", files / "icp.yaml", "--out", out, "--format", fmt) == 0
    rows = sorted(csv.DictReader(out.open()), key=lambda r: r[header])
    assert list(rows[0]) == [header, "icp_score", "icp_tier", "icp_route", "icp_reasons"]
    assert [r[header] for r in rows] == ["101", "102", "103"]
    assert rows[0]["icp_reasons"] == (
        "Industry is Software or Fintech; Employees between 50 and 500; Tech stack includes Salesforce or HubSpot"
    )
    assert rows[1]["icp_reasons"] == "excluded: churned 62% vs 18% baseline"
    assert (rows[1]["icp_tier"], rows[1]["icp_route"]) == ("excluded", "disqualify")


def test_python_and_duckdb_write_the_same_crm_file(files: Path) -> None:
    outs = []
    for engine in ("duckdb", "python"):
        out = files / f"{engine}.csv"
        args = ["score", files / "accounts.csv", "--spec", files / "icp.yaml", "--out", out, "--format", "hubspot"]
        assert _run(*args, "--engine", engine, "--keep-order") == 0
        outs.append(out.read_text())
    assert outs[0] == outs[1]


def test_sql_command_prints_a_view_for_each_dialect(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("sql", "--spec", files / "icp.yaml", "--dialect", "snowflake", "--as", "view") == 0
    text = capsys.readouterr().out
    assert text.startswith("CREATE OR REPLACE VIEW icp_scores AS") and "ARRAY_CONSTRUCT_COMPACT" in text
    assert _run("sql", "--spec", files / "icp.yaml", "--dialect", "duckdb", "--table", "accounts") == 0
    query = capsys.readouterr().out
    con = duckdb.connect()
    con.execute("CREATE TABLE accounts AS SELECT * FROM read_csv(?, header=true)", [str(files / "accounts.csv")])
    con.execute(
        "CREATE OR REPLACE TABLE accounts AS SELECT * REPLACE (string_split(tech_stack, ';') AS tech_stack)"
        " FROM accounts"
    )
    assert [r[0] for r in con.execute(f"SELECT score FROM ({query.rstrip().rstrip(';')})").fetchall()] == [100, 0, 70]


def test_bad_options_exit_2(files: Path) -> None:
    assert _run("sql", "--spec", files / "icp.yaml", "--as", "function") == 2
    assert (
        _run(
            "score",
            files / "accounts.csv",
            "--spec",
            files / "icp.yaml",
            "--out",
            files / "x.csv",
            "--format",
            "marketo",
        )
        == 2
    )
    assert (
        _run(
            "score", files / "accounts.csv", "--spec", files / "icp.yaml", "--out", files / "x.csv", "--engine", "spark"
        )
        == 2
    )  # spark reads and writes Parquet
    assert _run("score", files / "missing.csv", "--spec", files / "icp.yaml", "--out", files / "x.csv") == 2


def test_engine_registry_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    assert set(ENGINES) == {"python", "duckdb", "spark"}
    with pytest.raises(EngineError, match="unknown engine 'pandas'"):
        get_engine("pandas")
    import builtins

    real_import = builtins.__import__

    def no_pyspark(name: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        if name.startswith("pyspark"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    monkeypatch.setattr("importlib.import_module", lambda name: no_pyspark(name))
    with pytest.raises(EngineError, match=r"pip install 'icpkit\[spark\]'"):
        get_engine("spark")


def test_neutralise_and_plain_words() -> None:
    assert [neutralise(x) for x in ["=1+1", "+1", "-1", "@a", "ok", 5]] == ["'=1+1", "'+1", "'-1", "'@a", "ok", 5]
    assert describe_clause(Clause(field="last_funding_date", op="within_days", value=180)) == (
        "Last funding date in the last 180 days"
    )
    assert describe_clause(Clause(field="employees", op="between", value=[None, 500])) == "Employees at most 500"
    spec = load_spec(SPEC)
    assert reason_texts(spec)["exclusion.0"] == "excluded: churned 62% vs 18% baseline"
