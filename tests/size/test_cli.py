"""``icpkit size`` and ``icpkit export`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from icpkit.cli import main

UNIVERSE = (
    "Company,Website,Industry,Employees,Country,Business model\n"
    "Acme Inc.,https://www.acme.com,Software,120,United States,B2B\n"
    "Globex,globex.com,Software,40,Canada,B2B\n"
    "Initech,initech.io,Retail,300,United States,B2B\n"
    "=EVIL(),evil.com,Software,200,United States,B2B\n"
    "Soylent,soylent.com,Software,200,France,B2B\n"
)
SPEC = """\
name: cli-icp
layers:
  firmographic:
    - {field: industry, in: [Software], points: 60}
    - {field: employees, between: [50, 500], points: 40}
tiers: {tier1: 100, tier2: 60, tier3: 40}
"""


@pytest.fixture()
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    u = tmp_path / "universe.csv"
    u.write_text(UNIVERSE, encoding="utf-8")
    s = tmp_path / "icp.yaml"
    s.write_text(SPEC, encoding="utf-8")
    return u, s


def test_size_prints_the_funnel_and_writes_the_list(inputs, tmp_path, capsys):
    u, s = inputs
    out = tmp_path / "targets.csv"
    code = main(
        ["size", "--spec", str(s), "--universe", str(u), "--sam", "country in United States,Canada", "--out", str(out)]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "TAM" in text and "SAM" in text and "Tier 1" in text and "█" in text
    assert "fewer than 500" in text and "→" in text  # outside the healthy band, and which way to move
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith('"rank","tier","score","crm_status","name","domain"')
    assert len(lines) == 1 + 4  # =EVIL() and Acme (tier 1), Globex (tier 2), Initech (tier 3); Soylent outside SAM
    assert lines[1].startswith('1,"tier1",100,"new","\'=EVIL()","evil.com"')  # formula neutralised


def test_size_json_is_the_report(inputs, capsys):
    u, s = inputs
    assert main(["size", "-s", str(s), "-u", str(u), "--sam", "country in United States", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    steps = {st["key"]: st["count"] for st in report["steps"]}
    assert steps["tam"] == 5 and steps["sam"] == 3 and steps["tier1"] == 2 and steps["new"] == 3
    assert report["health"]["status"] == "too_few" and report["sam"][0]["kept"] == 3


def test_export_linkedin_from_spec_and_universe(inputs, tmp_path, capsys):
    u, s = inputs
    out = tmp_path / "li.csv"
    assert main(["export", "--to", "linkedin", "-s", str(s), "-u", str(u), "--tier", "tier1", "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert (
        lines[0] == '"companyname","companywebsite","companyemaildomain","linkedincompanypageurl","stocksymbol",'
        '"industry","city","state","companycountry","zipcode"'
    )
    assert len(lines) == 1 + 3 and "LinkedIn needs at least 300" in capsys.readouterr().out


def test_export_abm_from_a_targets_file(inputs, tmp_path):
    u, s = inputs
    targets = tmp_path / "targets.parquet"
    assert main(["size", "-s", str(s), "-u", str(u), "-o", str(targets)]) == 0
    out = tmp_path / "abm.csv"
    assert main(["export", "--targets", str(targets), "--to", "abm", "-o", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == '"Domain","Account Name","Country","ICP Tier","ICP Score"'
    assert lines[1] == '"evil.com","\'=EVIL()","United States","Tier 1",100'
    assert lines[2] == '"acme.com","Acme Inc.","United States","Tier 1",100'


def test_export_checklist_markdown_and_json(inputs, tmp_path, capsys):
    _, s = inputs
    assert main(["export", "--to", "checklist", "--spec", str(s)]) == 0
    md = capsys.readouterr().out
    assert md.startswith("# ICP filter checklist: cli-icp") and "51-200, 201-500" in md
    assert main(["export", "--to", "checklist", "--spec", str(s), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["spec"] == "cli-icp"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "--to", "google-ads", "--targets", "x.csv"], "Customer Match uploads people"),
        (["export", "--to", "tiktok", "--targets", "x.csv"], "unknown destination 'tiktok'"),
        (["size", "-s", "{spec}", "-u", "{universe}", "--sam", "country like x"], "--sam 'country like x'"),
        (["size", "-s", "{spec}", "-u", "{universe}", "--sam", "language in en"], "language"),
        (["size", "-s", "{spec}", "-u", "{universe}", "--deals", "{universe}"], "--deals needs --accounts"),
    ],
)
def test_bad_input_exits_2_with_one_line(inputs, capsys, args, message):
    u, s = inputs
    argv = [a.format(spec=s, universe=u) for a in args]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_public_api_of_icpkit_size():
    import icpkit.size as size

    assert size.__all__ == sorted(size.__all__, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    assert all(getattr(size, name, None) is not None for name in size.__all__)
