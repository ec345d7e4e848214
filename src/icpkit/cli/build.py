"""``icpkit build``: CRM history in, an evidence-based ICP spec out.

Thin: reads the files with ``load_dataset`` (exactly as ``inspect`` does), calls ``ICPBuilder``, writes the spec
atomically and prints what was found. When nothing survives the evidence rules it says so and writes nothing,
rather than inventing criteria (exit code 1: the check "is there an ICP signal" failed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from icpkit.cli import app, console, err_console
from icpkit.cli._common import load_exports, parse_date_option, parse_segments_option
from icpkit.cli._progress import progress_bar
from icpkit.cohorts import TOP_SHARE
from icpkit.csvsafe import check_writable, write_csv, write_text
from icpkit.discover import BuildResult, ICPBuilder
from icpkit.discover.builder import LEAKAGE_NOTE
from icpkit.discover.personas import PersonaProposal, propose_personas
from icpkit.errors import IcpkitError, InputError, StoreError
from icpkit.ingest.contract import with_contract
from icpkit.ingest.load import load_table
from icpkit.score.semantics import criterion_ids, exclusion_ids
from icpkit.segments.discovery import SegmentFinder
from icpkit.spec.model import ICPSpec
from icpkit.store import DEFAULT_STORE, Store, data_fingerprint
from icpkit.words import clause_text, criterion_text, icp_sentence, persona_text, routing_rule_text

__all__ = ["build", "build_summary"]


def _fmt_lift(ev: Any) -> str:
    if ev is None or ev.lift is None:
        return ""
    if ev.lift_low is not None and ev.lift_high is not None:
        return f"{ev.lift:.2f}× ({ev.lift_low:.2f}–{ev.lift_high:.2f})"
    return f"{ev.lift:.2f}×"


def _fmt_q(q: float | None) -> str:
    if q is None:
        return ""
    return "<0.001" if q < 0.001 else f"{q:.3f}"


def build_summary(result: BuildResult, *, out: Path | None = None) -> dict[str, Any]:
    """The JSON summary of a build: the same figures the terminal shows."""
    spec = result.spec
    ids = criterion_ids(spec)
    criteria = []
    for cid, (layer, c) in zip(ids, spec.criteria(), strict=True):
        criteria.append(
            {
                "id": cid,
                "layer": layer,
                "text": criterion_text(c),
                "points": c.points,
                "evidence": c.evidence.model_dump(exclude_none=True) if c.evidence else None,
            }
        )
    exclusions = [
        {"id": eid, "field": e.field, "op": str(e.op), "value": e.value, "reason": e.reason}
        for eid, e in zip(exclusion_ids(spec), spec.exclusions, strict=True)
    ]
    statuses: dict[str, int] = {}
    if "status" in result.candidates.column_names:
        for s in result.candidates.column("status").to_pylist():
            statuses[s] = statuses.get(s, 0) + 1
    return {
        "name": spec.name,
        "as_of": spec.as_of.isoformat() if spec.as_of else None,
        "hash": spec.content_hash(),
        "out": str(out) if out else None,
        "no_signal": result.no_signal,
        "sentence": icp_sentence(spec) if not result.no_signal else None,
        "cohorts": dict(result.cohorts.sizes),
        "criteria": criteria,
        "exclusions": exclusions,
        "tiers": spec.tiers.model_dump(),
        "tier_shares": result.tier_shares(),
        "candidates_tested": result.candidates.num_rows,
        "candidate_status": statuses,
        "notes": list(result.notes),
        "left_out": [f.model_dump() for f in result.left_out],
        "personas": persona_summary(spec),
    }


def persona_summary(spec: ICPSpec) -> list[dict[str, Any]]:
    """The spec's personas as the summary lists them: name, plain words, patterns and evidence."""
    return [
        {
            "name": p.name,
            "text": persona_text(p),
            **{k: list(getattr(p, k)) for k in ("titles", "exclude_titles", "seniority", "department")},
            "evidence": p.evidence.model_dump(exclude_none=True) if p.evidence else None,
        }
        for p in spec.personas
    ]


