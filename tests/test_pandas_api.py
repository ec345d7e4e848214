"""The Python API takes pandas DataFrames wherever it takes Arrow tables, as pandas users expect."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from icpkit import ICPBuilder, load_dataset, score_table
from icpkit.errors import InputError
from icpkit.synth import generate, write_csv


@pytest.fixture(scope="module")
def history():
    return generate(1500, seed=3)


def test_builder_fits_dataframes_as_it_fits_arrow_tables(history):
    from_arrow = ICPBuilder().fit(history.accounts, history.deals)
    from_pandas = ICPBuilder().fit(history.accounts.to_pandas(), history.deals.to_pandas())
    assert from_pandas.spec.content_hash() == from_arrow.spec.content_hash()
    assert {c.field for _, c in from_pandas.spec.criteria()} >= {"industry", "tech_stack"}


def test_builder_fits_frames_read_by_pandas_itself(history, tmp_path):
    """pd.read_csv with parse_dates gives datetime64 columns and ';'-joined text, as a pandas user has them."""
    files = write_csv(history, tmp_path, style="canonical")
    acc = pd.read_csv(files["accounts"], parse_dates=["customer_since", "churn_date", "last_funding_date"])
    deals = pd.read_csv(files["deals"], parse_dates=["created_date", "closed_date"])
    data = load_dataset(acc, deals).dataset
    from_files = load_dataset(files["accounts"], files["deals"]).dataset
    assert data.accounts.num_rows == from_files.accounts.num_rows == 1500
    assert ICPBuilder().fit(data).spec.content_hash() == ICPBuilder().fit(from_files).spec.content_hash()


def test_score_table_scores_a_dataframe(history):
    spec = ICPBuilder().fit(history.dataset()).spec
    expected = score_table(spec, history.accounts)
    got = score_table(spec, history.accounts.to_pandas())
    assert isinstance(got, pa.Table)
    for col in ("score", "tier", "route", "matched"):
        assert got.column(col).to_pylist() == expected.column(col).to_pylist()


def test_something_else_is_a_clear_error(history):
    spec = ICPBuilder().fit(history.dataset()).spec
    with pytest.raises(InputError, match="pandas DataFrame"):
        score_table(spec, [{"industry": "Software"}])


def test_load_dataset_names_the_table_a_wrong_object_was_given_for(history):
    with pytest.raises(InputError, match="deals table must be an Arrow table or a pandas DataFrame, got dict"):
        load_dataset(history.accounts.to_pandas(), {"deal_id": [1]})


def test_spec_score_and_score_file_take_a_dataframe(history, tmp_path):
    import pyarrow.csv as pacsv

    from icpkit import score_file

    spec = ICPBuilder().fit(history.dataset()).spec
    frame = history.accounts.to_pandas()
    expected = score_table(spec, history.accounts).column("score").to_pylist()
    assert spec.score(frame).column("score").to_pylist() == expected  # a table, not its column names
    out = tmp_path / "scored.csv"
    summary = score_file(spec, frame, out, keep_order=True, progress=False)
    assert summary.rows == 1500
    assert pacsv.read_csv(out).column("score").to_pylist() == expected
