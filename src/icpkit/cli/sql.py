"""``icpkit sql``: the spec as one SQL query for a warehouse, ready to paste or to save as a dbt model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from sqlglot import exp

from icpkit.cli import app
from icpkit.errors import InputError
from icpkit.score.sql import compile_expression, render
from icpkit.spec.io import load_spec

__all__ = ["sql"]

_FORMS = ("select", "view", "table")


def _columns(pairs: list[str]) -> dict[str, str] | None:
    if not pairs:
        return None
    from icpkit.score.sql import column_kind

    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, typ = pair.partition("=")
        name, typ = name.strip(), typ.strip()
        if not sep or not name or not typ:
            raise InputError(f"--column needs 'name=type', got {pair!r}")
        if not name.isprintable() or len(name) > 255:
            raise InputError(f"--column {name!r}: a column name of at most 255 printable characters, please")
        if name in out:
            raise InputError(f"--column {name!r} is given twice")
        if column_kind(typ) == "other":
            raise InputError(
                f"--column {name}={typ}: unknown type; use the table's own (varchar, text, double, bigint, "
                "decimal(12,2), boolean, date, timestamp, varchar[] …) or a kind (text, number, bool, date, list)"
            )
        out[name] = typ
    return out


@app.command()
def sql(
    spec: Path = typer.Option(..., "--spec", "-s", help="ICP spec (YAML)."),
    dialect: str = typer.Option(
        "duckdb", "--dialect", "-d", help="duckdb, postgres, snowflake, bigquery, redshift, spark, databricks…"
    ),
    table: str = typer.Option("accounts", "--table", "-t", help="Table (or schema.table) holding the accounts."),
    form: str = typer.Option("select", "--as", help="select, view or table."),
    name: str = typer.Option("icp_scores", "--name", help="Name of the view or table created by --as view|table."),
    as_of: str | None = typer.Option(None, "--as-of", help="Scoring date for within_days (default: today)."),
    explain: bool = typer.Option(True, "--explain/--no-explain", help="Add matched / unknown / exclusions_hit."),
    column: list[str] = typer.Option(
        [], "--column", "-c", help="'name=type' of a table column (repeatable): compile exactly for its type."
    ),
) -> None:
    """Print the scoring query: every column plus score, tier, route, layer scores and the explanation."""
    if form not in _FORMS:
        raise InputError(f"--as must be one of {', '.join(_FORMS)}, got '{form}'")
    try:
        when = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise InputError(f"--as-of must be a date (YYYY-MM-DD), got '{as_of}'") from None
    icp = load_spec(spec)
    query: exp.Expression = compile_expression(
        icp, dialect=dialect, table=table, as_of=when, explain=explain, columns=_columns(column)
    )
    if form != "select":
        parts = name.split(".")
        target = exp.Table(
            this=exp.to_identifier(parts[-1]),
            db=exp.to_identifier(parts[-2]) if len(parts) > 1 else None,
            catalog=exp.to_identifier(parts[-3]) if len(parts) > 2 else None,
        )
        query = exp.Create(this=target, kind=form.upper(), expression=query, replace=form == "view")
    typer.echo(render(query, dialect, pretty=True) + ";")