def _print_personas(spec: ICPSpec, proposed: bool) -> None:
    if not spec.personas and not spec.routing_rules:
        return
    if spec.personas:
        how = "proposed from won vs lost deals" if proposed else "kept from the existing spec"
        table = Table(title=f"Personas ({how}; never part of the score)", title_justify="left")
        for col in ("persona", "matches", "support", "lift (95% CI)", "q"):
            table.add_column(col, justify="right" if col in ("support", "q") else "left")
        for p in spec.personas:
            ev = p.evidence
            table.add_row(
                escape(p.name),
                escape(persona_text(p)),
                f"{ev.support:,}" if ev else "",
                _fmt_lift(ev),
                _fmt_q(ev.q if ev else None),
            )
        console.print(table)
    for rule in spec.routing_rules:
        console.print(f"  route: {escape(routing_rule_text(rule))}", highlight=False)


def _print_summary(result: BuildResult, summary: dict[str, Any]) -> None:
    sizes = summary["cohorts"]
    console.print(
        "[bold]Cohorts[/] " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sizes.items()), highlight=False
    )
    if result.no_signal:
        console.print(
            "\n[bold yellow]No reliable ICP signal.[/] "
            f"icpkit tested {summary['candidates_tested']:,} candidate criteria and none separated your high-value "
            "retained customers from churned and never-closed accounts with enough support and evidence "
            "(after false-discovery control). No spec was written: criteria invented from noise would mislead "
            "sales. More history, ARR or churn data, or more account attributes would help.",
            highlight=False,
        )
        _print_leakage(result)
        for note in result.notes:
            console.print(f"  · {escape(note)}", highlight=False)
        return
    console.print(f"\n[bold]The ICP[/]: {escape(summary['sentence'])}\n", highlight=False)
    table = Table(title="Criteria", show_lines=False, title_justify="left")
    for col in ("layer", "criterion", "points", "support", "lift (95% CI)", "q"):
        table.add_column(col, justify="right" if col in ("points", "support", "q") else "left")
    for c, (_, crit) in zip(summary["criteria"], result.spec.criteria(), strict=True):
        ev = crit.evidence
        table.add_row(
            c["layer"],
            escape(c["text"]),
            str(c["points"]),
            f"{ev.support:,}" if ev else "",
            _fmt_lift(ev),
            _fmt_q(ev.q if ev else None),
        )
    console.print(table)
    if summary["exclusions"]:
        ex = Table(title="Exclusions", title_justify="left")
        ex.add_column("disqualifier")
        ex.add_column("why")
        for e in result.spec.exclusions:
            ex.add_row(escape(clause_text(e)), escape(e.reason))
        console.print(ex)
    _print_leakage(result)
    shares = summary["tier_shares"]
    t = summary["tiers"]
    console.print(
        "[bold]Tiers[/] (minimum score → share of your accounts): "
        + ", ".join(f"{k} ≥{t[k]} → {shares.get(k, 0):.0%}" for k in ("tier1", "tier2", "tier3"))
        + f", excluded {shares.get('excluded', 0):.0%}",
        highlight=False,
    )
    for note in result.notes:
        if not note.startswith(LEAKAGE_NOTE):  # the table above lists them
            console.print(f"  · {escape(note)}", highlight=False)


def _print_leakage(result: BuildResult) -> None:
    leaks = [f for f in result.left_out if f.kind in ("leakage_rule", "leakage_evidence")]
    if not leaks:
        return
    table = Table(
        title="Left out as leakage: they record the outcome (--allow FIELD brings one back)", title_justify="left"
    )
    for col in ("field", "found by", "why"):
        table.add_column(col)
    for f in leaks:
        table.add_row(escape(f.field), "rule" if f.kind == "leakage_rule" else "evidence", escape(f.reason))
    console.print(table)


