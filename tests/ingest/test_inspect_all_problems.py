"""``inspect`` (and ``load_dataset``) list every problem of every file in one run, not just the first fatal one."""

from __future__ import annotations

from pathlib import Path

import pytest

from icpkit.cli import main
from icpkit.errors import InputError
from icpkit.ingest import load_dataset


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def broken(tmp_path: Path) -> dict[str, Path]:
    """Four files, four different problems: each would stop the run on its own."""
    return {
        # no account id or name column: the accounts table cannot be built at all
        "accounts": write(tmp_path / "companies.csv", "Industry,Employees\nSoftware,120\nRetail,40\n"),
        # readable, but a closed deal in a stage no preset knows and a deal id given twice
        "deals": write(
            tmp_path / "deals.csv",
            "deal_id,account_id,stage,amount,close_date\nD1,A1,Closed Won,100,2024-01-05\n"
            "D2,A1,Parked,50,2024-02-01\nD1,A2,Closed Lost,70,2024-03-01\n",
        ),
        # employees that are not numbers
        "leads": write(tmp_path / "leads.csv", "account_id,employees\nL1,ten\nL2,many\nL3,40\n"),
        "subscriptions": tmp_path / "subscriptions.csv",  # not there
    }


def test_load_dataset_collects_the_problems_of_every_file(broken):
    with pytest.raises(InputError) as err:
        load_dataset(broken["accounts"], broken["deals"], broken["subscriptions"], broken["leads"])
    where = {(Path(p.path).name if p.path else None, p.column) for p in err.value.problems}
    assert ("companies.csv", "account_id") in where  # the missing id column
    assert ("deals.csv", "stage") in where  # 'Parked'
    assert ("deals.csv", "deal_id") in where  # D1 twice
    assert ("leads.csv", "employees") in where  # 'ten'
    assert ("subscriptions.csv", None) in where  # not found
    text = str(err.value)
    assert "'Parked'" in text and "'ten'" in text and "file not found" in text
    assert "nothing was loaded" in text


def test_inspect_prints_every_problem_and_exits_2(broken, capsys):
    args = ["inspect", "-a", str(broken["accounts"]), "-d", str(broken["deals"]), "-l", str(broken["leads"])]
    code = main([*args, "-s", str(broken["subscriptions"])])
    err = capsys.readouterr().err
    assert code == 2
    assert "5 problems in the input" in err
    for expected in ("companies.csv, row 1, column 'account_id'", "deals.csv", "'Parked'", "'D1'",
                     "leads.csv, row 2, column 'employees'", "subscriptions.csv: file not found"):  # fmt: skip
        assert expected in err, expected
    assert "Traceback" not in err


def test_a_clean_file_beside_a_broken_one_still_stops_the_run(tmp_path):
    acc = write(tmp_path / "a.csv", "account_id,name\nA1,Acme\n")
    deals = write(tmp_path / "d.csv", "deal_id,amount\n1,10\n")  # no account link, no outcome
    with pytest.raises(InputError) as err:
        load_dataset(acc, deals)
    assert {Path(p.path).name for p in err.value.problems} == {"d.csv"}
