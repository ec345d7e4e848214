"""Drift of a multi-segment spec: every segment checked alone and the segment mix of new inbound, one verdict."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from drift_planting import BUILD_AS_OF, NEW_AS_OF, PERIOD_START, Draw, _in_period, draw, plant_criterion_stops

from icpkit.cli import main
from icpkit.diff import diff_specs
from icpkit.drift import DriftReport, check_drift
from icpkit.spec.model import ICPSpec
from icpkit.synth import generate


@pytest.fixture(scope="module")
def spec() -> ICPSpec:
    """The two planted segments, as built at the build date."""
    return generate(200, seed=0, segments=2, as_of=BUILD_AS_OF).truth.model_copy(update={"name": "two-segments"})


def _enterprise_inbound(d: Draw) -> Draw:
    """Leads created in the period all look like the enterprise segment (a campaign aimed at manufacturers)."""
    leads = d.leads
    new = _in_period(leads["created_date"], PERIOD_START, NEW_AS_OF)
    n = leads.num_rows

    def put(name: str, values: pa.Array) -> None:
        nonlocal leads
        leads = leads.set_column(
            leads.column_names.index(name), name, pc.if_else(pa.array(new), values, leads[name].combine_chunks())
        )

    put("industry", pa.array(["Manufacturing"] * n))
    put("employees", pa.array([3000.0] * n))
    put("tech_stack", pa.array([["SAP", "Slack"]] * n, leads["tech_stack"].type))
    return Draw(accounts=d.accounts, deals=d.deals, leads=leads, kinds=d.kinds)


def _by(report: DriftReport, name: str):
    return next(s for s in report.segments if s.segment == name)


@pytest.mark.parametrize("seed", [1, 2])
def test_unchanged_data_is_stable_overall_and_in_every_segment(spec: ICPSpec, seed: int) -> None:
    report = check_drift(spec, draw(8000, seed, leads=True, segments=2).dataset())
    assert report.verdict == "stable", report.reasons
    assert [s.segment for s in report.segments] == ["midmarket", "enterprise"]
    for s in report.segments:
        assert s.verdict == "stable" and s.findings == []
        assert len(s.decay) == 4 and all(d.status != "untested" for d in s.decay)  # the segment's own criteria
        assert s.fit_accounts >= s.best_accounts > 0
        assert s.score_shift.psi is not None and s.score_shift.population == "leads"
    mix = report.score_shift.segment_mix
    assert mix is not None and mix.level == "stable"
    assert [g.group for g in mix.shares] == ["midmarket", "enterprise", "no fit"]
    assert sum(g.new_share for g in mix.shares) == pytest.approx(1.0)
    assert report.summary()["segments"] == {"midmarket": "stable", "enterprise": "stable"}


def test_inbound_moving_to_one_segment_shifts_the_mix(spec: ICPSpec) -> None:
    report = check_drift(spec, _enterprise_inbound(draw(8000, 3, leads=True, segments=2)).dataset())
    mix = report.score_shift.segment_mix
    ent = next(g for g in mix.shares if g.group == "enterprise")
    assert ent.new_share > 0.7 > 0.3 > ent.reference_share  # B2C inbound stays excluded
    assert mix.level == "rebuild" and mix.chi2_p < 0.01
    finding = next(f for f in report.findings if f.check == "segment_mix")
    assert "enterprise" in finding.message and finding.severity == "rebuild"
    assert report.verdict == "rebuild"
    # the enterprise segment's own scores of new inbound rose: its score shift says so
    assert _by(report, "enterprise").score_shift.level in ("review", "rebuild")


def test_a_segment_criterion_that_stops_mattering_is_named_with_its_segment(spec: ICPSpec) -> None:
    report = check_drift(spec, plant_criterion_stops(draw(30000, 6, segments=2), field="tech_stack").dataset())
    mid = _by(report, "midmarket")
    hubspot = next(d for d in mid.decay if "HubSpot" in d.text)
    assert hubspot.status in ("weakened", "stopped")
    assert any(f.segment == "midmarket" and "HubSpot" in f.message for f in report.findings)
    assert all(f.message.startswith(f"segment {f.segment}: ") for f in report.findings if f.segment)
    assert report.verdict in ("review", "rebuild")
    # criteria that did not change keep their status
    industry = next(d for d in mid.decay if "Software" in d.text)
    assert industry.status not in ("weakened", "stopped")


# ------------------------------------------------------------------------------------------------- diff, CLI


def _renamed(spec: ICPSpec, index: int, name: str, points: int) -> ICPSpec:
    d = spec.model_dump()
    d["segments"][index]["name"] = name
    d["segments"][index]["layers"]["firmographic"][0]["points"] = points
    return ICPSpec.model_validate(d)


def test_diff_pairs_segments_by_name_then_by_shared_criteria(spec: ICPSpec) -> None:
    assert diff_specs(spec, spec).empty
    d = diff_specs(spec, _renamed(spec, 1, "manufacturers", 35))
    assert not d.empty and d.segments_added == [] and d.segments_removed == []
    assert [(s.old, s.new) for s in d.segments] == [("midmarket", "midmarket"), ("enterprise", "manufacturers")]
    mid, ent = (s.diff for s in d.segments)
    assert mid.empty_filters and not ent.empty_filters
    assert [c.changes for c in ent.changed] == [["points 30 -> 35"]] and ent.unchanged == 3
    assert d.summary() == "0 segments added, 0 removed, 1 changed, 1 unchanged, 1 renamed"


def test_diff_from_one_icp_to_segments_adds_the_segment_it_cannot_pair(spec: ICPSpec) -> None:
    _, mid = spec.segment_specs()[0]
    one = mid.model_copy(update={"name": "one-icp"})
    d = diff_specs(one, spec)
    assert d.segments_added == ["enterprise"] and d.segments_removed == []
    assert [(s.old, s.new) for s in d.segments] == [("one-icp", "midmarket")] and d.segments[0].diff.empty_filters
    back = diff_specs(spec, one)
    assert back.segments_removed == ["enterprise"] and back.segments_added == []


def test_cli_drift_prints_every_segment_and_diff_prints_segment_changes(spec, tmp_path, capsys) -> None:
    data = draw(6000, 4, leads=True, segments=2)
    files = {}
    for name in ("accounts", "deals", "leads"):
        files[name] = tmp_path / f"{name}.parquet"
        pq.write_table(getattr(data, name), files[name])
    spec_path = tmp_path / "icp.yaml"
    spec_path.write_text(spec.to_yaml(), encoding="utf-8")
    args = ["drift", "--spec", str(spec_path), "-a", str(files["accounts"]), "-d", str(files["deals"]),
            "-l", str(files["leads"]), "--no-record", "--store", str(tmp_path / "store.duckdb")]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Per segment" in out and "Segment mix of new inbound" in out and "enterprise" in out
    assert main([*args, "--json"]) == 0
    report = DriftReport.model_validate_json(capsys.readouterr().out)
    assert [s.segment for s in report.segments] == ["midmarket", "enterprise"]
    other = tmp_path / "other.yaml"
    other.write_text(_renamed(spec, 1, "manufacturers", 35).to_yaml(), encoding="utf-8")
    assert main(["diff", str(spec_path), str(other), "--store", str(tmp_path / "store.duckdb")]) == 0
    out = capsys.readouterr().out
    assert "segment enterprise → manufacturers" in out and "points 30 -> 35" in out


def test_recalibrate_to_one_icp_shows_the_segment_it_drops(spec, tmp_path, capsys) -> None:
    data = draw(6000, 4, segments=2)
    acc, deals = tmp_path / "accounts.parquet", tmp_path / "deals.parquet"
    pq.write_table(data.accounts, acc)
    pq.write_table(data.deals, deals)
    spec_path = tmp_path / "icp.yaml"
    spec_path.write_text(spec.to_yaml(), encoding="utf-8")
    store = str(tmp_path / "store.duckdb")
    args = ["recalibrate", "--spec", str(spec_path), "-a", str(acc), "-d", str(deals), "--store", store]
    assert main([*args, "--segments", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    d = out["diff"]
    assert len(d["segments"]) == 1 and len(d["segments_removed"]) == 1
    assert {d["segments"][0]["old"], *d["segments_removed"]} == {"midmarket", "enterprise"}
    assert main([*args, "--segments", "five"]) == 2