def _with_personas(spec: ICPSpec, proposal: PersonaProposal | None, out: Path) -> tuple[ICPSpec, list[str]]:
    """The built spec with its personas: proposed from contacts, else the hand-written ones of the spec at ``out``.

    Routing rules of the spec at ``out`` are kept when every persona they name still exists.
    """
    previous = None
    if out.exists():
        try:
            previous = ICPSpec.from_yaml(out)
        except IcpkitError:
            previous = None
    notes: list[str] = []
    if proposal is None:
        if previous is None or not (previous.personas or previous.routing_rules):
            return spec, notes
        update = {k: getattr(previous, k) for k in ("persona_fields", "personas", "routing_rules")}
        notes.append(f"personas and routing rules kept from {out} (build --contacts proposes personas from data)")
        return spec.model_copy(update=update), notes
    notes += proposal.notes
    rules = []
    names = {p.name for p in proposal.personas} | {"none"}
    for rule in previous.routing_rules if previous is not None else []:
        if rule.persona is None or set(rule.persona) <= names:
            rules.append(rule)
        else:
            notes.append(f"routing rule dropped, it names a persona no longer proposed: {routing_rule_text(rule)}")
    update = {"personas": proposal.personas, "routing_rules": rules}
    return spec.model_copy(update=update), notes


