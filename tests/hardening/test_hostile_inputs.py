"""The hostile-input corpus: broken or malicious files through every reader, preset and spec, via the real CLI.

Each case is one row of ``CASES``: the file is written at run time, passed where a user would pass it, and must
give exit code 2, one message naming the file and where in it (row, column, YAML line or field), no traceback,
and nothing written (no spec, no store, no scored file, no temporary file left behind). API payloads are in
``test_hostile_payloads.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from hostile_files import (
    ACCOUNTS,
    DEALS,
    DEALS_HEAD,
    SPEC,
    Writer,
    alias_bomb,
    duckdb_file,
    gz_truncated,
    json_text,
    million_columns,
    nested,
    parquet,
    parquet_truncated,
    raw,
    text,
    xlsx,
)

from icpkit.cli import main


@dataclass(frozen=True)
class Case:
    """``role``: accounts / deals (``build``), spec or source (``score``); ``where``: pieces the message holds."""

    role: str
    file: str
    write: Writer
    where: tuple[str, ...]
    options: tuple[str, ...] = ()


HS_ACC = "Record ID,Company name,Industry\n"
SF_ACC = "Account ID,Account Name,Industry,Employees\n001A,Acme,Software,10\n"
SF_OPP = "Opportunity ID,Account ID,Stage,Is Won,Closed,Close Date,Amount\n"
PD_ORG = "Organization - ID,Organization - Name,Organization - Industry\n1,Acme,Software\n"
PD_DEAL = "Deal - ID,Deal - Organization,Deal - Status,Deal - Value,Deal - Close date\n"


def spec(points: str = "30", employees: str = "between: [50, 500]") -> Writer:
    return text(SPEC.replace("points: 30", f"points: {points}").replace("between: [50, 500]", employees))


CASES: dict[str, Case] = {
    # -- CSV / TSV / gzip ------------------------------------------------------------------------------------
    "csv ragged rows": Case("accounts", "ragged.csv", text(HS_ACC + "A1,Acme\nA2,Globex,Retail,extra\n"),
                            ("row 2", "expected 3 fields, found 2", "row 3")),
    "tsv ragged rows": Case("accounts", "ragged.tsv", text("Record ID\tCompany name\nA1\tx\textra\n"),
                            ("row 2", "expected 2 fields, found 3")),
    "csv unclosed quote": Case("accounts", "quote.csv", text(HS_ACC + 'A1,"Acme,Software\nA2,x,y\n'), ("row 2",)),
    "gzip cut in half": Case("accounts", "cut.csv.gz", gz_truncated(ACCOUNTS), ("gzip stream is truncated",)),
    "gz name, plain text": Case("accounts", "plain.csv.gz", text(ACCOUNTS), ("not gzip-compressed",)),
    "NUL bytes": Case("accounts", "nul.csv", raw(HS_ACC.encode() + b"A1,Ac\x00me,Software\n"),
                      ("row 2", "NUL bytes")),
    "binary garbage": Case("accounts", "garbage.csv", raw(bytes(range(256)) * 64), ("binary",)),
    "wrong encoding forced": Case("accounts", "cp1252.csv", text(HS_ACC + "A1,Café,Software\n", "cp1252"),
                                  ("cannot be decoded as utf-8", "byte"), ("--encoding", "utf-8")),
    "unknown encoding": Case("accounts", "enc.csv", text(ACCOUNTS), ("unknown encoding 'klingon'",),
                             ("--encoding", "klingon")),
    "5 MB field": Case("accounts", "huge_field.csv", text(HS_ACC + "A1,x," + "y" * 5_000_000 + "\n"),
                       ("row 2", "Maximum line size")),
    "million-column header": Case("accounts", "wide.csv", million_columns, ("row 1", "16,384 columns")),
    "20,000 columns": Case("accounts", "cols.csv", text(",".join(f"c{i}" for i in range(20_000)) + "\n1\n"),
                           ("row 1", "20,000 columns")),
    "header field past csv limit": Case("accounts", "long_header.csv", text(f'id,"{"x" * 200_000}"\n1,2\n'),
                                        ("row 1", "header cannot be read")),
    "duplicate header": Case("accounts", "dup_header.csv", text("Record ID,Name,Name\nA1,x,y\n"),
                             ("row 1", "'Name' is used by columns 2 and 3")),
    "empty header name": Case("accounts", "blank_header.csv", text("Record ID,,Industry\nA1,x,y\n"),
                              ("row 1", "column 2 has an empty header name")),
    "header only": Case("accounts", "header_only.csv", text(HS_ACC), ("header but no rows",)),
    "zero bytes": Case("accounts", "empty.csv", text(""), ("is empty",)),
    "absurd numbers": Case("accounts", "absurd.csv",
                           text("Record ID,Company name,Annual Revenue\nA1,x,1e309\nA2,y,inf\nA3,z,-1e999\n"),
                           ("row 2", "column 'Annual Revenue'", "could not be read as a number")),
    "duplicate account ids": Case("accounts", "dup_ids.csv", text(HS_ACC + "A1,x,y\nA2,x,y\nA1,z,w\n"),
                                  ("row 4", "column 'Record ID'", "'A1' (rows 2, 4)")),
    # -- Parquet ---------------------------------------------------------------------------------------------
    "parquet cut short": Case("accounts", "cut.parquet", parquet_truncated, ("magic bytes",)),
    "parquet name, CSV inside": Case("accounts", "fake.parquet", text(ACCOUNTS), ("not a parquet file",)),
    "parquet object column": Case("accounts", "struct.parquet",
                                  parquet({"Record ID": ["A1", "A2"], "meta": [{"a": 1}, {"a": 2}]}),
                                  ("row 1", "column 'meta'", "JSON objects")),
    "parquet list of employees": Case("accounts", "lists.parquet",
                                      parquet({"Record ID": ["A1"], "Number of Employees": [[1, 2]]}),
                                      ("row 1", "column 'Number of Employees'", "holds lists")),
    # -- Excel -----------------------------------------------------------------------------------------------
    "xlsx not a zip": Case("accounts", "broken.xlsx", raw(b"PK\x03\x04" + bytes(300)), ("cannot be read",)),
    "xlsx duplicate header": Case("accounts", "dup.xlsx", xlsx([["Record ID", "Name", "Name"], ["A1", "x", "y"]]),
                                  ("row 1", "'Name' is used by columns 2 and 3")),
    "xlsx header only": Case("accounts", "header.xlsx", xlsx([["Record ID", "Company name"]]),
                             ("header but no rows",)),
    # -- JSON / JSONL ----------------------------------------------------------------------------------------
    "json object where an id goes": Case("accounts", "nested.json",
                                         json_text([{"Record ID": {"id": ["A1"]}, "Company name": "x"}]),
                                         ("row 1", "column 'Record ID'", "JSON objects")),
    "json cut short": Case("accounts", "cut.json", text('[{"Record ID": "A1"}, {"Record ID": "A'),
                           ("unexpected end of data",)),
    "json scalar document": Case("accounts", "scalar.json", text("42"), ("is not JSON",)),
    "jsonl mixed shapes": Case("accounts", "mixed.jsonl", text('{"Record ID": "A1"}\n[1, 2]\n"x"\n'),
                               ("non-record JSON",)),
    "json empty array": Case("accounts", "empty.json", text("[]"), ("no records",)),
    "json duplicate ids": Case("accounts", "dup.json",
                               json_text([{"Record ID": "A1", "Company name": n} for n in "xy"]),
                               ("row 2", "'A1' (rows 1, 2)")),
    # -- DuckDB ----------------------------------------------------------------------------------------------
    "duckdb garbage": Case("accounts", "bad.duckdb", raw(bytes(8) + b"DUCK" + bytes(500)), ("bad.duckdb",)),
    "duckdb two tables, none named": Case("accounts", "two.duckdb", duckdb_file("a", "b"),
                                          ("name the table", "tables: a, b")),
    # -- presets ---------------------------------------------------------------------------------------------
    "hubspot unknown stage": Case("deals", "hs_deals.csv", text(DEALS + "D3,A3,2024-01-01,2024-02-01,5,Limbo\n"),
                                  ("row 4", "column 'stage'", "'Limbo'")),
    "hubspot duplicate deal ids": Case("deals", "hs_dup.csv",
                                       text(DEALS + "D1,A3,2024-01-01,2024-02-01,5,Closed Won\n"),
                                       ("row 4", "column 'Record ID'", "'D1' (rows 2, 4)")),
    "hubspot dates in year 0 and 9999": Case("deals", "hs_dates.csv",
                                             text(DEALS_HEAD + "D1,A1,0000-01-01,9999-12-31,5,Closed Won\n"
                                                  "D2,A2,0000-02-01,0000-03-01,5,Closed Won\n"),
                                             ("row 2", "column 'Create Date'", "'0000-01-01'")),
    "salesforce yes/no that is neither": Case("deals", "sf_opps.csv",
                                              text(SF_OPP + "006A,001A,Closed Won,maybe,perhaps,2024-01-01,5\n"),
                                              ("row 2", "column 'Is Won'", "'maybe'"), ("--preset", "salesforce")),
    "salesforce deals without account": Case("deals", "sf_noacc.csv",
                                             text("Opportunity ID,Stage,Is Won\n006A,Closed Won,true\n"),
                                             ("row 1", "column 'account_id'"), ("--preset", "salesforce")),
    "pipedrive unknown status": Case("deals", "pd_deals.csv", text(PD_DEAL + "10,Acme,zombie,5,2024-01-01\n"),
                                     ("row 2", "column 'status'", "'zombie'"), ("--preset", "pipedrive")),
    "generic duplicate ids": Case("accounts", "generic.csv", text("account_id,name,industry\n7,a,b\n7,c,d\n"),
                                  ("row 3", "column 'account_id'"), ("--preset", "generic")),
    # -- spec files ------------------------------------------------------------------------------------------
    "YAML alias bomb": Case("spec", "bomb.yaml", text(alias_bomb()), (":2:", "aliases (*l0) are not allowed")),
    "python object tag": Case("spec", "tag.yaml", text("name: !!python/object/apply:os.system ['echo hi']\n"),
                              (":1:", "tags", "not allowed")),
    "python name tag": Case("spec", "name_tag.yaml", text("!!python/name:os.system\n"), (":1:", "tags")),
    "points as text": Case("spec", "ten.yaml", spec(points="ten"), (":6 layers.firmographic[0].points",)),
    "points beyond float": Case("spec", "1e400.yaml", spec(points="1e400"),
                                (":6 layers.firmographic[0].points", "finite")),
    "between NaN": Case("spec", "nan.yaml", spec(employees="between: [.nan, 500]"),
                        (":7 layers.firmographic[1].between", "finite")),
    "gte infinity": Case("spec", "inf.yaml", spec(employees="gte: .inf"), (":7 layers.firmographic[1].gte", "finite")),
    "unknown operator": Case("spec", "op.yaml", spec(employees="betwixt: [1, 2]"),
                             (":7 layers.firmographic[1].betwixt", "unknown key 'betwixt'")),
    "nested 20,000 deep": Case("spec", "deep.yaml", text(nested(20_000)), (":2:", "nested more than 32 levels")),
    "3 MB spec": Case("spec", "huge.yaml", text("name: " + "x" * 3_000_000 + "\n"), ("larger than 2,000,000 bytes",)),
    "spec not UTF-8": Case("spec", "latin1.yaml", text("name: café\n", "latin-1"), ("not UTF-8 text",)),
    "NUL escape in a field": Case("spec", "nul.yaml", text(SPEC.replace("field: industry", 'field: "ind\\0ustry"')),
                                  (":6 layers.firmographic[0].field", "NUL")),
    "two YAML documents": Case("spec", "two.yaml", text(SPEC + "---\n" + SPEC), (":14:", "one spec per file")),
    "duplicate keys": Case("spec", "dupkey.yaml", text(SPEC.replace("version: 3", "version: 3\nversion: 4")),
                           (":3:", 'duplicate key "version"')),
    "negative within_days": Case("spec", "days.yaml", text(SPEC.replace("within_days: 180", "within_days: -5")),
                                 (":9 layers.trigger[0].within_days", "-5")),
    "as_of in year 0": Case("spec", "year0.yaml", text(SPEC.replace("2026-09-30", "0000-01-01")),
                            (":3:", "'0000-01-01' is not a valid date")),
    "control character": Case("spec", "ctrl.yaml", text("name: \x01x\n"), (":1:", "#x0001")),
    "spec is a list": Case("spec", "list.yaml", text("- a\n- b\n"), (":1:", "a spec is a YAML mapping")),
    # -- what is scored --------------------------------------------------------------------------------------
    "score: unknown format": Case("source", "accounts.xyz", text(ACCOUNTS), ("unknown format '.xyz'",)),
    "score: json object ids": Case("source", "score_nested.json",
                                   json_text([{"Record ID": {"a": 1}, "Company name": "x"}]),
                                   ("row 1", "column 'Record ID'")),
}  # fmt: skip


def _argv(case: Case, tmp: Path, hostile: Path) -> list[str]:
    preset = case.options[1] if case.options[:1] == ("--preset",) else "hubspot"
    accounts, spec_file = tmp / "accounts.csv", tmp / "icp.yaml"
    accounts.write_text({"salesforce": SF_ACC, "pipedrive": PD_ORG}.get(preset, ACCOUNTS))
    spec_file.write_text(SPEC)
    build = ["build", "--out", str(tmp / "out.yaml"), "--store", str(tmp / "store.duckdb")]
    score = ["score", "--out", str(tmp / "scored.csv")]
    if case.role == "accounts":
        return [*build, "--accounts", str(hostile), *case.options]
    if case.role == "deals":
        return [*build, "--accounts", str(accounts), "--deals", str(hostile), *case.options]
    if case.role == "spec":
        return [*score, str(accounts), "--spec", str(hostile), *case.options]
    return [*score, str(hostile), "--spec", str(spec_file), *case.options]


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input_is_refused_with_where_and_nothing_written(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = CASES[name]
    inputs = tmp_path / "in"
    inputs.mkdir()
    hostile = inputs / case.file
    case.write(hostile)
    argv = _argv(case, inputs, hostile)
    before = sorted(p.name for p in inputs.iterdir())

    code = main(argv)

    captured = capsys.readouterr()
    message = captured.err
    assert code == 2, message or captured.out
    assert "Traceback" not in message + captured.out
    assert message.startswith("error: "), message
    assert case.file in message, message
    for piece in case.where:
        assert piece in message, f"{piece!r} not in {message!r}"
    assert sorted(p.name for p in inputs.iterdir()) == before  # no output, store or temporary file
    assert list(tmp_path.iterdir()) == [inputs]


def test_the_corpus_spans_every_surface() -> None:
    roles = {c.role for c in CASES.values()}
    suffixes = {Path(c.file).suffix for c in CASES.values()}
    presets = {c.options[1] for c in CASES.values() if c.options[:1] == ("--preset",)}
    assert roles == {"accounts", "deals", "spec", "source"}
    assert {".csv", ".tsv", ".gz", ".parquet", ".xlsx", ".json", ".jsonl", ".duckdb", ".yaml"} <= suffixes
    assert {"salesforce", "pipedrive", "generic"} <= presets
    assert any(c.role == "deals" and not c.options for c in CASES.values())  # HubSpot, detected
    assert len(CASES) >= 40
