"""The report's HTML: what page 1 says, what the appendix holds, that it is self-contained and escapes data."""

from __future__ import annotations

import re

from markupsafe import escape

from icpkit.cli import main
from icpkit.discover import ICPBuilder
from icpkit.ingest.schema import Dataset
from icpkit.report import exclusion_text, reasoning, render_report
from icpkit.spec.model import Evidence
from icpkit.synth import generate, write_csv
from icpkit.words import criterion_text, icp_sentence


def _page1(html: str) -> str:
    return html.split('id="appendix"')[0]


def test_page_one_holds_the_whole_icp(built):
    html = render_report(built.build, built.validation, built.sizing, accounts=built.dataset.accounts)
    spec = built.build.spec
    page1 = _page1(html)
    assert escape(icp_sentence(spec)) in page1
    for layer, c in spec.criteria():
        assert escape(criterion_text(c)) in page1
        assert f"{c.points} pts" in page1
        if layer == "behavioral":
            assert "scored only where known" in page1
    for e in spec.exclusions:
        assert escape(exclusion_text(e)) in page1 and escape(e.reason) in page1
    assert "Tiers and routing" in page1 and "Does it hold on held-out data?" in page1
    assert "TAM" in page1 and "New target accounts" in page1
    assert "became high-value customers vs" in page1  # the evidence in words


def test_reasoning_in_words():
    ev = Evidence(support=48, n=117, signal_rate=0.41, base_rate=0.17, lift=2.4, lift_low=1.8, lift_high=3.1, q=0.003)
    assert reasoning(ev) == (
        "41% of these accounts became high-value customers vs 17% overall, 2.4× (1.8–3.1), q=0.003, "
        "n=117, 48 high-value"
    )


def test_appendix_lists_every_candidate_with_its_status(built):
    html = render_report(built.build, built.validation, built.sizing)
    appendix = html.split('id="appendix"')[1]
    rows = appendix.split('<table class="candidates">')[1].split("</table>")[0].count("<tr>") - 1
    assert rows == built.build.candidates.num_rows
    for label in ("kept", "exclusion", "not significant"):
        assert f">{label}</td>" in appendix
    for chart in ("lift", "cohorts", "scores", "win_by_tier", "funnel"):
        assert f'id="chart-{chart}"' in appendix
    assert appendix.count('class="mark"') > 40


def test_self_contained_nothing_fetched(built):
    html = render_report(built.build, built.validation, built.sizing)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html


def test_hostile_values_show_as_text(hostile, evil):
    html = render_report(hostile.build, hostile.validation, hostile.sizing)
    assert "<script" not in html.lower()  # neither in the page nor inside the SVG charts
    assert "&lt;script&gt;alert(" in html
    assert any("script" in criterion_text(c) for _, c in hostile.build.spec.criteria())  # it really was picked
    assert evil not in html


def test_no_signal_report_says_so_honestly():
    h = generate(3000, seed=5, effect=0.0)
    build = ICPBuilder().fit(Dataset(accounts=h.accounts, deals=h.deals, kinds=h.kinds))
    html = render_report(build)
    page1 = _page1(html)
    assert "No reliable ICP signal" in page1 and "none separated high-value" in page1
    assert "Who they are" not in page1
    assert 'table class="candidates"' in html  # what was tested is still shown
    insufficient = render_report(None, insufficient="Not enough signal to learn an ICP: only 3 accounts")
    assert "Not enough signal to learn an ICP: only 3 accounts" in insufficient


def test_diff_lines_are_listed(built):
    html = render_report(built.build, diff=["+ industry in [Software]", "- employees between [10, 50]"])
    assert "Changes since the previous version" in html and "+ industry in [Software]" in _page1(html)


def test_cli_writes_the_report(tmp_path, capsys):
    files = write_csv(generate(3000, seed=41), tmp_path / "crm", style="hubspot")
    out = tmp_path / "out" / "report.html"
    code = main(["report", "-a", str(files["companies"]), "-d", str(files["deals"]), "-o", str(out),
                 "--paper", "letter"])  # fmt: skip
    assert code == 0 and out.exists()
    html = out.read_text(encoding="utf-8")
    assert "size: Letter" in html and "Does it hold on held-out data?" in html
    assert main(["report", "-a", str(files["companies"]), "--paper", "A5", "-o", str(out)]) == 2


def test_a_spec_diff_reads_as_lines(built):
    from icpkit.diff import diff_specs
    from icpkit.spec.model import ICPSpec

    new = built.build.spec
    old = ICPSpec(name=new.name, layers={k: v[:1] for k, v in new.layers.items()}, tiers=new.tiers)
    html = render_report(built.build, diff=diff_specs(old, new))
    page1 = _page1(html)
    assert "v1 → v1:" in page1 and "criteria added" in page1
    added = [c for _, c in new.criteria()][1]
    assert escape(f"+ {criterion_text(added)}") in html
