"""Coverage-guided fuzzing of the SQL compiler: field names and values from the fuzzer, compiled for DuckDB and
run on a one-row table; the result must equal the Python reference, and other dialects must compile to one
statement.

Run: ``python fuzz/fuzz_sql.py -max_total_time=60``.
"""

from __future__ import annotations

import datetime as dt
import sys

import atheris

with atheris.instrument_imports(include=["icpkit"]):
    import duckdb
    import pyarrow as pa
    import sqlglot

    from icpkit.errors import UnsupportedOperatorError
    from icpkit.score import score_record
    from icpkit.score.sql import compile_sql
    from icpkit.spec import Criterion, Exclusion, ICPSpec, Op

OPS = [Op.EQUALS, Op.IN, Op.NOT_IN, Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE, Op.EXISTS]
DIALECTS = ["postgres", "snowflake", "bigquery", "spark", "tsql", "mysql"]
GAPS = ("İ", "Σ")  # case folding differs between Python and DuckDB: a known gap, pinned in the tests
CON = duckdb.connect()


def _word(fdp: atheris.FuzzedDataProvider) -> str:
    word = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(1, 12))
    word = "".join(ch for ch in word if ch != "\x00" and ch not in GAPS)
    return word if word.strip(" \t\r\n") else "x"  # a blank spec item is another known gap


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    text_field, list_field = _word(fdp), _word(fdp)
    if text_field.lower() == list_field.lower():
        list_field += "_list"
    words = [_word(fdp) for _ in range(fdp.ConsumeIntInRange(1, 3))]
    op = OPS[fdp.ConsumeIntInRange(0, len(OPS) - 1)]
    value = True if op is Op.EXISTS else words[0] if op is Op.EQUALS else words
    spec = ICPSpec(
        name="fuzz",
        as_of=dt.date(2026, 9, 30),
        layers={"firmographic": [Criterion(field=text_field, op=op, value=value, points=40),
                                 Criterion(field=list_field, op=Op.CONTAINS_ANY, value=words, points=30)]},
        exclusions=[Exclusion(field=text_field, op=Op.IN, value=[_word(fdp)], reason=_word(fdp))],
    )  # fmt: skip
    cell = words[fdp.ConsumeIntInRange(0, len(words) - 1)] if fdp.ConsumeBool() else _word(fdp)
    items = [cell, _word(fdp)] if fdp.ConsumeBool() else None
    table = pa.table({text_field: pa.array([cell], pa.string()), list_field: pa.array([items], pa.list_(pa.string()))})
    sql = compile_sql(
        spec, dialect="duckdb", table="fuzz_input", columns={text_field: "VARCHAR", list_field: "VARCHAR[]"}
    )
    CON.register("fuzz_input", table)
    got = CON.execute(f"SELECT score, tier FROM ({sql})").fetchall()
    CON.unregister("fuzz_input")
    want = score_record(spec, table.to_pylist()[0])
    if got != [(want.score, want.tier)]:
        raise AssertionError(f"DuckDB {got} != reference {(want.score, want.tier)}")
    dialect = DIALECTS[fdp.ConsumeIntInRange(0, len(DIALECTS) - 1)]
    try:
        other = compile_sql(spec, dialect=dialect)
    except UnsupportedOperatorError:
        return
    if len(sqlglot.parse(other, read=dialect)) != 1:
        raise AssertionError(f"{dialect}: not one statement")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
