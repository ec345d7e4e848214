"""Read one export file into an Arrow table, whatever shape the CRM or spreadsheet left it in.

Every format goes through DuckDB (CSV, gzip CSV, Parquet, JSON, a DuckDB table) so a multi-million-row export
streams into Arrow without a Python object per cell; only ``.xlsx`` goes through openpyxl, which Excel's own
row limit keeps small. Text formats come back as strings only: typing is coercion's job (``icpkit.ingest.coerce``),
where a bad value can be reported with its row instead of failing the whole read.

All upstream exceptions (duckdb, pyarrow, openpyxl, gzip, OS) are translated here, at one boundary, into the
``InputError`` family, so a user sees the file, the row and what to do rather than a library's traceback.
"""

from __future__ import annotations

import contextlib
import csv
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import duckdb
import pyarrow as pa

from icpkit.errors import FileNotFoundInputError, InputError, UnreadableFileError
from icpkit.ingest.encoding import (
    check_encoding,
    detect_encoding,
    read_sample,
    utf8_copy,
)
from icpkit.ingest.raw_table import RawTable, _check_header, _cleaned, _connect, _literal, _quote
from icpkit.ingest.read_csv import read_csv_file

__all__ = ["FORMATS", "RawTable", "read_raw"]

FORMATS = ("csv", "parquet", "xlsx", "json", "jsonl", "duckdb")

_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".txt": "csv",
    ".psv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".duckdb": "duckdb",
    ".ddb": "duckdb",
}
_UTF8 = ("utf-8", "utf-8-sig")


def read_raw(
    path: str | Path,
    *,
    encoding: str | None = None,
    sheet: str | None = None,
    delimiter: str | None = None,
) -> RawTable:
    """Read ``path`` (CSV/TSV, .gz, Parquet, .xlsx, JSON/JSONL, or ``file.duckdb:table``) into a ``RawTable``.

    Raises ``FileNotFoundInputError`` or ``UnreadableFileError`` (several problems listed at once where the file
    has several, e.g. rows with the wrong number of fields).
    """
    source = str(path)
    file, table_name = _split_duckdb_target(source)
    if not file.exists():
        raise FileNotFoundInputError(_not_found_message(file), path=source)
    if file.is_dir():
        raise UnreadableFileError("is a folder, not a file", path=source)
    if file.stat().st_size == 0:
        raise UnreadableFileError("is empty (0 bytes)", path=source)
    fmt, compressed = _detect_format(file, forced_table=table_name is not None)
    with _error_boundary(source):
        if fmt == "csv":
            raw = read_csv_file(file, compressed=compressed, encoding=encoding, delimiter=delimiter)
        elif fmt in ("json", "jsonl"):
            raw = _read_json(file, fmt, compressed=compressed, encoding=encoding)
        elif fmt == "parquet":
            raw = _read_parquet(file)
        elif fmt == "xlsx":
            raw = _read_xlsx(file, sheet)
        else:
            raw = _read_duckdb(file, table_name)
    raw.source = source
    raw.columns, warnings = _check_header(raw.columns, source)  # CSV and Excel readers named theirs already
    if warnings:
        raw.table = raw.table.rename_columns(raw.columns)
        raw.problems += warnings
    if raw.table.num_rows == 0:
        what = "a header but no rows" if fmt in ("csv", "xlsx") else "columns but no records"
        raise UnreadableFileError(f"has {what}", path=source)
    return raw


# ---------------------------------------------------------------------------------------------------- format


def _split_duckdb_target(source: str) -> tuple[Path, str | None]:
    """``accounts.duckdb:accounts`` names a table inside a database file; a plain path names a file."""
    plain = Path(source)
    if plain.exists() or ":" not in plain.name:
        return plain, None
    base, _, table = source.rpartition(":")
    return Path(base), table or None


def _not_found_message(file: Path) -> str:
    parent = file.parent if str(file.parent) else Path(".")
    if parent.is_dir():
        near = sorted(p.name for p in parent.iterdir() if p.suffix.lower() == file.suffix.lower())[:5]
        if near:
            return f"file not found (files of that type here: {', '.join(near)})"
    return "file not found"


