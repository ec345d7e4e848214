"""``icpkit export``: the target list for an ad platform or ABM tool, or the ICP as a prospecting checklist.

``--to linkedin|abm|csv`` renders a target list (``--targets`` from ``icpkit size``, or sized on the spot from
``--spec`` + ``--universe``); ``--to checklist`` turns the spec into filters for Sales Navigator, Apollo and
ZoomInfo. ``--to google-ads`` explains why not (Customer Match is about people).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.markup import escape

from icpkit.cli import app, console
from icpkit.cli._common import json_stdout
from icpkit.cli.size import run_size, sam_clauses, write_targets
from icpkit.csvsafe import check_writable, write_text
from icpkit.errors import InputError, UnreadableFileError
from icpkit.size.checklist import build_checklist
from icpkit.size.destinations import destination_notes, render
from icpkit.spec.io import load_spec

__all__ = ["export", "read_targets"]


def read_targets(path: Path) -> pa.Table:
    """A target list written by ``icpkit size`` (CSV or Parquet)."""
    if not path.exists():
        raise InputError("file not found", path=path)
    con = duckdb.connect()
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return con.sql("SELECT * FROM read_parquet(?)", params=[str(path)]).to_arrow_table()
        return con.sql("SELECT * FROM read_csv(?, header = true)", params=[str(path)]).to_arrow_table()
    except duckdb.Error as exc:
        raise UnreadableFileError(f"cannot read the target list: {str(exc).splitlines()[0]}", path=path) from None
    finally:
        con.close()


@app.command()
def export(
    to: str = typer.Option(..., "--to", "-t", help="linkedin, abm, csv or checklist (google-ads: see the message)."),
    targets: Path | None = typer.Option(None, "--targets", help="Target list from icpkit size (.csv / .parquet)."),
    spec: Path | None = typer.Option(None, "--spec", "-s", help="ICP spec (for checklist, or to size on the spot)."),
    universe: Path | None = typer.Option(None, "--universe", "-u", help="Company universe to size on the spot."),
    preset: str | None = typer.Option(None, "--preset", "-p", help="Preset for the universe's headers."),
    mapping: list[str] = typer.Option([], "--map", "-m", help="'Header=canonical' (repeatable) or a mapping .yaml."),
    accounts: Path | None = typer.Option(None, "--accounts", "-a", help="CRM accounts: customers left out."),
    deals: Path | None = typer.Option(None, "--deals", "-d", help="CRM deals: open pipeline left out."),
    sam: list[str] = typer.Option([], "--sam", help='SAM filter, e.g. "country in United States" (repeatable).'),
    sam_file: Path | None = typer.Option(None, "--sam-file", help="YAML list of SAM clauses."),
    as_of: str | None = typer.Option(None, "--as-of", help="Scoring date for within_days (default: today)."),
    tier: list[str] = typer.Option([], "--tier", help="Only these tiers, e.g. --tier tier1 --tier tier2."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Output file (default: <to>-accounts.csv; checklist: stdout)."
    ),
    as_json: bool = typer.Option(False, "--json", help="checklist: print JSON instead of Markdown."),
) -> None:
    """Render the target list for LinkedIn / an ABM platform, or the ICP as a prospecting-tool checklist."""
    key = to.strip().lower()
    if key == "checklist":
        if spec is None:
            raise InputError("--to checklist needs --spec")
        checklist = build_checklist(load_spec(spec), sam=sam_clauses(sam, sam_file))
        as_json = as_json or (out is not None and out.suffix.lower() == ".json")
        text = checklist.model_dump_json(indent=2) + "\n" if as_json else checklist.to_markdown()
        if out is None:
            typer.echo(text, nl=False)
        else:
            write_text(text, out)
            console.print(f"wrote the checklist to {escape(str(out))}")
        return
    render(pa.table({"name": pa.array([], pa.string())}), key)  # unknown / refused destinations fail before any work
    check_writable(out or Path(f"{key}-accounts.csv"))
    guard = json_stdout(as_json)
    with guard:
        if targets is not None:
            table = read_targets(targets)
        elif spec is not None and universe is not None:
            table = run_size(spec, universe, preset, mapping, accounts, deals, [], sam, sam_file, as_of, False,
                             True).targets  # fmt: skip
        else:
            raise InputError("give --targets (from icpkit size) or --spec and --universe")
        if tier:
            if "tier" not in table.column_names:
                raise InputError("--tier: the target list has no tier column")
            wanted = pa.array([t.strip().lower().replace(" ", "") for t in tier], pa.string())
            table = table.filter(pc.fill_null(pc.is_in(table.column("tier"), value_set=wanted), False))
        rendered = render(table, key)
        path = out or Path(f"{key}-accounts.csv")
        write_targets(rendered, path)
    console.print(f"wrote {rendered.num_rows:,} accounts for {key} to {escape(str(path))}")
    for note in destination_notes(key, rendered):
        console.print(f"  note: {escape(note)}", soft_wrap=True)
