"""The clock: ``as_of`` is the last event that happened, a build never sees past it, and recency is counted from
the scoring date.

Real exports end on a day but carry later dates: an open deal's *expected* close date, a contract's end. Those are
plans, not history. A build as of a cutoff on the full history must give the spec a build on the history as it
stood at the cutoff gives (look-ahead invariance), and an export whose open deals are expected to close next year
must keep its ``as_of`` (and its cohorts) at the last thing that happened.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from icpkit.cli import main
from icpkit.cohorts import assign_cohorts
from icpkit.discover import ICPBuilder
from icpkit.ingest import load_dataset
from icpkit.ingest.canonical import history_end
from icpkit.ingest.schema import Dataset
from icpkit.spec import content_hash
from icpkit.synth import SynthHistory, generate, write_csv

END = dt.date(2025, 6, 30)  # the day the synthetic export was taken


def _with_expected_closes(h: SynthHistory, seed: int = 0) -> SynthHistory:
    """The history as a CRM exports it: every open deal carries the date it is expected to close, 1 to 270 days
    after the export (a forecast, not an event)."""
    deals = h.deals
    is_open = pc.equal(deals["outcome"], "open").to_numpy(zero_copy_only=False)
    ahead = np.random.default_rng(seed).integers(1, 271, deals.num_rows)
    expected = pa.array([END + dt.timedelta(days=int(d)) for d in ahead], pa.date32())
    closed = pc.if_else(pa.array(is_open), expected, deals["closed_date"])
    deals = deals.set_column(deals.column_names.index("closed_date"), "closed_date", closed)
    return SynthHistory(**{**h.__dict__, "deals": deals})


@pytest.fixture(scope="module")
def history() -> SynthHistory:
    return generate(3000, seed=4)


@pytest.fixture(scope="module")
def exported(history: SynthHistory) -> SynthHistory:
    return _with_expected_closes(history)


def _dataset(h: SynthHistory) -> Dataset:
    return Dataset(accounts=h.accounts, deals=h.deals, subscriptions=h.subscriptions, kinds=h.kinds)


# ---------------------------------------------------------------------------------------------- as_of


def test_expected_close_dates_do_not_move_as_of(history: SynthHistory, exported: SynthHistory) -> None:
    latest_expected = pc.max(exported.deals["closed_date"]).as_py()
    assert latest_expected > END + dt.timedelta(days=200)  # the export does reach far past its end
    end = history_end({"accounts": exported.accounts, "deals": exported.deals})
    assert end is not None and end.date <= END
    assert end == history_end({"accounts": history.accounts, "deals": history.deals})
    # the cohorts keep their accounts: the same labels as on the export without forecasts
    plain, forecast = assign_cohorts(_dataset(history)), assign_cohorts(_dataset(exported))
    assert forecast.as_of == plain.as_of == end.date
    assert forecast.labels["cohort"].to_pylist() == plain.labels["cohort"].to_pylist()
    assert forecast.sizes == plain.sizes and forecast.sizes["high_value_retained"] > 100


def test_load_and_inspect_say_what_as_of_is_and_why(
    exported: SynthHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = write_csv(exported, tmp_path / "export", style="hubspot")
    loaded = load_dataset(files["companies"], files["deals"])
    report = loaded.report
    end = history_end({"accounts": exported.accounts, "deals": exported.deals})
    assert end is not None
    assert report.as_of == end.date.isoformat()
    assert report.as_of_source == f"{end.table}.{end.column}"
    assert "never count" in (report.as_of_reason or "")
    n_open = int(pc.sum(pc.equal(exported.deals["outcome"], "open")).as_py())
    flagged = [p for p in report.warnings if "expected close date after as_of" in p.message]
    assert len(flagged) == 1 and flagged[0].message.startswith(f"{n_open:,} open deals")
    assert flagged[0].column == "Close Date" and flagged[0].path.endswith("deals.csv")
    # forecasts past today are plans, not typos: only the open deals' warning is about them
    assert not [p for p in report.warnings if "after today" in p.message and p.column == "Close Date"]

    assert main(["inspect", "--accounts", str(files["companies"]), "--deals", str(files["deals"])]) == 0
    out = capsys.readouterr().out
    assert f"as_of: {end.date}" in out and f"({end.table}.{end.column})" in out
    assert "open deals have an expected close date after as_of" in out
    assert "No problems found" not in out


def test_dates_after_today_are_flagged(history: SynthHistory, tmp_path: Path) -> None:
    """A won deal closing after today cannot have happened: a typo (2052 for 2025) or an entry ahead of time."""
    deals = history.deals
    won = pc.equal(deals["outcome"], "won").to_numpy(zero_copy_only=False)
    first_won = int(np.flatnonzero(won)[0])
    typo = deals["closed_date"].to_pylist()
    typo[first_won] = dt.date(2052, 6, 3)
    h = SynthHistory(**{**history.__dict__, "deals": deals.set_column(3, "closed_date", pa.array(typo, pa.date32()))})
    assert deals.column_names[3] == "closed_date"
    files = write_csv(h, tmp_path / "typo")
    report = load_dataset(files["accounts"], files["deals"]).report
    assert report.as_of == "2052-06-03"  # the typo is the latest event; inspect shows why and flags it
    after = [p for p in report.warnings if "after today" in p.message]
    assert [p.column for p in after] == ["closed_date"] and after[0].message.startswith("1 values of closed_date")


def test_an_empty_subscription_end_is_a_running_contract_and_a_last_end_a_churn() -> None:
    subs = pa.table(
        {
            "account_id": ["a", "a", "b", "c"],
            "start_date": pa.array(
                [dt.date(2024, 1, 1), dt.date(2025, 1, 1), dt.date(2024, 3, 1), dt.date(2024, 5, 1)]
            ),
            "end_date": pa.array([dt.date(2027, 1, 1), None, dt.date(2025, 2, 1), None]),
        }
    )
    end = history_end({"accounts": pa.table({"account_id": ["a", "b", "c"]}), "subscriptions": subs})
    # a's 2027 end is a term beside its running contract; b's last end is its churn
    assert end is not None and (end.date, end.column) == (dt.date(2025, 2, 1), "end_date")


# ---------------------------------------------------------------------------------------------- look-ahead


def _cut(h: SynthHistory, cutoff: dt.date) -> Dataset:
    """The history as an export taken on ``cutoff`` would hold it: no deal created after it, a deal that closed
    after it still open, a churn after it not yet happened, a subscription started after it absent."""
    d = h.deals
    created = pc.less_equal(d["created_date"], pa.scalar(cutoff, pa.date32()))
    d = d.filter(created)
    later = pc.fill_null(pc.greater(d["closed_date"], pa.scalar(cutoff, pa.date32())), False)
    d = d.set_column(d.column_names.index("outcome"), "outcome", pc.if_else(later, "open", d["outcome"]))
    subs = h.subscriptions
    if subs is not None:
        subs = subs.filter(pc.less_equal(subs["start_date"], pa.scalar(cutoff, pa.date32())))
        ends = subs["end_date"]
        ended = pc.fill_null(pc.less_equal(ends, pa.scalar(cutoff, pa.date32())), False)
        subs = subs.set_column(
            subs.column_names.index("end_date"), "end_date", pc.if_else(ended, ends, pa.scalar(None, pa.date32()))
        )
    return Dataset(accounts=h.accounts, deals=d, subscriptions=subs, kinds=h.kinds)


@pytest.mark.parametrize("months", [6, 12])
def test_a_build_as_of_a_cutoff_never_sees_past_it(months: int) -> None:
    """Building as of a cutoff on the full history gives the spec a build on the history cut at the cutoff gives:
    the same cohorts, criteria, points and tiers (so deals closing and churns happening after it leak nothing)."""
    h = generate(4000, seed=7, with_subscriptions=True)
    cutoff = END - dt.timedelta(days=30 * months)
    full, cut = _dataset(h), _cut(h, cutoff)
    a, b = assign_cohorts(full, as_of=cutoff), assign_cohorts(cut, as_of=cutoff)
    assert a.labels["cohort"].to_pylist() == b.labels["cohort"].to_pylist()
    built_full = ICPBuilder(name="t", as_of=cutoff).fit(full).spec
    built_cut = ICPBuilder(name="t", as_of=cutoff).fit(cut).spec
    assert built_full.criteria(), "the planted ICP is found at the cutoff"
    assert content_hash(built_full) == content_hash(built_cut)
    assert built_full.as_of == built_cut.as_of == cutoff


def test_deals_closing_after_as_of_are_still_open_at_as_of(history: SynthHistory) -> None:
    """The rule itself, on the accounts it decides: an account whose every won or lost deal closed after the
    cutoff had no outcome yet at it (open), neither a customer nor never-closed."""
    cutoff = END - dt.timedelta(days=180)
    d = history.deals
    closed = pc.is_in(d["outcome"], value_set=pa.array(["won", "lost"]))
    early = pc.and_(closed, pc.less_equal(d["closed_date"], pa.scalar(cutoff, pa.date32())))
    late = set(d["account_id"].filter(closed).to_pylist()) - set(d["account_id"].filter(early).to_pylist())
    lost_late = late - set(d["account_id"].filter(pc.equal(d["outcome"], "won")).to_pylist())
    accounts = history.accounts.select(["account_id"])  # outcomes from deals alone
    labels = assign_cohorts(accounts, deals=d, as_of=cutoff, min_signal=1).labels
    by_id = dict(zip(labels["account_id"].to_pylist(), labels["cohort"].to_pylist(), strict=True))
    assert len(late) > 50 and len(lost_late) > 10
    assert {by_id[a] for a in late} == {"open"}


# ---------------------------------------------------------------------------------------------- commands


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    return code, capsys.readouterr().out


def test_validate_takes_as_of(exported: SynthHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = write_csv(exported, tmp_path / "export")
    args = ["validate", "--accounts", str(files["accounts"]), "--deals", str(files["deals"]), "--json"]
    cutoff = END - dt.timedelta(days=365)
    code, out = _run([*args, "--as-of", cutoff.isoformat()], capsys)
    assert code == 0, out
    pinned = json.loads(out)
    assert pinned["as_of"] == cutoff.isoformat() and pinned["cutoff"] < cutoff.isoformat()
    code, out = _run(args, capsys)
    assert json.loads(out)["as_of"] <= END.isoformat()  # the last event, not the open deals' forecasts


def test_report_takes_as_of_and_sam(exported: SynthHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = write_csv(exported, tmp_path / "export")
    base = ["report", "--accounts", str(files["accounts"]), "--deals", str(files["deals"]), "--no-validate"]
    base += ["--universe", str(files["accounts"]), "--json"]
    html = {}
    for label, extra in (("all", []), ("us", ["--sam", "country in United States"])):
        out_file = tmp_path / f"{label}.html"
        code, out = _run(
            [*base, *extra, "--out", str(out_file), "--as-of", (END - dt.timedelta(days=90)).isoformat()], capsys
        )
        assert code == 0, out
        assert json.loads(out)["sized"] is True
        html[label] = out_file.read_text(encoding="utf-8")
    import re

    sam = {k: int(re.search(r"SAM[^<]*<b>([\d,]+)</b>", v).group(1).replace(",", "")) for k, v in html.items()}
    us = int(pc.sum(pc.equal(exported.accounts["country"], "United States")).as_py())
    assert sam["us"] == us < sam["all"]
    code, out = _run([*base[:3], "--sam", "country in United States", "--out", str(tmp_path / "x.html")], capsys)
    assert code == 2 and not (tmp_path / "x.html").exists()


def test_size_marks_customers_as_they_stood_on_as_of(history: SynthHistory) -> None:
    """Pinned to a past date, sizing marks as customers only the accounts won by then (a deal won later was open
    pipeline on that day)."""
    from icpkit.size import size_universe

    early = END - dt.timedelta(days=365)
    truth = history.truth  # without its recency trigger, so the fit is the same on both days
    spec = truth.model_copy(update={"layers": {k: v for k, v in truth.layers.items() if k != "trigger"}})
    steps = {
        day: {
            s.key: s.count
            for s in size_universe(
                spec,
                history.accounts,
                deals=history.deals,
                accounts=history.accounts.select(["account_id", "name", "domain"]),
                as_of=day,
            ).report.steps
        }
        for day in (early, END)
    }
    d = history.deals
    won_by = {
        day: len(
            set(
                d["account_id"]
                .filter(
                    pc.and_(pc.equal(d["outcome"], "won"), pc.less_equal(d["closed_date"], pa.scalar(day, pa.date32())))
                )
                .to_pylist()
            )
        )
        for day in (early, END)
    }
    assert won_by[early] < won_by[END]
    assert steps[early]["customer"] < steps[END]["customer"]


def test_drift_checks_the_last_quarter_that_happened(
    exported: SynthHistory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On an export whose open deals are expected to close next year, drift checks the quarter before the last
    event (with outcomes in it), not an empty quarter in the future that it would call stable."""
    from icpkit.spec import dump_spec

    spec = ICPBuilder(name="t", as_of=END - dt.timedelta(days=92)).fit(_dataset(exported)).spec
    spec_path = tmp_path / "icp.yaml"
    spec_path.write_text(dump_spec(spec), encoding="utf-8")
    files = write_csv(exported, tmp_path / "export", style="hubspot")
    args = ["drift", "--spec", str(spec_path), "--accounts", str(files["companies"]), "--deals", str(files["deals"])]
    code, out = _run([*args, "--json", "--store", str(tmp_path / "store.duckdb")], capsys)
    report = json.loads(out)
    end = history_end({"accounts": exported.accounts, "deals": exported.deals})
    assert end is not None and report["as_of"] == end.date.isoformat(), report["as_of"]
    assert "period" not in [f["check"] for f in report["findings"]]
    assert report["divergence"]["icp_closed"] > 0  # the period holds closed deals to check
    assert code == 0


