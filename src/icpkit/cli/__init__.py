"""The ``icpkit`` command. Commands are thin: parse options, call the Python API, print.

One place (``main``) turns every ``IcpkitError`` into a one-line message and exit code 2; ``--debug`` shows the
traceback instead. Ctrl-C (SIGINT) and SIGTERM unwind the command like an exception, so every temporary file is
removed and no output is half-written, then exit 130 / 143 with one word. Each command lives in its own module and
registers itself on ``app``.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator

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


def _print_version(value: bool) -> None:
    if value:
        from icpkit import __version__

        typer.echo(f"icpkit {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
    version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."
    ),
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


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so the same clean-up runs (temporary files removed, DuckDB queries stopped)."""


_CAUGHT: list[int] = []  # the signals that stopped the running command (typer reports Ctrl-C only as exit 130)


def _unwind(signum: int, frame: object) -> None:
    _CAUGHT.append(signum)
    raise _Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


@contextlib.contextmanager
def _signals_unwind() -> Iterator[None]:
    """While a command runs, SIGINT and SIGTERM unwind it; the previous handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _CAUGHT.clear()
    previous = {sig: signal.signal(sig, _unwind) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupted(signum: int) -> int:
    """One word instead of a traceback, and the shell's exit code: 130 for Ctrl-C, 143 for SIGTERM."""
    err_console.print("terminated" if signum == signal.SIGTERM else "interrupted")
    return 128 + signum


# Control characters (C0, DEL, C1), line and paragraph separators and bidirectional overrides, shown as escapes:
# a file name or value holding a line break or a terminal escape must not forge a second "error:" line. A line
# break stays only where icpkit's own lists continue a message (an indented line, or "and N more:").
_UNPRINTABLE = {
    c: f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    if c != 0x0A
}
_LOOSE_BREAK = re.compile(r"\n(?!  |and [0-9])")


def one_line(message: str) -> str:
    """``message`` fit for a terminal: no control characters, and no line break that did not come from icpkit."""
    return _LOOSE_BREAK.sub(r"\\x0a", message.translate(_UNPRINTABLE))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("ICPKIT_DEBUG") == "1"
    try:
        try:
            with _signals_unwind():  # from the imports of the commands on, which take a moment
                _register_commands()
                rv = app(args=args, standalone_mode=False)
        finally:
            stopped = _CAUGHT[0] if _CAUGHT else None
    except IcpkitError as exc:
        if debug:
            raise
        if stopped is not None:  # e.g. a DuckDB query that turned the signal into its own error
            return _interrupted(stopped)
        err_console.print(f"[bold red]error:[/] {escape(one_line(str(exc)))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        return _interrupted(stopped or signal.SIGINT)
    except typer.TyperException as exc:  # usage errors: unknown command, bad option value
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err_console.print(f"[bold red]error:[/] {escape(one_line(str(exc)))}")
        return 2
    except Exception:
        if stopped is None or debug:
            raise
        return _interrupted(stopped)  # DuckDB reports a query stopped by the signal as "Query interrupted"
    if stopped is not None:
        return _interrupted(stopped)
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
