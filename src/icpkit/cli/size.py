"""``icpkit size``: a company universe -> TAM -> SAM -> ICP tiers -> new target accounts, and the list written.

Thin: read the files (``load_table`` / ``load_dataset``), call :func:`icpkit.size.funnel.size_universe`, print the
funnel (or ``--json``: the same ``SizingReport`` the API returns) and write the list atomically.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import typer
from rich.markup import escape
from rich.table import Table

from icpkit.cli import app, console, err_console
from icpkit.cli._common import json_stdout, parse_date_option
from icpkit.csvsafe import check_writable, write_csv, write_parquet
from icpkit.errors import InputError
from icpkit.ingest import TableKind, load_dataset
from icpkit.ingest.contract import enforce, read_table
from icpkit.size.funnel import Sizing, SizingReport, size_universe
from icpkit.size.sam import load_sam_file, parse_sam
from icpkit.spec.io import load_spec
from icpkit.spec.model import Clause, ICPSpec

__all__ = ["load_crm", "load_universe", "print_funnel", "sam_clauses", "size", "write_targets"]

_BAR = 24


def sam_clauses(sam: list[str], sam_file: Path | None) -> list[Clause]:
    """``--sam-file`` clauses then ``--sam`` ones (all ANDed with the spec's own ``sam:``)."""
    return [*(load_sam_file(sam_file) if sam_file else []), *(parse_sam(s) for s in sam)]


def load_universe(universe: Path, preset: str | None, mapping: list[str], spec: ICPSpec | None = None) -> pa.Table:
    """The universe read with the spec's data contract (its headers, kinds and separators; a data provider's file
    keeps its own preset), warning about spec fields it lacks or reads otherwise."""
    read = read_table(
        universe, TableKind.UNIVERSE, spec=spec, preset=preset, mapping=mapping or None, follow_preset=False
    )
    for line in enforce(read.mismatches, strict=False, path=read.path):
        err_console.print(f"warning: {escape(line)}", highlight=False, soft_wrap=True)
    return read.table


def load_crm(accounts: Path | None, deals: Path | None, mapping: list[str]) -> tuple[pa.Table | None, pa.Table | None]:
    if deals is not None and accounts is None:
        raise InputError("--deals needs --accounts too (deals are linked to the companies of the accounts file)")
    if accounts is None:
        return None, None
    data = load_dataset(accounts, deals, mapping=mapping or None).dataset
    return data.accounts, data.deals


def write_targets(table: pa.Table, out: Path) -> None:
    """CSV (formula-safe) or Parquet by suffix, atomically."""
    if out.suffix.lower() in (".parquet", ".pq"):
        write_parquet(table, out)
    elif out.suffix.lower() in (".csv", ".txt", ""):
        write_csv(table, out)
    else:
        raise InputError(f"cannot write '{out.suffix}': use .csv or .parquet", path=out)


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x:.1%}"


def _segments_table(report: SizingReport) -> Table:
    """The segments side by side, one column each: every SAM company counted in its best segment."""
    table = Table(title="Per segment (each company in its best segment)", title_justify="left")
    table.add_column("step")
    for seg in report.segments:
        table.add_column(escape(seg.segment), justify="right")
    rows = [("companies", [f"{seg.companies:,}" for seg in report.segments])]
    for key, label in (("fit", "ICP fit"), ("tier1", "tier 1"), ("tier2", "tier 2"), ("tier3", "tier 3"),
                       ("customer", "customers"), ("open_pipeline", "pipeline"), ("new", "new targets")):  # fmt: skip
        rows.append((label, [f"{seg.step(key).count:,}" for seg in report.segments]))
    rows.append(("share of new", [_pct(seg.share_of_targets) for seg in report.segments]))
    for label, cells in rows:
        table.add_row(label, *cells, style="bold" if label in ("ICP fit", "new targets") else None)
    return table


