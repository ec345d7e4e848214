"""Type coercion of messy CRM values, and kind inference for extra columns."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icpkit.errors import BadValueError, MissingColumnError, Problem
from icpkit.ingest.coerce import CoerceSpec, coerce_columns, raise_for_problems
from icpkit.ingest.infer import infer_kind
from icpkit.ingest.schema import ColumnKind as K


def one(values: list, how: K | CoerceSpec, **kw) -> list:
    result = coerce_columns(pa.table({"v": pa.array(values)}), {"v": how}, **kw)
    return result.table["v"].to_pylist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,200,000", 1_200_000.0),
        ("€1.2M", 1_200_000.0),
        ("1.2M", 1_200_000.0),
        ("1,2 Mio", 1_200_000.0),
        ("1.5k", 1500.0),
        ("2 bn", 2e9),
        ("(1,200)", -1200.0),
        ("-42.5", -42.5),
        ("12 345", 12345.0),
        ("USD 1200", 1200.0),
        ("1200 EUR", 1200.0),
        ("£3.5 million", 3_500_000.0),
        ("1'000'000", 1_000_000.0),
        ("1.000.000", 1_000_000.0),
        ("42", 42.0),
        (".5", 0.5),
        ("  7  ", 7.0),
        ("N/A", None),
        ("null", None),
        ("-", None),
        ("none", None),
        ("", None),
    ],
)
def test_numbers(text: str, expected: float | None) -> None:
    assert one([text], K.NUMERIC) == [expected]


@pytest.mark.parametrize("text", ["abc", "1.2.3", "(12", "$$", "12 apples"])
def test_unreadable_numbers_become_null_and_are_reported(text: str) -> None:
    result = coerce_columns(pa.table({"v": [text, "1", "2", "3"]}), {"v": K.NUMERIC})
    assert result.table["v"].to_pylist() == [None, 1.0, 2.0, 3.0]
    (problem,) = result.problems
    assert problem.severity == "warning" and problem.row == 2 and repr(text) in problem.message


def test_european_decimal_comma_column() -> None:
    assert one(["1.234,56", "12,5", "1.000"], K.NUMERIC) == [1234.56, 12.5, 1000.0]
    assert one(["1.234", "2.5"], K.NUMERIC) == [1.234, 2.5]  # US form present: dots are decimals
    assert one(["1.234"], CoerceSpec(K.NUMERIC, decimal=",")) == [1234.0]


@pytest.mark.parametrize(
    ("text", "value", "band"),
    [
        ("51-200", 125.5, "51-200"),
        ("51 - 200", 125.5, "51 - 200"),
        ("10,001+", 10001.0, "10,001+"),
        ("1K-5K", 3000.0, "1K-5K"),
        ("1001 - 5000", 3000.5, "1001 - 5000"),
        ("5000+", 5000.0, "5000+"),
        ("11 to 50", 30.5, "11 to 50"),
        ("250", 250.0, None),
    ],
)
def test_employee_bands(text: str, value: float, band: str | None) -> None:
    result = coerce_columns(pa.table({"employees": [text, "51-200"]}), {"employees": K.NUMERIC})
    assert result.table["employees"][0].as_py() == value
    assert result.table["employees_band"][0].as_py() == band
    assert result.kinds["employees_band"] == K.CATEGORICAL


def test_band_column_only_when_bands_present() -> None:
    result = coerce_columns(pa.table({"arr": ["100", "200"]}), {"arr": K.NUMERIC})
    assert result.table.column_names == ["arr"]
    forced = coerce_columns(pa.table({"arr": ["100"]}), {"arr": CoerceSpec(K.NUMERIC, bands=True)})
    assert forced.table.column_names == ["arr", "arr_band"]


def test_scale_and_percent() -> None:
    assert one(["1.5", "$2"], CoerceSpec(K.NUMERIC, scale=1e6)) == [1_500_000.0, 2_000_000.0]
    assert one(["15%", "0.3", "2.5 %"], CoerceSpec(K.NUMERIC, percent=True)) == [0.15, 0.3, 0.025]
    assert one(["15%"], K.NUMERIC) == [15.0]


def test_native_numbers_pass_through_scaled() -> None:
    assert one([1, None, 3], CoerceSpec(K.NUMERIC, scale=10.0)) == [10.0, None, 30.0]


def test_booleans() -> None:
    values = ["yes", "No", "Y", "n", "TRUE", "false", "t", "F", "1", "0", "on", "OFF", "checked", "Unchecked"]
    assert one(values, K.BOOLEAN) == [True, False] * 7
    assert one([True, None], K.BOOLEAN) == [True, None]
    assert one([1, 0, None], K.BOOLEAN) == [True, False, None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-01-10", dt.date(2020, 1, 10)),
        ("2020-01-10 10:00", dt.date(2020, 1, 10)),
        ("2017-03-01T12:00:00.000Z", dt.date(2017, 3, 1)),
        ("10/20/2016", dt.date(2016, 10, 20)),
        ("Jan 10, 2020", dt.date(2020, 1, 10)),
        ("january 10, 2020", dt.date(2020, 1, 10)),
        ("10 Jan 2020", dt.date(2020, 1, 10)),
        ("2020/01/10", dt.date(2020, 1, 10)),
    ],
)
def test_dates(text: str, expected: dt.date) -> None:
    assert one([text], K.DATE) == [expected]


def test_date_order_is_chosen_per_column() -> None:
    assert one(["20/10/2016", "01/02/2016"], K.DATE) == [dt.date(2016, 10, 20), dt.date(2016, 2, 1)]
    assert one(["10/20/2016", "01/02/2016"], K.DATE) == [dt.date(2016, 10, 20), dt.date(2016, 1, 2)]
    assert one(["20.10.2016", "01.02.16"], K.DATE) == [dt.date(2016, 10, 20), dt.date(2016, 2, 1)]
    assert one(["01/02/2016"], CoerceSpec(K.DATE, date_order="dmy")) == [dt.date(2016, 2, 1)]


def test_ambiguous_slash_dates_default_to_month_first_with_a_warning() -> None:
    result = coerce_columns(pa.table({"d": ["01/02/2016", "03/04/2016"]}), {"d": K.DATE}, path="deals.csv")
    assert result.table["d"].to_pylist() == [dt.date(2016, 1, 2), dt.date(2016, 3, 4)]
    (warning,) = result.problems
    assert warning.severity == "warning" and "month/day/year" in warning.message and warning.path == "deals.csv"


def test_impossible_dates_are_bad_values() -> None:
    result = coerce_columns(pa.table({"d": ["2020-02-30", "13/13/2020", "5/6/17", "soon"]}), {"d": K.DATE})
    assert result.table["d"].to_pylist() == [None, None, dt.date(2017, 5, 6), None]
    (problem,) = result.problems
    assert problem.severity == "error"  # 3 of 4 unreadable: more than half
    assert "3 of 4 value(s) could not be read as a date" in problem.message


def test_native_timestamps_become_dates() -> None:
    values = pa.array([dt.datetime(2020, 1, 10, 23, 59), None], type=pa.timestamp("us"))
    assert one(values, K.DATE) == [dt.date(2020, 1, 10), None]


def test_multi_valued() -> None:
    assert one(["Salesforce; HubSpot;; ", "Stripe", "", None], K.MULTI) == [
        ["Salesforce", "HubSpot"],
        ["Stripe"],
        None,
        None,
    ]
    assert one(["a, b", "c,d"], K.MULTI) == [["a", "b"], ["c", "d"]]
    assert one(["Acme, Inc; Globex", "x, y"], K.MULTI) == [["Acme, Inc", "Globex"], ["x, y"]]  # ';' wins
    assert one(["a | b"], K.MULTI) == [["a", "b"]]
    assert one([[" a ", "b", ""], None], K.MULTI) == [["a", "b"], None]
    result = coerce_columns(pa.table({"t": ["a;b"]}), {"t": K.MULTI})
    assert result.table.schema.field("t").type.value_type == pa.string()


def test_locality_split() -> None:
    spec = CoerceSpec(K.TEXT, split=("city", "region", "country"))
    result = coerce_columns(
        pa.table({"locality": ["new york, new york, united states", "Paris, France", "Norway", None]}),
        {"locality": spec},
    )
    t = result.table
    assert t["city"].to_pylist() == ["new york", "Paris", None, None]
    assert t["region"].to_pylist() == ["new york", None, None, None]
    assert t["country"].to_pylist() == ["united states", "France", "Norway", None]
    assert t["locality"].to_pylist()[0] == "new york, new york, united states"


def test_text_target_rename_and_unplanned_columns_kept() -> None:
    table = pa.table({"Company name": [" Acme ", "N/A"], "other": [1, 2]})
    result = coerce_columns(table, {"Company name": CoerceSpec(K.TEXT, target="name")})
    assert result.table.column_names == ["name", "other"]
    assert result.table["name"].to_pylist() == ["Acme", None]
    assert result.kinds == {"name": K.TEXT}
    dropped = coerce_columns(table, {"Company name": K.TEXT}, keep_unplanned=False)
    assert dropped.table.column_names == ["Company name"]


def test_output_types_are_pinned() -> None:
    table = pa.table({k: ["1"] for k in "nbdmc"})
    plan = {"n": K.NUMERIC, "b": K.BOOLEAN, "d": K.DATE, "m": K.MULTI, "c": K.CATEGORICAL}
    schema = coerce_columns(table, plan).table.schema
    assert schema.field("n").type == pa.float64()
    assert schema.field("b").type == pa.bool_()
    assert schema.field("d").type == pa.date32()
    assert pa.types.is_list(schema.field("m").type)
    assert schema.field("c").type == pa.string()


def test_mostly_unreadable_column_is_an_error_and_raises_when_asked() -> None:
    result = coerce_columns(pa.table({"amount": ["abc", "def", "1"]}), {"amount": K.NUMERIC}, path="deals.csv")
    assert [p.severity for p in result.problems] == ["error"]
    with pytest.raises(BadValueError, match=r"deals.csv, row 2, column 'amount': 2 of 3"):
        result.raise_for_errors()


def test_problems_from_several_files_raise_once() -> None:
    problems = [
        Problem("x", path="a.csv", column="arr"),
        Problem("w", path="a.csv", column="z", severity="warning"),
        Problem("y", path="b.csv", column="amount"),
    ]
    with pytest.raises(BadValueError) as info:
        raise_for_problems(problems)
    assert "2 columns have unreadable values" in str(info.value)
    assert len(info.value.problems) == 2
    raise_for_problems(problems[1:2])  # warnings alone never raise


def test_rows_follow_the_raw_table_first_row() -> None:
    result = coerce_columns(pa.table({"v": ["1", "x"]}), {"v": K.NUMERIC}, first_row=1)
    assert result.problems[0].row == 2


def test_missing_planned_column() -> None:
    with pytest.raises(MissingColumnError, match="no column 'arr'"):
        coerce_columns(pa.table({"v": ["1"]}), {"arr": K.NUMERIC})


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from(["", "$", "USD "]))
def test_thousands_separated_integers_round_trip(n: int, prefix: str) -> None:
    text = f"{prefix}{abs(n):,}"
    text = f"({text})" if n < 0 else text
    assert one([text], K.NUMERIC) == [float(n)]


# ---------------------------------------------------------------------------------------------------- infer


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("Record ID", [str(200000000000 + i) for i in range(50)], K.ID),
        ("mql_id", [f"{i:032x}" for i in range(50)], K.ID),
        ("Is Closed Won", ["Yes", "No", "yes", None] * 10, K.BOOLEAN),
        ("Annual Revenue", ["$1,200,000", "1.2M", "n/a", "350k"] * 10, K.NUMERIC),
        ("Close Date", ["2020-01-10", "10/20/2016", "Jan 10, 2020"] * 10, K.DATE),
        ("Tech", ["Salesforce; HubSpot", "Stripe", "AWS;GCP"] * 10, K.MULTI),
        ("Industry", ["Software", "Fintech", "Retail"] * 20, K.CATEGORICAL),
        ("Company name", [f"Company number {i}" for i in range(60)], K.TEXT),
        ("Notes", ["a long free text note about the account, with a lot of words in it " * 2] * 5, K.TEXT),
    ],
)
def test_infer_kind_strings(name: str, values: list, kind: K) -> None:
    assert infer_kind(pa.array(values), name) == kind


def test_infer_kind_native_types() -> None:
    assert infer_kind(pa.array([1.5, 2.0, None]), "score") == K.NUMERIC
    assert infer_kind(pa.array([True, False]), "flag") == K.BOOLEAN
    assert infer_kind(pa.array([["a"], ["b"]]), "tags") == K.MULTI
    assert infer_kind(pa.chunked_array([pa.array([dt.date(2020, 1, 1)])]), "d") == K.DATE
    assert infer_kind(pa.array(list(range(100))), "account_id") == K.ID
    assert infer_kind(pa.array([None, None], type=pa.string()), "empty") == K.CATEGORICAL


# ---------------------------------------------------------------------------------------------------- periods


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2012-06", dt.date(2012, 6, 1)),
        ("2012/6", dt.date(2012, 6, 1)),
        ("2012-Q2", dt.date(2012, 4, 1)),
        ("2012 q4", dt.date(2012, 10, 1)),
        ("2012Q1", dt.date(2012, 1, 1)),
        ("Q3 2014", dt.date(2014, 7, 1)),
        ("q3-2014", dt.date(2014, 7, 1)),
    ],
)
def test_months_and_quarters_are_dates_on_their_first_day(text: str, expected: dt.date) -> None:
    assert one([text], K.DATE) == [expected]


@pytest.mark.parametrize("text", ["2012-13", "2012-00", "2012-Q5", "1500-06"])
def test_impossible_periods_are_bad_dates(text: str) -> None:
    result = coerce_columns(pa.table({"v": [text, "2012-06"]}), {"v": K.DATE})
    assert result.table["v"].to_pylist() == [None, dt.date(2012, 6, 1)]
    assert result.problems and text in result.problems[0].message


def test_a_band_needs_low_at_most_high() -> None:
    # "2012-06" used to be read as the band 2012 to 6, midpoint 1,009
    result = coerce_columns(pa.table({"v": ["2012-06", "51-200", "10-5", "1k-5k"]}), {"v": K.NUMERIC})
    assert result.table["v"].to_pylist() == [None, 125.5, None, 3000.0]
    assert result.table["v_band"].to_pylist() == [None, "51-200", None, "1k-5k"]
    (problem,) = result.problems
    assert problem.row == 2 and "'2012-06'" in problem.message and "'10-5'" in problem.message


@pytest.mark.parametrize(
    ("name", "values"),
    [("founded_month", ["2012-06", "2013-01", "2019-11", "2020-02"]), ("close_qtr", ["2012-Q2", "Q1 2013", "2019q4"])],
)
def test_period_columns_are_inferred_as_dates(name: str, values: list[str]) -> None:
    assert infer_kind(pa.array(values * 10), name) == K.DATE


@pytest.mark.parametrize(
    ("name", "values", "kind"),
    [
        ("Phone Number", [" +1 555 0100", "+44 20 7946 0000", "555-0199", "+1 555 0101"], K.TEXT),
        ("phone", ["5550100", "5550101", "5550102"], K.TEXT),
        ("Fax", ["+1 555 0100", "+1 555 0101"], K.TEXT),
        ("Postal Code", ["10001", "94105", "60601", "10001"], K.CATEGORICAL),
        ("zip", ["02139", "10001", "94105"], K.CATEGORICAL),
        ("mobile_app_users", ["1200", "40", "77"], K.NUMERIC),  # a quantity that merely mentions mobile
        ("has_phone_support", ["yes", "no", "yes"], K.BOOLEAN),  # a flag stays a flag
    ],
)
def test_contact_details_and_postal_codes_are_never_quantities(name: str, values: list, kind: K) -> None:
    """A phone number parses as a number ('+1 555 0100'), but a band of phone numbers says nothing about a company:
    it is contact detail (text, never a criterion); a postal code is a place, not a quantity."""
    assert infer_kind(pa.array(values), name) == kind


def test_numeric_typed_contact_and_postal_columns() -> None:
    assert infer_kind(pa.array([15550100, 15550101, 15550102]), "phone_number") == K.TEXT
    assert infer_kind(pa.array([10001, 94105, 60601]), "zip_code") == K.CATEGORICAL
