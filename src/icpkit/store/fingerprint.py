"""A fingerprint of the data a version was built from, so "was this ICP built from the data I have?" has an answer.

It covers each table's schema (names and types), its row count and a content digest: the sum over rows of
DuckDB's 64-bit ``hash`` of the whole row, computed in one scan. The sum ignores row order (a re-export in another
order is the same data) but not duplicates. DuckDB's hash function is stable within a DuckDB release line; a
fingerprint is meant to be compared with fingerprints from the same installation, not across upgrades.
"""

from __future__ import annotations

import hashlib
import json

import duckdb
import pyarrow as pa

from icpkit.ingest.schema import Dataset

__all__ = ["data_fingerprint", "table_digest"]


def table_digest(table: pa.Table) -> str:
    """Order-independent digest of a table's rows (hex), one DuckDB scan."""
    if table.num_columns == 0 or table.num_rows == 0:
        return "0"
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("t", table)
        cols = ", ".join('"' + c.replace('"', '""') + '"' for c in table.column_names)
        # hash() takes any number of columns of any type; a HUGEINT sum stays exact (UHUGEINT sums are DOUBLE)
        value = con.execute(f"SELECT coalesce(sum(hash({cols})::HUGEINT), 0) FROM t").fetchone()[0]
        return format(int(value) % 2**64, "016x")
    finally:
        con.close()


def data_fingerprint(dataset: Dataset | pa.Table) -> str:
    """sha256 (hex) of every table's schema, row count and content digest, in a fixed table order."""
    tables = {"accounts": dataset} if isinstance(dataset, pa.Table) else dataset.tables()
    parts = {
        name: {
            "schema": [[f.name, str(f.type)] for f in t.schema],
            "rows": t.num_rows,
            "digest": table_digest(t),
        }
        for name, t in sorted(tables.items())
    }
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
