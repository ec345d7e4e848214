"""The API reads a record as ``score`` reads a file's row: the spec's data contract, one coercion (issue 15)."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import shutil
import warnings
from importlib import resources
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from api_support import AUTH, TOKEN

from icpkit.api import Tokens, create_app
from icpkit.cli import main
from icpkit.ingest.contract import RecordReader
from icpkit.score.python import compile_scorer
from icpkit.spec import load_spec
from icpkit.spec.model import Criterion, DataContract, FieldRead, ICPSpec, Op

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SAMPLE = resources.files("icpkit") / "data" / "sample"
N_LEADS = 120


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The spec ``build`` writes from the shipped HubSpot-style sample (with its data contract)."""
    folder = tmp_path_factory.mktemp("sample")
    files = {}
    for name in ("companies", "deals"):
        files[name] = folder / f"{name}.csv"
        with gzip.open(str(SAMPLE / f"{name}.csv.gz"), "rb") as src, files[name].open("wb") as dst:
            shutil.copyfileobj(src, dst)
    spec = folder / "icp.yaml"
    args = ["build", "--accounts", str(files["companies"]), "--deals", str(files["deals"]), "--out", str(spec)]
    assert main([*args, "--no-keep", "--json"]) == 0
    return spec


def _messy_rows() -> list[dict[str, str]]:
    """Sample leads as a HubSpot UI export writes them: labels as headers, enum codes, ranges, currency,
    thousands separators, US dates and ';'-joined technologies."""
    leads = pq.read_table(str(SAMPLE / "leads.parquet")).slice(0, N_LEADS).to_pylist()
    rows = []
    for i, lead in enumerate(leads):
        employees, revenue, funded = lead["employees"], lead["annual_revenue"], lead["last_funding_date"]
        industry = lead["industry"] or ""
        rows.append(
            {
                "Record ID": lead["lead_id"],
                "Industry": industry.upper().replace(" ", "_") if i % 2 else industry,  # SOFTWARE, FINTECH, ...
                "Number of Employees": ("" if employees is None else "51-200" if i % 5 == 0 else f"{int(employees):,}"),
                "Annual Revenue": "" if revenue is None else f"${revenue / 1e6:g}M" if i % 3 else f"${int(revenue):,}",
                "Country/Region": lead["country"] or "",
                "last_funding_date": "" if funded is None else funded.strftime("%m/%d/%Y"),
                "tech_stack": lead["tech_stack"] or "",
                "business_model": lead["business_model"] or "",
            }
        )
    rows[0]["Industry"] = "COMPUTER_SOFTWARE"
    rows[1]["Annual Revenue"] = "$120"
    rows[2]["last_funding_date"] = "08/01/2026"
    rows[3]["Number of Employees"] = "1,200"
    return rows


def test_the_same_leads_as_a_csv_and_as_api_records_score_alike(built: Path, tmp_path: Path) -> None:
    rows = _messy_rows()
    source, out = tmp_path / "leads.csv", tmp_path / "scored.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    when = load_spec(built).as_of.isoformat()  # the API below serves on the spec's date too
    assert main(["score", str(source), "--spec", str(built), "--out", str(out), "--as-of", when, "--json"]) == 0
    with out.open(encoding="utf-8") as f:
        from_file = [(int(r["score"]), r["tier"]) for r in csv.DictReader(f)]
    assert len(from_file) == N_LEADS and len({t for _, t in from_file}) >= 3

    app = create_app(built, tokens=Tokens(env=TOKEN), as_of="spec", poll_seconds=0)
    with TestClient(app) as client:
        batch = client.post("/v1/score/batch", json={"records": rows}, headers=AUTH)
        assert batch.status_code == 200, batch.text
        results = batch.json()["results"]
        singles = [client.post("/v1/score", json={"record": r}, headers=AUTH).json() for r in rows[:8]]
    assert [(r["score"], r["tier"]) for r in results] == from_file
    assert [(r["score"], r["tier"]) for r in singles] == from_file[:8]
    assert all(r["unreadable"] == [] for r in results)
    # the values were read, not left unknown: the employees criterion decided every lead with a head count
    counted = [r for r, row in zip(results, rows, strict=True) if row["Number of Employees"]]
    assert len(counted) > N_LEADS // 2
    assert not any(u["id"] == "firmographic.0" for r in counted for u in r["explanation"]["unknown"])


