"""Every deliberately broken file in tests/ingest/corpus fails with the error a user can act on, or reads right."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from icpkit.errors import FileNotFoundInputError, InputError, UnreadableFileError
from icpkit.ingest.coerce import coerce_columns
from icpkit.ingest.readers import read_raw
from icpkit.ingest.schema import ColumnKind

CORPUS = Path(__file__).parent / "corpus"

# file -> (error class, pieces the message must contain, row the error points at)
BROKEN = {
    "truncated_row.csv": (
        UnreadableFileError,
        ["truncated_row.csv", "2 malformed row(s)", "expected 3 fields, found 2", "row 5", "found 4"],
        3,
    ),
    "header_only.csv": (UnreadableFileError, ["header_only.csv", "has a header but no rows"], None),
    "empty.csv": (UnreadableFileError, ["empty.csv", "is empty"], None),
    "garbage.csv": (UnreadableFileError, ["garbage.csv", "binary file"], 1),
    "truncated.csv.gz": (UnreadableFileError, ["truncated.csv.gz", "gzip stream is truncated"], None),
    "not_gzip.csv.gz": (UnreadableFileError, ["not_gzip.csv.gz", "not gzip-compressed"], None),
    "duplicate_header.csv": (UnreadableFileError, ["duplicate_header.csv", "'Name' is used by columns 2 and 3"], 1),
    "empty_header.csv": (UnreadableFileError, ["empty_header.csv", "column 2 has an empty header name"], 1),
    "nul_bytes.csv": (UnreadableFileError, ["nul_bytes.csv, row 2", "NUL bytes", "byte 27"], 2),
    "accounts.xyz": (UnreadableFileError, ["accounts.xyz", "unknown format '.xyz'", ".csv", ".parquet"], None),
    "missing.csv": (FileNotFoundInputError, ["missing.csv", "file not found"], None),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_is_named_in_a_precise_error(name: str) -> None:
    cls, pieces, row = BROKEN[name]
    with pytest.raises(cls) as info:
        read_raw(CORPUS / name)
    text = str(info.value)
    for piece in pieces:
        assert piece in text, f"{piece!r} not in {text!r}"
    assert info.value.path is not None and info.value.path.endswith(name)
    assert info.value.row == row
    assert not isinstance(info.value.__cause__, AssertionError)


def test_truncated_row_lists_every_bad_row() -> None:
    with pytest.raises(UnreadableFileError) as info:
        read_raw(CORPUS / "truncated_row.csv")
    assert [p.row for p in info.value.problems] == [3, 5]
    assert "'2,Globex'" in str(info.value.problems[0])


def test_windows_1252_is_detected_and_read() -> None:
    raw = read_raw(CORPUS / "windows1252.csv")
    assert raw.encoding == "cp1252"
    assert raw.table["Company name"].to_pylist() == ["Café Müller", "Société Générale"]
    assert raw.table["Notes"].to_pylist() == ["“best” – €1.2M", None]


def test_wrong_encoding_given_is_an_error() -> None:
    with pytest.raises(UnreadableFileError, match=r"windows1252\.csv: cannot be decoded as utf-8 \(byte \d+"):
        read_raw(CORPUS / "windows1252.csv", encoding="utf-8")
    with pytest.raises(UnreadableFileError, match="unknown encoding 'klingon'"):
        read_raw(CORPUS / "windows1252.csv", encoding="klingon")


def test_utf16_excel_unicode_text_is_read() -> None:
    raw = read_raw(CORPUS / "utf16_excel.txt")
    assert raw.encoding == "utf-16-le"
    assert raw.delimiter == "\t"
    assert raw.columns == ["Record ID", "Company name", "Country"]
    assert raw.table["Company name"].to_pylist() == ["Zoë Ltd", "Åsa AB"]


def test_utf8_bom_does_not_leak_into_the_first_header() -> None:
    raw = read_raw(CORPUS / "utf8_bom.csv")
    assert raw.columns[0] == "Record ID"
    assert raw.table.column_names[0] == "Record ID"
    assert raw.table["Number of Employees"].to_pylist() == ["51-200", "10,001+"]


def test_mixed_numeric_values_are_reported_with_rows() -> None:
    raw = read_raw(CORPUS / "mixed_numeric.csv")
    result = coerce_columns(raw, {"Annual Revenue": ColumnKind.NUMERIC, "Number of Employees": ColumnKind.NUMERIC})
    assert result.table["Annual Revenue"].to_pylist() == [1_200_000.0, 1_200_000.0, None, None, -1200.0]
    assert result.table["Number of Employees"].to_pylist() == [125.5, None, 1000.0, 12.0, None]
    by_column = {p.column: p for p in result.problems}
    revenue = by_column["Annual Revenue"]
    assert revenue.row == 5 and revenue.severity == "warning"
    assert "1 of 4 value(s) could not be read as a number" in revenue.message
    assert "row 5 'call me'" in revenue.message
    employees = by_column["Number of Employees"]
    assert re.search(r"2 of 5 .* row 3 'abc', row 6 '\?\?'", employees.message)
    assert str(employees).startswith(f"{raw.source}, row 3, column 'Number of Employees'")


def test_formula_like_cells_are_kept_and_flagged() -> None:
    raw = read_raw(CORPUS / "formulas.csv")
    result = coerce_columns(raw, {"Company name": ColumnKind.TEXT, "Phone": ColumnKind.TEXT})
    assert result.table["Company name"].to_pylist()[1] == "=cmd|' /C calc'!A0"
    assert result.table["Phone"].to_pylist() == ["+1 555 0100", None, "@home"]
    (problem,) = result.problems
    assert problem.column == "Company name" and problem.severity == "warning"
    assert "2 value(s) look like spreadsheet formulas" in problem.message and problem.row == 2


def test_semicolon_crlf_with_quoted_delimiter_and_decimal_comma() -> None:
    raw = read_raw(CORPUS / "semicolon_crlf.csv")
    assert raw.delimiter == ";"
    assert raw.table["Company name"].to_pylist() == ["Acme; Inc", "Globex"]
    typed = coerce_columns(raw, {"Revenue": ColumnKind.NUMERIC}).table
    assert typed["Revenue"].to_pylist() == [1234.56, 12.5]


def test_unnamed_first_column_is_a_saved_index_read_with_a_warning() -> None:
    raw = read_raw(CORPUS / "unnamed_index.csv")
    assert raw.columns == raw.table.column_names == ["column_1", "name", "domain"]
    assert raw.table["column_1"].to_pylist() == ["5872184", "21074"]
    (warning,) = raw.problems
    assert warning.severity == "warning" and warning.row == 1 and warning.column == "column_1"
    assert "column 1 has no header name" in str(warning) and "unnamed_index.csv" in str(warning)


def test_unnamed_first_column_keeps_a_name_the_file_already_uses(tmp_path: Path) -> None:
    path = tmp_path / "taken.csv"
    path.write_text("\ufeff ,column_1,name\n0,a,b\n", encoding="utf-8")
    raw = read_raw(path)
    assert raw.columns == ["column_1_2", "column_1", "name"]
    assert raw.encoding == "utf-8-sig" and raw.table["column_1"].to_pylist() == ["a"]


def test_empty_headers_beyond_the_first_column_stay_errors(tmp_path: Path) -> None:
    path = tmp_path / "two.csv"
    path.write_text(",name,\n0,a,b\n", encoding="utf-8")
    with pytest.raises(UnreadableFileError) as info:
        read_raw(path)
    assert [p.message for p in info.value.problems] == ["column 3 has an empty header name"]


def test_cr_only_line_endings() -> None:
    raw = read_raw(CORPUS / "cr_only.csv")
    assert raw.table.to_pydict() == {"id": ["1", "2"], "name": ["Acme", "Globex"]}


def test_every_error_is_an_input_error() -> None:
    for name in BROKEN:
        with pytest.raises(InputError):
            read_raw(CORPUS / name)
