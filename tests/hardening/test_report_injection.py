"""The HTML report shows every value from the data and the spec as text: no element or event handler it carries
ever becomes part of the page.

The sample export is rewritten with hostile company names and an industry that discovery picks as a criterion;
a second run presents a hand-written spec whose name, description, values, labels, reasons and routes are HTML.
The report is parsed and every element and attribute checked against what icpkit itself writes.
"""

from __future__ import annotations

import gzip
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from icpkit.cli import main

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
SVG = "<svg onload=alert(3)>"
_TAGS = """html head meta title style body main header footer section article div span p h1 h2 h3 h4 ul ol li
table thead tbody tr th td caption strong em b i small code br hr dl dt dd figure figcaption details summary sup sub
nav a svg g rect line text path circle polyline tspan desc aside abbr colgroup col mark time defs clippath
lineargradient stop polygon ellipse"""
ALLOWED = frozenset(_TAGS.split())  # the elements icpkit's own templates and charts may write


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[tuple[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name in ("href", "src") and value and not value.startswith("#"):
                self.links.append(value)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def _assert_only_text(html: str, *hostile: str) -> None:
    page = _parse(html)
    assert set(page.tags) <= ALLOWED, set(page.tags) - ALLOWED
    assert not page.handlers and not page.links
    assert "script" not in page.tags and "img" not in page.tags
    for value in hostile:
        assert value not in html  # raw, it would be markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # escaped, it is text on the page


def _sample(name: str) -> pa.Table:
    with resources.as_file(resources.files("icpkit") / "data" / "sample" / name) as path:
        return pacsv.read_csv(gzip.open(path), convert_options=pacsv.ConvertOptions(strings_can_be_null=True))


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("report")
    accounts = _sample("companies.csv.gz")
    names = pc.binary_join_element_wise(pa.scalar(SCRIPT), pc.cast(accounts["Company name"], pa.string()), "")
    industry = pc.if_else(pc.equal(accounts["Industry"], "Software"), pa.scalar(SCRIPT + IMG), accounts["Industry"])
    accounts = accounts.set_column(accounts.schema.get_field_index("Company name"), "Company name", names)
    accounts = accounts.set_column(accounts.schema.get_field_index("Industry"), "Industry", industry)
    pacsv.write_csv(accounts, folder / "companies.csv")
    pacsv.write_csv(_sample("deals.csv.gz"), folder / "deals.csv")
    return folder / "companies.csv", folder / "deals.csv"


def test_hostile_values_from_the_data_render_as_text(exports: tuple[Path, Path], tmp_path: Path) -> None:
    accounts, deals = exports
    out = tmp_path / "report.html"
    argv = ["report", "--accounts", str(accounts), "--deals", str(deals), "--out", str(out), "--no-validate"]
    assert main([*argv, "--title", SVG, "--name", "icp"]) == 0
    html = out.read_text(encoding="utf-8")
    _assert_only_text(html, SCRIPT, IMG, SVG)
    assert "onerror=alert(2)&gt;" in html.replace("&#34;", '"').replace("&quot;", '"')  # the industry was chosen


def test_a_hostile_spec_renders_as_text(exports: tuple[Path, Path], tmp_path: Path) -> None:
    accounts, deals = exports
    spec = tmp_path / "icp.yaml"
    spec.write_text(
        f"""\
name: '{SCRIPT}'
version: 1
as_of: 2025-06-30
description: '{IMG.replace("'", "''")}'
layers:
  firmographic:
    - {{field: industry, in: ['{SCRIPT}{IMG}', '{SVG}'], points: 40, label: '{SVG}'}}
    - {{field: employees, between: [50, 500], points: 30}}
exclusions:
  - {{field: business_model, in: ['{SCRIPT}'], reason: '{IMG}'}}
tiers: {{tier1: 60, tier2: 40, tier3: 20}}
routing: {{tier1: '{SCRIPT}', tier2: sales, tier3: nurture, none: disqualify, excluded: '{SVG}'}}
""",
        encoding="utf-8",
    )
    out = tmp_path / "report.html"
    argv = ["report", "--accounts", str(accounts), "--deals", str(deals), "--spec", str(spec), "--out", str(out)]
    assert main([*argv, "--no-validate"]) == 0
    _assert_only_text(out.read_text(encoding="utf-8"), SCRIPT, IMG, SVG)
