"""``icpkit validate``: backtest the ICP on held-out data, check its narrowness, and give plain-words verdicts.

Thin: reads the files (``load_dataset`` / ``load_table``), calls :func:`icpkit.validate.validate`, prints the
figures (or ``--json``: the ``ValidationReport`` model). Exit code 1 when a gating check fails and ``--strict``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import typer
from rich.markup import escape
from rich.table import Table

from icpkit.cli import app, console, err_console
from icpkit.cli._common import load_exports, parse_date_option, parse_segments_option
from icpkit.cli._progress import progress_bar
from icpkit.cohorts import TOP_SHARE
from icpkit.discover import BuildResult, ICPBuilder
from icpkit.errors import InputError, InsufficientSignalError
from icpkit.ingest import TableKind
from icpkit.ingest.contract import contract_from_load, enforce, read_table
from icpkit.ingest.schema import Dataset
from icpkit.spec.io import load_spec
from icpkit.spec.model import ICPSpec
from icpkit.validate import GATING, Figure, HoldoutFigures, SegmentValidation, ValidationReport, validate

__all__ = ["Inputs", "load_inputs", "print_validation", "run_validation", "validate_command"]

_MARK = {"pass": "[green]✔[/]", "weak": "[yellow]~[/]", "fail": "[red]✘[/]", "unknown": "?"}
_STATUS = {"pass": "[green]✔ pass[/]", "weak": "[yellow]~ weak[/]", "fail": "[red]✘ fail[/]", "unknown": "? unknown"}


@dataclass
class Inputs:
    """Everything a validate or report run reads from disk."""

    dataset: Dataset
    spec: ICPSpec | None
    leads: pa.Table | None
    universe: pa.Table | None


def load_inputs(
    accounts: Path,
    deals: Path | None,
    subscriptions: Path | None,
    *,
    spec: Path | None,
    leads: Path | None,
    universe: Path | None,
    preset: str | None,
    mapping: list[str],
    stage_map: list[str],
    encoding: str | None,
    universe_map: list[str],
    as_of: dt.date | None = None,
) -> Inputs:
    loaded = load_exports(
        accounts, deals, subscriptions, preset=preset, mapping=mapping, stage_map=stage_map, encoding=encoding,
        as_of=as_of,
    )  # fmt: skip
    icp = load_spec(spec) if spec is not None else None
    # leads and the universe are read as the spec's data contract says; without a spec, as the accounts just were
    contract = icp.data if icp is not None and icp.data is not None else contract_from_load(loaded, mapping=mapping)
    read_leads = read_universe = None
    if leads is not None:
        read_leads = read_table(leads, TableKind.LEADS, spec=icp, mapping=mapping or None, contract=contract)
    if universe is not None:
        read_universe = read_table(
            universe, TableKind.UNIVERSE, spec=icp, mapping=universe_map or None, contract=contract, follow_preset=False
        )
    for read in (read_leads, read_universe):
        for line in enforce(read.mismatches if read is not None else [], strict=False, path=read and read.path):
            err_console.print(f"warning: {escape(line)}", highlight=False, soft_wrap=True)
    return Inputs(
        dataset=loaded.dataset,
        spec=icp,
        leads=read_leads.table if read_leads is not None else None,
        universe=read_universe.table if read_universe is not None else None,
    )


def builder_params(
    name: str, window_months: int, top_share: float, min_support: int, fdr: float, min_signal: int
) -> dict[str, Any]:
    return {
        "name": name,
        "window_months": window_months,
        "top_share": top_share,
        "min_support": min_support,
        "fdr": fdr,
        "min_signal": min_signal,
    }


def full_build(dataset: Dataset, params: dict[str, Any], tell: Any = None) -> tuple[BuildResult | None, str | None]:
    """The build on all the data (the spec under test when none is given), or the reason there is none."""
    try:
        return ICPBuilder(**params, progress=tell).fit(dataset), None
    except InsufficientSignalError as exc:
        return None, str(exc)


def run_validation(
    inputs: Inputs, params: dict[str, Any], *, folds: int | None, cutoff: str | None, held_share: float, seed: int,
    build: BuildResult | None = None, sizing: Any = None, segments: int | str | None = None,
    as_of: dt.date | None = None,
) -> ValidationReport:  # fmt: skip
    """The Python API call behind ``validate`` (and the report's headline figures)."""
    return validate(
        inputs.dataset,
        spec=inputs.spec,
        full_build=build,
        method="kfold" if folds else "time",
        cutoff=parse_date_option(cutoff, "--cutoff"),
        held_share=held_share,
        folds=folds or 5,
        seed=seed,
        builder=params,
        leads=inputs.leads,
        universe=inputs.universe if sizing is None else None,
        sizing=sizing,
        segments=segments,
        as_of=as_of,
    )


def _fig(f: Figure, kind: str) -> str:
    if f.value is None:
        return "–"
    if kind == "rate":
        text = f"{f.value:.1%}"
        ci = f" ({f.low:.1%}–{f.high:.1%})" if f.low is not None else ""
    elif kind == "days":
        text = f"{f.value:.0f} d"
        ci = f" ({f.low:.0f}–{f.high:.0f})" if f.low is not None else ""
    elif kind == "money":
        text = f"{f.value:,.0f}"
        ci = f" ({f.low:,.0f}–{f.high:,.0f})" if f.low is not None else ""
    else:
        text = f"{f.value:.2f}×"
        ci = f" ({f.low:.2f}–{f.high:.2f})" if f.low is not None else ""
    count = f" n={f.n:,}" + (f", k={f.events:,}" if f.events is not None else "")
    return text + ci + count


_KIND = {"win_rate": "rate", "churn_rate": "rate", "nrr": "rate", "cycle_days": "days", "deal_size": "money"}


def _figures_table(figs: HoldoutFigures) -> Table:
    title = f"{figs.label}: {figs.judged:,} held-out accounts, {figs.fit:,} fit ({'+'.join(figs.fit_tiers)})"
    table = Table(title=escape(title), title_justify="left")
    for col in ("measure", "fit", "non-fit", "fit vs non-fit"):
        table.add_column(col)
    for c in figs.comparisons:
        if not c.available:
            table.add_row(c.label, "[dim]–[/]", "[dim]–[/]", f"[dim]{escape(c.note)}[/]")
            continue
        kind = _KIND[c.metric]
        contrast = ""
        if c.contrast is not None and c.contrast.value is not None:
            if c.contrast_kind == "difference":
                d = c.contrast
                contrast = f"{d.value * 100:+.0f} pts"
                if d.low is not None:
                    contrast += f" ({d.low * 100:+.0f} to {d.high * 100:+.0f})"
            else:
                contrast = _fig(c.contrast, "ratio").split(" n=")[0]
        table.add_row(c.label, _fig(c.fit, kind), _fig(c.non_fit, kind), contrast)
    return table


def _segments_table(rows: list[SegmentValidation]) -> Table:
    """Segments side by side: accounts, fit, win rate and churn of fit vs non-fit, and the gating verdicts."""
    source = "rebuilt (out of sample)" if rows[0].source == "rebuilt" else "spec under test"
    table = Table(title=f"Per segment — {source}: each account in its best segment", title_justify="left")
    for col in ("segment", "accounts", "fit", "win rate fit vs non-fit", "churn fit vs non-fit", "verdicts"):
        table.add_column(col)
    for r in rows:
        cells = []
        for metric in ("win_rate", "churn_rate"):
            c = r.figures.comparison(metric)
            if not c.available or c.contrast is None or c.contrast.value is None:
                cells.append("[dim]–[/]")
                continue
            cells.append(f"{_fig(c.fit, 'rate').split(' (')[0]} vs {_fig(c.non_fit, 'rate').split(' (')[0]} "
                         f"({_fig(c.contrast, 'ratio').split(' n=')[0]})")  # fmt: skip
        share = f" ({r.share:.0%})" if r.share is not None else ""
        marks = " ".join(f"{_MARK[v.status]} {v.check}" for v in r.verdicts if v.check in GATING)
        table.add_row(escape(r.segment), f"{r.accounts:,}{share}", f"{r.figures.fit:,}", *cells, marks)
    return table


def print_validation(report: ValidationReport) -> None:
    """The backtest as Rich tables, then the verdicts and the notes."""
    if report.method == "time":
        share = f" ({report.held_share:.0%} of closed {report.split_basis} after it)" if report.held_share else ""
        console.print(f"[bold]Time split[/]: cutoff {report.cutoff}{share}, data as of {report.as_of}", highlight=False)
    else:
        console.print(f"[bold]Stratified {report.folds}-fold[/], data as of {report.as_of}", highlight=False)
    console.print(
        "held out: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in report.held_out.items()), highlight=False
    )
    for figs in (report.rebuilt, report.under_test):
        if figs is not None:
            console.print(_figures_table(figs))
            if figs.criteria:
                console.print("  criteria: " + escape("; ".join(figs.criteria)), highlight=False)
    for source in ("rebuilt", "under_test"):
        rows = [r for r in report.segments if r.source == source]
        if rows:
            console.print(_segments_table(rows))
    console.print("\n[bold]Verdicts[/]" + (" (overall)" if report.segments else ""))
    for v in report.verdicts:
        console.print(f"  {_STATUS[v.status]} [bold]{v.check}[/]: {escape(v.message)}", highlight=False)
    for r in report.segments:
        label = "rebuilt" if r.source == "rebuilt" else "under test"
        console.print(f"\n[bold]Verdicts for segment {escape(r.segment)}[/] ({label})")
        for v in r.verdicts:
            console.print(f"  {_STATUS[v.status]} [bold]{v.check}[/]: {escape(v.message)}", highlight=False)
    for note in report.notes:
        console.print(f"  · {escape(note)}", highlight=False)
    console.print(
        "\n[bold green]All gating checks pass.[/]" if report.passed else "\n[bold red]A gating check failed.[/]"
    )


@app.command("validate")
def validate_command(
    accounts: Path = typer.Option(..., "--accounts", "-a", help="Accounts / companies export."),
    deals: Path | None = typer.Option(None, "--deals", "-d", help="Deals / opportunities export."),
    subscriptions: Path | None = typer.Option(None, "--subscriptions", help="Subscriptions (ARR, start/end)."),
    spec: Path | None = typer.Option(None, "--spec", "-s", help="Spec under test (default: build on all data)."),
    leads: Path | None = typer.Option(None, "--leads", help="Inbound leads: share reaching tiers 1–2 (5–30%)."),
    universe: Path | None = typer.Option(None, "--universe", help="Company universe: target-list size (500–5,000)."),
    universe_map: list[str] = typer.Option([], "--universe-map", help="Mapping for the universe file."),
    folds: int | None = typer.Option(None, "--folds", min=2, help="Stratified k-fold instead of the time split."),
    cutoff: str | None = typer.Option(None, "--cutoff", help="Time-split date (default: ~27.5% of deals after)."),
    held_share: float = typer.Option(0.275, "--held-share", min=0.05, max=0.8, help="Share held out (time split)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the fold assignment."),
    preset: str | None = typer.Option(None, "--preset", "-p", help="hubspot, salesforce, pipedrive or generic."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    stage_map: list[str] = typer.Option([], "--stage-map", help="'Stage label=won|lost|open' (repeatable)."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of the exports (default: detect)."),
    name: str = typer.Option("icp", "--name", help="Name of the ICP built when no --spec is given."),
    window_months: int = typer.Option(24, "--window-months", min=1, help="Outcome window of the cohorts."),
    top_share: float = typer.Option(TOP_SHARE, "--top-share", min=0.01, max=1.0, help="High value: top share by value"),
    min_support: int = typer.Option(5, "--min-support", min=1, help="Minimum signal accounts per criterion."),
    fdr: float = typer.Option(0.05, "--fdr", min=0.0001, max=0.5, help="False discovery rate."),
    min_signal: int = typer.Option(30, "--min-signal", min=1, help="Fewest high-value accounts to learn from."),
    segments: str | None = typer.Option(
        None, "--segments", help="Rebuild with segment discovery: 'auto' or 1-3 (default: as many as the spec has)."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="End of the history (default: its last event that happened); nothing later is used."
    ),
    allow: list[str] = typer.Option(
        [], "--allow", help="Bring back a field left out as leakage (repeatable; see build's list)."
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when a gating check fails."),
    as_json: bool = typer.Option(False, "--json", help="Print the validation report as JSON."),
) -> None:
    """Backtest the ICP on held-out data (time split or k-fold), with fit vs non-fit figures and verdicts."""
    if held_share and cutoff and folds:
        raise InputError("--cutoff applies to the time split; drop it when using --folds")
    params = builder_params(name, window_months, top_share, min_support, fdr, min_signal) | {"allow": tuple(allow)}
    when = parse_date_option(as_of, "--as-of")
    if when is not None:
        params["as_of"] = when  # the build on all the data ends there too
    n_segments = parse_segments_option(segments) if segments is not None else None
    with progress_bar(not as_json) as tell:
        tell("reading exports", 0.0)
        inputs = load_inputs(
            accounts, deals, subscriptions, spec=spec, leads=leads, universe=universe, preset=preset,
            mapping=mapping, stage_map=stage_map, encoding=encoding, universe_map=universe_map, as_of=when,
        )  # fmt: skip
        build = None
        if inputs.spec is None:
            tell("building on all the data", 0.2)
            build, _ = full_build(inputs.dataset, params)
        tell("backtesting", 0.5)
        report = run_validation(inputs, params, folds=folds, cutoff=cutoff, held_share=held_share, seed=seed,
                                build=build, segments=n_segments, as_of=when)  # fmt: skip
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_validation(report)
    if report.no_signal or (strict and not report.passed):  # no reliable signal exits 1, as in build and report
        raise typer.Exit(1)
