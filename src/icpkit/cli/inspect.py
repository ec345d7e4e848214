"""``icpkit inspect``: what icpkit understood of a CRM export, before anything is built from it.

Reads the files exactly as ``build`` does (``load_dataset``) and prints the preset and why, each header's
canonical name, column types, row and outcome counts, coverage, every problem, and the fields a build would leave
out as leakage (by rule and by evidence) with the reason. Bad input exits 2 through the one error boundary in
``icpkit.cli``, with the problems of every file at once: ``load_dataset`` still reads and checks the other files
when one is missing, unreadable or lacks a required column.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from icpkit.cli import app, console
from icpkit.cli._common import load_exports, parse_date_option
from icpkit.discover.builder import leakage_of
from icpkit.discover.leakage import LeftOutField
from icpkit.ingest import IngestReport

__all__ = ["inspect"]


@app.command()
def inspect(
    accounts: Path = typer.Option(..., "--accounts", "-a", help="Accounts / companies export."),
    deals: Path | None = typer.Option(None, "--deals", "-d", help="Deals / opportunities export."),
    subscriptions: Path | None = typer.Option(None, "--subscriptions", "-s", help="Subscriptions export."),
    leads: Path | None = typer.Option(None, "--leads", "-l", help="Leads to score."),
    preset: str | None = typer.Option(
        None, "--preset", "-p", help="hubspot, salesforce, pipedrive or generic (default: detected from headers)."
    ),
    mapping: list[str] = typer.Option(
        [], "--map", "-m", help="'Source Header=canonical_name' (repeatable) or a mapping .yaml file."
    ),
    stage_map: list[str] = typer.Option([], "--stage-map", help="'Stage name=won|lost|open' (repeatable)."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of the files (default: detected)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="End of the history (default: its latest event that has happened)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Show how icpkit reads your CRM exports: preset, column mapping, types, outcomes, coverage, problems."""
    result = load_exports(
        accounts,
        deals,
        subscriptions,
        leads,
        preset=preset,
        mapping=mapping,
        stage_map=stage_map,
        encoding=encoding,
        as_of=parse_date_option(as_of, "--as-of"),
    )
    leaks, why_rules_only = leakage_of(result.dataset)
    if as_json:
        data = json.loads(result.report.model_dump_json())
        data["leakage"] = [f.model_dump() for f in leaks]
        data["leakage_note"] = why_rules_only
        typer.echo(json.dumps(data, indent=2))
        return
    print_report(result.report)
    print_leakage(leaks, why_rules_only)


def print_leakage(leaks: list[LeftOutField], note: str | None = None) -> None:
    """The fields a build leaves out because they record the outcome, with the reason and how to keep one."""
    if not leaks:
        console.print("[bold]Leakage:[/] no account field records the outcome" + (f" ({note})" if note else ""))
        return
    table = Table(
        title="Left out of discovery as leakage: they record the outcome (--allow FIELD brings one back)",
        title_justify="left",
    )
    for col in ("field", "found by", "why"):
        table.add_column(col)
    for f in leaks:
        table.add_row(escape(f.field), "rule" if f.kind == "leakage_rule" else "evidence", escape(f.reason))
    console.print(table)
    if note:
        console.print(f"  {escape(note)}", soft_wrap=True)


def print_report(report: IngestReport) -> None:
    """Render the report for a person at a terminal."""
    p = report.preset
    how = "forced" if p.forced else "detected"
    console.print(f"[bold]Preset:[/] {p.name} ({how}) — {escape(p.reason)}", soft_wrap=True)
    if report.mapping_sources:
        console.print(f"[bold]Mapping:[/] {escape(', '.join(report.mapping_sources))}", soft_wrap=True)
    if report.stage_map:
        shown = ", ".join(f"{k}={v}" for k, v in report.stage_map.items())
        console.print(f"[bold]Stage map:[/] {escape(shown)}", soft_wrap=True)
    why = f" — {report.as_of_reason}" if report.as_of_reason else ""
    console.print(f"[bold]as_of:[/] {report.as_of or '(no event dates in the data)'}{escape(why)}", soft_wrap=True)
    for name, t in report.tables.items():
        title = f"{name}: {t.source} ({t.format}"
        title += f", {t.encoding}" if t.encoding else ""
        title += f", sheet {t.sheet}" if t.sheet else ""
        title += f") — {t.rows:,} rows" + (f" of {t.rows_read:,} read" if t.rows != t.rows_read else "")
        grid = Table(title=escape(title), title_justify="left", show_lines=False)
        for col in ("source header", "column", "from", "type", "coverage"):
            grid.add_column(col, justify="right" if col == "coverage" else "left")
        for c in t.columns:
            origin = "extra attribute" if c.origin == "extra" else c.origin
            grid.add_row(
                escape(c.source) if c.source is not None else "—",
                escape(c.name),
                origin,
                c.kind,
                f"{c.coverage:.0%}",
            )
        console.print(grid)
        if t.dropped_headers:
            console.print(f"  dropped: {escape(', '.join(t.dropped_headers))}")
        if t.outcomes is not None:
            o = t.outcomes
            console.print(f"  outcomes: won {o['won']:,} / lost {o['lost']:,} / open {o['open']:,}")
        if t.churned is not None:
            console.print(f"  churned accounts: {t.churned:,}")
    if report.problems:
        console.print(f"[bold]Problems ({len(report.problems)}):[/]")
        for prob in report.problems:
            tag = "[red]error[/]" if prob.severity == "error" else "[yellow]warning[/]"
            console.print(f"  {tag} {escape(str(prob))}", soft_wrap=True)
    else:
        console.print("[green]No problems found.[/]")
