"""Small usability contracts of the ``icpkit`` command: exit codes, ``--version``, ``-`` for stdin and stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def test_validate_on_noise_exits_1(tmp_path, capsys):
    files = write_csv(generate(1500, seed=5, effect=0.0), tmp_path / "noise", style="canonical")
    code = main(["validate", "-a", str(files["accounts"]), "-d", str(files["deals"]), "--json"])
    assert code == 1
    assert json.loads(capsys.readouterr().out)["no_signal"] is True


def test_version_prints_the_package_version(capsys):
    import icpkit

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"icpkit {icpkit.__version__}\n"


@pytest.fixture(scope="module")
def scored_setup(tmp_path_factory):
    """A spec built on a planted history, and its accounts as a CSV of records to score."""
    from icpkit import ICPBuilder
    from icpkit.spec import dump_spec

    folder = tmp_path_factory.mktemp("pipe")
    history = generate(1500, seed=3)
    spec = folder / "icp.yaml"
    spec.write_text(dump_spec(ICPBuilder().fit(history.dataset()).spec))
    files = write_csv(history, folder, style="canonical")
    return spec, files["accounts"]


def _icpkit(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "icpkit", *args], input=stdin, capture_output=True, env=env)


def test_score_reads_stdin_and_writes_csv_to_stdout(scored_setup, tmp_path):
    spec, records = scored_setup
    as_file = tmp_path / "scored.csv"
    assert _icpkit("score", str(records), "--spec", str(spec), "--out", str(as_file)).returncode == 0
    piped = _icpkit("score", "-", "--spec", str(spec), "--out", "-", stdin=records.read_bytes())
    assert piped.returncode == 0, piped.stderr.decode()
    assert piped.stdout == as_file.read_bytes()  # stdout holds the rows only; the summary went to stderr
    assert b"records scored" in piped.stderr and b"stdout" in piped.stderr
    mixed = _icpkit("score", "-", "--spec", str(spec), "--out", str(tmp_path / "b.csv"), stdin=records.read_bytes())
    assert mixed.returncode == 0 and (tmp_path / "b.csv").read_bytes() == as_file.read_bytes()


def test_score_bad_stdin_names_the_stream_and_prints_no_rows(scored_setup):
    spec, _ = scored_setup
    bad = b"account_id,employees\n"  # a header and no rows
    run = _icpkit("score", "-", "--spec", str(spec), "--out", "-", stdin=bad)
    assert run.returncode == 2 and run.stdout == b""
    err = run.stderr.decode()
    assert "<stdin>" in err and "Traceback" not in err and "icpkit-score-" not in err