def test_a_lead_funded_last_month_scores_the_same_in_a_file_over_http_and_in_sql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The spec was built a year and a half ago; the lead was funded a month ago. Every door counts from today."""
    from starlette.testclient import TestClient

    from icpkit.api import create_app
    from icpkit.spec import ICPSpec, dump_spec

    spec = ICPSpec.model_validate(
        {
            "name": "t",
            "as_of": "2025-06-30",
            "layers": {
                "firmographic": [{"field": "industry", "op": "in", "value": ["Software"], "points": 40}],
                "trigger": [{"field": "last_funding_date", "op": "within_days", "value": 90, "points": 50}],
            },
            "tiers": {"tier1": 80, "tier2": 50, "tier3": 30},
        }
    )
    spec_path = tmp_path / "icp.yaml"
    spec_path.write_text(dump_spec(spec), encoding="utf-8")
    funded = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=30)).isoformat()
    leads = tmp_path / "leads.csv"
    leads.write_text(f"account_id,industry,last_funding_date\nL1,Software,{funded}\nL2,Software,2025-06-01\n")
    scored = tmp_path / "scored.csv"
    code, out = _run(["score", str(leads), "--spec", str(spec_path), "--out", str(scored)], capsys)
    assert code == 0, out
    import csv

    rows = list(csv.DictReader(scored.open(encoding="utf-8")))
    assert [(r["account_id"], r["score"], r["tier"]) for r in rows] == [("L1", "90", "tier1"), ("L2", "40", "tier3")]
    with TestClient(create_app(spec_path, insecure_no_auth=True, poll_seconds=0)) as client:
        body = client.post("/v1/score", json={"record": {"industry": "Software", "last_funding_date": funded}}).json()
    assert (body["score"], body["tier"]) == (90, "tier1")
    code, out = _run(["sql", "--spec", str(spec_path), "--dialect", "postgres"], capsys)
    assert code == 0 and "CURRENT_DATE" in out and "2025-" not in out
    code, out = _run(["sql", "--spec", str(spec_path), "--as-of", "2025-06-30"], capsys)
    assert "2025-04-01" in out and "CURRENT_DATE" not in out


def test_build_as_of_a_cutoff_on_the_files_never_sees_past_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same invariance through the files and the command: outcomes derived from subscriptions at --as-of."""
    import pyarrow.csv as pacsv

    from icpkit.spec import load_spec

    h = _with_expected_closes(generate(3000, seed=8, with_subscriptions=True))
    cutoff = END - dt.timedelta(days=270)
    cut = _cut(h, cutoff)
    specs = []
    for label, deals, subs in (("full", h.deals, h.subscriptions), ("cut", cut.deals, cut.subscriptions)):
        folder = tmp_path / label
        files = write_csv(SynthHistory(**{**h.__dict__, "deals": deals, "subscriptions": subs}), folder)
        assert pacsv.read_csv(files["deals"]).num_rows == deals.num_rows
        out = folder / "icp.yaml"
        args = ["build", "--accounts", str(files["accounts"]), "--deals", str(files["deals"])]
        args += ["--subscriptions", str(files["subscriptions"]), "--as-of", cutoff.isoformat(), "--out", str(out)]
        code, text = _run([*args, "--store", str(folder / "store.duckdb")], capsys)
        assert code == 0, text
        specs.append(load_spec(out))
    assert specs[0].criteria() and content_hash(specs[0]) == content_hash(specs[1])
