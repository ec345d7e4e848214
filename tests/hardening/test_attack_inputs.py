"""Hostile specs, CSV files and file names through the real CLI, in process: one line naming where, exit 2,
never a traceback or a message that misleads."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from icpkit.cli import main
from icpkit.ingest.read_csv import _rejects_error

SPEC = (Path(__file__).resolve().parents[1] / "acme-icp.yaml").read_text()
ACCOUNTS = "account_id,industry,employees\na1,Software,120\na2,Retail,20\n"


def _cli(argv: list[str | Path]) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        code = main([str(a) for a in argv])
    return code, err.getvalue()


def _one_error(code: int, err: str, *pieces: str) -> str:
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for piece in pieces:
        assert piece in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def accounts(tmp_path: Path) -> Path:
    p = tmp_path / "accounts.csv"
    p.write_text(ACCOUNTS)
    return p


SPECS = {
    "a bound of 10^400": ("between: [50, 500]", "between: [50, 1" + "0" * 400 + "]", ":8 ", "finite"),
    "a float bound of 1e400": ("between: [50, 500]", "between: [50, 1.0e+400]", ":8 ", "finite"),
    "an in of -10^400": ("in: [US, GB, CA]", "in: [US, -1" + "0" * 400 + "]", ":9 ", "finite"),
    "points: true": ("points: 30", "points: true", ":7 ", "valid integer"),
    "points: '10'": ("points: 30", 'points: "10"', ":7 ", "valid integer"),
    "version: true": ("version: 3", "version: true", ":3 ", "valid integer"),
}


@pytest.mark.parametrize("name", list(SPECS))
@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_spec_with_unusable_numbers_is_one_line(tmp_path: Path, accounts: Path, name: str, engine: str) -> None:
    old, new, line, word = SPECS[name]
    spec = tmp_path / "icp.yaml"
    spec.write_text(SPEC.replace(old, new, 1))
    out = tmp_path / "scored.csv"
    code, err = _cli(["score", accounts, "--spec", spec, "--engine", engine, "--out", out])
    _one_error(code, err, "icp.yaml" + line, word)
    assert not out.exists()


def test_serve_refuses_a_spec_with_a_bound_past_a_double(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = tmp_path / "icp.yaml"
    spec.write_text(SPEC.replace("between: [50, 500]", "between: [50, 1" + "0" * 400 + "]"))
    monkeypatch.setenv("ICPKIT_API_TOKENS", "attack-inputs-token-0123456789abcdef")
    _one_error(*_cli(["serve", "--spec", spec, "--port", "0"]), "icp.yaml:8 ")


def test_a_bound_of_10_to_the_20_is_served(tmp_path: Path) -> None:
    """It used to stop serve at start with a traceback (the served JSON holds 64-bit integers at most)."""
    from icpkit.api import JsonLog, create_app

    spec = tmp_path / "icp.yaml"
    spec.write_text(SPEC.replace("between: [50, 500]", "between: [50, 100000000000000000000]"))
    app = create_app(spec, insecure_no_auth=True, log=JsonLog(io.StringIO()), poll_seconds=0)
    assert app.live.current.spec.layers["firmographic"][1].value == [50, 1e20]


@pytest.mark.parametrize("bound", ["1.0e+20", "100000000000000000000"])
@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_a_bound_of_10_to_the_20_scores(tmp_path: Path, accounts: Path, engine: str, bound: str) -> None:
    spec = tmp_path / "icp.yaml"
    spec.write_text(SPEC.replace("between: [50, 500]", f"between: [50, {bound}]"))
    out = tmp_path / "scored.csv"
    code, err = _cli(["score", accounts, "--spec", spec, "--engine", engine, "--out", out])
    assert code == 0, err
    assert out.read_text().splitlines()[1].split(",")[3] == "50"  # industry 30 + employees 20


@pytest.mark.parametrize(
    ("content", "row"),
    [
        (b"account_id,industry\r\na1,Software\na2,Retail\r\n", 2),
        (b"account_id,industry\na1,Software\na2,Retail\r\na3,x\n", 3),
    ],
    ids=["CRLF then LF", "LF then CRLF"],
)
def test_mixed_line_endings_name_the_row(tmp_path: Path, content: bytes, row: int) -> None:
    source = tmp_path / "mixed.csv"
    source.write_bytes(content)
    (tmp_path / "icp.yaml").write_text(SPEC)
    code, err = _cli(["score", source, "--spec", tmp_path / "icp.yaml", "--out", tmp_path / "o.csv"])
    _one_error(code, err, f"mixed.csv, row {row}:", "mixes line endings")
    assert "state machine" not in err


def test_a_file_of_nul_bytes_is_not_called_empty(tmp_path: Path) -> None:
    source = tmp_path / "zeros.csv"
    source.write_bytes(b"\0" * (4 * 1024 * 1024))
    (tmp_path / "icp.yaml").write_text(SPEC)
    code, err = _cli(["score", source, "--spec", tmp_path / "icp.yaml", "--out", tmp_path / "o.csv"])
    line = _one_error(code, err, "zeros.csv", "only NUL bytes")
    assert "empty" not in line


def test_a_field_too_long_for_the_parser_is_not_an_unclosed_quote() -> None:
    """DuckDB gives up on a line it cannot hold (hundreds of MB in one field) with an empty line and 'unquoted'."""
    error = _rejects_error(
        [(2, "c1", "UNQUOTED VALUE", "", "Value with unterminated quote found.")], ["a", "b"], Path("x.csv")
    )
    assert "longer than 2,000,000 bytes" in str(error) and error.row == 2


def test_a_file_name_cannot_forge_a_second_error_line(tmp_path: Path, accounts: Path) -> None:
    spec = tmp_path / "a\nerror: all good\x1b[2K.yaml"
    spec.write_text(SPEC.replace("points: 30", "points: true"))
    line = _one_error(*_cli(["score", accounts, "--spec", spec, "--out", tmp_path / "o.csv"]), "a\\x0aerror: all good")
    assert "\x1b" not in line and "\\x1b[2K.yaml:7" in line
    (tmp_path / "icp.yaml").write_text(SPEC)
    missing = tmp_path / "b\nerror: all good\x1b[2K.csv"
    code, err = _cli(["score", missing, "--spec", tmp_path / "icp.yaml", "--out", tmp_path / "o.csv"])
    line = _one_error(code, err, "b\\x0aerror: all good\\x1b[2K.csv")
    assert "\x1b" not in line


@pytest.mark.parametrize(
    ("column", "piece"),
    [
        ("employees=whatever", "unknown type"),
        ("employees=", "needs 'name=type'"),
        ("a\x1b[2Kb=text", "printable"),
        ("x" * 300 + "=text", "at most 255"),
    ],
    ids=["unknown type", "no type", "control character", "long name"],
)
def test_sql_column_options_are_checked(tmp_path: Path, column: str, piece: str) -> None:
    (tmp_path / "icp.yaml").write_text(SPEC)
    _one_error(*_cli(["sql", "--spec", tmp_path / "icp.yaml", "--column", column]), piece)


def test_sql_column_given_twice_is_refused(tmp_path: Path) -> None:
    (tmp_path / "icp.yaml").write_text(SPEC)
    argv = ["sql", "--spec", tmp_path / "icp.yaml", "-c", "employees=double", "-c", "employees=text"]
    _one_error(*_cli(argv), "given twice")


def test_sql_columns_of_known_types_compile(tmp_path: Path) -> None:
    (tmp_path / "icp.yaml").write_text(SPEC)
    argv = [
        "sql",
        "--spec",
        tmp_path / "icp.yaml",
        "-d",
        "postgres",
        "-c",
        "employees=bigint",
        "-c",
        "tech_stack=text[]",
    ]
    assert _cli(argv)[0] == 0
