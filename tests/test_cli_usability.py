"""Small usability contracts of the ``icpkit`` command: exit codes, ``--version``, ``-`` for stdin and stdout."""

from __future__ import annotations

from pathlib import Path

import pytest

from icpkit.cli import main
from icpkit.synth import generate, write_csv

REPO = Path(__file__).resolve().parent.parent
MAVEN_MAP = REPO / "tests" / "ingest" / "mappings" / "maven_crm.yaml"


def maven_args(shared_data: Path) -> list[str]:
    d = shared_data / "maven_crm"
    return ["--accounts", str(d / "accounts.csv"), "--deals", str(d / "sales_pipeline.csv"), "--map", str(MAVEN_MAP)]


@pytest.mark.realdata
def test_build_without_reliable_signal_exits_1_on_maven(shared_data, tmp_path, capsys):
    out = tmp_path / "icp.yaml"
    code = main(["build", *maven_args(shared_data), "--out", str(out), "--store", str(tmp_path / "s.duckdb")])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "only 17 high-value retained accounts" in err
    assert not out.exists() and not (tmp_path / "s.duckdb").exists()


@pytest.mark.realdata
def test_report_without_reliable_signal_exits_1_and_still_writes_the_document(shared_data, tmp_path, capsys):
    out = tmp_path / "r.html"
    code = main(["report", *maven_args(shared_data), "--out", str(out), "--no-validate"])
    assert code == 1
    assert "no reliable signal" in capsys.readouterr().out
    assert out.exists()


def test_report_on_noise_exits_1(tmp_path, capsys):
    files = write_csv(generate(1500, seed=5, effect=0.0), tmp_path / "noise", style="canonical")
    out = tmp_path / "r.html"
    code = main(["report", "-a", str(files["accounts"]), "-d", str(files["deals"]), "-o", str(out), "--no-validate"])
    assert code == 1
    assert "no reliable signal" in capsys.readouterr().out and out.exists()
