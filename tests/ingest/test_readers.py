"""read_raw over every supported format, built on the fly in tmp_path."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from icpkit.errors import UnreadableFileError
from icpkit.ingest.raw_table import _blank_to_null
from icpkit.ingest.readers import read_raw


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_csv_is_all_strings_trimmed_with_blanks_as_null(tmp_path: Path) -> None:
    f = write(tmp_path / "a.csv", 'Record ID, Company name ,Notes\n 1 ,Acme,"  "\n2,"Big, Co",\n')
    raw = read_raw(f)
    assert raw.format == "csv" and raw.delimiter == "," and raw.encoding == "utf-8"
    assert raw.columns == ["Record ID", "Company name", "Notes"]
    assert raw.table.to_pydict() == {
        "Record ID": ["1", "2"],
        "Company name": ["Acme", "Big, Co"],
        "Notes": [None, None],
    }
    assert all(pa.types.is_string(t) for t in raw.table.schema.types)


def test_row_numbers_follow_the_spreadsheet(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path / "a.csv", "id\n1\n2\n3\n"))
    assert raw.row_number(0) == 2
    assert raw.row_numbers(np.array([0, 2])).tolist() == [2, 4]


@pytest.mark.parametrize(
    ("name", "text", "delimiter"),
    [
        ("a.tsv", "id\tname\n1\tAcme, Inc\n", "\t"),
        ("a.csv", "id|name\n1|Acme; Inc\n", "|"),
        ("a.txt", "id;name\r\n1;Acme, Inc\r\n", ";"),
    ],
)
def test_delimiter_is_sniffed(tmp_path: Path, name: str, text: str, delimiter: str) -> None:
    raw = read_raw(write(tmp_path / name, text))
    assert raw.delimiter == delimiter
    assert raw.table.column("name").to_pylist()[0].startswith("Acme")


def test_explicit_delimiter_wins(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path / "a.csv", "a,b;c\n1,2;3\n"), delimiter=";")
    assert raw.columns == ["a,b", "c"]


def test_quoted_newlines_and_escaped_quotes(tmp_path: Path) -> None:
    raw = read_raw(write(tmp_path / "a.csv", 'id,notes\n1,"line one\nline ""two"""\n2,x\n'))
    assert raw.table["notes"].to_pylist() == ['line one\nline "two"', "x"]


def test_gzip_csv(tmp_path: Path) -> None:
    f = tmp_path / "accounts.csv.gz"
    f.write_bytes(gzip.compress(b"id,name\n1,Acme\n2,Globex\n"))
    raw = read_raw(f)
    assert raw.format == "csv" and raw.table["name"].to_pylist() == ["Acme", "Globex"]