def _detect_format(file: Path, *, forced_table: bool) -> tuple[str, bool]:
    """(format, gzip-compressed). Binary signatures win over the extension: an .xlsx saved as .csv is still Excel."""
    with open(file, "rb") as fh:
        head = fh.read(16)
    suffixes = [s.lower() for s in file.suffixes]
    if head[8:12] == b"DUCK" or forced_table:
        return "duckdb", False
    if head.startswith(b"PAR1"):
        return "parquet", False
    if head.startswith(b"PK\x03\x04"):
        return "xlsx", False
    if head.startswith(b"\x1f\x8b"):
        inner = suffixes[-2] if len(suffixes) >= 2 and suffixes[-1] == ".gz" else ".csv"
        fmt = _EXTENSIONS.get(inner, "csv")
        if fmt not in ("csv", "json", "jsonl"):
            fmt = "csv"
        return fmt, True
    ext = suffixes[-1] if suffixes else ""
    if ext == ".gz":
        raise UnreadableFileError("has a .gz name but is not gzip-compressed", path=file)
    if ext == ".xls":
        raise UnreadableFileError("is a legacy .xls workbook: save it as .xlsx or CSV", path=file)
    fmt = _EXTENSIONS.get(ext)
    if fmt is None:
        known = ", ".join(sorted({*_EXTENSIONS, ".gz"}))
        raise UnreadableFileError(
            f"has an unknown format {ext or '(no extension)'!r}; icpkit reads {known} "
            "and DuckDB tables as file.duckdb:table",
            path=file,
        )
    if fmt in ("parquet", "xlsx", "duckdb"):
        raise UnreadableFileError(f"has a {ext} name but its content is not a {fmt} file", path=file)
    return fmt, False


# ---------------------------------------------------------------------------------------------------- errors


_LINE_RE = re.compile(r"(?:Line|line):?\s*(\d+)")
_PREFIX_RE = re.compile(r"^(?:[A-Za-z ]*Error|IO Error|Invalid Input Error|Conversion Error):\s*")


