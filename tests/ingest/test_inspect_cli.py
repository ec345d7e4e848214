"""``icpkit inspect`` through the real entry point: readable report, JSON, and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from icpkit.cli import main

HUBSPOT_DEALS = (
    "Record ID,Deal Name,Associated Company IDs,Deal Stage,Amount,Close Date,Is Closed Won,Is closed lost\n"
    "1,A,101,closedwon,10,2024-01-02,true,false\n"
    "2,B,101,qualifiedtobuy,5,,false,false\n"
)


def files(tmp_path: Path) -> tuple[Path, Path]:
    acc = tmp_path / "companies.csv"
    acc.write_text("\ufeffRecord ID,Company name,Industry,Seats\n101,Acme,COMPUTER_SOFTWARE,12\n", encoding="utf-8")
    deals = tmp_path / "deals.csv"
    deals.write_text(HUBSPOT_DEALS, encoding="utf-8")
    return acc, deals


def test_inspect_prints_preset_mapping_types_and_outcomes(tmp_path, capsys):
    acc, deals = files(tmp_path)
    assert main(["inspect", "--accounts", str(acc), "--deals", str(deals)]) == 0
    out = capsys.readouterr().out
    assert "Preset: hubspot (detected)" in out and "'Deal Stage'" in out
    assert "Associated Company IDs" in out and "account_id" in out
    assert "extra attribute" in out and "seats" in out  # the unmapped header kept and typed
    assert "won 1 / lost 0 / open 1" in out
    assert "No problems found." in out


def test_inspect_json_parses(tmp_path, capsys):
    acc, deals = files(tmp_path)
    assert main(["inspect", "-a", str(acc), "-d", str(deals), "--json", "--preset", "hubspot"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["preset"] == {
        "name": "hubspot",
        "forced": True,
        "reason": "forced with --preset",
        "matched_headers": [],
        "scores": {},
    }
    assert report["tables"]["deals"]["outcomes"] == {"won": 1, "lost": 0, "open": 1}
    kinds = {c["name"]: c["kind"] for c in report["tables"]["accounts"]["columns"]}
    assert kinds["seats"] == "numeric" and kinds["industry"] == "categorical"


def test_inspect_map_and_stage_map_options(tmp_path, capsys):
    acc = tmp_path / "a.csv"
    acc.write_text("Customer,Vertical\nAcme,Software\n", encoding="utf-8")
    deals = tmp_path / "d.csv"
    deals.write_text("id,Customer,Phase\n1,Acme,Signed\n", encoding="utf-8")
    args = ["inspect", "-a", str(acc), "-d", str(deals), "--map", "Customer=name", "--map", "Vertical=industry"]
    assert main([*args, "--json"]) == 2  # deals: no column says which account, nor the outcome
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # a --map rule applies to every file: in deals, Customer names the account to link to
    args = [*args[:-4], "--map", "Customer=account_name", "--map", "Phase=stage", "--stage-map", "Signed=won"]
    deals.write_text("id,Customer,Phase\n1,Acme,Signed\n", encoding="utf-8")
    acc.write_text("Company,Vertical\nAcme,Software\n", encoding="utf-8")
    assert main([*args, "--map", "Vertical=industry", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tables"]["deals"]["outcomes"]["won"] == 1
    assert report["stage_map"] == {"signed": "won"}
    assert report["tables"]["accounts"]["columns"][0]["name"] == "account_id"
    assert report["problems"] == []


def test_missing_column_exits_2_with_hint_and_no_traceback(tmp_path, capsys):
    acc = tmp_path / "a.csv"
    acc.write_text("acount_id,industry\n1,Software\n", encoding="utf-8")
    assert main(["inspect", "--accounts", str(acc)]) == 2
    captured = capsys.readouterr()
    assert "closest match: 'acount_id'" in captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_unmapped_stage_one_line_per_problem(tmp_path, capsys):
    acc, deals = files(tmp_path)
    deals.write_text(
        "Record ID,Associated Company IDs,Deal Stage,Close Date\n"
        "1,101,3482933986,2024-01-05\n2,101,Parked,2024-02-01\n",
        encoding="utf-8",
    )
    assert main(["inspect", "-a", str(acc), "-d", str(deals)]) == 2
    err = capsys.readouterr().err
    assert "'3482933986' (1 deals, first at row 2)" in err and "--stage-map" in err


def test_inspect_json_stays_json_when_reads_run_long(tmp_path, capfd, monkeypatch):
    """DuckDB draws a progress bar on the process's stdout past ``progress_bar_time``; ingest turns it off.

    Every connection is opened here with the threshold at 50 ms instead of 2 s, as on a machine where each read of
    this file runs past it (a ``SET`` does not), so a connection left with the bar on would break the JSON.
    """
    import duckdb

    acc = tmp_path / "accounts.csv"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT 'A' || i AS account_id, 'Company ' || i AS name, "
        "['Software', 'Retail', 'Fintech'][1 + i % 3] AS industry, "
        "CASE i % 4 WHEN 0 THEN '51-200' WHEN 1 THEN '$1,200,000' ELSE CAST(i % 5000 AS VARCHAR) END AS employees, "
        "strftime(DATE '2020-01-01' + CAST(i % 1500 AS INTEGER), '%m/%d/%Y') AS customer_since "
        f"FROM range(300000) t(i)) TO '{acc}' (HEADER)"
    )
    con.close()
    real_connect = duckdb.connect

    def connect_slow_machine(*args, **kwargs):
        c = real_connect(*args, **kwargs)
        c.execute("SET progress_bar_time = 50")
        return c

    monkeypatch.setattr(duckdb, "connect", connect_slow_machine)
    capfd.readouterr()
    assert main(["inspect", "--accounts", str(acc), "--json"]) == 0
    out = capfd.readouterr().out
    report = json.loads(out)
    assert report["tables"]["accounts"]["rows"] == 300_000
    kinds = {c["name"]: c["kind"] for c in report["tables"]["accounts"]["columns"]}
    assert kinds["employees"] == "numeric" and kinds["customer_since"] == "date"