def test_gzip_cp1252_is_transcoded_and_temp_file_removed(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    f = tmp_path / "accounts.csv.gz"
    f.write_bytes(gzip.compress("id,name\n1,Crème brûlée SARL\n".encode("cp1252")))
    raw = read_raw(f)
    assert raw.encoding == "cp1252" and raw.table["name"].to_pylist() == ["Crème brûlée SARL"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_nul_byte_beyond_the_sample_is_found(tmp_path: Path) -> None:
    body = b"".join(b"%d,Company %d\n" % (i, i) for i in range(40_000))
    f = write(tmp_path / "big.csv", b"id,name\n" + body + b"40000,Bad\x00Co\n")
    with pytest.raises(UnreadableFileError, match="NUL bytes") as info:
        read_raw(f)
    assert info.value.row == 40_002


def test_unterminated_quote_names_the_row(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="quote is opened but never closed") as info:
        read_raw(write(tmp_path / "a.csv", 'id,name\n1,Acme\n2,"Globex\n'))
    assert info.value.row == 3


def test_invalid_utf8_deep_in_a_file_is_an_encoding_error(tmp_path: Path) -> None:
    body = b"".join(b"%d,Company %d\n" % (i, i) for i in range(40_000))
    f = write(tmp_path / "a.csv", b"id,name\n" + body + "1,Café\n".encode("cp1252"))
    with pytest.raises(UnreadableFileError, match=r"UTF-8.*encoding="):
        read_raw(f)


def test_parquet_keeps_native_types_and_lists(tmp_path: Path) -> None:
    f = tmp_path / "a.parquet"
    pq.write_table(
        pa.table(
            {
                "account_id": ["A1", "A2"],
                "employees": [120, None],
                "tech_stack": [["Salesforce", "HubSpot"], []],
                "name": ["  Acme ", ""],
            }
        ),
        f,
    )
    raw = read_raw(f)
    assert raw.format == "parquet" and raw.first_row == 1
    assert pa.types.is_integer(raw.table.schema.field("employees").type)
    assert raw.table["tech_stack"].to_pylist() == [["Salesforce", "HubSpot"], []]
    assert raw.table["name"].to_pylist() == ["Acme", None]


def test_corrupt_parquet_is_mapped_at_the_boundary(tmp_path: Path) -> None:
    f = write(tmp_path / "a.parquet", b"PAR1" + b"\x01" * 100)
    with pytest.raises(UnreadableFileError) as info:
        read_raw(f)
    assert isinstance(info.value.__cause__, duckdb.Error)
    assert "a.parquet" in str(info.value)


def test_json_array_and_jsonl(tmp_path: Path) -> None:
    records = [{"id": "A1", "tech_stack": ["Stripe"], "arr": 1200.5}, {"id": "A2", "tech_stack": [], "arr": None}]
    arr = read_raw(write(tmp_path / "a.json", json.dumps(records)))
    lines = read_raw(write(tmp_path / "a.jsonl", "\n".join(json.dumps(r) for r in records) + "\n"))
    assert arr.format == "json" and lines.format == "jsonl"
    for raw in (arr, lines):
        assert raw.first_row == 1 and raw.columns == ["id", "tech_stack", "arr"]
        assert raw.table["tech_stack"].to_pylist() == [["Stripe"], []]
        assert raw.table["arr"].to_pylist() == [1200.5, None]


def test_broken_json_is_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match=r"a\.json"):
        read_raw(write(tmp_path / "a.json", '[{"id": 1}, {"id": '))
    with pytest.raises(UnreadableFileError, match=r"b.json: has no records \(an empty JSON array\)"):
        read_raw(write(tmp_path / "b.json", "[]"))


def test_duckdb_table(tmp_path: Path) -> None:
    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE accounts AS SELECT 'A' || i AS id, i * 10 AS employees FROM range(3) t(i)")
    con.execute("CREATE TABLE deals AS SELECT 1 AS id")
    con.close()
    raw = read_raw(f"{db}:accounts")
    assert raw.format == "duckdb" and raw.table["employees"].to_pylist() == [0, 10, 20]
    with pytest.raises(UnreadableFileError, match=r"no table 'nope' \(tables: accounts, deals\)"):
        read_raw(f"{db}:nope")
    with pytest.raises(UnreadableFileError, match=r"name the table as file\.duckdb:TABLE"):
        read_raw(db)


def test_xlsx_first_sheet_and_named_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Accounts"
    ws.append([])  # a blank first row: the header is on row 2
    ws.append(["Record ID", "Company name", "Employees", "Mixed"])
    ws.append([1, "Acme ", 120, "x"])
    ws.append([2, None, 51.5, 3])
    other = wb.create_sheet("Deals")
    other.append(["Deal ID"])
    other.append(["D1"])
    f = tmp_path / "crm.xlsx"
    wb.save(f)
    raw = read_raw(f)
    assert raw.format == "xlsx" and raw.sheet == "Accounts"
    assert raw.columns == ["Record ID", "Company name", "Employees", "Mixed"]
    assert raw.row_number(0) == 3
    assert raw.table["Company name"].to_pylist() == ["Acme", None]
    assert raw.table["Employees"].to_pylist() == [120, 51.5]
    assert raw.table["Mixed"].to_pylist() == ["x", "3"]
    assert read_raw(f, sheet="Deals").table.to_pydict() == {"Deal ID": ["D1"]}
    with pytest.raises(UnreadableFileError, match=r"no sheet 'Leads' \(sheets: Accounts, Deals\)"):
        read_raw(f, sheet="Leads")


def test_content_wins_over_extension(tmp_path: Path) -> None:
    f = tmp_path / "really_parquet.csv"
    pq.write_table(pa.table({"id": ["A1"]}), f)
    assert read_raw(f).format == "parquet"
    with pytest.raises(UnreadableFileError, match="content is not a parquet file"):
        read_raw(write(tmp_path / "fake.parquet", "id\n1\n"))
    with pytest.raises(UnreadableFileError, match=r"legacy \.xls"):
        read_raw(write(tmp_path / "old.xls", "id\n1\n"))


def test_binary_without_nul_is_rejected(tmp_path: Path) -> None:
    data = bytes(range(1, 32)) * 40
    with pytest.raises(UnreadableFileError, match="binary"):
        read_raw(write(tmp_path / "a.csv", data))


def test_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="is a folder"):
        read_raw(tmp_path)