def _clean_message(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return _PREFIX_RE.sub("", first).strip()[:300]


@contextlib.contextmanager
def _error_boundary(source: str) -> Iterator[None]:
    """Translate every library exception raised while reading into an ``UnreadableFileError``."""
    try:
        yield
    except InputError:
        raise
    except duckdb.Error as exc:
        text = str(exc)
        match = _LINE_RE.search(text)
        message = _clean_message(exc)
        if "unicode" in text.lower():
            message = "is not valid UTF-8 text; pass encoding=... (for example cp1252 or utf-16)"
        elif "gzip" in text.lower():
            message = f"the gzip stream is truncated or corrupt ({message})"
        raise UnreadableFileError(message, path=source, row=int(match.group(1)) if match else None) from exc
    except (pa.ArrowException, zipfile.BadZipFile, csv.Error, KeyError, EOFError, OSError, ValueError) as exc:
        raise UnreadableFileError(f"cannot be read: {_clean_message(exc)}", path=source) from exc
    except ElementTree.ParseError as exc:  # a workbook part that is not well-formed XML
        raise UnreadableFileError(f"cannot be read: broken XML in the workbook ({exc})", path=source) from exc


# ---------------------------------------------------------------------------------------------------- others


def _read_json(file: Path, fmt: str, *, compressed: bool, encoding: str | None) -> RawTable:
    sample = read_sample(file, compressed=compressed, size=64 * 1024)
    codec = check_encoding(sample, encoding, file) if encoding else detect_encoding(sample, file)
    text = sample.data.decode(codec, errors="ignore").lstrip("\ufeff \t\r\n")
    if not text:
        raise UnreadableFileError("is empty (no records)", path=file)
    layout = "array" if text.startswith("[") else "newline_delimited"
    if fmt == "json" and layout == "newline_delimited":
        fmt = "jsonl"
    if sample.complete and re.fullmatch(r"\[\s*\]\s*", text):
        raise UnreadableFileError("has no records (an empty JSON array)", path=file)
    if not text.startswith(("[", "{")):
        raise UnreadableFileError("is not JSON: expected an array of objects or one object per line", path=file)

    def load(target: Path, gz: bool) -> pa.Table:
        con = _connect()
        try:
            rel = con.sql(
                f"SELECT * FROM read_json({_literal(str(target))}, format={_literal(layout)}, records=true, "
                f"compression={_literal('gzip' if gz else 'none')})"
            )
            return _cleaned(rel)
        finally:
            con.close()

    if codec in _UTF8:
        table = load(file, compressed)
    else:
        with utf8_copy(file, codec, compressed=compressed) as utf8:
            table = load(utf8, False)
    return RawTable(str(file), fmt, codec, None, list(table.column_names), table, first_row=1)


def _read_parquet(file: Path) -> RawTable:
    con = _connect()
    try:
        table = _cleaned(con.sql(f"SELECT * FROM read_parquet({_literal(str(file))})"))
    finally:
        con.close()
    return RawTable(str(file), "parquet", None, None, list(table.column_names), table, first_row=1)


def _read_duckdb(file: Path, table_name: str | None) -> RawTable:
    con = _connect(str(file), read_only=True)
    try:
        tables = con.sql(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() ORDER BY 1, 2"
        ).fetchall()
        names = {f"{s}.{t}": (s, t) for s, t in tables} | {t: (s, t) for s, t in tables}
        if table_name is None:
            if len(tables) != 1:
                listed = ", ".join(t for _, t in tables) or "none"
                raise UnreadableFileError(
                    f"is a DuckDB database; name the table as file.duckdb:TABLE (tables: {listed})", path=file
                )
            table_name = tables[0][1]
        if table_name not in names:
            listed = ", ".join(t for _, t in tables) or "none"
            raise UnreadableFileError(f"has no table {table_name!r} (tables: {listed})", path=file)
        schema, name = names[table_name]
        table = _cleaned(con.sql(f"SELECT * FROM {_quote(schema)}.{_quote(name)}"))
    finally:
        con.close()
    return RawTable(f"{file}", "duckdb", None, None, list(table.column_names), table, first_row=1)


# A workbook is a zip of XML. Real exports unpack to a few times their size (sheet XML compresses about 10:1);
# a decompression bomb unpacks a megabyte to gigabytes, which openpyxl would hold as Python objects.
XLSX_MAX_UNPACKED = 256 * 1024 * 1024
XLSX_MAX_RATIO = 200  # per member, above XLSX_RATIO_FROM bytes unpacked
XLSX_RATIO_FROM = 16 * 1024 * 1024
_DTD_MARKS = tuple(m.encode(enc) for m in ("<!DOCTYPE", "<!ENTITY") for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def check_xlsx_archive(file: Path) -> None:
    """Refuse a workbook that unpacks far beyond its size, or whose XML declares a DTD, before openpyxl reads it.

    Sizes come from the zip directory, and a member is then read only up to what it declares, so a lying
    directory cannot unpack more either. Office never writes a DTD: one in a part is an entity bomb or an
    external entity, and is refused by name.
    """
    with zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        total = sum(m.file_size for m in members)
        if total > XLSX_MAX_UNPACKED:
            raise UnreadableFileError(
                f"unpacks to {total / 2**20:,.0f} MB, more than {XLSX_MAX_UNPACKED // 2**20} MB: a decompression "
                "bomb, or a workbook to save as CSV",
                path=file,
            )
        for m in members:
            if m.file_size > XLSX_RATIO_FROM and m.file_size > XLSX_MAX_RATIO * max(1, m.compress_size):
                raise UnreadableFileError(
                    f"part {m.filename!r} unpacks {m.file_size // max(1, m.compress_size):,} times its packed size "
                    "(a decompression bomb)",
                    path=file,
                )
            if m.filename.lower().endswith((".xml", ".rels", ".vml")):
                with archive.open(m) as part:
                    head = part.read(1 << 16)
                if any(mark in head for mark in _DTD_MARKS):
                    raise UnreadableFileError(
                        f"part {m.filename!r} declares a DTD (entities), which a workbook never needs: refused",
                        path=file,
                    )


def _read_xlsx(file: Path, sheet: str | None) -> RawTable:
    from openpyxl import load_workbook

    check_xlsx_archive(file)
    wb = load_workbook(file, read_only=True, data_only=True)
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise UnreadableFileError(
                f"has no sheet {sheet!r} (sheets: {', '.join(wb.sheetnames)})", path=file, column=None
            )
        ws = wb[sheet] if sheet is not None else wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header_row, header = 0, None
        for header_row, values in enumerate(rows, start=1):  # noqa: B007
            if any(v is not None and str(v).strip() for v in values):
                header = values
                break
        if header is None:
            raise UnreadableFileError(f"sheet {ws.title!r} is empty", path=file)
        width = max((i + 1 for i, v in enumerate(header) if v is not None and str(v).strip()), default=0)
        header_cells = ["" if v is None else str(v).replace("\ufeff", "").strip() for v in header[:width]]
        columns, warnings = _check_header(header_cells, str(file))
        cells: list[list[object]] = [[] for _ in columns]
        blank_tail = 0
        for values in rows:  # openpyxl yields one tuple per row; Excel caps a sheet at ~1M rows
            padded = tuple(values[:width]) + (None,) * (width - len(values[:width]))
            for col, value in zip(cells, padded, strict=True):
                col.append(value.strip() or None if isinstance(value, str) else value)
            blank_tail = blank_tail + 1 if all(v is None for v in padded) else 0
        if blank_tail:
            cells = [col[:-blank_tail] for col in cells]
        arrays = [_xlsx_column(col) for col in cells]
        title = ws.title
    finally:
        wb.close()
    table = pa.table(arrays, names=columns) if columns else pa.table({})
    return RawTable(
        str(file), "xlsx", None, None, columns, table, first_row=header_row + 1, sheet=title, problems=warnings
    )


def _xlsx_column(values: list[object]) -> pa.Array:
    """Keep the cell type when a column is uniform (numbers, dates, booleans), else fall back to text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
