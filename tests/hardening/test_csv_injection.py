"""No CSV icpkit writes can run as a spreadsheet formula: every exported cell and header read back is inert.

Company names, list items, column names and spec labels that start with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return come back prefixed with ``'`` (numbers such as ``-3`` stay numbers), through every writer:
``score`` (plain CSV and the HubSpot / Salesforce / generic CRM imports), ``size --out`` and
``export --to linkedin|abm|csv``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from icpkit.cli import main
from icpkit.csvsafe import FORMULA_PREFIXES

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1:A9)", "=cmd|' /C calc'!A0",
            "-x", "+y", "=1"]  # fmt: skip

SPEC = """\
name: inject
version: 1
as_of: 2026-09-30
layers:
  firmographic:
    - {field: industry, in: [Software, '=1+1'], points: 60, label: '=HYPERLINK("http://evil.example")'}
    - {field: employees, between: [10, 5000], points: 20}
exclusions:
  - {field: business_model, in: [B2C], reason: '@SUM(1+1) churned'}
tiers: {tier1: 70, tier2: 50, tier3: 30}
routing: {tier1: '=sales', tier2: sales, tier3: nurture, none: disqualify, excluded: disqualify}
"""


def _accounts(path: Path) -> Path:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(
        ["Record ID", "Company name", "Industry", "Number of Employees", "Company Domain Name", "=cmd", "tech_stack"]
    )
    for i, name in enumerate(FORMULAS * 3):
        w.writerow([f"{name}-{i}", name, "Software" if i % 2 else "=1+1", 100 + i, f"d{i}.example.com", f"-{i}",
                    "=1;@x;+y"])  # fmt: skip
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def _cells(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _assert_inert(path: Path) -> None:
    cells = _cells(path)
    assert len(cells) > 10, path.read_text()[:500]
    live = [c for c in cells if c.startswith(FORMULA_PREFIXES) and not _is_number(c)]
    assert not live, f"{path.name}: {live[:5]}"
    assert any(c.startswith("'") for c in cells), "the hostile values did not reach the file"


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    spec = tmp_path / "icp.yaml"
    spec.write_text(SPEC)
    return _accounts(tmp_path / "accounts.csv"), spec


@pytest.mark.parametrize("fmt", [None, "hubspot", "salesforce", "csv"])
def test_scored_csv_and_crm_imports_are_inert(inputs: tuple[Path, Path], tmp_path: Path, fmt: str | None) -> None:
    accounts, spec = inputs
    out = tmp_path / f"scored-{fmt}.csv"
    argv = ["score", str(accounts), "--spec", str(spec), "--out", str(out)]
    assert main([*argv, *(["--format", fmt] if fmt else [])]) == 0
    _assert_inert(out)


def test_target_lists_and_exports_are_inert(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    universe, spec = inputs
    targets = tmp_path / "targets.csv"
    assert main(["size", "--spec", str(spec), "--universe", str(universe), "--out", str(targets)]) == 0
    _assert_inert(targets)
    for to in ("linkedin", "abm", "csv"):
        out = tmp_path / f"{to}.csv"
        assert main(["export", "--to", to, "--targets", str(targets), "--out", str(out)]) == 0, to
        _assert_inert(out)


def test_neutralised_cells_keep_their_text() -> None:
    import pyarrow as pa

    from icpkit.csvsafe import neutralise

    hostile = [*FORMULAS, "\t=1+1", "\r=1+1"]  # tabs and carriage returns: what some spreadsheets skip first
    table = neutralise(pa.table({"=h": [*hostile, "plain", "'=already"], "n": list(range(len(hostile) + 2))}))
    assert table.column_names == ["'=h", "n"]
    assert table["'=h"].to_pylist() == [*("'" + f for f in hostile), "plain", "'=already"]
    assert table["n"].to_pylist() == list(range(len(hostile) + 2))
