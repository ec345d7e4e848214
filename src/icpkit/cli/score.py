"""``icpkit score``: score every record of a file against a spec, and write scores a CRM can import.

Thin: options are parsed here, the work is ``icpkit.score.duckdb_engine.score_file`` (DuckDB or the Python
reference engine) or ``icpkit.score.spark.score_parquet``. Output is written to a temporary file beside the target
and renamed, so a failed run never leaves a half-written file. ``-`` reads the records from stdin and writes CSV to
stdout (only once the run has succeeded), so ``icpkit score`` sits in a shell pipe; the summary then goes to stderr.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
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
    source: Path = typer.Argument(
        ..., help="Records to score: CSV/Excel/JSON export, Parquet, file.duckdb::table, or - for stdin."
    ),
    spec: Path = typer.Option(..., "--spec", "-s", help="ICP spec (YAML)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output: .parquet, .csv or .jsonl, or - for CSV on stdout."),
    preset: str | None = typer.Option(None, "--preset", "-p", help="hubspot, salesforce, pipedrive or generic."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    engine: str = typer.Option("duckdb", "--engine", "-e", help="duckdb (files, default), python or spark."),
    as_of: str | None = typer.Option(None, "--as-of", help="Scoring date for within_days (default: today)."),
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
    with _pipe_ends(source, out) as (source_file, out_file):
        _score(source_file, spec, out_file, preset, mapping, engine, as_of, explain, fmt, memory_limit, keep_order,
               as_json, columns, shown=out, strict=strict)  # fmt: skip


_STDIO = Path("-")


@contextlib.contextmanager
def _pipe_ends(source: Path, out: Path) -> Iterator[tuple[Path, Path]]:
    """``-`` as the source or the output: stdin is saved to a file first (every reader needs to seek), and the
    output goes to a file that is copied to stdout after a successful run, so a failed run prints no rows."""
    if source != _STDIO and out != _STDIO:
        yield source, out
        return
    with tempfile.TemporaryDirectory(prefix="icpkit-score-") as folder:
        source_file, out_file = source, out
        if source == _STDIO:
            data = sys.stdin.buffer.read()
            start = data.lstrip()[:1]
            source_file = Path(folder) / (
                "stdin.jsonl" if start == b"{" else "stdin.json" if start == b"[" else "stdin.csv"
            )
            source_file.write_bytes(data)
        if out == _STDIO:
            out_file = Path(folder) / "scored.csv"
        try:
            yield source_file, out_file
        except InputError as exc:  # name the stream, not the file it was saved to
            if source == _STDIO:
                _rename_path(exc, str(source_file), "<stdin>")
            raise
        if out == _STDIO:
            sys.stdout.flush()
            with open(out_file, "rb") as fh:
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.flush()


def _rename_path(exc: InputError, old: str, new: str) -> None:
    if exc.path == old:
        exc.path = new
    exc.problems = [dataclasses.replace(p, path=new) if p.path == old else p for p in exc.problems]
    exc.args = (str(exc),)


def _score(
    source: Path,
    spec: Path,
    out: Path,
    preset: str | None,
    mapping: list[str],
    engine: str,
    as_of: str | None,
    explain: bool,
    fmt: str | None,
    memory_limit: str | None,
    keep_order: bool,
    as_json: bool,
    columns: str | None,
    *,
    shown: Path,
    strict: bool = False,
) -> None:
    to_stdout = shown == _STDIO
    if to_stdout and out.suffix.lower() != ".csv":
        raise InputError("--out - writes CSV")
    if to_stdout and engine == "spark":
        raise InputError("--out - is not available with --engine spark (it writes a Parquet folder)")
    say = err_console if to_stdout else console
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
            progress=not as_json and say.is_terminal,
            engine=chosen.name,
            keep_order=keep_order,
            outputs=[c.strip() for c in columns.split(",") if c.strip()] if columns is not None else None,
            strict=strict,
        )
        warnings = result.warnings
        summary = {"rows": result.rows, "tiers": result.tier_counts}
    summary |= {"output": str(shown), "engine": chosen.name, "format": fmt or out.suffix.lstrip(".")}
    summary["warnings"] = warnings
    for line in warnings:
        err_console.print(f"warning: {escape(line)}", highlight=False, soft_wrap=True)
    if icp.personas:
        summary["personas"] = _persona_counts(out, crm=fmt is not None, spark=chosen.name == "spark")
    if as_json:
        typer.echo(json.dumps(summary, indent=2), err=to_stdout)
        return
    where = "stdout" if to_stdout else out
    say.print(f"{summary['rows']:,} records scored → {where}", highlight=False, soft_wrap=True)
    table = Table()
    table.add_column("tier")
    table.add_column("records", justify="right")
    for name in TIER_NAMES:
        table.add_row(name, f"{summary['tiers'].get(name, 0):,}")
    say.print(table)
    if "personas" in summary:
        people = Table()
        people.add_column("persona")
        people.add_column("records", justify="right")
        for name, n in summary["personas"].items():
            people.add_row(name, f"{n:,}")
        say.print(people)


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
