"""Delimited text through DuckDB's CSV reader: delimiter and header found by icpkit, rows checked strictly.

The header is parsed here (BOM and whitespace stripped, names checked) and DuckDB reads positional VARCHAR
columns, so odd header names never reach SQL; malformed rows are collected with ``store_rejects`` and reported
together, each with its row, instead of stopping at the first.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa

from icpkit.errors import Problem, UnreadableFileError
from icpkit.ingest.encoding import (
    check_encoding,
    detect_encoding,
    read_sample,
    scan_for_nul,
    utf8_copy,
)
from icpkit.ingest.raw_table import RawTable, _check_header, _cleaned, _connect, _literal

__all__ = ["read_csv_file"]

_DELIMITERS = (",", ";", "\t", "|")
MAX_COLUMNS = 16_384  # Excel's own limit: a wider "export" is a mistake or an attack, and DuckDB would crawl
_MAX_REPORTED = 20
_UTF8 = ("utf-8", "utf-8-sig")


# ---------------------------------------------------------------------------------------------------- csv


def _sniff_delimiter(text: str, hint: str | None) -> str:
    """The delimiter that splits the sampled records most consistently into the most fields."""
    lines = text[: text.rfind("\n") + 1] if "\n" in text else text
    best, best_score = hint or ",", (-1.0, 0)
    for cand in ([hint] if hint else []) + [d for d in _DELIMITERS if d != hint]:
        reader = csv.reader(io.StringIO(lines, newline=""), delimiter=cand)
        try:
            rows = [r for r in itertools.islice(reader, 200) if r]
        except csv.Error:  # e.g. one field past the csv module's size limit: not this delimiter
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(len(r) == width for r in rows) / len(rows), width)
        if score > best_score:
            best, best_score = cand, score
    return best


def _header(text: str, delimiter: str, file: Path) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                if len(row) > MAX_COLUMNS:
                    raise UnreadableFileError(
                        f"has {len(row):,} columns in its header; icpkit reads at most {MAX_COLUMNS:,}",
                        path=file,
                        row=1,
                    )
                return [cell.replace("\ufeff", "").strip() for cell in row]
    except csv.Error as exc:
        raise UnreadableFileError(f"the header cannot be read: {exc}", path=file, row=1) from None
    return []


def read_csv_file(file: Path, *, compressed: bool, encoding: str | None, delimiter: str | None) -> RawTable:
    sample = read_sample(file, compressed=compressed)
    if sample.data and not sample.data.strip(b"\x00"):
        raise UnreadableFileError(
            f"holds only NUL bytes in its first {len(sample.data) // 1024:,} KiB: not text (a damaged or zeroed file?)",
            path=file,
        )
    if not sample.data.strip(b" \t\r\n\x00") or sample.data in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        raise UnreadableFileError("is empty (no header, no rows)", path=file)
    codec = check_encoding(sample, encoding, file) if encoding else detect_encoding(sample, file)
    text = sample.data.decode(codec, errors="ignore")
    if not text.strip(" \t\r\n\ufeff"):
        raise UnreadableFileError("is empty (no header, no rows)", path=file)
    _check_text(text, file)
    if not sample.complete and not re.search(r"[\r\n]", text):
        raise UnreadableFileError(
            f"its header row is longer than {len(sample.data) // 1024} KiB; icpkit reads at most {MAX_COLUMNS:,} "
            "columns of sensible names",
            path=file,
            row=1,
        )
    ext = file.suffixes[-2 if compressed and len(file.suffixes) > 1 else -1].lower() if file.suffixes else ""
    delim = delimiter or _sniff_delimiter(text, "\t" if ext in (".tsv", ".tab") else None)
    columns, warnings = _check_header(_header(text, delim, file), str(file))
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
    return RawTable(str(file), "csv", codec, delim, columns, table, first_row=2, problems=warnings)


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
        try:
            table = _cleaned(con.sql(query), columns)
        except duckdb.InvalidInputException as exc:
            if "state machine" not in str(exc):
                raise
            raise _unparsable(file, shown, compressed=compressed) from None
        bad = con.sql(
            f"SELECT line, column_name, error_type, csv_line, error_message FROM {rejects} ORDER BY line"
        ).fetchall()
    finally:
        con.close()
    if bad:
        raise _rejects_error(bad, columns, shown)
    if table.num_rows == 0 and _size(file) > _LONG_LINE:
        raise UnreadableFileError(
            f"no row after the header could be read from {_size(file) / 2**20:,.0f} MB: a line longer than "
            f"{_LONG_LINE:,} bytes (one huge field?) or a quote that is never closed",
            path=str(shown),
            row=2,
        )
    return table


_LONG_LINE = 2_000_000  # DuckDB's maximum line size
_CHUNK = 8 * 1024 * 1024
_LF_ALONE = re.compile(rb"(?<!\r)\n")


def _size(file: Path) -> int:
    try:
        return file.stat().st_size
    except OSError:
        return 0


def _unparsable(file: Path, shown: Path, *, compressed: bool) -> UnreadableFileError:
    """DuckDB's "state machine reached an invalid state", said in words: usually line endings that change
    between CRLF and LF part-way, found here with their row (the first 256 MB are searched)."""
    row = _first_changed_ending(file, compressed=compressed)
    if row is None:
        return UnreadableFileError("cannot be parsed as CSV (a stray quote or a control character?)", path=str(shown))
    return UnreadableFileError(
        "mixes line endings: the rows before this one end in one kind (CRLF or LF) and this one in the other; "
        "save the file with one kind",
        path=str(shown),
        row=row,
    )


def _first_changed_ending(file: Path, *, compressed: bool) -> int | None:
    """The line (1 = header) whose ending differs from the first line's, or None."""
    opener = gzip.open if compressed else open
    lines, crlf, before = 0, None, b""
    with opener(file, "rb") as f:
        for _ in range(32):
            chunk = f.read(_CHUNK)
            if not chunk:
                return None
            data = before[-1:] + chunk
            if crlf is None and b"\n" in data:
                first = data.index(b"\n")
                crlf = first > 0 and data[first - 1 : first] == b"\r"
            if crlf is not None:
                odd = _LF_ALONE.search(data, 1 if before else 0) if crlf else re.search(rb"\r\n", data)
                if odd is not None:
                    return lines + data.count(b"\n", 0, odd.start()) + 1
            lines += chunk.count(b"\n")
            before = chunk
    return None


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
        elif kind == "UNQUOTED VALUE" and not shown:  # DuckDB gave up on a line too long to hold
            text = f"a quote that is never closed, or a field longer than {_LONG_LINE:,} bytes"
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
