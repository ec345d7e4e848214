"""The table a reader returns, and the helpers every reader shares to hand DuckDB's output over as Arrow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import Problem, UnreadableFileError

__all__ = ["RawTable"]


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
    problems: list[Problem] = field(default_factory=list)  # warnings about the read itself (never errors)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def row_number(self, index: int) -> int:
        """The row a spreadsheet (or record count) shows for the 0-based record ``index``."""
        return self.first_row + int(index)

    def row_numbers(self, indices: np.ndarray | Sequence[int]) -> np.ndarray:
        """Vectorised ``row_number`` for many record indices."""
        return np.asarray(indices, dtype=np.int64) + self.first_row


def _check_header(columns: Sequence[str], source: str) -> tuple[list[str], list[Problem]]:
    """(the column names to read with, warnings), after checking every header cell has a distinct name.

    An empty *first* header cell is what ``DataFrame.to_csv`` writes above a saved index (People Data Labs'
    company file is one): that column is named ``column_1`` with a warning. An empty header anywhere else, or a
    name used twice, makes the file unreadable.
    """
    names, warnings = list(columns), []
    if len(names) > 1 and not names[0]:
        names[0] = _free_name(names)
        message = f"column 1 has no header name (a saved table index?); it is read as {names[0]!r}"
        warnings.append(Problem(message, path=source, row=1, column=names[0], severity="warning"))
    problems = [
        Problem(f"column {i + 1} has an empty header name", path=source, row=1)
        for i, name in enumerate(names)
        if not name
    ]
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
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
        shown = ", ".join(repr(c) for c in columns)
        raise UnreadableFileError(
            f"has {len(problems)} unusable header name(s); every column needs a distinct name (header: {shown})",
            path=source,
            row=1,
            problems=problems,
        )
    return names, warnings


def _free_name(names: Sequence[str]) -> str:
    taken = set(names)
    name, n = "column_1", 1
    while name in taken:
        n += 1
        name = f"column_1_{n}"
    return name


# ---------------------------------------------------------------------------------------------------- duckdb


def _connect(database: str = ":memory:", *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection as every ingest module opens it: rows in file order, and no progress bar.

    DuckDB draws its progress bar on the process's stdout once a query runs past two seconds, which would corrupt
    output a script reads (``icpkit inspect --json``); progress is the CLI's job, not the readers'.
    """
    con = duckdb.connect(database, read_only=read_only, config={"preserve_insertion_order": True})
    con.execute("SET enable_progress_bar = false")
    return con


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_EDGES = (" ", "\t")  # checked at both ends of every cell: each check is one pass over the column
_TRIM = " \t\r\n\u00a0"


def _blank_to_null(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed text with blank cells as null; no copy at all when the column is already clean.

    Only cells that are empty or start or end with a space or tab are looked at again (then trimmed of CR/LF/NBSP
    too). Finding them reads the first and last byte of every cell straight from the Arrow buffers with NumPy:
    as string kernels (five passes per column) that check cost a third of a read.
    """
    chunks, changed = [], False
    for chunk in column.chunks:
        ragged = _ragged(chunk)
        if ragged is not None:
            trimmed = pc.utf8_trim(chunk, _TRIM)
            fixed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, chunk.type), trimmed)
            chunk, changed = pc.if_else(pa.array(ragged), fixed, chunk), True
        chunks.append(chunk)
    return pa.chunked_array(chunks, column.type) if changed else column


_EDGE_BYTES = tuple(ord(ch) for ch in _EDGES)


def _ragged(chunk: pa.Array) -> np.ndarray | None:
    """Mask of the non-null cells that are empty or start or end with a space or tab; None when there are none."""
    n = len(chunk)
    if n == 0:
        return None
    validity, offsets_buffer, data_buffer = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buffer, dtype=width, count=chunk.offset + n + 1)[chunk.offset :]
    starts, ends = offsets[:-1], offsets[1:]
    ragged = ends == starts
    if data_buffer is not None and data_buffer.size:
        data = np.frombuffer(data_buffer, dtype=np.uint8)
        first, last = data.take(starts, mode="clip"), data.take(ends - 1, mode="clip")
        for byte in _EDGE_BYTES:  # an ASCII byte is never part of a multi-byte UTF-8 character
            ragged |= (first == byte) | (last == byte)
    if chunk.null_count:  # null cells have no bytes: drop them, read from the validity bitmap
        bits = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), count=chunk.offset + n, bitorder="little")
        ragged &= bits[chunk.offset :].view(bool)
    return ragged if ragged.any() else None


def _cleaned(rel: duckdb.DuckDBPyRelation, names: Sequence[str] | None = None) -> pa.Table:
    """Materialise ``rel`` to Arrow, trimming text and turning blank text into null, renaming to ``names``."""
    table = rel.to_arrow_table()
    columns = [
        _blank_to_null(col) if pa.types.is_string(col.type) or pa.types.is_large_string(col.type) else col
        for col in table.columns
    ]
    return pa.Table.from_arrays(columns, names=list(names) if names is not None else table.column_names)
