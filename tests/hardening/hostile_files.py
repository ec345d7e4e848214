"""Builders of the hostile inputs the corpus feeds the CLI: each writes one broken file into a folder at run time.

Nothing here is committed as data: a million-column header or a 5 MB cell is made when the test runs, so the
repository stays small and the corpus can say exactly what is wrong with each file.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

Writer = Callable[[Path], None]

ACCOUNTS = (
    "Record ID,Company name,Industry,Number of Employees,Annual Revenue,Country/Region\n"
    "A1,Acme,Software,120,5000000,United States\n"
    "A2,Globex,Manufacturing,40,1200000,Germany\n"
    "A3,Initech,Software,300,9000000,United Kingdom\n"
)
DEALS_HEAD = "Record ID,Associated Company IDs,Create Date,Close Date,Amount,Deal Stage\n"
DEALS = DEALS_HEAD + "D1,A1,2024-01-02,2024-03-01,5000,Closed Won\nD2,A2,2024-02-01,2024-04-01,900,Closed Lost\n"

SPEC = """\
name: acme-icp
version: 3
as_of: 2026-09-30
layers:
  firmographic:
    - {field: industry, in: [Software, Fintech], points: 30}
    - {field: employees, between: [50, 500], points: 20}
  trigger:
    - {field: last_funding_date, within_days: 180, points: 20}
exclusions:
  - {field: business_model, in: [B2C], reason: "churned 62% vs 18% baseline"}
tiers: {tier1: 70, tier2: 50, tier3: 30}
routing: {tier1: sales, tier2: sales, tier3: nurture, none: disqualify, excluded: disqualify}
"""


def text(content: str, encoding: str = "utf-8") -> Writer:
    return lambda p: p.write_bytes(content.encode(encoding))


def raw(content: bytes) -> Writer:
    return lambda p: p.write_bytes(content)


def gz_truncated(content: str) -> Writer:
    def write(p: Path) -> None:
        packed = gzip.compress(content.encode() * 200)
        p.write_bytes(packed[: len(packed) // 2])

    return write


def parquet(table: dict[str, list]) -> Writer:
    return lambda p: pq.write_table(pa.table(table), p)


def parquet_truncated(p: Path) -> None:
    pq.write_table(pa.table({"Record ID": ["A1", "A2"], "Company name": ["x", "y"]}), p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 30])


def xlsx(rows: list[list[object]]) -> Writer:
    def write(p: Path) -> None:
        from openpyxl import Workbook

        wb = Workbook()
        for row in rows:
            wb.active.append(row)
        wb.save(p)

    return write


def duckdb_file(*tables: str) -> Writer:
    def write(p: Path) -> None:
        con = duckdb.connect(str(p))
        for t in tables:
            con.execute(f"CREATE TABLE {t} AS SELECT 'A1' AS \"Record ID\", 'Acme' AS \"Company name\"")
        con.close()

    return write


def json_text(doc: object) -> Writer:
    return text(json.dumps(doc))


def million_columns(p: Path) -> None:
    header = ",".join(f"c{i}" for i in range(1_000_000))
    p.write_text(header + "\n" + ",".join("1" for _ in range(1_000_000)) + "\n")


def alias_bomb(depth: int = 9) -> str:
    """The "billion laughs" document: each level repeats the previous nine times (9**9 leaves if expanded)."""
    lines = ['l0: &l0 ["lol"]']
    for i in range(1, depth + 1):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]")
    return "\n".join(lines) + "\nname: bomb\n"


def nested(depth: int) -> str:
    return "name: x\nlayers: " + "[" * depth + "]" * depth + "\n"
