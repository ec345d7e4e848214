"""``icpkit score``: score every record of a file against a spec, and write scores a CRM can import.

Thin: options are parsed here, the work is ``icpkit.score.duckdb_engine.score_file`` (DuckDB or the Python
reference engine) or ``icpkit.score.spark.score_parquet``. Output is written to a temporary file beside the target
and renamed, so a failed run never leaves a half-written file.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from icpkit.cli import app, console, err_console
from icpkit.errors import InputError
from icpkit.score.engines import get_engine
from icpkit.score.export import CRM_FORMATS
from icpkit.score.semantics import TIER_NAMES
from icpkit.spec.io import load_spec

__all__ = ["score"]


@app.command()
def score(
    source: Path = typer.Argument(..., help="Records to score: CSV/Excel/JSON export, Parquet, or file.duckdb::table."),
    spec: Path = typer.Option(..., "--spec", "-s", help="ICP spec (YAML)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output: .parquet, .csv or .jsonl."),
    preset: str | None = typer.Option(None, "--preset", "-p", help="hubspot, salesforce, pipedrive or generic."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    engine: str = typer.Option("duckdb", "--engine", "-e", help="duckdb (files, default), python or spark."),
    as_of: str | None = typer.Option(None, "--as-of", help="Scoring date for within_days (default: the spec's)."),
    explain: bool = typer.Option(True, "--explain/--no-explain", help="Write matched / unknown / exclusions_hit."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="hubspot, salesforce or csv: the CRM import columns (id + icp_*)."
    ),
    memory_limit: str | None = typer.Option(None, "--memory-limit", help="DuckDB memory limit, e.g. 4GB."),
    keep_order: bool = typer.Option(
        False, "--keep-order", help="Write rows in input order (more memory on very large files)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    columns: str | None = typer.Option(
        None, "--columns", help="Scoring columns to write, comma-separated (e.g. score,tier; default: all)."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit 2 when the input does not fit the spec's data contract (default: warn)."
    ),
) -> None:
    """Score records: one row per input record with its id, score, tier, route and the explanation."""
    if fmt is not None and fmt not in CRM_FORMATS:
        raise InputError(f"--format must be one of {', '.join(CRM_FORMATS)}, got '{fmt}'")
    try:
        when = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise InputError(f"--as-of must be a date (YYYY-MM-DD), got '{as_of}'") from None
    icp = load_spec(spec)
    chosen = get_engine(engine)
    if chosen.name == "spark":
        from icpkit.score.spark import score_parquet

        if columns:
            raise InputError("--columns is a duckdb and python engine option")
        if fmt or out.suffix.lower() != ".parquet" or source.suffix.lower() != ".parquet":
            raise InputError("--engine spark reads and writes Parquet (use duckdb for CSV or a CRM --format)")
        warnings: list[str] = []
        counts = score_parquet(icp, str(source), str(out), as_of=when, explain=explain, strict=strict, warn=warnings)
        summary = {"rows": sum(counts.values()), "tiers": counts}
    else:
        from icpkit.score.duckdb_engine import score_file

        result = score_file(
            icp,
            source,
            out,
            as_of=when,
            explain=explain,
            crm=fmt,
            preset=preset,
            mapping=mapping or None,
            memory_limit=memory_limit,
            progress=not as_json and console.is_terminal,
            engine=chosen.name,
            keep_order=keep_order,
            outputs=[c.strip() for c in columns.split(",") if c.strip()] if columns is not None else None,
            strict=strict,
        )
        warnings = result.warnings
        summary = {"rows": result.rows, "tiers": result.tier_counts}
    summary |= {"output": str(out), "engine": chosen.name, "format": fmt or out.suffix.lstrip(".")}
    summary["warnings"] = warnings
    for line in warnings:
        err_console.print(f"warning: {escape(line)}", highlight=False, soft_wrap=True)
    if icp.personas:
        summary["personas"] = _persona_counts(out, crm=fmt is not None, spark=chosen.name == "spark")
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    console.print(f"{summary['rows']:,} records scored → {out}", highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("tier")
    table.add_column("records", justify="right")
    for name in TIER_NAMES:
        table.add_row(name, f"{summary['tiers'].get(name, 0):,}")
    console.print(table)
    if "personas" in summary:
        people = Table()
        people.add_column("persona")
        people.add_column("records", justify="right")
        for name, n in summary["personas"].items():
            people.add_row(name, f"{n:,}")
        console.print(people)


def _persona_counts(out: Path, *, crm: bool, spark: bool) -> dict[str, int]:
    """Records per persona in the written output, most first (``none``: no persona matched)."""
    import duckdb

    column = "icp_persona" if crm else "persona"
    suffix = out.suffix.lower()
    if spark:
        source, path = "read_parquet(?)", str(out / "*.parquet")
    elif suffix == ".parquet":
        source, path = "read_parquet(?)", str(out)
    elif suffix == ".jsonl":
        source, path = "read_json_auto(?)", str(out)
    else:
        source, path = "read_csv(?, header = true, all_varchar = true)", str(out)
    con = duckdb.connect()
    try:
        name = f"coalesce(nullif(\"{column}\", ''), 'none')"
        rows = con.execute(f"SELECT {name}, count(*) FROM {source} GROUP BY 1 ORDER BY 2 DESC, 1", [path]).fetchall()
    finally:
        con.close()
    return {str(name): int(n) for name, n in rows}
