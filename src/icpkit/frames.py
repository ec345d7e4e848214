"""Tables as the Python API accepts them: Arrow, or a pandas (or any Arrow-exporting) data frame.

The engine works on Arrow tables; a pandas user should not have to convert first. Conversion happens once, at the
public entry points, and is zero-copy where Arrow allows it. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from icpkit.errors import InputError

__all__ = ["TableLike", "as_arrow"]

TableLike = pa.Table | Any  # an Arrow table, a pandas DataFrame, or an object exporting an Arrow stream


def as_arrow(table: TableLike, what: str = "table") -> pa.Table:
    """``table`` as a ``pa.Table``; a pandas index is dropped (it is a row label, not an attribute)."""
    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    if type(table).__module__.startswith("pandas") and hasattr(table, "columns"):
        try:
            return pa.Table.from_pandas(table, preserve_index=False)
        except (pa.ArrowException, ValueError, TypeError) as exc:
            raise InputError(f"the {what} DataFrame cannot be read as a table: {exc}") from None
    if hasattr(table, "__arrow_c_stream__"):  # polars, DuckDB relations and other Arrow-native frames
        return pa.table(table)
    raise InputError(f"the {what} must be an Arrow table or a pandas DataFrame, got {type(table).__name__}")