def test_a_value_that_cannot_be_read_is_unknown_and_named(built: Path) -> None:
    app = create_app(built, tokens=Tokens(env=TOKEN), as_of="spec", poll_seconds=0)
    record = {"industry": "Software", "employees": "lots", "tech_stack": ["HubSpot"], "annual_revenue": "n/a"}
    with TestClient(app) as client:
        body = client.post("/v1/score", json={"record": record}, headers=AUTH).json()
        typed = client.post("/v1/score", json={"record": {**record, "employees": 120}}, headers=AUTH).json()
    assert body["unreadable"] == ["employees"]  # "n/a" is a missing value, not an unreadable one
    unknown = {u["id"] for u in body["explanation"]["unknown"]}
    assert "firmographic.0" in unknown  # employees: unknown, never a silent no
    assert typed["unreadable"] == [] and typed["score"] > body["score"]


def test_compile_scorer_users_read_records_with_the_same_helper(built: Path) -> None:
    spec = load_spec(built)
    reader, score = RecordReader(spec), compile_scorer(spec)
    typed = {"industry": "Software", "employees": 120.0, "tech_stack": ["HubSpot"], "business_model": "B2B"}
    same, bad = reader(typed)
    assert same is typed and bad == []  # the usual typed record passes untouched
    messy = {
        "Industry": "SOFTWARE",
        "numberofemployees": "1,200",
        "tech_stack": "HubSpot; Intercom",
        "annual_revenue": "$25M",
    }
    read, bad = reader(messy)
    assert bad == [] and read["industry"] == "Software" and read["employees"] == 1200.0
    assert read["tech_stack"] == ["HubSpot", "Intercom"] and read["annual_revenue"] == 25_000_000.0
    assert score(read).score == score({**typed, "employees": 1200.0, "annual_revenue": 25e6}).score


@pytest.mark.parametrize(
    ("field", "value", "read"),
    [
        ("employees", "1,200", 1200.0),
        ("employees", "51-200", 125.5),
        ("employees", True, None),  # a flag is no head count
        ("uses_api", "yes", True),
        ("uses_api", "no", False),
        ("uses_api", 1, True),
        ("funded", "08/01/2026", dt.date(2026, 8, 1)),
        ("funded", "Aug 1, 2026", dt.date(2026, 8, 1)),
        ("funded", "soon", None),
        ("tech_stack", "HubSpot | Slack", ["HubSpot", "Slack"]),
        ("tech_stack", "HubSpot;Slack", ["HubSpot", "Slack"]),
        ("employees", [1, 2], None),
    ],
)
def test_each_kind_of_value_is_read_as_ingest_reads_it(field: str, value: object, read: object) -> None:
    spec = ICPSpec(
        name="kinds",
        layers={
            "firmographic": [Criterion(field="employees", op=Op.BETWEEN, value=[50, 500], points=30)],
            "technographic": [Criterion(field="tech_stack", op=Op.CONTAINS_ANY, value=["HubSpot"], points=30)],
            "behavioral": [Criterion(field="uses_api", op=Op.IS_TRUE, points=20)],
            "trigger": [Criterion(field="funded", op=Op.WITHIN_DAYS, value=365, points=20)],
        },
        data=DataContract(preset="generic", fields={"tech_stack": FieldRead(kind="multi")}),
    )
    typed = {"employees": 120, "uses_api": False, "funded": "2026-01-01", "tech_stack": ["Slack"]}
    reader = RecordReader(spec)
    assert reader(typed) == (typed, [])
    record, unreadable = reader({**typed, field: value})
    assert record[field] == read
    assert unreadable == ([field] if read is None else [])
