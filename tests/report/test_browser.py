"""The report in a real headless Chromium: no console errors, charts drawn, page 1 of the PDF holds the whole ICP.

Needs Debian's ``chromium`` and poppler's ``pdftotext`` / ``pdfinfo`` (``scripts/chromium.sh`` installs them);
skipped with that reason when they are absent.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from devtools import Browser, chromium_path  # tests/devtools.py
from icpkit.report import exclusion_text, render_report
from icpkit.words import criterion_text, icp_sentence

CHROMIUM = chromium_path()
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (run scripts/chromium.sh)"),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext not installed (run scripts/chromium.sh)"),
]


def _words(s: str) -> str:
    return " ".join(s.split())


def _pdf_page(pdf: Path, page: int) -> str:
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], capture_output=True,
                         text=True, check=True)  # fmt: skip
    return _words(out.stdout)


@pytest.fixture(scope="module")
def rendered(built, hostile, tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    page = root / "report.html"
    page.write_text(render_report(built.build, built.validation, built.sizing, accounts=built.dataset.accounts))
    evil = root / "hostile.html"
    evil.write_text(render_report(hostile.build, hostile.validation, hostile.sizing))
    with Browser(CHROMIUM) as b:
        b.open(page)
        charts = b.evaluate(
            "Array.from(document.querySelectorAll('.chart-box')).map(c => "
            "[c.id, c.querySelectorAll('svg').length, c.querySelectorAll('svg .mark').length])"
        )
        sized = b.evaluate(
            "Array.from(document.querySelectorAll('svg.chart')).map(s => s.getBoundingClientRect().width)"
        )
        problems = list(b.problems())
        shot = b.screenshot(root / "report.png")
        pdf = b.print_pdf(root / "report.pdf")
        b.events.clear()
        b.open(evil)
        hostile_state = b.evaluate(
            "({scripts: document.scripts.length, alerted: typeof window.__icp_alerted, "
            "text: document.body.innerText.includes('<script>alert(')})"
        )
        hostile_problems = list(b.problems())
    return {"charts": charts, "sized": sized, "problems": problems, "shot": shot, "pdf": pdf,
            "hostile": hostile_state, "hostile_problems": hostile_problems}  # fmt: skip


def test_renders_without_console_errors(rendered):
    assert rendered["problems"] == []
    assert rendered["shot"].stat().st_size > 20_000  # a screenshot with content


def test_every_chart_has_marks(rendered):
    charts = {cid: (svgs, marks) for cid, svgs, marks in rendered["charts"]}
    assert set(charts) >= {"chart-lift", "chart-cohorts", "chart-scores", "chart-win_by_tier", "chart-funnel"}
    for cid, (svgs, marks) in charts.items():
        assert svgs == 1 and marks >= 3, cid
    assert all(w > 300 for w in rendered["sized"])  # drawn at a readable width, not collapsed


def test_page_one_of_the_pdf_is_the_whole_icp(rendered, built):
    pdf = rendered["pdf"]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))) >= 2
    assert "A4" in info
    page1, page2 = _pdf_page(pdf, 1), _pdf_page(pdf, 2)
    spec = built.build.spec
    assert _words(icp_sentence(spec)) in page1
    for _, c in spec.criteria():
        assert _words(criterion_text(c)) in page1
    for e in spec.exclusions:
        assert _words(exclusion_text(e)) in page1 and _words(e.reason) in page1
    assert "Tiers and routing".upper() in page1.upper() and "appendix (page 2 onward)" in page1
    assert "Appendix" not in page1.replace("appendix (page 2 onward)", "")
    assert page2.startswith("Appendix: the evidence")


def test_hostile_values_stay_text_in_the_browser(rendered):
    state = rendered["hostile"]
    assert state == {"scripts": 0, "alerted": "undefined", "text": True}
    assert rendered["hostile_problems"] == []
