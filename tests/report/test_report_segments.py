"""The report of a multi-segment spec: segments side by side with their own figures, an overall summary, charts."""

from __future__ import annotations

import json
import re

import pytest

from icpkit.cli import main
from icpkit.discover import ICPBuilder
from icpkit.report import render_report
from icpkit.size import size_universe
from icpkit.spec.model import ICPSpec
from icpkit.synth import generate, write_csv
from icpkit.validate import validate

EVIL = '<b onmouseover="x">big</b> & co'


@pytest.fixture(scope="module")
def history():
    return generate(5000, seed=8, segments=2)


@pytest.fixture(scope="module")
def spec(history) -> ICPSpec:
    d = history.truth.model_dump()
    d["segments"][1]["description"] = EVIL
    return ICPSpec.model_validate(d)


@pytest.fixture(scope="module")
def rendered(history, spec):
    ds = history.dataset()
    build = ICPBuilder().fit(ds)
    validation = validate(ds, spec=spec, segments=1)
    sizing = size_universe(spec, history.accounts, accounts=history.accounts, deals=history.deals)
    html = render_report(build, validation, sizing, spec=spec, accounts=history.accounts)
    return html, build, validation, sizing


def _column(html: str, name: str) -> str:
    start = html.index(f'id="segment-{name}"')
    end = html.find('id="segment-', start + 10)
    return html[start : end if end > 0 else html.index('class="section segoverall"')]


def _num(text: str) -> int:
    return int(text.replace(",", ""))


def test_each_segment_has_its_own_column_with_its_criteria_tiers_and_exclusions(rendered, spec):
    html = rendered[0]
    assert "2 segments, each an ICP of its own" in html
    mid, ent = _column(html, "midmarket"), _column(html, "enterprise")
    assert "Software companies" in mid and "Software companies" not in ent
    assert "running SAP" in ent and "running SAP" not in mid
    for col, (_, seg) in zip((mid, ent), spec.segment_specs(), strict=True):
        assert "Companies with business model B2C" in col  # each segment's own exclusions
        rows = re.findall(r"<tr><td>(tier\d)</td><td class=\"r\">(\d+)</td>", col)
        assert [(t, int(v)) for t, v in rows] == [(t, getattr(seg.tiers, t)) for t in ("tier1", "tier2", "tier3")]
    # a value from the spec is text, never markup
    assert EVIL not in html and "&lt;b onmouseover=" in ent


def test_the_columns_add_up_to_the_overall_figures(rendered, history):
    html, build, validation, sizing = rendered
    high = [_num(m) for m in re.findall(r"· ([\d,]+) high-value accounts \(", html)]
    assert sum(high) == build.cohorts.sizes["high_value_retained"] and min(high) > 0
    fits = [_num(m) for m in re.findall(r"Held out \(this spec\): ([\d,]+) fit of", html)]
    assert fits == [s.figures.fit for s in validation.segments] and sum(fits) == validation.under_test.fit
    news = [_num(m) for m in re.findall(r"<b>([\d,]+)</b> new targets", html)]
    assert sum(news) == sizing.report.step("new").count
    assert "Overall" in html and "fit (any segment) vs non-fit" in html


def test_the_charts_compare_the_segments(rendered):
    html = rendered[0]
    for key in ("segments_high_value", "segments_win_rate", "segments_targets"):
        box = html[html.index(f'id="chart-{key}"') :]
        svg = box[: box.index("</svg>")]
        assert "midmarket" in svg and "enterprise" in svg, key
    assert "<script" not in html.lower()  # offline, nothing run


def test_a_single_icp_report_has_no_segment_section(history):
    ds = history.dataset()
    build = ICPBuilder().fit(ds)
    html = render_report(build, spec=build.spec, accounts=history.accounts)
    assert "segments-compared" not in html and 'id="segment-' not in html


def test_cli_builds_segments_and_refuses_them_with_a_spec(history, tmp_path, capsys):
    files = write_csv(history, tmp_path / "exports")
    out = tmp_path / "report.html"
    args = ["report", "-a", str(files["accounts"]), "-d", str(files["deals"]), "-o", str(out), "--json"]
    assert main([*args, "--segments", "2", "--no-validate"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["segments"]) == 2 and not summary["no_signal"]
    html = out.read_text(encoding="utf-8")
    assert all(f'id="segment-{name}"' in html for name in summary["segments"])
    spec = tmp_path / "icp.yaml"
    spec.write_text(history.truth.to_yaml(), encoding="utf-8")
    assert main([*args, "--segments", "2", "--spec", str(spec)]) == 2
    assert "--segments" in capsys.readouterr().err