def print_funnel(report: SizingReport) -> None:
    """The funnel as a Rich table with a bar per step, then the SAM, CRM and health notes."""
    tam = max(report.step("tam").count, 1)
    dup = f", {report.duplicates_merged:,} duplicate rows merged" if report.duplicates_merged else ""
    title = f"{report.spec}: {report.universe_rows:,} universe rows{dup}"
    grid = Table(title=escape(title), title_justify="left")
    for col, just in (("step", "left"), ("companies", "right"), ("share of previous", "right"), ("", "left")):
        grid.add_column(col, justify=just)
    indent = {"tam": "", "sam": "", "fit": "  ", "none": "  ", "excluded": "  "}
    for s in report.steps:
        pad = indent.get(s.key, "    ")
        bar = "█" * max(round(_BAR * s.count / tam), 1 if s.count else 0)
        parent = f" of {s.parent.upper() if s.parent in ('tam', 'sam') else s.parent}" if s.parent else ""
        style = "bold" if s.key in ("tam", "sam", "fit", "new") else None
        grid.add_row(pad + escape(s.label), f"{s.count:,}", _pct(s.share) + parent if s.share is not None else "",
                     f"[cyan]{bar}[/]", style=style)  # fmt: skip
    console.print(grid)
    if report.sam:
        console.print("[bold]SAM filters[/] (kept / dropped / value unknown):")
        for c in report.sam:
            console.print(f"  {escape(c.field)}: {escape(c.clause)} — {c.kept:,} / {c.dropped:,} / {c.unknown:,}")
    if report.crm is not None:
        crm = report.crm
        found = ", ".join(
            f"{crm.found_in_universe[k]:,} of {v:,} {k.replace('_', ' ')}" for k, v in crm.accounts.items() if v
        )
        console.print(f"[bold]CRM[/]: found in the universe: {escape(found) or 'none'}")
        if crm.tiers_of_customers:
            shown = ", ".join(f"{k} {v:,}" for k, v in sorted(crm.tiers_of_customers.items()))
            console.print(f"  your customers in the SAM score as: {shown}")
    if report.segments:
        console.print(_segments_table(report))
    h = report.health
    colour = "green" if h.status == "healthy" else "yellow"
    console.print(f"[bold {colour}]{escape(h.message)}[/]", soft_wrap=True)
    for s in h.suggestions:
        console.print(f"  → {escape(s)}", soft_wrap=True)
    for w in report.warnings:
        console.print(f"[yellow]warning:[/] {escape(w)}", soft_wrap=True)


@app.command()
def size(
    spec: Path = typer.Option(..., "--spec", "-s", help="ICP spec (YAML)."),
    universe: Path = typer.Option(
        ..., "--universe", "-u", help="Company universe: CSV, Parquet, Excel, JSON or DuckDB."
    ),
    preset: str | None = typer.Option(None, "--preset", "-p", help="Preset for the universe's headers."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    accounts: Path | None = typer.Option(None, "--accounts", "-a", help="CRM accounts: customers are marked."),
    deals: Path | None = typer.Option(None, "--deals", "-d", help="CRM deals: open pipeline is marked."),
    crm_mapping: list[str] = typer.Option([], "--crm-map", help="Mapping for the CRM files (like --map)."),
    sam: list[str] = typer.Option([], "--sam", help='SAM filter, e.g. "country in United States,Canada" (repeatable).'),
    sam_file: Path | None = typer.Option(None, "--sam-file", help="YAML list of SAM clauses (or a spec's sam:)."),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Scoring date for within_days, and the day customers and pipeline are marked at (default: today).",
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the target list (.csv or .parquet)."),
    include_existing: bool = typer.Option(False, "--include-existing", help="Keep customers and pipeline in the list."),
    no_dedupe: bool = typer.Option(False, "--no-dedupe", help="Count every universe row as its own company."),
    as_json: bool = typer.Option(False, "--json", help="Print the funnel as JSON."),
) -> None:
    """Size the market: TAM -> SAM -> ICP tiers -> new target accounts, and write the target list."""
    if out is not None:
        check_writable(out)  # a read-only folder fails now, not after sizing the universe
    guard = json_stdout(as_json)
    with guard:
        result = run_size(spec, universe, preset, mapping, accounts, deals, crm_mapping, sam, sam_file, as_of,
                          include_existing, not no_dedupe)  # fmt: skip
        if out is not None:
            write_targets(result.targets, out)
    if as_json:
        typer.echo(result.report.model_dump_json(indent=2))
        return
    print_funnel(result.report)
    if out is not None:
        console.print(f"wrote {result.targets.num_rows:,} target accounts to {escape(str(out))}")
    console.print(f"[dim]sized in {result.report.seconds:.2f}s[/]")


def run_size(
    spec: Path,
    universe: Path,
    preset: str | None,
    mapping: list[str],
    accounts: Path | None,
    deals: Path | None,
    crm_mapping: list[str],
    sam: list[str],
    sam_file: Path | None,
    as_of: str | None,
    include_existing: bool,
    dedupe: bool,
) -> Sizing:
    """Read every input, then size (shared with ``icpkit export --spec ... --universe ...``)."""
    the_spec = load_spec(spec)
    clauses = sam_clauses(sam, sam_file)
    date = parse_date_option(as_of, "--as-of")
    table = load_universe(universe, preset, mapping, the_spec)
    acc, dl = load_crm(accounts, deals, crm_mapping)
    if table.num_rows > 200_000:
        err_console.print(f"sizing {table.num_rows:,} companies…")
    return size_universe(the_spec, table, sam=clauses, accounts=acc, deals=dl, as_of=date,
                         include_existing=include_existing, dedupe=dedupe)  # fmt: skip
