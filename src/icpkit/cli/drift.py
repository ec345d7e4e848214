"""``icpkit drift``, ``icpkit recalibrate`` and ``icpkit diff``: is the ICP in force still right, a candidate from
recent data, and what changes between two versions.

Thin: files are read with ``load_dataset`` exactly as ``build`` reads them, the work is ``icpkit.drift.check_drift``,
``ICPBuilder`` and ``icpkit.diff``; this module parses options, talks to the store and prints. ``drift`` exits 0
when the ICP is stable (or when drift is found without ``--fail-on-drift``), 1 with ``--fail-on-drift`` and drift
found, 2 on bad input, so a scheduler can run it quarterly.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from icpkit.cli import app, console, err_console
from icpkit.cli._common import json_stdout, load_exports, parse_date_option, parse_segments_option
from icpkit.cli._progress import progress_bar
from icpkit.cli.store import store_option
from icpkit.diff import SpecDiff, TierMigration, diff_specs, tier_migration
from icpkit.discover import ICPBuilder
from icpkit.drift import DriftReport, DriftThresholds, check_drift, with_behavior
from icpkit.drift.funnel import STEP_NAMES
from icpkit.errors import InputError, StoreError
from icpkit.ingest import LoadResult, TableKind
from icpkit.ingest.contract import enforce, read_table, with_contract
from icpkit.segments import SegmentFinder
from icpkit.spec.io import load_spec
from icpkit.spec.model import ICPSpec
from icpkit.store import Store, VersionRecord, data_fingerprint

__all__ = ["diff", "drift", "print_diff", "print_drift", "recalibrate"]

_COLOURS = {"stable": "green", "review": "yellow", "rebuild": "red"}


# ------------------------------------------------------------------------------------------------- helpers


def _load(
    accounts: Path,
    deals: Path | None,
    subscriptions: Path | None,
    leads: Path | None,
    *,
    preset: str | None,
    mapping: list[str],
    stage_map: list[str],
    as_json: bool,
    as_of: dt.date | None = None,
) -> LoadResult:
    """The exports, with outcomes derived from subscriptions as of ``as_of`` (the history's end when None)."""
    guard = json_stdout(as_json)
    with guard:
        return load_exports(
            accounts, deals, subscriptions, leads, preset=preset, mapping=mapping, stage_map=stage_map, as_of=as_of
        )


def _with_leads(loaded: LoadResult, leads: Path | None, icp: ICPSpec, mapping: list[str], as_json: bool) -> None:
    """Read the leads on their own, as the spec's data contract says, into ``loaded``'s dataset.

    Read together with the history, a leads file's headers took part in choosing the preset of the accounts and
    deals (a Parquet of canonical names made a HubSpot deals file fail); read through the contract they are named,
    typed and split exactly as ``score`` reads them.
    """
    if leads is None:
        return
    with json_stdout(as_json):
        read = read_table(leads, TableKind.LEADS, spec=icp, mapping=mapping or None)
    for line in enforce(read.mismatches, strict=False, path=read.path):
        err_console.print(f"warning: {escape(line)}", highlight=False, soft_wrap=True)
    loaded.dataset.leads = read.table
    loaded.dataset.kinds["leads"] = dict(read.kinds)
    if read.path is not None:
        loaded.dataset.sources["leads"] = read.path


def _spec_in_force(spec: Path | None, store: Path) -> tuple[ICPSpec, VersionRecord | None]:
    """``--spec`` when given, else the store's promoted version."""
    if spec is not None:
        return load_spec(spec), None
    got = Store(store).promoted()
    if got is None:
        raise InputError(f"no --spec given and no version promoted in the store {store} (icpkit promote VERSION)")
    rec, icp = got
    return icp, rec


def _benchmarks(values: list[str]) -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    for item in values:
        name, _, rng = item.partition("=")
        name = name.strip().lower().replace("->", "_to_").replace("-", "_")
        if name not in STEP_NAMES:
            raise InputError(f"--benchmark '{item}': the step must be one of {', '.join(STEP_NAMES)}")
        try:
            lo, hi = (float(x.strip().rstrip("%")) for x in rng.split("-", 1))
        except ValueError:
            raise InputError(f"--benchmark '{item}': write it as {name}=LOW-HIGH, e.g. mql_to_sql=0.12-0.18") from None
        if lo > 1 or hi > 1:
            lo, hi = lo / 100, hi / 100
        if not 0 <= lo <= hi <= 1:
            raise InputError(f"--benchmark '{item}': need 0 <= low <= high <= 1 (or percentages)")
        out[name] = (lo, hi)
    return out


def _fmt(x: float | None, pattern: str = "{:.2f}") -> str:
    return "—" if x is None else pattern.format(x)


# --------------------------------------------------------------------------------------------------- drift


@app.command()
def drift(
    accounts: Path = typer.Option(..., "--accounts", "-a", help="Accounts export, up to the newest period."),
    deals: Path | None = typer.Option(None, "--deals", "-d", help="Deals export (win rates, decay)."),
    subscriptions: Path | None = typer.Option(None, "--subscriptions", "-s", help="Subscriptions export."),
    leads: Path | None = typer.Option(None, "--leads", "-l", help="Leads with funnel stages and creation dates."),
    spec: Path | None = typer.Option(None, "--spec", help="ICP spec to check (default: the store's promoted one)."),
    store: Path = store_option(),
    preset: str | None = typer.Option(None, "--preset", "-p", help="hubspot, salesforce, pipedrive or generic."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    stage_map: list[str] = typer.Option([], "--stage-map", help="'Stage name=won|lost|open' (repeatable)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="End of the new period (default: the last event that happened in the data)."
    ),
    period_months: int = typer.Option(3, "--period-months", min=1, help="Length of the new period."),
    reference_months: int = typer.Option(12, "--reference-months", min=1, help="Window before it to compare with."),
    alpha: float = typer.Option(0.01, "--alpha", min=1e-6, max=0.5, help="Family-wise error of each check."),
    psi_review: float = typer.Option(0.10, "--psi-review", help="PSI above which to review."),
    psi_rebuild: float = typer.Option(0.25, "--psi-rebuild", help="PSI above which to rebuild."),
    benchmark: list[str] = typer.Option([], "--benchmark", help="Funnel benchmark, e.g. mql_to_sql=0.12-0.18."),
    fit_tier: list[str] = typer.Option([], "--fit-tier", help="Tiers that count as fit (default tier1, tier2)."),
    fail_on_drift: bool = typer.Option(False, "--fail-on-drift", help="Exit 1 unless the verdict is stable."),
    record: bool = typer.Option(True, "--record/--no-record", help="Keep the run summary in the store."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
) -> None:
    """Check the ICP in force against the newest period: decay, divergence, churn, funnel, score shift, verdict."""
    when = parse_date_option(as_of, "--as-of")
    if psi_rebuild < psi_review:
        raise InputError(f"--psi-rebuild ({psi_rebuild}) must be at least --psi-review ({psi_review})")
    bad_tiers = [t for t in fit_tier if t not in ("tier1", "tier2", "tier3")]
    if bad_tiers:
        raise InputError(f"--fit-tier must be tier1, tier2 or tier3, got {', '.join(bad_tiers)}")
    thresholds = DriftThresholds(
        period_months=period_months,
        reference_months=reference_months,
        alpha=alpha,
        psi_review=psi_review,
        psi_rebuild=psi_rebuild,
        benchmarks={**DriftThresholds().benchmarks, **_benchmarks(benchmark)},
        fit_tiers=tuple(fit_tier) or ("tier1", "tier2"),
    )
    icp, rec = _spec_in_force(spec, store)
    loaded = _load(
        accounts, deals, subscriptions, None, preset=preset, mapping=mapping, stage_map=stage_map, as_json=as_json,
        as_of=when,
    )  # fmt: skip
    _with_leads(loaded, leads, icp, mapping, as_json)
    with progress_bar(not as_json) as tell:
        report = check_drift(
            icp,
            loaded.dataset,
            as_of=when,
            thresholds=thresholds,
            cohort_params=rec.params if rec is not None else None,
            progress=tell,
        )
    if record and (rec is not None or Store(store).exists()):
        try:
            Store(store).record_run("drift", spec_hash=report.spec_hash, summary=report.summary())
        except StoreError as exc:
            report.notes.append(f"run not recorded: {exc}")
    if as_json:
        typer.echo(report.model_dump_json(indent=2))
    else:
        print_drift(report, rec)
    if fail_on_drift and report.drifted:
        raise typer.Exit(1)


def print_drift(report: DriftReport, rec: VersionRecord | None = None) -> None:
    """The report for a person at a terminal."""
    colour = _COLOURS[report.verdict]
    which = f"v{rec.version} {rec.short_hash}" if rec is not None else report.spec_hash[:10]
    console.print(
        f"[bold]ICP {escape(report.spec_name)}[/] ({which}, built as of {report.spec_as_of or '?'}) — "
        f"period {report.period_start} to {report.as_of}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(f"verdict: [bold {colour}]{report.verdict.upper()}[/]")
    for reason in report.reasons:
        console.print(f"  • {escape(reason)}", highlight=False, soft_wrap=True)

    if report.decay:
        t = Table(title="Criterion decay (lift now vs build / reference window)", title_justify="left")
        for col in ("criterion", "points", "signal lift build→now", "win lift ref→now", "p adj", "status"):
            t.add_column(col, justify="right" if col in ("points", "p adj") else "left")
        for d in report.decay:
            sig = f"{_fmt(d.build_signal.lift if d.build_signal else None)} → {_fmt(d.now_signal.lift)}"
            win = (
                f"{_fmt(d.reference_win.lift)} → {_fmt(d.now_win.lift)}"
                if d.reference_win is not None and d.now_win is not None
                else "—"
            )
            style = "red" if d.drifted else "green" if d.status == "holds" else "dim"
            t.add_row(escape(d.text), str(d.points), sig, win, _fmt(d.p_adjusted, "{:.3g}"), f"[{style}]{d.status}[/]")
        console.print(t)
    div = report.divergence
    if div.icp_win_rate is not None:
        console.print(
            f"Win rate in the period: ICP {div.icp_win_rate:.0%} ({div.icp_won}/{div.icp_closed}), off-ICP "
            f"{_fmt(div.off_win_rate, '{:.0%}')} ({div.off_won}/{div.off_closed}); {div.tested} off-ICP segments "
            f"tested, {len(div.segments)} match or beat the ICP",
            highlight=False,
            soft_wrap=True,
        )
    ch = report.churn
    if ch.baseline_rate is not None and ch.fit is not None:
        console.print(
            f"Churn in the period: baseline {ch.baseline_rate:.1%} ({ch.baseline_churned}/{ch.baseline_at_risk}), "
            f"fit customers {_fmt(ch.fit.churn_rate, '{:.1%}')} ({ch.fit.churned}/{ch.fit.at_risk})",
            highlight=False,
            soft_wrap=True,
        )
    if report.funnel.steps:
        quarters = [q.quarter for q in report.funnel.steps[0].quarters]
        t = Table(title=f"Funnel conversion ({report.funnel.mode})", title_justify="left")
        t.add_column("step")
        t.add_column("benchmark")
        for q in quarters:
            t.add_column(q, justify="right")
        for s in report.funnel.steps:
            cells = [
                ("[red]" if q.below else "")
                + (_fmt(q.rate, "{:.1%}") + f" of {q.entered}")
                + ("[/]" if q.below else "")
                for q in s.quarters
            ]
            t.add_row(s.label, f"{s.benchmark_low:.0%}–{s.benchmark_high:.0%}", *cells)
        console.print(t)
    sh = report.score_shift
    if sh.psi is not None:
        console.print(
            f"Score shift of new inbound {sh.population} (n={sh.n_new}) vs {sh.reference} (n={sh.n_reference}): "
            f"PSI {sh.psi:.3f} (review > {report.thresholds.psi_review:g}, rebuild > "
            f"{report.thresholds.psi_rebuild:g}), KS {sh.ks_statistic:.3f} p={sh.ks_p:.2g} → {sh.level}",
            highlight=False,
            soft_wrap=True,
        )
    if sh.segment_mix is not None:
        mix = sh.segment_mix
        shares = ", ".join(f"{escape(g.group)} {g.reference_share:.0%} → {g.new_share:.0%}" for g in mix.shares)
        p = f"{mix.chi2_p:.2g}" if mix.chi2_p is not None else "–"
        console.print(f"Segment mix of new inbound: {shares} (PSI {mix.psi:.3f}, chi-square p={p}) → {mix.level}",
                      highlight=False, soft_wrap=True)  # fmt: skip
    if report.segments:
        _print_segments(report)
    for note in report.notes:
        console.print(f"[dim]note: {escape(note)}[/]", highlight=False, soft_wrap=True)


def _print_segments(report: DriftReport) -> None:
    """Every segment checked alone, side by side: verdict, fit accounts, decayed criteria, churn, score shift."""
    t = Table(title="Per segment (the period scored by each segment alone)", title_justify="left")
    t.add_column("")
    for s in report.segments:
        t.add_column(escape(s.segment))
    segs = report.segments
    verdicts = [f"[{_COLOURS[s.verdict]}]{s.verdict}[/]" for s in segs]
    rows = [
        ("verdict", verdicts),
        ("fit accounts (own / best)", [f"{s.fit_accounts:,} / {s.best_accounts:,}" for s in report.segments]),
        ("criteria holding", [f"{sum(d.status == 'holds' for d in s.decay)} of {len(s.decay)}" for s in segs]),
        ("weakened or stopped", [", ".join(escape(d.text) for d in s.decay if d.drifted) or "—"
                                 for s in report.segments]),
        ("fit churn vs baseline", [
            f"{_fmt(s.churn.fit.churn_rate, '{:.1%}')} vs {_fmt(s.churn.baseline_rate, '{:.1%}')}"
            if s.churn.fit is not None else "—" for s in report.segments]),
        ("score shift (PSI)", [f"{_fmt(s.score_shift.psi, '{:.3f}')} → {s.score_shift.level}" for s in segs]),
    ]  # fmt: skip
    for label, cells in rows:
        t.add_row(label, *cells)
    console.print(t)


# ------------------------------------------------------------------------------------------------- recalibrate


@app.command()
def recalibrate(
    accounts: Path = typer.Option(..., "--accounts", "-a", help="Accounts export, up to the newest period."),
    deals: Path | None = typer.Option(None, "--deals", "-d", help="Deals export."),
    subscriptions: Path | None = typer.Option(None, "--subscriptions", "-s", help="Subscriptions export."),
    window_months: int = typer.Option(12, "--window-months", min=1, help="Outcome window of the candidate."),
    spec: Path | None = typer.Option(None, "--spec", help="Spec in force (default: the store's promoted one)."),
    store: Path = store_option(),
    preset: str | None = typer.Option(None, "--preset", "-p", help="hubspot, salesforce, pipedrive or generic."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    stage_map: list[str] = typer.Option([], "--stage-map", help="'Stage name=won|lost|open' (repeatable)."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="End of the history (default: the last event that happened in the data)."
    ),
    segments: str | None = typer.Option(
        None, "--segments", help="'auto' or 1-3 (default: as many segments as the spec in force has)."
    ),
    allow: list[str] = typer.Option(
        [], "--allow", help="Bring back a field left out as leakage (repeatable; default: the version in force's)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the new version and the diff as JSON."),
) -> None:
    """Build a candidate ICP from the recent window, store it as a child of the one in force, show the diff.

    The candidate is not promoted: review the diff, then ``icpkit promote VERSION``. A spec in force with segments
    is rebuilt with segment discovery, and the diff compares segment by segment.
    """
    when = parse_date_option(as_of, "--as-of")
    current, rec = _spec_in_force(spec, store)
    loaded = _load(
        accounts, deals, subscriptions, None, preset=preset, mapping=mapping, stage_map=stage_map, as_json=as_json,
        as_of=when,
    )  # fmt: skip
    builder_params = {
        "window_months": window_months,
        **{
            k: v
            for k, v in (rec.params if rec else {}).items()
            if k in ("top_share", "expansion_is_high_value", "value", "allow")
        },
    }
    if allow:
        builder_params["allow"] = tuple(allow)
    n_segments: int | str = (
        parse_segments_option(segments) if segments is not None else len(current.segments or []) or 1
    )
    with progress_bar(not as_json) as tell:
        builder = ICPBuilder(name=current.name, as_of=when, progress=tell, **builder_params)
        if n_segments == 1:
            result, candidate, notes = builder.fit(loaded.dataset), None, []
        else:
            found = SegmentFinder(builder, n_segments=n_segments, max_segments=max(3, len(current.segments or []))
                                  ).fit(loaded.dataset)  # fmt: skip
            result, candidate, notes = found.base, found.spec, [n for n in found.notes if n.startswith("segments:")]
    candidate = candidate or result.spec
    if not result.no_signal:  # the new version records how these exports were read, as build's do
        candidate = with_contract(candidate, loaded, result, mapping=mapping or None)
    if result.no_signal:
        message = result.notes[0] if result.notes else "no reliable ICP signal in the recent window"
        if as_json:
            typer.echo(json.dumps({"stored": None, "no_signal": True, "notes": result.notes}, indent=2))
        else:
            console.print(f"[yellow]{escape(message)}[/] Nothing stored.", soft_wrap=True)
        raise typer.Exit(1)
    parent = current.content_hash()
    params: dict[str, Any] = {**builder_params, "as_of": result.cohorts.as_of.isoformat(), "recalibrated_from": parent}
    new = Store(store).save_version(
        candidate,
        data_fingerprint=data_fingerprint(loaded.dataset),
        params=params,
        kind="recalibrate",
        parent=parent,
    )
    d = diff_specs(current, candidate)
    if as_json:
        out = {"stored": json.loads(new.model_dump_json()), "diff": json.loads(d.model_dump_json())}
        typer.echo(json.dumps(out, indent=2))
        return
    same = " (identical to a stored version)" if new.hash == parent else ""
    console.print(
        f"candidate stored as v{new.version} {new.short_hash}{same}, parent {parent[:10]}; not promoted",
        highlight=False,
    )
    for note in notes:
        console.print(f"  · {escape(note)}", highlight=False, soft_wrap=True)
    print_diff(d)
    if not d.empty:
        console.print(f"to put it in force: icpkit promote {new.version}", highlight=False)


# ----------------------------------------------------------------------------------------------------- diff


def _resolve(ref: str, store: Path) -> tuple[ICPSpec, str]:
    """A spec file, or a store version (number, hash prefix, latest, promoted)."""
    p = Path(ref)
    if p.suffix.lower() in (".yaml", ".yml") or p.exists():
        return load_spec(p), p.name
    rec, icp = Store(store).get(ref)
    return icp, f"v{rec.version} {rec.short_hash}"


@app.command()
def diff(
    old: str = typer.Argument(..., help="Old spec: a .yaml file, or a store version / hash / 'promoted'."),
    new: str = typer.Argument(..., help="New spec: a .yaml file, or a store version / hash / 'latest'."),
    accounts: Path | None = typer.Option(None, "--accounts", "-a", help="Accounts to show the tier migration for."),
    deals: Path | None = typer.Option(None, "--deals", "-d", help="Deals (behavioural criteria) for --accounts."),
    store: Path = store_option(),
    preset: str | None = typer.Option(None, "--preset", "-p", help="Preset for the accounts' headers."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Scoring date of both specs (default: the later of their as_of dates)."
    ),
    top: int = typer.Option(10, "--top", min=0, help="Biggest movers to list."),
    as_json: bool = typer.Option(False, "--json", help="Print the diff (and migration) as JSON."),
) -> None:
    """What changes between two ICP versions: criteria, exclusions, tiers, routing; with --accounts, tier moves."""
    a, a_name = _resolve(old, store)
    b, b_name = _resolve(new, store)
    d = diff_specs(a, b)
    migration = None
    if accounts is not None:
        loaded = _load(accounts, deals, None, None, preset=preset, mapping=mapping, stage_map=[], as_json=as_json)
        ds = loaded.dataset
        when = parse_date_option(as_of, "--as-of")
        table = ds.accounts
        # one scoring date for both, so a trigger window cannot pass for a change of the ICP
        dates = [x for x in (a.as_of, b.as_of) if x is not None]
        ref = when or (max(dates) if dates else None)
        if ds.deals is not None and ref is not None:
            table = with_behavior(table, ds.deals, ref)
        migration = tier_migration(a, b, table, as_of=ref, top=top)
    if as_json:
        out: dict[str, Any] = {"old": a_name, "new": b_name, "diff": json.loads(d.model_dump_json())}
        out["empty"] = d.empty
        if migration is not None:
            out["migration"] = json.loads(migration.model_dump_json())
        typer.echo(json.dumps(out, indent=2))
        return
    console.print(f"[bold]{escape(a_name)}[/] → [bold]{escape(b_name)}[/]", highlight=False)
    print_diff(d)
    if migration is not None:
        print_migration(migration)


def print_diff(d: SpecDiff, indent: str = "") -> None:
    """The diff for a person at a terminal: one line per criterion, exclusion or threshold that changed."""
    console.print(indent + d.summary(), highlight=False)
    if d.empty:
        return
    _print_personas(d, indent)
    if d.segments or d.segments_added or d.segments_removed:
        for name in d.segments_added:
            console.print(f"  [green]+ segment {escape(name)}[/]", highlight=False)
        for name in d.segments_removed:
            console.print(f"  [red]- segment {escape(name)}[/]", highlight=False)
        for seg in d.segments:
            title = seg.new if seg.old == seg.new else f"{seg.old} → {seg.new}"
            console.print(f"  [bold]segment {escape(title)}[/]:", highlight=False)
            print_diff(seg.diff, indent="    ")
        if d.as_of:
            console.print(f"  as_of: {d.as_of.old} → {d.as_of.new}", highlight=False)
        return
    for e in d.added:
        console.print(f"{indent}  [green]+ {escape(e.text)}[/] ({e.layer}, {e.points} pts)", highlight=False,
                      soft_wrap=True)  # fmt: skip
    for e in d.removed:
        console.print(f"{indent}  [red]- {escape(e.text)}[/] ({e.layer}, {e.points} pts)", highlight=False,
                      soft_wrap=True)  # fmt: skip
    for c in d.changed:
        what = "; ".join(c.changes)
        console.print(f"{indent}  [yellow]~ {escape(c.new_text)}[/]: {escape(what)}", highlight=False, soft_wrap=True)
    for e in d.exclusions_added:
        console.print(f"{indent}  [green]+ exclude {escape(e.text)}[/]", highlight=False, soft_wrap=True)
    for e in d.exclusions_removed:
        console.print(f"{indent}  [red]- exclude {escape(e.text)}[/]", highlight=False, soft_wrap=True)
    for c in d.exclusions_changed:
        what = "; ".join(c.changes)
        console.print(f"{indent}  [yellow]~ exclude {escape(c.new_text)}[/]: {escape(what)}", highlight=False,
                      soft_wrap=True)  # fmt: skip
    if d.tiers:
        console.print(f"{indent}  tiers: " + ", ".join(f"{t.name} {t.old} → {t.new}" for t in d.tiers),
                      highlight=False)  # fmt: skip
    if d.routing:
        console.print(f"{indent}  routing: " + ", ".join(f"{t.name} {t.old} → {t.new}" for t in d.routing),
                      highlight=False)  # fmt: skip
    if d.as_of:
        console.print(f"{indent}  as_of: {d.as_of.old} → {d.as_of.new}", highlight=False)
    if d.criteria_reordered:
        console.print(f"{indent}  criteria reordered (explanation ids change)", highlight=False)


def _print_personas(d: SpecDiff, indent: str) -> None:
    for text in d.personas_added:
        console.print(f"{indent}  [green]+ persona {escape(text)}[/]", highlight=False, soft_wrap=True)
    for text in d.personas_removed:
        console.print(f"{indent}  [red]- persona {escape(text)}[/]", highlight=False, soft_wrap=True)
    for c in d.personas_changed:
        line = f"{indent}  [yellow]~ persona {c.name}: {escape(c.new)}[/] (was: {escape(c.old)})"
        console.print(line, highlight=False, soft_wrap=True)
    if d.personas_reordered:
        console.print(f"{indent}  personas reordered (the first matching persona wins)", highlight=False)
    if d.persona_fields:
        moves = ", ".join(f"{t.name} {t.old} → {t.new}" for t in d.persona_fields)
        console.print(f"{indent}  persona fields: {moves}", highlight=False)
    if d.routing_rules:
        for label, rules in (("old", d.routing_rules.old), ("new", d.routing_rules.new)):
            text = "; ".join(rules) or "none"
            console.print(f"{indent}  routing rules ({label}): {escape(text)}", highlight=False, soft_wrap=True)


def print_migration(m: TierMigration) -> None:
    t = Table(title=f"Tier migration of {m.accounts:,} accounts (rows: old, columns: new)", title_justify="left")
    t.add_column("old \\ new")
    for name in m.tiers:
        t.add_column(name, justify="right")
    for i, name in enumerate(m.tiers):
        t.add_row(name, *[(f"[bold]{v:,}[/]" if i == j else f"{v:,}") for j, v in enumerate(m.matrix[i])])
    console.print(t)
    console.print(f"{m.moved:,} accounts change tier: {m.up:,} up, {m.down:,} down", highlight=False)
    if m.movers:
        mv = Table(title="Biggest movers", title_justify="left")
        for col in ("account", "name", "old", "new"):
            mv.add_column(col)
        for x in m.movers:
            mv.add_row(escape(x.id), escape(x.name or ""), f"{x.old_score} {x.old_tier}", f"{x.new_score} {x.new_tier}")
        console.print(mv)
