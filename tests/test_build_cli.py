"""``icpkit build`` and ``icpkit demo`` end to end through the CLI entry point."""

from __future__ import annotations

import json

import pytest

from icpkit.cli import main
from icpkit.spec import load_spec
from icpkit.store import Store
from icpkit.synth import generate, write_csv


@pytest.fixture(scope="module")
def hubspot_export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    return write_csv(generate(3000, seed=7), folder, style="hubspot")


def test_build_writes_a_spec_that_loads_and_recovers_the_planted_icp(hubspot_export, tmp_path, capsys):
    out = tmp_path / "icp.yaml"
    code = main(
        [
            "build",
            "--accounts",
            str(hubspot_export["companies"]),
            "--deals",
            str(hubspot_export["deals"]),
            "--out",
            str(out),
            "--evidence",
            str(tmp_path / "evidence.csv"),
            "--store",
            str(tmp_path / "store.duckdb"),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    spec = load_spec(out)
    assert summary["hash"] == spec.content_hash()
    record, stored = Store(tmp_path / "store.duckdb").get(summary["version"])
    assert record.hash == spec.content_hash() and stored.version == spec.version == 1
    fields = {c.field for _, c in spec.criteria()}
    assert {"industry", "tech_stack"} <= fields
    assert not any(f.startswith("noise_") for f in fields)
    assert [e.field for e in spec.exclusions] == ["business_model"]
    assert summary["cohorts"]["high_value_retained"] >= 30
    assert (tmp_path / "evidence.csv").read_text().count("\n") == summary["candidates_tested"] + 1


def test_build_on_noise_writes_nothing_and_says_so(tmp_path, capsys):
    files = write_csv(generate(3000, seed=5, effect=0.0), tmp_path / "noise", style="canonical")
    out = tmp_path / "icp.yaml"
    store = tmp_path / "store.duckdb"
    args = ["--accounts", str(files["accounts"]), "--deals", str(files["deals"]), "--out", str(out)]
    code = main(["build", *args, "--store", str(store)])
    assert code == 1
    assert not out.exists() and not store.exists()
    assert "No reliable ICP signal" in capsys.readouterr().out


def test_build_bad_date_is_exit_2_without_traceback(hubspot_export, tmp_path, capsys):
    code = main(["build", "--accounts", str(hubspot_export["companies"]), "--as-of", "31/12/2024"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--as-of" in err and "Traceback" not in err


def test_demo_runs_end_to_end(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "The ICP" in out
    spec = load_spec(tmp_path / "icp.yaml")
    assert spec.criteria()
    # the demo's spec records how the sample was read, as `icpkit build` does
    assert spec.data is not None and spec.data.preset == "hubspot" and spec.data.columns["Record ID"] == "account_id"
    for name in ("evidence.csv", "scored_leads.csv", "target_accounts.csv", "icp-report.html"):
        assert (tmp_path / name).stat().st_size > 0


def test_build_with_segments_writes_one_icp_per_planted_segment(tmp_path, capsys):
    files = write_csv(generate(8000, seed=0, segments=2), tmp_path / "two", style="canonical")
    out = tmp_path / "icp.yaml"
    args = ["--accounts", str(files["accounts"]), "--deals", str(files["deals"]), "--out", str(out)]
    code = main(["build", *args, "--segments", "auto", "--store", str(tmp_path / "s.duckdb"), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    spec = load_spec(out)
    assert spec.segments is not None and len(spec.segments) == 2
    assert summary["hash"] == spec.content_hash() and set(summary["segments"]) == {s.name for s in spec.segments}
    assert any("SAP" in str(c.value) for s in spec.segments for cs in s.layers.values() for c in cs)


def test_build_segments_option_is_checked(hubspot_export, capsys):
    code = main(["build", "--accounts", str(hubspot_export["companies"]), "--segments", "7"])
    assert code == 2
    assert "--segments" in capsys.readouterr().err


def test_build_says_when_value_has_no_spread(tmp_path, capsys):
    # every won deal of one amount and no ARR: value cannot rank customers; the signal is retention
    import dataclasses

    import pyarrow as pa

    h = generate(3000, seed=3)
    accounts = h.accounts.drop_columns(["arr", "expansion_arr"])
    deals = h.deals.set_column(h.deals.column_names.index("amount"), "amount", pa.array([5000.0] * h.deals.num_rows))
    files = write_csv(dataclasses.replace(h, accounts=accounts, deals=deals), tmp_path / "export")
    out = tmp_path / "icp.yaml"
    args = ["build", "-a", str(files["accounts"]), "-d", str(files["deals"]), "--out", str(out)]
    code = main([*args, "--store", str(tmp_path / "s.duckdb"), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0, summary["notes"]
    assert summary["cohorts"]["low_value_retained"] == 0
    note = next(n for n in summary["notes"] if "no spread" in n)
    assert "worth 5,000" in note and "retained against churned and never-closed" in note
