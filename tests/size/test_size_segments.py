"""Sizing a multi-segment spec: the funnel per best segment and overall, the segment in the target list."""

from __future__ import annotations

import csv
import json

import numpy as np
import pyarrow as pa
import pytest

from icpkit.cli import main
from icpkit.csvsafe import write_csv
from icpkit.score.segments import SegmentScorer
from icpkit.size import size_universe
from icpkit.spec.model import ICPSpec
from icpkit.synth import generate

UNIVERSE_COLUMNS = ["name", "domain", "country", "industry", "employees", "tech_stack", "last_funding_date",
                    "business_model"]  # fmt: skip


@pytest.fixture(scope="module")
def history():
    return generate(4000, seed=5, segments=2)


@pytest.fixture(scope="module")
def universe(history) -> pa.Table:
    return history.accounts.select(UNIVERSE_COLUMNS)


@pytest.fixture(scope="module")
def sized(history, universe):
    return size_universe(history.truth, universe, accounts=history.accounts, deals=history.deals)


def _shifted(spec: ICPSpec, d: int) -> ICPSpec:
    """Every segment's tier thresholds moved by ``d`` points."""
    segs = []
    for s in spec.segments:
        t = s.tiers
        tiers = {"tier1": min(100, t.tier1 + d), "tier2": min(100, t.tier2 + d), "tier3": min(100, t.tier3 + d)}
        segs.append({**s.model_dump(), "tiers": tiers})
    return ICPSpec.model_validate({**spec.model_dump(), "segments": segs})


def test_the_segments_add_up_to_the_overall_funnel(sized):
    r = sized.report
    assert [s.segment for s in r.segments] == ["midmarket", "enterprise"]
    assert sum(s.companies for s in r.segments) == r.step("sam").count
    for key in ("fit", "tier1", "tier2", "tier3", "customer", "open_pipeline", "new"):
        assert sum(s.step(key).count for s in r.segments) == r.step(key).count, key
    assert sum(s.share_of_targets for s in r.segments) == pytest.approx(1.0)
    assert all(s.step("fit").count > 0 for s in r.segments)


def test_the_target_list_names_each_account_s_best_segment_and_its_own_reasons(history, sized):
    t = sized.targets
    assert t.column_names.index("segment") == t.column_names.index("score") + 1
    assert {"score_midmarket", "score_enterprise"} <= set(t.column_names)
    scorer = SegmentScorer(history.truth)
    rows = t.select([*UNIVERSE_COLUMNS, "segment", "score", "reasons"]).to_pylist()
    for row in rows[:: max(1, len(rows) // 200)]:
        r = scorer(row)
        assert (row["segment"], row["score"]) == (r.segment, r.score)
    seg = np.asarray(t.column("segment").to_pylist())
    reasons = np.asarray(t.column("reasons").to_pylist())
    assert all("Software" not in x for x in reasons[seg == "enterprise"])
    assert all("Manufacturing" not in x for x in reasons[seg == "midmarket"])
    assert any("running SAP" in x for x in reasons[seg == "enterprise"])


def test_the_threshold_advice_moves_every_segment_and_lands_where_it_says(history, universe):
    r = size_universe(history.truth, universe, band=(50, 300)).report
    assert r.health.status == "too_many"
    advice = r.health.suggestions[0]
    assert advice.startswith("raise every segment's tiers.tier3 by ")
    d = int(advice.split(" by ")[1].split(" ")[0])
    keep = int(advice.split("to keep ")[1].replace(",", ""))
    assert keep <= 300
    assert size_universe(_shifted(history.truth, d), universe).report.step("new").count == keep
    assert size_universe(_shifted(history.truth, d - 1), universe).report.step("new").count > 300
    low = size_universe(history.truth, universe, band=(3000, 5000)).report.health
    assert low.status == "too_few" and low.suggestions[0].startswith("lower every segment's tiers.tier3 by ")


def test_a_single_icp_report_has_no_segments(history, universe):
    _, single = history.truth.segment_specs()[0]
    s = size_universe(single, universe)
    assert s.report.segments == [] and "segment" not in s.targets.column_names


def test_cli_prints_segments_and_exports_them(history, universe, tmp_path, capsys):
    u = tmp_path / "universe.csv"
    flat = universe.set_column(
        universe.column_names.index("tech_stack"),
        "tech_stack",
        pa.array([";".join(x or []) for x in universe.column("tech_stack").to_pylist()]),
    )
    write_csv(flat, u)
    spec = tmp_path / "icp.yaml"
    spec.write_text(history.truth.to_yaml(), encoding="utf-8")
    assert main(["size", "-s", str(spec), "-u", str(u), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["segment"] for s in report["segments"]] == ["midmarket", "enterprise"]
    out = tmp_path / "targets.csv"
    assert main(["size", "-s", str(spec), "-u", str(u), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Per segment" in text and "midmarket" in text
    with out.open(encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header[:4] == ["rank", "tier", "score", "segment"]
    abm = tmp_path / "abm.csv"
    assert main(["export", "--targets", str(out), "--to", "abm", "--out", str(abm)]) == 0
    with abm.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["ICP Segment"] for r in rows} == {"midmarket", "enterprise"}


def test_the_checklist_has_one_saved_search_per_segment(history):
    from icpkit.size import build_checklist
    from icpkit.spec.model import Clause

    c = build_checklist(history.truth, sam=[Clause(field="country", op="in", value=["United States"])])
    assert c.providers == [] and [s.spec for s in c.segments] == ["planted-truth.midmarket", "planted-truth.enterprise"]
    for seg, (_, part) in zip(c.segments, history.truth.segment_specs(), strict=True):
        apollo = next(p for p in seg.providers if p.provider == "apollo")
        assert apollo.items[0].source == "sam"  # the shared SAM filter in every segment's search
        assert seg.tiers == part.tiers.model_dump()
    text = c.to_markdown()
    assert text.count("## Segment: ") == 2 and "2 segments: build one saved search per segment." in text
    enterprise = text[text.index("## Segment: planted-truth.enterprise") :]
    assert "SAP" in enterprise and "HubSpot" not in enterprise
