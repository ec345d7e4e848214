"""``inspect`` and ``build`` list the fields left out as leakage; ``--allow`` brings one back on every rebuild."""

from __future__ import annotations

import json

import pytest
from leakage_exports import HUBSPOT_LEAKS, history, hubspot

from icpkit.cli import main
from icpkit.spec import load_spec
from icpkit.store import Store


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return hubspot(history(), tmp_path_factory.mktemp("hubspot"))


def _build(export, tmp_path, *extra: str) -> list[str]:
    return [
        "build",
        "--accounts",
        str(export["accounts"]),
        "--deals",
        str(export["deals"]),
        "--out",
        str(tmp_path / "icp.yaml"),
        "--store",
        str(tmp_path / "store.duckdb"),
        *extra,
    ]


def test_inspect_lists_leakage_with_the_reason(export, capsys):
    assert main(["inspect", "--accounts", str(export["accounts"]), "--deals", str(export["deals"]), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    leaks = {f["field"]: f for f in report["leakage"]}
    assert sorted(leaks) == sorted(HUBSPOT_LEAKS)
    assert {f["kind"] for f in leaks.values()} == {"leakage_rule"}
    assert "customer" in leaks["lifecycle_stage"]["reason"]
    assert report["preset"]["name"] == "hubspot"

    assert main(["inspect", "--accounts", str(export["accounts"]), "--deals", str(export["deals"])]) == 0
    out = capsys.readouterr().out
    assert "Left out of discovery as leakage" in out and "--allow FIELD" in out
    assert "lifecycle_stage" in out and "number_of_associated_deals" in out


def test_build_lists_every_left_out_field_and_allow_brings_one_back(export, tmp_path, capsys):
    assert main(_build(export, tmp_path, "--json")) == 0
    summary = json.loads(capsys.readouterr().out)
    kinds = {f["field"]: f["kind"] for f in summary["left_out"]}
    assert {f: kinds[f] for f in HUBSPOT_LEAKS} == dict.fromkeys(HUBSPOT_LEAKS, "leakage_rule")
    assert kinds["account_id"] == "identifier" and kinds["arr"] == "outcome"
    fields = {c.field for _, c in load_spec(tmp_path / "icp.yaml").criteria()}
    assert fields and not fields & set(HUBSPOT_LEAKS)

    assert main(_build(export, tmp_path, "--allow", "lifecycle_stage", "--json")) == 0
    summary = json.loads(capsys.readouterr().out)
    assert "lifecycle_stage" not in {f["field"] for f in summary["left_out"]}
    assert any("lifecycle_stage was allowed back" in n for n in summary["notes"])

    assert main(_build(export, tmp_path)) == 0
    out = capsys.readouterr().out
    assert "Left out as leakage" in out and "became_a_customer_date" in out


def test_allow_of_an_unknown_field_is_exit_2_and_nothing_is_written(export, tmp_path, capsys):
    code = main(_build(export, tmp_path, "--allow", "lifecycle"))
    err = capsys.readouterr().err
    assert code == 2
    assert "--allow 'lifecycle'" in err and "no such field" in err and "Traceback" not in err
    assert not (tmp_path / "icp.yaml").exists()


@pytest.mark.parametrize("command", ["validate", "report", "recalibrate"])
def test_every_command_that_rebuilds_takes_allow(export, tmp_path, capsys, command):
    spec = tmp_path / "icp.yaml"
    assert main(_build(export, tmp_path, "--json")) == 0
    capsys.readouterr()
    args = [command, "--accounts", str(export["accounts"]), "--deals", str(export["deals"]), "--allow", "nope"]
    if command == "report":
        args += ["--out", str(tmp_path / "r.html")]
    if command == "recalibrate":
        args += ["--spec", str(spec), "--store", str(tmp_path / "store.duckdb")]
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2
    assert "--allow 'nope'" in err and "no such field" in err


def test_recalibrate_keeps_the_allowed_fields_of_the_version_in_force(export, tmp_path, capsys):
    store = tmp_path / "store.duckdb"
    assert main(_build(export, tmp_path, "--allow", "lifecycle_stage", "--json")) == 0
    assert main(["promote", "1", "--store", str(store)]) == 0
    capsys.readouterr()
    args = ["recalibrate", "--accounts", str(export["accounts"]), "--deals", str(export["deals"])]
    assert main([*args, "--store", str(store), "--json"]) == 0
    versions = {v.version: v for v in Store(store).versions()}
    assert versions[1].params["allow"] == ["lifecycle_stage"]
    assert versions[2].params["allow"] == ["lifecycle_stage"]
    assert "lifecycle_stage" in {c.field for _, c in Store(store).get(2)[1].criteria()}
