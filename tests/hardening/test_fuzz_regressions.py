"""Every crash the fuzzers found, pinned: the input that crashed and the clear error (or result) it gives now.

Known gaps the fuzzers found in code outside the input boundary are strict xfails: they fail the day the gap is
fixed, so the marker is removed with the fix.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hostile_files import SPEC

from icpkit.errors import BadValueError, SpecError, UnreadableFileError
from icpkit.ingest import load_table
from icpkit.ingest.coerce import coerce_columns
from icpkit.ingest.readers import read_raw
from icpkit.ingest.schema import ColumnKind
from icpkit.score import score_record
from icpkit.score.duckdb_engine import score_arrow
from icpkit.score.sql import compile_sql
from icpkit.spec import Criterion, ICPSpec, Op
from icpkit.spec.io import load_spec

# ---------------------------------------------------------------------------------------------------- readers


def test_an_object_column_is_named_instead_of_crashing_type_inference(tmp_path: Path) -> None:
    # was: ArrowNotImplementedError from count_distinct(struct) while guessing the column's kind
    path = tmp_path / "companies.parquet"
    pq.write_table(pa.table({"Record ID": ["A1", "A2"], "props": [None, {"a": 1}]}), path)
    with pytest.raises(BadValueError) as info:
        load_table(path, "accounts")
    assert (info.value.column, info.value.row) == ("props", 2)
    assert "JSON objects" in str(info.value) and "'props: null'" in str(info.value)


def test_a_list_of_plain_values_is_still_a_multi_valued_column(tmp_path: Path) -> None:
    path = tmp_path / "companies.parquet"
    pq.write_table(pa.table({"Record ID": ["A1", "A2"], "tech_stack": [["HubSpot", "AWS"], []]}), path)
    loaded = load_table(path, "accounts")
    assert loaded.table["tech_stack"].to_pylist() == [["HubSpot", "AWS"], None]


def test_numbers_mapped_as_multi_valued_become_one_item_lists() -> None:
    # was: DuckDB "Invalid LIST argument" for list_transform over a BIGINT column
    result = coerce_columns(pa.table({"c": pa.array([7, None], pa.int64())}), {"c": ColumnKind.MULTI})
    assert result.table["c"].to_pylist() == [["7"], None]


def test_dictionary_encoded_text_is_typed_like_text() -> None:
    # was: "Could not convert string 'a' to DOUBLE" for the dictionary column, with no column named
    column = pa.array(["12", "abc", "12"]).dictionary_encode()
    result = coerce_columns(pa.table({"c": column}), {"c": ColumnKind.NUMERIC})
    assert result.table["c"].to_pylist() == [12.0, None, 12.0]
    assert [p.row for p in result.problems] == [3]


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (",".join(f"c{i}" for i in range(300_000)), "header row is longer than"),
        (f'id,"{"x" * 200_000}"', "header cannot be read"),
    ],
)
def test_a_header_the_csv_sniffer_choked_on_is_an_error_at_row_1(tmp_path: Path, header: str, message: str) -> None:
    # was: _csv.Error "field larger than field limit (131072)" while sniffing the delimiter
    path = tmp_path / "wide.csv"
    path.write_text(header + "\n1,2\n")
    with pytest.raises(UnreadableFileError, match=message) as info:
        read_raw(path)
    assert info.value.row == 1


# ------------------------------------------------------------------------------------------------------- spec


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("name: x\nlayers: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 32 levels", 2),  # RecursionError
        ("name: x\nlayers:\n  firmographic:\n    - {<<: {field: a, in: [b]}}\n", "merge keys", 4),  # TypeError
        ("name: x\nlayers:\n  firmographic:\n    - <<: {field: a, in: [b]}\n      points: 3\n", "merge keys", 4),
        ("name: x\nlayers:\n  : firmographic:\n", "keys must be text, got None", 3),  # TypeError in difflib
        ("name: x\nlayers:\n  firmographic:\n    - {field: e, gte: .inf, points: 1}\n", "finite", 4),
        ("+_", "'\\+_' cannot be read as a YAML value", 1),  # IndexError inside ruamel's int constructor (atheris)
        ("name: x\nversion: -_\n", "'-_' cannot be read", 2),
    ],
)
def test_spec_inputs_that_crashed_the_loader(text: str, message: str, line: int) -> None:
    with pytest.raises(SpecError, match=message) as info:
        load_spec(text, path="icp.yaml")
    assert info.value.line == line and str(info.value).startswith(f"icp.yaml:{line}")


def test_an_infinite_bound_no_longer_reaches_sql_as_an_identifier() -> None:
    # a spec file with gte: .inf used to compile to ``>= inf`` in PostgreSQL: a column named inf
    with pytest.raises(SpecError):
        load_spec(SPEC.replace("between: [50, 500]", "gte: .inf"), path="icp.yaml")
    finite = load_spec(SPEC.replace("between: [50, 500]", "gte: 1e300"), path="icp.yaml")
    assert "1e+300" in compile_sql(finite, dialect="postgres").lower()


# ------------------------------------------------------------------------------------------ engine agreement

AS_OF = dt.date(2026, 9, 30)


def _one(field: str, op: Op, value: object) -> ICPSpec:
    return ICPSpec(
        name="gap", as_of=AS_OF, layers={"firmographic": [Criterion(field=field, op=op, value=value, points=50)]}
    )


@pytest.mark.parametrize("name", ["İstanbul Yazılım", "ΑΘΗΝΑΣ"])
def test_text_the_spec_names_exactly_matches_on_duckdb(name: str) -> None:
    """Python's full case mapping once lowered these unlike DuckDB and Arrow (see semantics.SIMPLE_CASE)."""
    spec, table = _one("city", Op.IN, [name]), pa.table({"city": [name]})
    assert score_record(spec, {"city": name}).score == 50  # the reference matches
    assert score_arrow(spec, table)["score"].to_pylist() == [50]


@pytest.mark.parametrize(("op", "value"), [(Op.CONTAINS_ALL, ["HubSpot", " "]), (Op.IN, ["", "Software"]),
                                           (Op.EQUALS, "\t")])  # fmt: skip
def test_a_blank_spec_value_is_refused(op: Op, value: object) -> None:
    """A blank cell is a missing value, which no clause can equal: the engines read a blank item differently (the
    reference never found it, the SQL dropped it), so the spec refuses it instead."""
    with pytest.raises(ValueError, match="blank"):
        _one("tech", op, value)
