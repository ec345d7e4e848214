"""Drift on synthetic histories: unchanged data is stable across seeds (no false alarms at the defaults), and
each planted change (a segment starts winning, churn moves into the ICP, a criterion stops mattering, inbound
shifts, a funnel step drops) is found by the check meant for it, with the counts behind it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from drift_planting import (
    BUILD_AS_OF,
    NEW_AS_OF,
    PERIOD_START,
    draw,
    plant_churn_in_icp,
    plant_criterion_stops,
    plant_funnel_drop,
    plant_inbound_shift,
    plant_winning_segment,
)

from icpkit.discover import ICPBuilder
from icpkit.drift import DriftReport, DriftThresholds, check_drift
from icpkit.spec.model import ICPSpec


@pytest.fixture(scope="module")
def spec() -> ICPSpec:
    """The ICP built on the history up to the build date (the generator's planted ICP, recovered)."""
    return ICPBuilder(name="drift-test").fit(draw(8000, 0, as_of=BUILD_AS_OF).dataset()).spec


def _field_of(text: str, report: DriftReport) -> list[str]:
    return [d.status for d in report.decay if text in d.text]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_unchanged_data_is_stable(spec: ICPSpec, seed: int) -> None:
    report = check_drift(spec, draw(8000, seed, leads=True).dataset())
    assert report.verdict == "stable", report.reasons
    assert report.findings == [] and not report.drifted
    # every check ran on real counts
    assert report.period_start == PERIOD_START
    assert all(d.status != "untested" for d in report.decay)
    assert report.divergence.icp_closed > 50 and report.divergence.tested > 50
    assert report.churn.baseline_at_risk > 1000 and report.churn.fit is not None
    assert report.churn.fit.churn_rate < report.churn.baseline_rate  # fit customers churn less
    assert report.funnel.mode == "stage dates" and len(report.funnel.steps) == 4
    assert report.score_shift.psi is not None and report.score_shift.psi < 0.1
    assert report.score_shift.population == "leads"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_unchanged_large_data_is_stable(spec: ICPSpec, seed: int) -> None:
    report = check_drift(spec, draw(20000, seed, leads=True).dataset())
    assert report.verdict == "stable", report.reasons


def test_a_new_segment_starts_winning(spec: ICPSpec) -> None:
    report = check_drift(spec, plant_winning_segment(draw(8000, 5, leads=True)).dataset())
    segs = [s for s in report.divergence.segments if s.field == "industry"]
    assert segs and segs[0].value == ["Healthcare"] and segs[0].beats
    assert segs[0].win_rate > 2 * report.divergence.icp_win_rate
    assert segs[0].closed >= 30 and segs[0].p_adjusted <= 0.01
    assert report.verdict == "rebuild"
    assert any("Healthcare" in r and "beats the ICP's win rate" in r for r in report.reasons)


def test_churn_moves_into_an_icp_segment(spec: ICPSpec) -> None:
    report = check_drift(spec, plant_churn_in_icp(draw(8000, 5, leads=True)).dataset())
    fintech = [g for g in report.churn.segments if "Fintech" in g.name]
    assert fintech and fintech[0].flagged and fintech[0].ratio > 3
    industry = [g for g in report.churn.criteria if "Fintech" in g.name]
    assert industry and industry[0].flagged
    assert report.verdict in ("review", "rebuild")
    assert any("Fintech" in r and "churn" in r for r in report.reasons)


def test_a_criterion_stops_mattering(spec: ICPSpec) -> None:
    report = check_drift(spec, plant_criterion_stops(draw(40000, 6), field="tech_stack").dataset())
    assert _field_of("Salesforce or HubSpot", report) == ["stopped"]
    stopped = next(d for d in report.decay if d.status == "stopped")
    assert stopped.now_win.lift_low <= 1.0 < stopped.reference_win.lift_low
    assert stopped.p_adjusted <= 0.01
    assert report.verdict == "review"


def test_inbound_shift_is_caught_by_psi_and_ks(spec: ICPSpec) -> None:
    report = check_drift(spec, plant_inbound_shift(draw(8000, 5, leads=True)).dataset())
    shift = report.score_shift
    assert shift.psi > 0.25 and shift.ks_p < 0.01 and shift.level == "rebuild"
    assert sum(b.new_share for b in shift.bins) == pytest.approx(1.0)
    assert report.verdict == "rebuild"


def test_a_funnel_step_below_benchmark_two_quarters(spec: ICPSpec) -> None:
    report = check_drift(spec, plant_funnel_drop(draw(8000, 5, leads=True), step=1, rate=0.05).dataset())
    flagged = [s.step for s in report.funnel.steps if s.flagged]
    assert flagged == ["mql_to_sql"]
    step = report.funnel.steps[1]
    assert [q.below for q in step.quarters][-2:] == [True, True]
    assert report.verdict == "review"
    # a lower benchmark for that step clears it
    lenient = DriftThresholds(benchmarks={"mql_to_sql": (0.03, 0.06)})
    assert (
        check_drift(
            spec, plant_funnel_drop(draw(8000, 5, leads=True), step=1, rate=0.05).dataset(), thresholds=lenient
        ).verdict
        == "stable"
    )


def test_report_is_json(spec: ICPSpec) -> None:
    report = check_drift(spec, draw(8000, 2, leads=True).dataset())
    data = json.loads(report.model_dump_json())
    assert data["verdict"] == "stable" and data["thresholds"]["psi_review"] == 0.1
    assert DriftReport.model_validate(data) == report
    assert report.summary()["verdict"] == "stable"


def test_without_deals_or_leads_the_checks_say_why(spec: ICPSpec) -> None:
    d = draw(3000, 4)
    report = check_drift(spec, d.accounts, kinds=d.kinds["accounts"])
    assert report.verdict == "stable"
    assert report.funnel.mode is None and "no leads" in report.funnel.note
    assert report.divergence.segments == [] and report.divergence.note


def test_an_empty_period_is_not_stable(spec: ICPSpec) -> None:
    """A period after the data ends holds no outcome: every test would pass for want of data, so the verdict says
    there was nothing to check instead of calling it stable."""
    late = NEW_AS_OF + dt.timedelta(days=365)
    report = check_drift(spec, draw(8000, 1, leads=True).dataset(), as_of=late)
    assert report.as_of == late and report.verdict == "review" and report.drifted
    assert [f.check for f in report.findings][:1] == ["period"]
    assert "holds no outcome" in report.reasons[0]
    # the same data at its own end is stable: the finding is about the empty period, not the data
    assert check_drift(spec, draw(8000, 1, leads=True).dataset()).findings == []
