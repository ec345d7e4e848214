"""Backtests on planted and pure-noise histories, the spec under test, narrowness, and the command line."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from icpkit.cli import main
from icpkit.discover import ICPBuilder
from icpkit.spec.model import ICPSpec
from icpkit.synth import generate, write_csv
from icpkit.validate import ValidationReport, lead_share_check, validate


@pytest.fixture(scope="module")
def planted_time(planted):
    return validate(planted, full_build=ICPBuilder().fit(planted))


def test_planted_icp_wins_more_on_held_out_deals(planted_time):
    r = planted_time
    assert r.method == "time" and r.cutoff is not None and 0.25 <= r.held_share <= 0.30
    win = r.rebuilt.comparison("win_rate")
    assert win.fit.value > win.non_fit.value
    assert win.contrast.low > 1.3  # the interval of fit / non-fit excludes 1 by a margin
    assert win.fit.n >= 100 and win.non_fit.n >= 1000 and win.fit.events is not None
    churn = r.rebuilt.comparison("churn_rate")
    assert churn.contrast.high < 1  # fit customers churn less, and the data shows it
    assert r.verdict("signal").status == "pass"
    assert r.verdict("win_rate").status in ("pass", "weak") and "supported" in r.verdict("win_rate").message
    assert r.verdict("churn_rate").status == "pass"
    assert r.passed


def test_tiers_rank_held_out_win_rate(planted_time):
    rows = {t.tier: t for t in planted_time.rebuilt.tiers}
    assert rows["tier1"].win_rate.value > rows["none"].win_rate.value
    assert sum(t.accounts for t in planted_time.rebuilt.tiers) == planted_time.rebuilt.judged


def test_rebuild_never_sees_the_held_out_period(planted, planted_time):
    # the spec judged out of sample is the one built as of the cutoff, not the all-data spec
    r = planted_time
    assert r.rebuilt.source == "rebuilt" and str(r.cutoff) in r.rebuilt.label
    assert r.under_test.in_sample and "in-sample" in r.under_test.label
    assert r.rebuilt.spec_hash != r.under_test.spec_hash


def test_a_spec_built_before_the_cutoff_is_not_in_sample(planted):
    early = ICPBuilder(as_of=planted_cutoff(planted)).fit(planted).spec
    r = validate(planted, spec=early)
    assert r.under_test is not None and not r.under_test.in_sample
    assert "in-sample" not in r.under_test.label


def planted_cutoff(ds):  # type: ignore[no-untyped-def]
    from icpkit.validate import time_cutoff

    return time_cutoff(ds).cutoff


def test_kfold_on_planted_history(planted):
    r = validate(planted, method="kfold", folds=4)
    assert r.folds == 4 and r.cutoff is None
    win = r.rebuilt.comparison("win_rate")
    assert win.contrast.low > 1
    assert any("/4 folds" in c for c in r.rebuilt.criteria)


def test_pure_noise_is_not_supported(noise):
    r = validate(noise)
    assert r.no_signal and not r.passed
    assert r.verdict("signal").status == "fail"
    for check in ("win_rate", "churn_rate"):
        v = r.verdict(check)
        assert v.status == "fail" and v.message.startswith("not supported")


def test_noise_judged_with_the_planted_truth_is_not_supported(noise):
    truth = generate(10, seed=12).truth  # the planted spec, applied to outcomes that ignore it
    r = validate(noise, spec=truth)
    win = r.under_test.comparison("win_rate")
    assert win.contrast.low < 1 < win.contrast.high


def test_lead_share_says_which_way_to_move():
    spec = ICPSpec(name="x")
    tiers = np.array(["tier1"] * 10 + ["tier2"] * 40 + ["none"] * 50, dtype=object)
    scores = np.array([80] * 10 + [55] * 40 + [10] * 50)
    loose = lead_share_check(scores, tiers, spec)
    assert loose.status == "too_loose" and loose.share.value == pytest.approx(0.5)
    assert "raise the tier-2 minimum from 50 to 56" in loose.suggestion  # 10% reach 56
    clumped = lead_share_check(np.array([80] * 50 + [10] * 50), tiers, spec)
    assert "no tier-2 minimum lands in the band" in clumped.suggestion
    tiers = np.array(["tier1"] * 2 + ["tier3"] * 10 + ["none"] * 88, dtype=object)
    scores = np.array([90] * 2 + [40] * 10 + [5] * 88)
    narrow = lead_share_check(scores, tiers, spec)
    assert narrow.status == "too_narrow" and "lower the tier-2 minimum from 50 to 40" in narrow.suggestion
    tiers = np.array(["tier2"] * 20 + ["none"] * 80, dtype=object)
    assert lead_share_check(np.array([60] * 20 + [0] * 80), tiers, spec).status == "healthy"


def test_narrowness_checks_gate_the_run(planted):
    build = ICPBuilder().fit(planted)
    leads = planted.accounts.select(["account_id", "industry", "employees", "tech_stack", "annual_revenue"])
    fit_everyone = pa.table({"industry": ["Software"] * 200, "employees": [100.0] * 200})
    r = validate(planted, full_build=build, leads=leads)
    assert r.leads is not None and r.leads.leads == planted.accounts.num_rows
    r2 = validate(planted, full_build=build, leads=fit_everyone)
    assert r2.leads.status in ("too_loose", "too_narrow") and r2.verdict("leads").status == "fail"
    assert not r2.passed


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    root = tmp_path_factory.mktemp("exports")
    return (
        write_csv(generate(3000, seed=21), root / "planted", style="hubspot"),
        write_csv(generate(3000, seed=22, effect=0.0), root / "noise"),
    )


def test_cli_json_is_the_report_model(exports, capsys):
    planted, _ = exports
    code = main(["validate", "-a", str(planted["companies"]), "-d", str(planted["deals"]), "--json"])
    out = capsys.readouterr().out
    report = ValidationReport.model_validate(json.loads(out))
    assert code == 0 and report.rebuilt is not None and report.verdict("win_rate").status in ("pass", "weak")


def test_cli_strict_exits_1_on_noise_and_prints_verdicts(exports, capsys):
    _, noise = exports
    args = ["validate", "-a", str(noise["accounts"]), "-d", str(noise["deals"]), "--folds", "3"]
    # no reliable signal exits 1 with or without --strict (as build and report do), and the verdicts still print
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "not supported" in out and "Verdicts" in out and "no reliable signal" in out
    assert main([*args, "--strict"]) == 1


def test_cli_bad_cutoff_is_a_usage_error(exports, capsys):
    planted, _ = exports
    code = main(["validate", "-a", str(planted["companies"]), "-d", str(planted["deals"]), "--cutoff", "soon"])
    assert code == 2 and "--cutoff" in capsys.readouterr().err
