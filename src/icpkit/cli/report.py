"""``icpkit report``: the one-page ICP document with its evidence appendix, as one self-contained HTML file.

Thin: reads the files, runs what the report needs (build on all the data, the held-out validation, the universe
sizing when ``--universe`` is given), calls :func:`icpkit.report.render_report` and writes the HTML atomically.
With ``--spec`` the document shows that spec; the appendix still lists every candidate of a build on the data.
Without ``--spec`` and with no reliable signal the document says so, and the exit code is 1, as ``build``'s.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from icpkit.cli import app, console
from icpkit.cli._common import parse_date_option, parse_segments_option
from icpkit.cli._progress import progress_bar
from icpkit.cli.size import sam_clauses
from icpkit.cli.validate import builder_params, full_build, load_inputs, run_validation
from icpkit.cohorts import TOP_SHARE
from icpkit.csvsafe import check_writable, write_text
from icpkit.discover import ICPBuilder
from icpkit.errors import InputError, InsufficientSignalError
from icpkit.report import render_report
from icpkit.segments import SegmentFinder
from icpkit.spec.model import ICPSpec

__all__ = ["report"]


def _has_criteria(spec: ICPSpec) -> bool:
    return bool(spec.criteria()) or any(seg.criteria() for _, seg in spec.segment_specs())


@app.command()
def report(
    accounts: Path = typer.Option(..., "--accounts", "-a", help="Accounts / companies export."),
    deals: Path | None = typer.Option(None, "--deals", "-d", help="Deals / opportunities export."),
    subscriptions: Path | None = typer.Option(None, "--subscriptions", help="Subscriptions (ARR, start/end)."),
    out: Path = typer.Option(Path("icp-report.html"), "--out", "-o", help="Where to write the report (HTML)."),
    spec: Path | None = typer.Option(None, "--spec", "-s", help="Spec to present (default: build on all data)."),
    leads: Path | None = typer.Option(None, "--leads", help="Inbound leads: share reaching tiers 1–2."),
    universe: Path | None = typer.Option(None, "--universe", help="Company universe: the TAM → SAM → tier funnel."),
    universe_map: list[str] = typer.Option([], "--universe-map", help="Mapping for the universe file."),
    validate_: bool = typer.Option(True, "--validate/--no-validate", help="Backtest on held-out data."),
    folds: int | None = typer.Option(None, "--folds", min=2, help="Stratified k-fold instead of the time split."),
    cutoff: str | None = typer.Option(None, "--cutoff", help="Time-split date (default: ~27.5% of deals after)."),
    preset: str | None = typer.Option(None, "--preset", "-p", help="hubspot, salesforce, pipedrive or generic."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    stage_map: list[str] = typer.Option([], "--stage-map", help="'Stage label=won|lost|open' (repeatable)."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of the exports (default: detect)."),
    name: str = typer.Option("icp", "--name", help="Name of the ICP built when no --spec is given."),
    title: str | None = typer.Option(
        None, "--title", help="Document title (default: 'Ideal Customer Profile — name')."
    ),
    paper: str = typer.Option("A4", "--paper", help="A4 or Letter: the page size when printed."),
    window_months: int = typer.Option(24, "--window-months", min=1, help="Outcome window of the cohorts."),
    top_share: float = typer.Option(TOP_SHARE, "--top-share", min=0.01, max=1.0, help="High value: top share by value"),
    min_support: int = typer.Option(5, "--min-support", min=1, help="Minimum signal accounts per criterion."),
    fdr: float = typer.Option(0.05, "--fdr", min=0.0001, max=0.5, help="False discovery rate."),
    min_signal: int = typer.Option(30, "--min-signal", min=1, help="Fewest high-value accounts to learn from."),
    segments: str | None = typer.Option(
        None, "--segments", help="Build with segment discovery ('auto' or 1-3) when no --spec is given."
    ),
    sam: list[str] = typer.Option([], "--sam", help='SAM filter, e.g. "country in United States,Canada" (repeatable).'),
    sam_file: Path | None = typer.Option(None, "--sam-file", help="YAML list of SAM clauses (or a spec's sam:)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="End of the history (default: its last event that happened); nothing later is used."
    ),
    allow: list[str] = typer.Option(
        [], "--allow", help="Bring back a field left out as leakage (repeatable; see build's list)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary of what was written."),
) -> None:
    """Write the one-page ICP document (sentence, criteria with evidence, exclusions, tiers, held-out figures,
    market funnel) with an appendix of every candidate and charts: self-contained HTML that prints to PDF."""
    paper_size = {"a4": "A4", "letter": "Letter"}.get(paper.lower())
    if paper_size is None:
        raise InputError(f"--paper must be A4 or Letter, got '{paper}'")
    params = builder_params(name, window_months, top_share, min_support, fdr, min_signal) | {"allow": tuple(allow)}
    when = parse_date_option(as_of, "--as-of")
    if when is not None:
        params["as_of"] = when
    clauses = sam_clauses(sam, sam_file)
    if clauses and universe is None:
        raise InputError("--sam filters the universe: give --universe too")
    n_segments = parse_segments_option(segments) if segments is not None else None
    if n_segments is not None and spec is not None:
        raise InputError("--segments builds the spec: drop it when presenting a --spec")
    check_writable(out)  # a read-only folder fails now, not after the build and the backtest
    with progress_bar(not as_json) as tell:
        tell("reading exports", 0.0)
        inputs = load_inputs(
            accounts, deals, subscriptions, spec=spec, leads=leads, universe=universe, preset=preset,
            mapping=mapping, stage_map=stage_map, encoding=encoding, universe_map=universe_map, as_of=when,
        )  # fmt: skip
        tell("building the ICP", 0.1)
        if n_segments in (None, 1):
            build, why_not = full_build(inputs.dataset, params)
        else:  # the single build is part of segment discovery: its base
            try:
                found = SegmentFinder(ICPBuilder(**params), n_segments=n_segments).fit(inputs.dataset)
                build, why_not = found.base, None
                inputs.spec = found.spec if found.segmented else None
            except InsufficientSignalError as exc:
                build, why_not = None, str(exc)
        shown = inputs.spec or (build.spec if build is not None else None)
        sizing = None
        if inputs.universe is not None and shown is not None and _has_criteria(shown):
            from icpkit.size import size_universe

            tell("sizing the universe", 0.4)
            sizing = size_universe(
                shown,
                inputs.universe,
                sam=clauses,
                accounts=inputs.dataset.accounts,
                deals=inputs.dataset.deals,
                as_of=when,
            )
        validation = None
        if validate_:
            tell("backtesting on held-out data", 0.6)
            validation = run_validation(
                inputs, params, folds=folds, cutoff=cutoff, held_share=0.275, seed=0, build=build, sizing=sizing,
                as_of=when,
            )  # fmt: skip
        tell("rendering", 0.9)
        html = render_report(
            build,
            validation,
            sizing,
            spec=inputs.spec,
            accounts=inputs.dataset.accounts,
            insufficient=why_not,
            title=title,
            paper=paper_size,
            sources=[Path(p).name for p in inputs.dataset.sources.values()],
        )
        written = write_text(html, out)
    summary = {
        "out": str(written),
        "bytes": len(html.encode("utf-8")),
        "no_signal": build is None or build.no_signal,
        "validated": validation is not None,
        "passed": validation.passed if validation is not None else None,
        "sized": sizing is not None,
        "segments": [name for name, _ in shown.segment_specs()] if shown is not None else [],
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        state = "no reliable signal — the report says so" if summary["no_signal"] else "ICP with evidence"
        console.print(f"report written → {written} ({state})", highlight=False, soft_wrap=True)
    if spec is None and summary["no_signal"]:  # the document is written, but the check "is there an ICP" failed
        raise typer.Exit(1)
