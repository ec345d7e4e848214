"""Coverage-guided fuzzing of type coercion: any text cells, any column kind -> a typed column, never a crash.

Run: ``python fuzz/fuzz_coerce.py -max_total_time=60`` (the test suite runs every target for a few seconds).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["icpkit"]):
    import pyarrow as pa

    from icpkit.ingest.coerce import coerce_columns
    from icpkit.ingest.schema import ColumnKind

KINDS = list(ColumnKind)


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    kind = KINDS[fdp.ConsumeIntInRange(0, len(KINDS) - 1)]
    cells = [
        fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 24)) or None for _ in range(fdp.ConsumeIntInRange(1, 8))
    ]
    result = coerce_columns(pa.table({"c": pa.array(cells, pa.string())}), {"c": kind})  # documented never to raise
    if len(result.table["c"]) != len(cells):
        raise AssertionError("coercion changed the number of rows")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
