"""``icpkit drift``, ``recalibrate``, ``diff``, ``versions`` and ``promote`` end to end on Parquet exports, with
their exit codes: 0 stable, 1 drift found with --fail-on-drift, 2 bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from drift_planting import BUILD_AS_OF, Draw, draw, plant_winning_segment

from icpkit.cli import main
from icpkit.discover import ICPBuilder
from icpkit.spec import content_hash, dump_spec, load_spec
from icpkit.store import Store


def _write(d: Draw, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in ("accounts", "deals", "leads"):
        table = getattr(d, name)
        if table is not None:
            out[name] = folder / f"{name}.parquet"
            pq.write_table(table, out[name])
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("drift-cli")
    spec = ICPBuilder(name="cli-icp").fit(draw(8000, 0, as_of=BUILD_AS_OF).dataset()).spec
    spec_path = root / "icp.yaml"
    spec_path.write_text(dump_spec(spec), encoding="utf-8")
    stable = _write(draw(6000, 3, leads=True), root / "stable")
    drifted = _write(plant_winning_segment(draw(6000, 5)), root / "drifted")
    return {"root": root, "spec": spec_path, "stable": stable, "drifted": drifted}


def _args(f: dict[str, Path]) -> list[str]:
    out = ["--accounts", str(f["accounts"]), "--deals", str(f["deals"])]
    if "leads" in f:
        out += ["--leads", str(f["leads"])]
    return out


def test_stable_exits_zero_even_with_fail_on_drift(files: dict, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["drift", "--spec", str(files["spec"]), *_args(files["stable"]), "--json", "--fail-on-drift"])
    out = capsys.readouterr().out
    assert code == 0, out
    report = json.loads(out)
    assert report["verdict"] == "stable" and report["reasons"] == []
    assert report["funnel"]["mode"] == "stage dates" and report["score_shift"]["population"] == "leads"


def test_drift_found_exits_one_only_with_fail_on_drift(files: dict, capsys: pytest.CaptureFixture[str]) -> None:
    base = ["drift", "--spec", str(files["spec"]), *_args(files["drifted"])]
    assert main(base) == 0
    text = capsys.readouterr().out
    assert "REBUILD" in text and "Healthcare" in text
    assert main([*base, "--fail-on-drift", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["verdict"] == "rebuild"


@pytest.mark.parametrize(
    "extra",
    [
        ["--benchmark", "lead_to_nowhere=0.1-0.2"],
        ["--benchmark", "mql_to_sql=high"],
        ["--as-of", "2025-13-40"],
        ["--psi-review", "0.3", "--psi-rebuild", "0.2"],
        ["--fit-tier", "tier9"],
    ],
)
def test_bad_options_exit_two(files: dict, extra: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drift", "--spec", str(files["spec"]), *_args(files["stable"]), *extra]) == 2
    assert "error" in capsys.readouterr().err


def test_bad_input_exits_two(files: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.csv"
    assert main(["drift", "--spec", str(files["spec"]), "--accounts", str(missing)]) == 2
    bad_spec = tmp_path / "bad.yaml"
    bad_spec.write_text("name: x\nlayers: {firmographic: [{field: a, between: [5, 1]}]}\n", encoding="utf-8")
    assert main(["drift", "--spec", str(bad_spec), *_args(files["stable"])]) == 2
    # no --spec and nothing promoted in an empty store
    assert main(["drift", "--store", str(tmp_path / "s.duckdb"), *_args(files["stable"])]) == 2
    assert "promote" in capsys.readouterr().err


def test_store_flow(files: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_path = tmp_path / ".icpkit" / "store.duckdb"
    store = Store(store_path)
    spec = load_spec(files["spec"])
    v1 = store.save_version(spec, params={"window_months": 24})
    s = ["--store", str(store_path)]

    assert main(["versions", *s, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(v["version"], v["promoted"], v["criteria"]) for v in listed] == [(1, False, len(spec.criteria()))]
    assert main(["promote", v1.hash[:8], *s]) == 0
    assert "now in force" in capsys.readouterr().out
    assert main(["versions", *s]) == 0
    assert "v1" in capsys.readouterr().out
    assert main(["promote", "v9", *s]) == 2
    capsys.readouterr()

    # drift on the promoted version records the run
    assert main(["drift", *s, *_args(files["stable"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["spec_hash"] == v1.hash
    runs = store.runs("drift")
    assert len(runs) == 1 and runs[0].spec_hash == v1.hash and runs[0].summary["verdict"] == "stable"

    # recalibrate: a child of the version in force, stored, not promoted
    code = main(["recalibrate", *s, *_args(files["drifted"])[:4], "--window-months", "12", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    new = out["stored"]
    assert new["version"] == 2 and new["parent"] == v1.hash and new["kind"] == "recalibrate"
    assert new["params"]["window_months"] == 12 and new["data_fingerprint"]
    assert store.promoted_hash() == v1.hash
    # the new version records how the new exports were read (the API serves a promoted version through it)
    assert store.get(new["hash"])[1].data is not None
    assert out["diff"]["old_hash"] == v1.hash and out["diff"]["new_hash"] == new["hash"]

    # diff by store references, with the tier migration of the accounts
    acc = ["--accounts", str(files["drifted"]["accounts"]), "--deals", str(files["drifted"]["deals"])]
    assert main(["diff", "promoted", "latest", *s, *acc, "--json", "--top", "3"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["old"].startswith("v1") and d["new"].startswith("v2")
    assert sum(map(sum, d["migration"]["matrix"])) == 6000 and len(d["migration"]["movers"]) <= 3
    assert main(["diff", "1", "2", *s, *acc]) == 0
    text = capsys.readouterr().out
    assert "Tier migration" in text and "criteria added" in text

    # a spec file against itself: empty
    assert main(["diff", str(files["spec"]), str(files["spec"]), "--json"]) == 0
    same = json.loads(capsys.readouterr().out)
    assert same["empty"] and same["diff"]["old_hash"] == content_hash(spec)
    assert main(["diff", str(files["spec"]), "v7", *s]) == 2
