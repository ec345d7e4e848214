"""The page at ``/`` in a real headless Chromium: paste a token, read the ICP, fill the form, read the result.

Needs Debian's ``chromium`` (``scripts/chromium.sh`` installs it); skipped with that reason when absent.
``ICPKIT_SCREENSHOTS=<folder>`` keeps the screenshots for a person to look at.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from api_chromium import Chromium, find_chromium
from api_support import PERSONA_YAML, SEGMENTED_YAML, SPEC_YAML, TOKEN, running

from icpkit.api import JsonLog, Tokens, create_app
from icpkit.score.python import compile_scorer
from icpkit.score.semantics import score_record
from icpkit.spec import load_spec
from icpkit.words import criterion_text, icp_sentence

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (run scripts/chromium.sh)")

SPEC = load_spec(SPEC_YAML)
EVIL = '<img src=x onerror="window.__pwned=1">'
HOSTILE_YAML = SPEC_YAML.replace("[Software, Fintech]", f"['{EVIL}', Fintech]").replace(
    '"churned 62% vs 18% baseline (n=21, q=0.01)"', '"<script>window.__pwned=2</script> churned"'
)
UNIVERSE = pa.table({"domain": ["acme.com"], "industry": ["Software"], "employees": [120], "country": ["US"]})


def _shot(browser: Chromium, tmp_path: Path, name: str) -> Path:
    height = browser.js("document.documentElement.scrollHeight")
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": browser.width, "height": int(height), "deviceScaleFactor": 1, "mobile": False},
        session=True,
    )
    out = browser.screenshot(tmp_path / name)
    keep = os.environ.get("ICPKIT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(out, Path(keep) / name)
    assert out.stat().st_size > 10_000  # a drawn page, not a blank one
    return out


def _serve(tmp_path: Path, yaml: str = SPEC_YAML, **options):
    path = tmp_path / "icp.yaml"
    path.write_text(yaml)
    options.setdefault("tokens", Tokens(env=TOKEN))
    return running(create_app(path, as_of=SPEC.as_of, poll_seconds=0, log=JsonLog(None), **options))


READ_RESULT = """(() => ({
  score: document.getElementById('r-score').textContent,
  tier: document.getElementById('r-tier').textContent,
  route: document.getElementById('r-route').textContent,
  rows: Array.from(document.querySelectorAll('#r-points tbody tr')).map(r => [r.dataset.id, r.className,
        r.cells[2].textContent]),
  hits: Array.from(document.querySelectorAll('#r-exclusions li')).map(li => li.textContent),
  enrichment: document.getElementById('r-enrichment').textContent,
}))()"""


def test_paste_a_token_read_the_icp_and_score_a_lead(tmp_path) -> None:
    with _serve(tmp_path) as url, Chromium(CHROMIUM) as browser:
        browser.open(url + "/")
        assert browser.js("document.getElementById('icp').hidden") is True
        assert "Paste an API token" in browser.js("document.getElementById('status').textContent")
        browser.type_into("#token", TOKEN)
        browser.click("#token-form button")
        browser.wait("!document.getElementById('icp').hidden")
        assert browser.js("sessionStorage.getItem('icpkit-token')") == TOKEN
        assert browser.js("document.getElementById('sentence').textContent") == icp_sentence(SPEC)
        criteria = browser.js("Array.from(document.querySelectorAll('#layers li')).map(li => li.textContent)")
        assert criteria[1] == "+20with 50 to 500 employees" and len(criteria) == 5
        exclusions = browser.js("document.getElementById('exclusions').textContent")
        assert "Companies with business model B2C" in exclusions and "churned 62% vs 18%" in exclusions
        tiers = browser.js("Array.from(document.querySelectorAll('#tiers tbody tr')).map(r => r.textContent)")
        assert tiers[:3] == ["tier1≥ 70sales", "tier2≥ 50sales", "tier3≥ 30nurture"]

        lead = {"industry": "Software", "employees": "120", "country": "US", "tech_stack": "HubSpot, Slack"}
        names = browser.js("Array.from(document.querySelectorAll('#fields [name]')).map(e => e.name)")
        assert names == ["industry", "employees", "country", "tech_stack", "last_funding_date", "business_model"]
        for field, value in lead.items():
            browser.type_into(f"#fields [name={field}]", value)
        browser.click("#score-button")
        browser.wait("document.getElementById('result').dataset.state === 'done'")
        got = browser.js(READ_RESULT)
        want = score_record(SPEC, {**lead, "employees": 120, "tech_stack": ["HubSpot", "Slack"]}, SPEC.as_of)
        shown = (int(got["score"]), got["tier"], got["route"])
        assert shown == (want.score, want.tier, want.route) == (80, "tier1", "sales")
        assert got["rows"] == [
            ["firmographic.0", "state-yes", "+30"],
            ["firmographic.1", "state-yes", "+20"],
            ["firmographic.2", "state-yes", "+10"],
            ["technographic.0", "state-yes", "+20"],
            ["trigger.0", "state-unknown", "unknown"],
            ["exclusion.0", "state-unknown", "—"],
        ]
        _shot(browser, tmp_path, "page-scored.png")

        # a disqualified lead: the reason shows, the fit points still do
        browser.js("document.querySelector('#fields [name=business_model]').value = ''")
        browser.type_into("#fields [name=business_model]", "B2C")
        browser.click("#score-button")
        browser.wait("document.getElementById('r-tier').textContent === 'excluded'")
        got = browser.js(READ_RESULT)
        assert got["route"] == "disqualify" and got["score"] == "80"
        reason = "churned 62% vs 18% baseline (n=21, q=0.01)"
        assert got["hits"] == [f"Excluded: Companies with business model B2C — {reason}"]
        _shot(browser, tmp_path, "page-excluded.png")
        assert browser.problems() == []


def test_a_wrong_token_is_said_plainly(tmp_path) -> None:
    with _serve(tmp_path) as url, Chromium(CHROMIUM) as browser:
        browser.open(url + "/")
        browser.type_into("#token", "not-a-valid-token-at-all")
        browser.click("#token-form button")
        browser.wait("document.getElementById('status').textContent.includes('not accepted')")
        assert browser.js("document.getElementById('icp').hidden") is True


def test_without_auth_the_page_works_directly_and_enriches_by_email(tmp_path) -> None:
    with _serve(tmp_path, tokens=None, insecure_no_auth=True, universe=UNIVERSE) as url, Chromium(CHROMIUM) as b:
        b.open(url + "/")
        assert b.js("document.getElementById('token-bar')") is None
        b.wait("!document.getElementById('icp').hidden")
        names = b.js("Array.from(document.querySelectorAll('#fields [name]')).map(e => e.name)")
        assert names[:2] == ["email", "domain"]
        b.type_into("#fields [name=email]", "jane@acme.com")
        b.click("#score-button")
        b.wait("document.getElementById('result').dataset.state === 'done'")
        got = b.js(READ_RESULT)
        assert got["score"] == "60" and got["tier"] == "tier2" and got["route"] == "sales"
        assert got["enrichment"].startswith("Enrichment: matched (acme.com) — filled ")
        assert "industry: Software" in got["enrichment"] and "employees: 120" in got["enrichment"]
        _shot(b, tmp_path, "page-enriched.png")
        assert b.problems() == []


def test_hostile_values_in_the_spec_show_as_text(tmp_path) -> None:
    with _serve(tmp_path, yaml=HOSTILE_YAML) as url, Chromium(CHROMIUM) as b:
        b.open(url + "/")
        b.type_into("#token", TOKEN)
        b.click("#token-form button")
        b.wait("!document.getElementById('icp').hidden")
        b.type_into("#fields [name=industry]", EVIL)
        b.type_into("#fields [name=business_model]", "B2C")
        b.click("#score-button")
        b.wait("document.getElementById('result').dataset.state === 'done'")
        state = b.js(
            "({pwned: window.__pwned || 0, imgs: document.images.length, scripts: document.scripts.length,"
            " sentence: document.getElementById('sentence').textContent,"
            " hits: document.getElementById('r-exclusions').textContent,"
            " datalist: Array.from(document.querySelectorAll('datalist option')).map(o => o.value)})"
        )
        assert state["pwned"] == 0 and state["imgs"] == 0 and state["scripts"] == 1
        assert EVIL in state["sentence"]
        assert "<script>window.__pwned=2</script> churned" in state["hits"]
        assert EVIL in state["datalist"]
        assert json.loads(b.js("JSON.stringify(document.getElementById('r-score').textContent)")) == "30"
        _shot(b, tmp_path, "page-hostile.png")
        assert b.problems() == []


SEGMENTED = load_spec(SEGMENTED_YAML)


def test_segments_side_by_side_and_the_lead_gets_its_best_segment(tmp_path) -> None:
    with _serve(tmp_path, yaml=SEGMENTED_YAML) as url, Chromium(CHROMIUM) as b:
        b.open(url + "/")
        b.type_into("#token", TOKEN)
        b.click("#token-form button")
        b.wait("!document.getElementById('icp').hidden")
        assert b.js("document.getElementById('single').hidden") is True
        cards = b.js(
            "Array.from(document.querySelectorAll('#segments .segment')).map(c => {const r = c.getBoundingClientRect();"
            " return {name: c.dataset.segment, top: r.top, left: r.left, width: r.width,"
            " sentence: c.querySelector('.sentence').textContent,"
            " criteria: Array.from(c.querySelectorAll('.criteria li')).map(li => li.textContent),"
            " routes: Array.from(c.querySelectorAll('.tiers tbody tr')).map(r => r.cells[2].textContent)}})"
        )
        assert [c["name"] for c in cards] == ["midmarket", "enterprise"]
        assert cards[0]["top"] == cards[1]["top"] and cards[1]["left"] >= cards[0]["left"] + cards[0]["width"]
        assert cards[0]["criteria"][0] == "+40" + criterion_text(SEGMENTED.segments[0].layers["firmographic"][0])
        assert cards[0]["sentence"] == icp_sentence(SEGMENTED.segment_specs()[0][1])
        assert len(cards[0]["criteria"]) == 3 and len(cards[1]["criteria"]) == 2
        assert cards[1]["routes"][0] == "enterprise_ae"
        names = b.js("Array.from(document.querySelectorAll('#fields [name]')).map(e => e.name)")
        assert names == ["industry", "employees", "tech_stack", "business_model"]

        lead = {"industry": "Manufacturing", "employees": "5000"}
        for field, value in lead.items():
            b.type_into(f"#fields [name={field}]", value)
        b.click("#score-button")
        b.wait("document.getElementById('result').dataset.state === 'done'")
        got = b.js(READ_RESULT)
        want = compile_scorer(SEGMENTED, as_of=SEGMENTED.as_of)({"industry": "Manufacturing", "employees": 5000})
        assert (int(got["score"]), got["tier"], got["route"]) == (want.score, want.tier, want.route)
        shown = b.js(
            "({segment: document.getElementById('r-segment').textContent,"
            " hidden: document.getElementById('r-segment-box').hidden,"
            " scores: document.getElementById('r-segment-scores').textContent,"
            " persona: document.getElementById('r-persona-box').hidden})"
        )
        assert shown == {
            "segment": "enterprise",
            "hidden": False,
            "scores": "Fit per segment: midmarket 0 · enterprise 100",
            "persona": True,
        }
        # the points table lists the best segment's own criteria
        assert [r[0] for r in got["rows"]] == ["firmographic.0", "firmographic.1"]
        assert [r[1] for r in got["rows"]] == ["state-yes", "state-yes"]
        _shot(b, tmp_path, "page-segments.png")
        assert b.problems() == []


def test_the_result_names_the_persona(tmp_path) -> None:
    with _serve(tmp_path, yaml=PERSONA_YAML) as url, Chromium(CHROMIUM) as b:
        b.open(url + "/")
        b.type_into("#token", TOKEN)
        b.click("#token-form button")
        b.wait("!document.getElementById('icp').hidden")
        personas = b.js("Array.from(document.querySelectorAll('#personas li')).map(li => li.dataset.persona)")
        assert personas == ["economic_buyer", "champion"]
        assert b.js("document.getElementById('personas-box').hidden") is False
        rules = b.js("Array.from(document.querySelectorAll('#routing-rules li')).map(li => li.textContent)")
        assert rules == ["Route tier1 + economic_buyer → account_executive"]
        lead = {"industry": "Software", "employees": "120", "country": "US", "tech_stack": "HubSpot"}
        lead["title"] = "VP Sales"
        for field, value in lead.items():
            b.type_into(f"#fields [name={field}]", value)
        b.click("#score-button")
        b.wait("document.getElementById('result').dataset.state === 'done'")
        got = b.js(READ_RESULT)
        assert (got["score"], got["tier"], got["route"]) == ("80", "tier1", "account_executive")
        assert b.js("document.getElementById('r-persona').textContent") == "economic_buyer (100% match)"
        assert b.js("document.getElementById('r-segment-box').hidden") is True
        _shot(b, tmp_path, "page-persona.png")
        assert b.problems() == []