@app.command()
def build(
    accounts: Path = typer.Option(..., "--accounts", "-a", help="Accounts / companies export."),
    deals: Path | None = typer.Option(None, "--deals", "-d", help="Deals / opportunities export."),
    subscriptions: Path | None = typer.Option(None, "--subscriptions", help="Subscriptions (ARR, start/end)."),
    out: Path = typer.Option(Path("icp.yaml"), "--out", "-o", help="Where to write the ICP spec (YAML)."),
    evidence: Path | None = typer.Option(None, "--evidence", help="Also write every candidate tested (CSV)."),
    preset: str | None = typer.Option(None, "--preset", "-p", help="hubspot, salesforce, pipedrive or generic."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    stage_map: list[str] = typer.Option([], "--stage-map", help="'Stage label=won|lost|open' (repeatable)."),
    encoding: str | None = typer.Option(None, "--encoding", help="Text encoding of the exports (default: detect)."),
    as_of: str | None = typer.Option(None, "--as-of", help="End of the history (default: its last event)."),
    name: str = typer.Option("icp", "--name", help="Name of the ICP."),
    window_months: int = typer.Option(24, "--window-months", min=1, help="Outcome window before --as-of."),
    top_share: float = typer.Option(TOP_SHARE, "--top-share", min=0.01, max=0.9, help="High value: top share by value"),
    min_support: int = typer.Option(5, "--min-support", min=1, help="Minimum signal accounts per criterion."),
    fdr: float = typer.Option(0.05, "--fdr", min=0.0001, max=0.5, help="False discovery rate."),
    min_signal: int = typer.Option(30, "--min-signal", min=1, help="Fewest high-value accounts to learn from."),
    store: Path = typer.Option(
        DEFAULT_STORE, "--store", envvar="ICPKIT_STORE", help="ICP version store that keeps every build (DuckDB)."
    ),
    keep: bool = typer.Option(True, "--keep/--no-keep", help="Keep this build as a version in --store."),
    segments: str | None = typer.Option(
        None, "--segments", help="Look for distinct segments: 'auto' or the most to keep (1-3); one ICP each."
    ),
    contacts: Path | None = typer.Option(
        None,
        "--contacts",
        help="Contacts on deals (deal or account id, job title; seniority, department): propose buyer personas.",
    ),
    allow: list[str] = typer.Option(
        [], "--allow", help="Bring back a field left out as leakage (repeatable; see build's list)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the build summary as JSON."),
) -> None:
    """Build an ICP spec from CRM history: cohorts, evidence-based criteria, exclusions, points and tiers."""
    when = parse_date_option(as_of, "--as-of")
    if contacts is not None and deals is None:
        raise InputError("--contacts needs --deals: personas compare the titles on won and lost deals")
    for path in (out, evidence):  # a read-only folder fails now, not after the build and its store write
        if path is not None:
            check_writable(path)
    with progress_bar(not as_json) as tell:
        tell("reading exports", 0.0)
        loaded = load_exports(
            accounts,
            deals,
            subscriptions,
            preset=preset,
            mapping=mapping,
            stage_map=stage_map,
            encoding=encoding,
            as_of=when,
        )
        builder = ICPBuilder(
            name=name,
            as_of=when,
            window_months=window_months,
            top_share=top_share,
            min_support=min_support,
            fdr=fdr,
            min_signal=min_signal,
            allow=tuple(allow),
            progress=tell,
        )
        proposal = None
        if contacts is not None and loaded.dataset.deals is not None:
            tell("reading contacts", 0.0)
            people = load_table(contacts, "leads", preset=preset, mapping=mapping or None, encoding=encoding).table
            proposal = propose_personas(people, loaded.dataset.deals, min_support=min_support, fdr=fdr)
        found = None
        if segments is not None:
            found = SegmentFinder(builder, n_segments=parse_segments_option(segments)).fit(loaded.dataset)
            result = found.base
        else:
            result = builder.fit(loaded.dataset)
    written = None
    record = None
    persona_notes: list[str] = []
    if not result.no_signal:
        spec, persona_notes = _with_personas(found.spec if found is not None else result.spec, proposal, out)
        spec = with_contract(spec, loaded, result, mapping=mapping or None)
        if keep:
            params = {k: v for k, v in vars(builder).items() if k != "progress"}
            record = Store(store).save_version(
                spec, data_fingerprint=data_fingerprint(loaded.dataset), params=params, kind="build"
            )
            spec = spec.model_copy(update={"version": record.version, "parent": record.parent})
        write_text(spec.to_yaml(), out)
        written = out
        if evidence is not None:
            write_csv(result.candidates, evidence)
    summary = build_summary(result, out=written)
    if written:
        summary["hash"] = spec.content_hash()  # the written spec's, personas and routing rules included
        summary["personas"] = persona_summary(spec)
        summary["routing_rules"] = [r.model_dump(exclude_none=True) for r in spec.routing_rules]
    summary["notes"] = [*summary["notes"], *persona_notes]
    parts = found.segments if found is not None and found.segmented else []
    if parts:
        names = [seg.name for seg in found.spec.segments or []]
        summary["hash"] = (spec if written else found.spec).content_hash()
        summary["segments"] = {n: build_summary(part) for n, part in zip(names, parts, strict=True)}
        summary["notes"] = [*summary["notes"], *found.notes]
    if record is not None:
        summary["version"] = record.version
        summary["store"] = str(store)
        try:
            Store(store).record_run("build", spec_hash=record.hash, summary=summary)
        except StoreError as exc:  # the spec and its version stand; only the summary of this run is lost
            err_console.print(f"warning: the run summary was not kept: {escape(str(exc))}", highlight=False)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
    elif parts:
        for seg_name, part in zip(summary["segments"], parts, strict=True):
            console.rule(f"[bold]segment {escape(seg_name)}", align="left")
            _print_summary(part, summary["segments"][seg_name])
        for note in found.notes:
            console.print(f"  · {escape(note)}", highlight=False)
    else:
        _print_summary(result, summary)
    if not as_json and written:
        _print_personas(spec, proposal is not None)
        for note in persona_notes:
            console.print(f"  · {escape(note)}", highlight=False)
    if not as_json:
        if written:
            console.print(f"\nspec written → {written}", highlight=False, soft_wrap=True)
        if record is not None:
            console.print(
                f"kept as version {record.version} ({record.short_hash}) in {store}; "
                f"put it in force with: icpkit promote {record.version}",
                highlight=False,
                soft_wrap=True,
            )
    if result.no_signal:
        raise typer.Exit(1)
