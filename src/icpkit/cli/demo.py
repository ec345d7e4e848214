"""``icpkit demo``: the whole flow on the sample CRM export shipped in the package.

The sample is a synthetic HubSpot-style export with a planted ICP (see ``scripts/make_sample.py``): companies and
deals, inbound leads to score, and a company universe to size. The demo runs the same Python API as the commands:
ingest → build → score the leads → size the universe, and writes everything to one output folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pyarrow as pa
import typer
from rich.markup import escape
from rich.table import Table

from icpkit.cli import app, console
from icpkit.cli._progress import progress_bar
from icpkit.cli.build import _print_summary, build_summary
from icpkit.csvsafe import write_csv, write_text
from icpkit.discover import BuildResult, ICPBuilder
from icpkit.ingest import LoadResult, load_dataset, load_table
from icpkit.ingest.contract import with_contract
from icpkit.report import render_report
from icpkit.score import score_table
from icpkit.size import Sizing, parse_sam, size_universe
from icpkit.validate import ValidationReport, validate

__all__ = ["demo", "sample_path"]

SAMPLE_SAM = "country in United States,Canada"


def sample_path(name: str) -> Path:
    """Path of one file of the bundled sample (companies.csv.gz, deals.csv.gz, leads.parquet, universe.parquet)."""
    return Path(str(resources.files("icpkit") / "data" / "sample" / name))


def _rule(title: str) -> None:
    console.rule(f"[bold]{title}", align="left")


@app.command()
def demo(
    out: Path = typer.Option(Path("icpkit-demo"), "--out", "-o", help="Folder for the spec, scores and lists."),
) -> None:
    """Run icpkit end to end on the bundled sample CRM export (HubSpot-style companies and deals)."""
    companies, deals = sample_path("companies.csv.gz"), sample_path("deals.csv.gz")

    _rule("1. Ingest")
    loaded = load_dataset(companies, deals)
    report = loaded.report
    console.print(f"preset: {escape(report.preset.name)} — {escape(report.preset.reason)}", highlight=False)
    tables = Table(show_header=True)
    for col in ("table", "file", "rows", "columns", "outcomes"):
        tables.add_column(col)
    for t in report.tables.values():
        outcome = ", ".join(f"{k} {v:,}" for k, v in (t.outcomes or {}).items())
        if t.churned is not None:
            outcome = ", ".join(x for x in (outcome, f"churned {t.churned:,}") if x)
        tables.add_row(t.table, Path(t.source).name, f"{t.rows:,}", str(len(t.columns)), outcome)
    console.print(tables)
    kinds = loaded.dataset.kinds.get("accounts", {})
    console.print(
        "account attributes: " + ", ".join(f"{c} ({k})" for c, k in kinds.items()), highlight=False, soft_wrap=True
    )

    _rule("2. Build the ICP")
    with progress_bar() as tell:
        result = ICPBuilder(name="sample-icp", progress=tell).fit(loaded.dataset)
    spec = with_contract(result.spec, loaded, result)  # the data: section, as `icpkit build` writes it
    spec_path = write_text(spec.to_yaml(), out / "icp.yaml")
    write_csv(result.candidates, out / "evidence.csv")
    _print_summary(result, build_summary(result, out=spec_path))
    console.print(f"spec → {spec_path}", highlight=False, soft_wrap=True)

    _rule("3. Score inbound leads")
    leads = load_table(sample_path("leads.parquet"), "leads").table
    scored = score_table(spec, leads, as_of=spec.as_of)
    counts: dict[str, int] = {}
    for tier in scored.column("tier").to_pylist():
        counts[tier] = counts.get(tier, 0) + 1
    scored_path = write_csv(scored, out / "scored_leads.csv")
    order = ("tier1", "tier2", "tier3", "none", "excluded")
    console.print(
        f"{leads.num_rows:,} leads: " + ", ".join(f"{t} {counts.get(t, 0):,}" for t in order), highlight=False
    )
    fit = counts.get("tier1", 0) + counts.get("tier2", 0)
    console.print(f"tiers 1–2 (routed to sales): {fit / max(leads.num_rows, 1):.0%} of inbound", highlight=False)
    console.print(f"scores → {scored_path}", highlight=False, soft_wrap=True)
    sizing = _size(result, loaded, out)
    validation = _validate(loaded, leads, sizing)
    _rule("6. Report")
    html = render_report(result, validation=validation, sizing=sizing, title="Ideal Customer Profile — sample")
    report_path = write_text(html, out / "icp-report.html")
    console.print(f"one-page ICP with evidence appendix → {report_path}", highlight=False, soft_wrap=True)
    console.print(f"target list → {out / 'target_accounts.csv'}", highlight=False, soft_wrap=True)


def _validate(loaded: LoadResult, leads: pa.Table, sizing: Sizing) -> ValidationReport:
    _rule("5. Validate on held-out data")
    with progress_bar() as tell:
        tell("backtesting: rebuilding on the past, judging on later deals", 0.0)
        validation = validate(loaded.dataset, leads=leads, sizing=sizing)
    for v in validation.verdicts:
        mark = {"pass": "[green]✓[/]", "fail": "[red]✗[/]", "weak": "[yellow]~[/]"}.get(str(v.status), "·")
        console.print(f"{mark} {escape(v.message)}", highlight=False)
    return validation


def _size(result: BuildResult, loaded: LoadResult, out: Path) -> Sizing:
    _rule("4. Size the market")
    universe = load_table(sample_path("universe.parquet"), "universe").table
    # The sample company sells in North America: that is its serviceable market (SAM) inside the universe (TAM).
    sam = [parse_sam(SAMPLE_SAM)]
    console.print(f"serviceable market: --sam '{SAMPLE_SAM}'", highlight=False)
    sizing = size_universe(result.spec, universe, sam=sam, accounts=loaded.dataset.accounts, deals=loaded.dataset.deals)
    steps = Table(show_header=True)
    steps.add_column("step")
    steps.add_column("companies", justify="right")
    steps.add_column("of previous", justify="right")
    for step in sizing.report.steps:
        share = f"{step.share:.0%}" if step.share is not None else ""
        steps.add_row(escape(step.label), f"{step.count:,}", share)
    console.print(steps)
    health = sizing.report.health
    console.print(f"{escape(health.message)}", highlight=False)
    for line in health.suggestions:
        console.print(f"  · {escape(line)}", highlight=False)
    write_csv(sizing.targets, out / "target_accounts.csv")
    return sizing
