"""``build --contacts``, ``score`` and ``report`` with personas, end to end through the CLI entry point."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from icpkit.cli import main
from icpkit.spec import load_spec
from icpkit.synth import generate, generate_contacts, write_csv


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("persona_export")
    history = generate(3000, seed=7)
    files = write_csv(history, folder, style="canonical")
    pacsv.write_csv(generate_contacts(history.deals, seed=7), folder / "contacts.csv")
    return {**files, "contacts": folder / "contacts.csv"}


def _build(export, out, *extra: str) -> int:
    args = ["build", "--accounts", str(export["accounts"]), "--deals", str(export["deals"]), "--out", str(out)]
    return main([*args, "--store", str(out.parent / "store.duckdb"), *extra])


def test_build_with_contacts_writes_proposed_personas(export, tmp_path, capsys) -> None:
    out = tmp_path / "icp.yaml"
    assert _build(export, out, "--contacts", str(export["contacts"]), "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    spec = load_spec(out)
    assert [p.name for p in spec.personas] == [p["name"] for p in summary["personas"]]
    assert {"vp", "director"} <= {p.name for p in spec.personas}
    assert all(p.evidence is not None for p in spec.personas)
    assert summary["hash"] == spec.content_hash() != spec.model_copy(update={"personas": []}).content_hash()
    assert "title has" in summary["personas"][0]["text"]


def test_build_without_contacts_keeps_hand_written_personas(export, tmp_path, capsys) -> None:
    out = tmp_path / "icp.yaml"
    assert _build(export, out) == 0
    spec = load_spec(out)
    assert spec.personas == []
    hand = (
        "personas:\n  - {name: buyer, titles: [vp, head of]}\n"
        "routing_rules:\n  - {tier: [tier1], persona: [buyer], route: sales_now}\n"
    )
    out.write_text(out.read_text() + hand)
    capsys.readouterr()
    assert _build(export, out) == 0
    text = capsys.readouterr().out
    rebuilt = load_spec(out)
    assert [p.name for p in rebuilt.personas] == ["buyer"] and rebuilt.routing_rules[0].route == "sales_now"
    assert "kept from" in text and "persona buyer → sales_now" in text


def test_contacts_without_deals_is_a_usage_error(export, tmp_path, capsys) -> None:
    args = ["build", "--accounts", str(export["accounts"]), "--contacts", str(export["contacts"])]
    assert main([*args, "--out", str(tmp_path / "icp.yaml")]) == 2
    assert "--contacts needs --deals" in capsys.readouterr().err
    assert not (tmp_path / "icp.yaml").exists()


SPEC = """\
name: p
layers:
  firmographic:
    - {field: industry, in: [software], points: 80}
personas:
  - {name: decision_maker, titles: [vp, chief*], exclude_titles: [assistant]}
routing_rules:
  - {tier: [tier1], persona: [decision_maker], route: sales_now}
"""


@pytest.fixture
def leads(tmp_path):
    rows = [
        {"account_id": "a1", "industry": "Software", "title": "VP, Sales"},
        {"account_id": "a2", "industry": "Software", "title": "Assistant to the VP"},
        {"account_id": "a3", "industry": "Retail", "title": "Chief Revenue Officer"},
    ]
    path = tmp_path / "leads.csv"
    pacsv.write_csv(pa.Table.from_pylist(rows), path)
    spec = tmp_path / "icp.yaml"
    spec.write_text(SPEC)
    return path, spec


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_score_writes_persona_columns_and_counts(leads, tmp_path, capsys, engine: str) -> None:
    path, spec = leads
    out = tmp_path / "scored.csv"
    assert main(["score", str(path), "--spec", str(spec), "--out", str(out), "--engine", engine, "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["personas"] == {"decision_maker": 2, "none": 1}
    with open(out, newline="") as fh:
        rows = {r["account_id"]: r for r in csv.DictReader(fh)}
    assert [rows[a]["persona"] for a in ("a1", "a2", "a3")] == ["decision_maker", "", "decision_maker"]
    assert [rows[a]["route"] for a in ("a1", "a2", "a3")] == ["sales_now", "sales", "disqualify"]
    assert rows["a1"]["persona_match"] == "100"


def test_crm_import_carries_the_persona(leads, tmp_path, capsys) -> None:
    path, spec = leads
    out = tmp_path / "crm.csv"
    assert main(["score", str(path), "--spec", str(spec), "--out", str(out), "--format", "hubspot"]) == 0
    with open(out, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["Record ID"]: r["icp_persona"] for r in rows} == {
        "a1": "decision_maker",
        "a2": "",
        "a3": "decision_maker",
    }


def test_the_report_lists_personas_and_rules(export) -> None:
    from icpkit.discover import ICPBuilder
    from icpkit.report.build import render_report

    built = ICPBuilder().fit(generate(2000, seed=3).dataset())
    hand = load_spec(SPEC)
    spec = built.spec.model_copy(update={"personas": hand.personas, "routing_rules": hand.routing_rules})
    html = render_report(built, spec=spec)
    section = html[html.index('id="personas"') : html.index('id="appendix"')]
    assert "decision_maker" in section and "written by hand" in section
    assert "tier tier1, persona decision_maker → sales_now" in section
    assert 'id="personas"' not in render_report(built)
