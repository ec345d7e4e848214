"""``icpkit serve``: the HTTP API and the page to try a lead, on one uvicorn worker with the limits of
:mod:`icpkit.api.server` (header time and size, connections, keep-alive).

Thin: options are checked here, the service is :func:`icpkit.api.create_app`. Refuses to start (exit 2) without
tokens, or without auth on an address other machines can reach.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer
from rich.markup import escape

from icpkit.cli import app, err_console
from icpkit.errors import InputError

__all__ = ["serve"]


def _missing_extra(name: str) -> InputError:
    return InputError(f"icpkit serve needs {name}: pip install 'icpkit[serve]'")


@app.command()
def serve(
    spec: Path | None = typer.Option(None, "--spec", "-s", help="ICP spec (YAML) to serve; re-read when it changes."),
    store: Path | None = typer.Option(
        None, "--store", envvar="ICPKIT_STORE", help="Serve the version promoted in this store; follows promotions."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
    universe: Path | None = typer.Option(
        None, "--universe", "-u", help="Company universe (CSV/Parquet…) to enrich leads by email or domain."
    ),
    max_batch: int = typer.Option(1000, "--max-batch", min=1, help="Most records in one /v1/score/batch call."),
    max_body: int = typer.Option(1_000_000, "--max-body", min=1024, help="Largest request body, in bytes."),
    tokens_file: Path | None = typer.Option(
        None, "--tokens-file", help="Bearer tokens, one per line; re-read within a second of a change (rotation)."
    ),
    cors_origin: list[str] = typer.Option(
        [], "--cors-origin", help="An origin whose pages may call the API (repeatable), e.g. https://www.acme.com."
    ),
    insecure_no_auth: bool = typer.Option(
        False, "--insecure-no-auth", help="No tokens at all; only allowed when --host is a loopback address."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Date within_days counts back from: YYYY-MM-DD, or 'spec' (default: today)."
    ),
    poll: float = typer.Option(1.0, "--poll", min=0, help="Seconds between checks for a new version (0: never)."),
    access_log: bool = typer.Option(True, "--access-log/--no-access-log", help="JSON access lines on stderr."),
    docs: bool = typer.Option(
        True, "--docs/--no-docs", help="Serve the interactive docs at /docs (its script comes from a CDN)."
    ),
    header_timeout: float = typer.Option(
        10.0, "--header-timeout", help="Seconds a client has to send a request's headers; then it is closed."
    ),
    body_timeout: float = typer.Option(
        30.0, "--body-timeout", help="Seconds a client has to send a request's body once its headers are in."
    ),
    max_header_bytes: int = typer.Option(
        16_384, "--max-header-bytes", help="Largest request line and headers, in bytes (more: 431)."
    ),
    max_connections: int = typer.Option(
        1_000, "--max-connections", help="Open connections; past it the slowest to send its headers is closed."
    ),
    keep_alive: float = typer.Option(5.0, "--keep-alive", help="Seconds an idle connection is kept open."),
    keep_alive_requests: int = typer.Option(
        1_000, "--keep-alive-requests", help="Requests on one connection before it is closed."
    ),
) -> None:
    """Serve the ICP over HTTP: POST /v1/score, /v1/score/batch, GET /v1/icp, /healthz, /docs and a page at /."""
    try:
        from icpkit.api import JsonLog, Limits, Tokens, create_app, is_loopback
        from icpkit.api.server import ServerLimits, run
    except ImportError as exc:
        raise _missing_extra(exc.name or "fastapi and uvicorn") from None
    from icpkit.store import Store

    server_limits = ServerLimits(
        header_timeout=header_timeout,
        max_header_bytes=max_header_bytes,
        body_timeout=body_timeout,
        max_connections=max_connections,
        keep_alive=keep_alive,
        keep_alive_requests=keep_alive_requests,
    )
    server_limits.check()
    if (spec is None) == (store is None):
        raise InputError("give exactly one of --spec (a YAML file) or --store (serves the promoted version)")
    if insecure_no_auth and not is_loopback(host):
        raise InputError(f"--insecure-no-auth is only allowed on a loopback address (127.0.0.1, ::1), not {host}")
    tokens = None if insecure_no_auth else Tokens.from_environment(tokens_file)
    if tokens is not None and len(tokens) == 0:
        raise InputError("no API tokens: set ICPKIT_API_TOKENS or --tokens-file (or --insecure-no-auth on loopback)")
    when: dt.date | str | None = None
    if as_of == "spec":
        when = "spec"
    elif as_of:
        try:
            when = dt.date.fromisoformat(as_of)
        except ValueError:
            raise InputError(f"--as-of must be YYYY-MM-DD or 'spec', got '{as_of}'") from None
    table = None
    if universe is not None:
        from icpkit.ingest import load_table

        table = load_table(universe, "universe").table
    if store is not None and not store.is_file():
        raise InputError("the store does not exist (icpkit build saves versions into it)", path=store)
    service = create_app(
        spec if spec is not None else Store(store),  # type: ignore[arg-type]
        tokens=tokens,
        insecure_no_auth=insecure_no_auth,
        universe=table,
        limits=Limits(max_batch=max_batch, max_body_bytes=max_body),
        cors_origins=cors_origin,
        as_of=when,
        poll_seconds=poll,
        log=JsonLog(flush_every=0.2) if access_log else JsonLog(None),
        freeze_gc=True,
        docs=docs,
    )
    served = service.live.current
    auth = "no auth (loopback only)" if tokens is None else f"{len(tokens)} token(s)"
    err_console.print(
        f"serving {escape(served.spec.name)} v{served.version} {served.hash[:10]} on http://{escape(host)}:{port} "
        f"({auth}; page at /{', docs at /docs' if docs else ''})",
        highlight=False,
    )
    # no proxy-headers middleware: nothing reads the client address (access lines leave it out on purpose)
    run(
        service,
        host=host,
        port=port,
        limits=server_limits,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
