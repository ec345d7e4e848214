"""The ``icpkit`` command. Commands are thin: parse options, call the Python API, print.

One place (``main``) turns every ``IcpkitError`` into a one-line message and exit code 2; ``--debug`` shows the
traceback instead. Each command lives in its own module and registers itself on ``app``.
"""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from icpkit.errors import IcpkitError

__all__ = ["app", "console", "err_console", "main"]

app = typer.Typer(
    name="icpkit",
    help="Build an evidence-based Ideal Customer Profile from CRM history, and apply it everywhere.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
) -> None:
    if debug:
        os.environ["ICPKIT_DEBUG"] = "1"


def _register_commands() -> None:
    """Import every command module of this package; each registers its commands on ``app`` when imported."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    _register_commands()
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("ICPKIT_DEBUG") == "1"
    try:
        rv = app(args=args, standalone_mode=False)
    except IcpkitError as exc:
        if debug:
            raise
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        return 130
    except typer.TyperException as exc:  # usage errors: unknown command, bad option value
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
        return 2
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
