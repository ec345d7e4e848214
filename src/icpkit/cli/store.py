"""``icpkit versions`` and ``icpkit promote``: the ICP versions in the store, and which one is in force.

Thin: the work is :class:`icpkit.store.Store`. ``--store`` (or ``ICPKIT_STORE``) points at any store file; the
default is ``.icpkit/store.duckdb`` in the current folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from icpkit.cli import app, console
from icpkit.store import DEFAULT_STORE, Store, VersionRecord

__all__ = ["promote", "store_option", "versions"]


def store_option() -> Path:
    """The ``--store`` option shared by every command that reads or writes the store."""
    return typer.Option(DEFAULT_STORE, "--store", envvar="ICPKIT_STORE", help="ICP version store (DuckDB file).")


def _row(rec: VersionRecord) -> dict[str, object]:
    return {
        "version": rec.version,
        "hash": rec.hash,
        "parent": rec.parent,
        "created_at": rec.created_at.isoformat(timespec="seconds"),
        "promoted": rec.promoted,
        "name": rec.name,
        "kind": rec.kind,
        "criteria": rec.criteria,
        "exclusions": rec.exclusions,
        "data_fingerprint": rec.data_fingerprint,
    }


@app.command()
def versions(
    store: Path = store_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the versions as JSON."),
) -> None:
    """List the ICP versions in the store; * marks the one in force."""
    recs = Store(store).versions()
    if as_json:
        typer.echo(json.dumps([_row(r) for r in recs], indent=2))
        return
    if not recs:
        console.print(f"no versions in {escape(str(store))} yet (icpkit build saves one)", highlight=False)
        return
    table = Table()
    table.add_column("")
    table.add_column("version", justify="right", no_wrap=True)
    table.add_column("hash", no_wrap=True)
    table.add_column("parent", no_wrap=True)
    table.add_column("created", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("kind")
    table.add_column("criteria", justify="right")
    for r in recs:
        table.add_row(
            "[bold green]*[/]" if r.promoted else "",
            f"v{r.version}",
            r.short_hash,
            r.parent[:10] if r.parent else "—",
            r.created_at.strftime("%Y-%m-%d %H:%M"),
            escape(r.name),
            r.kind,
            str(r.criteria),
        )
    console.print(table)


@app.command()
def promote(
    ref: str = typer.Argument(..., help="Version number (3), hash or its first 7+ characters, or 'latest'."),
    store: Path = store_option(),
    as_json: bool = typer.Option(False, "--json", help="Print the promoted version as JSON."),
) -> None:
    """Put a stored ICP version in force: the one drift checks and the HTTP service serves."""
    rec = Store(store).promote(ref)
    if as_json:
        typer.echo(json.dumps(_row(rec), indent=2))
        return
    console.print(f"v{rec.version} {rec.short_hash} ({escape(rec.name)}) is now in force", highlight=False)