@pytest.mark.realdata
def test_public_exports_read(shared_data: Path) -> None:
    raw = read_raw(shared_data / "maven_crm" / "sales_pipeline.csv")
    assert raw.columns[:3] == ["opportunity_id", "sales_agent", "product"]
    assert raw.num_rows > 8000
    universe = read_raw(shared_data / "company_universe_financedatabase" / "equities_80_exchanges.csv.gz")
    assert universe.num_rows > 60_000 and "market_cap" in universe.columns


_CELLS = ["", " ", "\t", "a", " a", "a ", "\ta\t", "\u00a0a ", " a\r\n", "é ", " ü", "a b", "\u00a0x\u00a0", None]


def _blank_to_null_reference(cell: str | None) -> str | None:
    if cell is None:
        return None
    if cell == "" or cell[:1] in (" ", "\t") or cell[-1:] in (" ", "\t"):
        return cell.strip(" \t\r\n\u00a0") or None
    return cell


@given(
    chunks=st.lists(st.lists(st.sampled_from(_CELLS), max_size=12), min_size=1, max_size=4),
    start=st.integers(0, 3),
    large=st.booleans(),
)
def test_blank_to_null_matches_its_definition_on_sliced_chunks(chunks: list[list[str | None]], start: int, large: bool):
    typ = pa.large_string() if large else pa.string()
    # slices give chunks with a non-zero offset into shared buffers, as Arrow readers hand them out
    arrays = [pa.array(["pad"] * start + cells, typ).slice(start) for cells in chunks]
    column = pa.chunked_array(arrays, typ)
    got = _blank_to_null(column)
    assert got.type == typ
    assert got.to_pylist() == [_blank_to_null_reference(c) for cells in chunks for c in cells]


def test_blank_to_null_keeps_a_clean_column_without_copying() -> None:
    column = pa.chunked_array([pa.array(["a", None, "b c"]), pa.array(["é"])])
    assert _blank_to_null(column) is column


@pytest.mark.parametrize("newline", ["\r", "\n"])
def test_excel_for_mac_export_is_read_as_mac_roman(tmp_path: Path, newline: str) -> None:
    # a few accents only: statistical detectors called this cp1250 and turned "Nestlé" into "NestlŽ"
    rows = ["account_id,name,country", "1,Nestlé SA,Switzerland", "2,Acme,USA", "3,Señora Niño,Spain", "4,Globex,USA"]
    f = write(tmp_path / "accounts.csv", (newline.join(rows) + newline).encode("mac_roman"))
    raw = read_raw(f)
    assert raw.encoding == "mac_roman"
    assert raw.table["name"].to_pylist() == ["Nestlé SA", "Acme", "Señora Niño", "Globex"]


def test_windows_1252_is_not_taken_for_mac_roman(tmp_path: Path) -> None:
    f = write(tmp_path / "a.csv", "id,name\r\n1,Société Générale\r\n2,Müller “Köln”\r\n".encode("cp1252"))
    raw = read_raw(f)
    assert raw.encoding == "cp1252" and raw.table["name"].to_pylist() == ["Société Générale", "Müller “Köln”"]


def test_a_bad_value_in_a_cr_only_file_names_its_row(tmp_path: Path) -> None:
    from icpkit.errors import BadValueError
    from icpkit.ingest import load_dataset

    text = "account_id,name,employees\r1,Nestlé,10\r2,Zürich AG,ten\r3,Acme,many\r"
    f = write(tmp_path / "accounts.csv", text.encode("mac_roman"))
    with pytest.raises(BadValueError) as err:
        load_dataset(f)
    assert err.value.row == 3 and err.value.column == "employees"
