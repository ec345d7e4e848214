"""Rejected input: every problem collected and located (file, row, column) before one InputError is raised."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from icpkit.errors import (
    BadValueError,
    DuplicateIdError,
    InputError,
    MissingColumnError,
    UnmappedStageError,
    UnreadableFileError,
)
from icpkit.ingest import load_dataset, load_table


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_required_column_names_columns_and_closest_match(tmp_path):
    acc = write(tmp_path / "a.csv", "acount_idd,industry\n1,Software\n")
    with pytest.raises(MissingColumnError) as err:
        load_dataset(acc)
    text = str(err.value)
    assert "'account_id' or 'name'" in text
    assert "columns found: 'acount_idd', 'industry'" in text
    assert "closest match: 'acount_idd'" in text and '--map "acount_idd=account_id"' in text
    assert err.value.path == str(acc) and err.value.row == 1


def test_missing_columns_in_several_files_reported_together(tmp_path):
    acc = write(tmp_path / "a.csv", "industry\nSoftware\n")
    deals = write(tmp_path / "d.csv", "deal_id,amount\n1,10\n")
    with pytest.raises(MissingColumnError) as err:
        load_dataset(acc, deals)
    assert len(err.value.problems) == 3  # account id; deal -> account link; deal outcome
    assert "3 problems" in str(err.value)


def test_duplicate_account_ids_show_ids_and_rows(tmp_path):
    acc = write(tmp_path / "a.csv", "account_id,name\n1,A\n2,B\n1,C\n3,D\n2,E\n")
    with pytest.raises(DuplicateIdError) as err:
        load_dataset(acc)
    text = str(err.value)
    assert "2 account ids" in text and "'1' (rows 2, 4)" in text and "'2' (rows 3, 6)" in text
    assert err.value.row == 4 and err.value.column == "account_id"


def test_unmapped_stage_lists_values_counts_first_rows(tmp_path):
    acc = write(tmp_path / "a.csv", "account_id\n1\n")
    deals = write(
        tmp_path / "d.csv",
        "deal_id,account_id,stage,closed_date\n1,1,Won,2024-01-02\n2,1,Signed,2024-01-03\n3,1,Parked,2024-01-04\n"
        "4,1,Signed,2024-01-05\n5,1,Prospecting,\n",
    )
    with pytest.raises(UnmappedStageError) as err:
        load_dataset(acc, deals)
    text = str(err.value)
    assert "'Signed' (2 deals, first at row 3)" in text and "'Parked' (1 deals, first at row 4)" in text
    assert '--stage-map "Signed=won|lost|open"' in text
    result = load_dataset(acc, deals, stage_map=["Signed=won", "parked = lost"])
    assert result.dataset.deals["outcome"].to_pylist() == ["won", "won", "lost", "won", "open"]


def test_unmapped_stages_without_a_close_date_are_open_with_a_warning(tmp_path):
    # Maven-style pipeline stages: deals still being worked have no close date
    acc = write(tmp_path / "a.csv", "account_id\n1\n2\n")
    deals = write(
        tmp_path / "d.csv",
        "deal_id,account_id,stage,closed_date\n1,1,Won,2024-01-02\n2,1,Engaging,\n3,2,Demo booked,\n"
        "4,2,Engaging,\n5,2,Lost,2024-02-01\n",
    )
    result = load_dataset(acc, deals)
    assert result.dataset.deals["outcome"].to_pylist() == ["won", "open", "open", "open", "lost"]
    warning = next(p for p in result.report.warnings if p.column == "stage")
    assert "3 deals with no close date" in warning.message and "read as open" in warning.message
    assert "'Engaging' (2 deals, first at row 3)" in warning.message and "'Demo booked' (1 deals" in warning.message
    assert warning.row == 3 and warning.path is not None and warning.path.endswith("d.csv")


def test_unmapped_stages_with_a_close_date_stay_an_error(tmp_path):
    acc = write(tmp_path / "a.csv", "account_id\n1\n")
    deals = write(
        tmp_path / "d.csv",
        "deal_id,account_id,stage,closed_date\n1,1,Engaging,\n2,1,Signed,2024-01-03\n3,1,Engaging,2024-01-04\n",
    )
    with pytest.raises(UnmappedStageError) as err:
        load_dataset(acc, deals)
    text = str(err.value)
    assert "2 closed deals (with a close date)" in text and err.value.row == 3
    assert "'Signed' (1 deals, first at row 3)" in text and "'Engaging' (1 deals, first at row 4)" in text


def test_bad_values_are_located(tmp_path):
    acc = write(tmp_path / "a.csv", "account_id,employees\n1,ten\n2,many\n3,40\n")
    with pytest.raises(BadValueError) as err:
        load_dataset(acc)
    assert err.value.column == "employees" and err.value.row == 2 and "ten" in str(err.value)


def test_several_kinds_of_problems_collected_in_one_error(tmp_path):
    acc = write(tmp_path / "a.csv", "account_id,employees\n1,ten\n1,many\n")
    deals = write(tmp_path / "d.csv", "deal_id,account_id,stage,closed_date\n1,1,Parked,2024-03-01\n")
    with pytest.raises(InputError) as err:
        load_dataset(acc, deals)
    kinds = " | ".join(p.message for p in err.value.problems)
    assert "could not be read as a number" in kinds and "more than once" in kinds and "Parked" in kinds
    assert "nothing was loaded" in str(err.value)


def test_empty_file(tmp_path):
    with pytest.raises(UnreadableFileError):
        load_dataset(write(tmp_path / "a.csv", ""))
    with pytest.raises(UnreadableFileError):
        load_dataset(write(tmp_path / "b.csv", "account_id,name\n"))


def test_bad_stage_map_entry():
    with pytest.raises(InputError, match="won, lost, open"):
        load_dataset(Path("unused.csv"), stage_map=["Signed=maybe"])


def test_subscriptions_derive_account_outcomes(tmp_path):
    acc = write(tmp_path / "a.csv", "account_id,name\nA,Alpha\nB,Beta\nC,Gamma\n")
    subs = write(
        tmp_path / "s.csv",
        "subscription_id,account_id,start_date,end_date,mrr\n"
        "s1,A,2023-01-01,2023-12-31,100\n"  # A: first 1,200 ARR, then 3,000 -> expansion 1,800
        "s2,A,2024-01-01,,250\n"
        "s3,B,2023-03-01,2023-09-30,50\n"  # B: everything ended -> churned on the last end
        "s4,B,2023-06-01,2024-02-29,50\n",
    )
    result = load_dataset(acc, subscriptions=subs)
    a = result.dataset.accounts.to_pylist()
    assert result.report.as_of == "2024-02-29"  # latest date in the data, not today
    assert a[0]["customer_since"] == dt.date(2023, 1, 1) and a[0]["churned"] is False
    assert a[0]["arr"] == 3000.0 and a[0]["expansion_arr"] == 1800.0
    assert a[1]["churned"] is True and a[1]["churn_date"] == dt.date(2024, 2, 29) and a[1]["arr"] == 0.0
    assert a[2]["customer_since"] is None and a[2]["churned"] is None  # no subscription at all
    assert result.report.tables["accounts"].churned == 1
    assert result.dataset.kinds["accounts"]["churned"].value == "boolean"
    # as_of before B's last end: B still has an active subscription
    early = load_dataset(acc, subscriptions=subs, as_of="2024-01-15")
    assert early.dataset.accounts["churned"].to_pylist()[:2] == [False, False]


def test_leads_table_on_its_own(tmp_path):
    leads = write(tmp_path / "l.csv", "email,company,job_title,industry\na@x.com,X,CTO,Software\n")
    result = load_table(leads, "leads")
    assert set(result.table.column_names) >= {"email", "name", "title", "industry"}
