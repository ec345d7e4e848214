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
import io
import itertools
import re
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import FileNotFoundInputError, InputError, Problem, UnreadableFileError
from icpkit.ingest.encoding import (
    check_encoding,
    detect_encoding,
    read_sample,
    scan_for_nul,
    utf8_copy,
)

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
_DELIMITERS = (",", ";", "\t", "|")
_MAX_REPORTED = 20
_UTF8 = ("utf-8", "utf-8-sig")


@dataclass
class RawTable:
    """A file read as-is: the original header names and an Arrow table, before any mapping or typing.

    ``first_row`` is the row number a user sees for record 0: 2 for CSV and Excel (the header is row 1), 1 for
    record-oriented formats (JSON, Parquet, DuckDB), where the "row" is the record number.
    """

    path: str
    format: str
    encoding: str | None
    delimiter: str | None
    columns: list[str]
    table: pa.Table
    first_row: int = 2
    sheet: str | None = None
    source: str = field(default="", repr=False)  # path[:table] as the user gave it

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def row_number(self, index: int) -> int:
        """The row a spreadsheet (or record count) shows for the 0-based record ``index``."""
        return self.first_row + int(index)

    def row_numbers(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """Vectorised ``row_number`` for many record indices."""
        return np.asarray(indices, dtype=np.int64) + self.first_row


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
            raw = _read_csv(file, compressed=compressed, encoding=encoding, delimiter=delimiter)
        elif fmt in ("json", "jsonl"):
            raw = _read_json(file, fmt, compressed=compressed, encoding=encoding)
        elif fmt == "parquet":
            raw = _read_parquet(file)
        elif fmt == "xlsx":
            raw = _read_xlsx(file, sheet)
        else:
            raw = _read_duckdb(file, table_name)
    raw.source = source
    _check_header(raw.columns, source)
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


def _check_header(columns: Sequence[str], source: str) -> None:
    problems = [
        Problem(f"column {i + 1} has an empty header name", path=source, row=1)
        for i, name in enumerate(columns)
        if not name
    ]
    seen: dict[str, int] = {}
    for i, name in enumerate(columns):
        if name and name in seen:
            problems.append(
                Problem(
                    f"header name {name!r} is used by columns {seen[name] + 1} and {i + 1}",
                    path=source,
                    row=1,
                    column=name,
                )
            )
        seen.setdefault(name, i)
    if problems:
        names = ", ".join(repr(c) for c in columns)
        raise UnreadableFileError(
            f"has {len(problems)} unusable header name(s); every column needs a distinct name (header: {names})",
            path=source,
            row=1,
            problems=problems,
        )


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
    except (pa.ArrowException, zipfile.BadZipFile, KeyError, EOFError, OSError, ValueError) as exc:
        raise UnreadableFileError(f"cannot be read: {_clean_message(exc)}", path=source) from exc


# ---------------------------------------------------------------------------------------------------- duckdb


def _connect(database: str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(database, read_only=read_only, config={"preserve_insertion_order": True})


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_EDGES = (" ", "\t")  # checked at both ends of every cell: each check is one pass over the column
_TRIM = " \t\r\n\u00a0"


def _blank_to_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed text with blank cells as null; Arrow kernels, and no copy at all when the column is already clean.

    Only cells that start or end with a space or tab are looked at again (then trimmed of CR/LF/NBSP too):
    checking every whitespace character at both ends doubled the cost of a read for cells that never have them.
    """
    ragged = pc.equal(column, "")
    for ch in _EDGES:
        ragged = pc.or_(ragged, pc.or_(pc.starts_with(column, ch), pc.ends_with(column, ch)))
    if not pc.any(ragged).as_py():
        return column
    trimmed = pc.utf8_trim(column, _TRIM)
    fixed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, column.type), trimmed)
    return pc.if_else(ragged, fixed, column)


def _cleaned(rel: duckdb.DuckDBPyRelation, names: Sequence[str] | None = None) -> pa.Table:
    """Materialise ``rel`` to Arrow, trimming text and turning blank text into null, renaming to ``names``."""
    table = rel.to_arrow_table()
    columns = [
        _blank_to_null(col) if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) else col
        for col in table.columns
    ]
    return pa.Table.from_arrays(columns, names=list(names) if names is not None else table.column_names)


# ---------------------------------------------------------------------------------------------------- csv


def _sniff_delimiter(text: str, hint: str | None) -> str:
    """The delimiter that splits the sampled records most consistently into the most fields."""
    lines = text[: text.rfind("\n") + 1] if "\n" in text else text
    best, best_score = hint or ",", (-1.0, 0)
    for cand in ([hint] if hint else []) + [d for d in _DELIMITERS if d != hint]:
        reader = csv.reader(io.StringIO(lines, newline=""), delimiter=cand)
        rows = [r for r in itertools.islice(reader, 200) if r]
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = cand, score
    return best


def _header(text: str, delimiter: str) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    for row in reader:
        if any(cell.strip() for cell in row):
            return [cell.replace("\ufeff", "").strip() for cell in row]
    return []


def _read_csv(file: Path, *, compressed: bool, encoding: str | None, delimiter: str | None) -> RawTable:
    sample = read_sample(file, compressed=compressed)
    if not sample.data.strip(b" \t\r\n\x00") or sample.data in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        raise UnreadableFileError("is empty (no header, no rows)", path=file)
    codec = check_encoding(sample, encoding, file) if encoding else detect_encoding(sample, file)
    text = sample.data.decode(codec, errors="ignore")
    if not text.strip(" \t\r\n\ufeff"):
        raise UnreadableFileError("is empty (no header, no rows)", path=file)
    _check_text(text, file)
    ext = file.suffixes[-2 if compressed and len(file.suffixes) > 1 else -1].lower() if file.suffixes else ""
    delim = delimiter or _sniff_delimiter(text, "\t" if ext in (".tsv", ".tab") else None)
    columns = _header(text, delim)
    _check_header(columns, str(file))
    if codec in _UTF8 and not sample.complete:
        nul = scan_for_nul(file, compressed=compressed)
        if nul is not None:
            raise UnreadableFileError(
                f"contains NUL bytes (first at byte {nul[0]}): is it really text?", path=file, row=nul[1]
            )
    if codec in _UTF8:
        table = _duckdb_csv(file, columns, delim, compressed=compressed)
    else:
        with utf8_copy(file, codec, compressed=compressed) as utf8:
            table = _duckdb_csv(utf8, columns, delim, compressed=False, shown=file)
    return RawTable(str(file), "csv", codec, delim, columns, table, first_row=2)


def _check_text(text: str, file: Path) -> None:
    """Reject binary content that happened to decode: control characters where text should be."""
    controls = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > max(5, len(text[:20000]) // 100):
        raise UnreadableFileError("looks like binary data, not delimited text (many control characters)", path=file)


def _duckdb_csv(file: Path, columns: list[str], delim: str, *, compressed: bool, shown: Path | None = None) -> pa.Table:
    shown = shown or file
    positional = {f"c{i}": "VARCHAR" for i in range(len(columns))}
    spec = "{" + ", ".join(f"{_literal(k)}: 'VARCHAR'" for k in positional) + "}"
    rejects = f"rejects_{uuid.uuid4().hex[:8]}"
    query = (
        f"SELECT * FROM read_csv({_literal(str(file))}, auto_detect=false, header=true, "
        f"delim={_literal(delim)}, quote='\"', escape='\"', columns={spec}, strict_mode=true, "
        f"compression={_literal('gzip' if compressed else 'none')}, store_rejects=true, "
        f"rejects_table={_literal(rejects)}, rejects_scan={_literal(rejects + '_scan')})"
    )
    con = _connect()
    try:
        table = _cleaned(con.sql(query), columns)
        bad = con.sql(
            f"SELECT line, column_name, error_type, csv_line, error_message FROM {rejects} ORDER BY line"
        ).fetchall()
    finally:
        con.close()
    if bad:
        raise _rejects_error(bad, columns, shown)
    return table


def _rejects_error(bad: list[tuple], columns: list[str], file: Path) -> UnreadableFileError:
    problems = []
    for line, col, kind, csv_line, message in bad[:_MAX_REPORTED]:
        column = columns[int(col[1:])] if col and col.startswith("c") and col[1:].isdigit() else None
        shown = (csv_line or "").rstrip("\r\n")
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        if kind in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
            counts = re.findall(r"\d+", message or "")
            found = f"expected {counts[0]} fields, found {counts[1]}" if len(counts) >= 2 else message
            text = f"{found}: {shown!r}"
            column = None
        elif "unicode" in f"{kind} {message}".lower():
            text = "is not valid UTF-8 text; pass encoding=... (for example cp1252)"
        elif kind == "UNQUOTED VALUE":
            text = f"a quote is opened but never closed: {shown!r}"
        else:
            text = f"{message}: {shown!r}"
        problems.append(Problem(text, path=str(file), row=int(line), column=column))
    more = f" (showing {_MAX_REPORTED})" if len(bad) > _MAX_REPORTED else ""
    first = problems[0]
    return UnreadableFileError(
        f"{len(bad)} malformed row(s){more}; first at row {first.row}: {first.message}",
        path=str(file),
        row=first.row,
        column=first.column,
        problems=problems,
    )


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


def _read_xlsx(file: Path, sheet: str | None) -> RawTable:
    from openpyxl import load_workbook

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
        columns = ["" if v is None else str(v).replace("\ufeff", "").strip() for v in header[:width]]
        _check_header(columns, str(file))
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
    return RawTable(str(file), "xlsx", None, None, columns, table, first_row=header_row + 1, sheet=title)


def _xlsx_column(values: list[object]) -> pa.Array:
    """Keep the cell type when a column is uniform (numbers, dates, booleans), else fall back to text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())
