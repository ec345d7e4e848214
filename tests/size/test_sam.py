"""SAM clauses from the command line and from files."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from icpkit.errors import InputError, SpecError
from icpkit.size.sam import evaluate_sam, load_sam_file, parse_sam
from icpkit.spec import Op


@pytest.mark.parametrize(
    ("text", "field", "op", "value"),
    [
        ("country in United States,Canada", "country", Op.IN, ["United States", "Canada"]),
        ("country not in Russia", "country", Op.NOT_IN, ["Russia"]),
        ("country in Korea, Republic of|Japan", "country", Op.IN, ["Korea, Republic of", "Japan"]),
        ("employees between 50..500", "employees", Op.BETWEEN, [50, 500]),
        ("employees between 50-500", "employees", Op.BETWEEN, [50, 500]),
        ("employees between 50..", "employees", Op.BETWEEN, [50, None]),
        ("annual_revenue >= 10M", "annual_revenue", Op.GTE, 10_000_000),
        ("annual_revenue<=2.5k", "annual_revenue", Op.LTE, 2500),
        ("business_model = B2B", "business_model", Op.EQUALS, "B2B"),
        ("delisted is_false", "delisted", Op.IS_FALSE, True),
        ("tech_stack contains_any Salesforce,HubSpot", "tech_stack", Op.CONTAINS_ANY, ["Salesforce", "HubSpot"]),
    ],
)
def test_parse_sam(text, field, op, value):
    cl = parse_sam(text)
    assert (cl.field, cl.op, cl.value) == (field, op, value)


@pytest.mark.parametrize("text", ["country", "country like x", "employees between 500..50", "employees >= lots"])
def test_bad_sam_is_an_input_error(text):
    with pytest.raises(InputError, match="--sam"):
        parse_sam(text)


def test_sam_file_list_and_errors(tmp_path):
    f = tmp_path / "sam.yaml"
    f.write_text("- {field: country, in: [Canada]}\n- {field: employees, gte: 50}\n")
    assert [(c.field, c.op) for c in load_sam_file(f)] == [("country", Op.IN), ("employees", Op.GTE)]
    f.write_text("- {field: country, inn: [Canada]}\n")
    with pytest.raises(SpecError, match=r"sam\[0\]"):
        load_sam_file(f)


def test_unknown_values_are_outside_the_sam_and_counted():
    t = pa.table({"country": ["Canada", "France", None, " canada "], "employees": [10.0, 100.0, 100.0, None]})
    out = evaluate_sam([parse_sam("country in canada"), parse_sam("employees >= 5")], t)
    assert out.inside.tolist() == [True, False, False, False]
    assert out.per_clause == [{"kept": 2, "unknown": 1, "dropped": 1}, {"kept": 3, "unknown": 1, "dropped": 0}]
    assert out.unknown_only == 2  # rows 3 and 4 fail only for a missing value
    assert np.sum(out.inside) == 1


def test_sam_on_a_missing_column_names_it():
    with pytest.raises(InputError, match="business_model"):
        evaluate_sam([parse_sam("business_model in B2B")], pa.table({"country": ["x"]}))
