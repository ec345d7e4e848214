"""The ASGI entry point: request ids, access log, CORS, auth and body limits for every request, and the scoring
routes served straight from here.

Why not FastAPI middleware and routes all the way: measured on one uvicorn worker (``bench/api.py``), a FastAPI
route with a pydantic body model costs several times a bare ASGI endpoint, and Starlette's ``BaseHTTPMiddleware``
more again. A form fill is scored while the visitor waits, and a router may call once per lead at a burst, so
``POST /v1/score`` and ``/v1/score/batch`` are answered here, in plain ASGI, with hand-rolled validation
(:mod:`icpkit.api.limits`) and orjson. Everything else (the ICP, health, the page, OpenAPI docs, 404s) goes to
the FastAPI app, whose routes for the scoring paths call the same code and document it; ``fast=False`` sends
those through FastAPI too, which tests use to check both give the same answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from time import perf_counter
from typing import Any

from icpkit.api.auth import Tokens
from icpkit.api.limits import Limits, RequestError, require_json
from icpkit.api.live import LiveSpec
from icpkit.api.logs import JsonLog
from icpkit.api.scoring import Scoring

__all__ = ["OPEN_PATHS", "ROUTES", "Gateway", "error_body"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Paths served without a token: they hold no ICP and no scores (the page fetches those with the user's token).
OPEN_PATHS = frozenset({"/healthz", "/", "/ui/app.js", "/ui/app.css", "/docs", "/openapi.json", "/favicon.ico"})
# Paths the access log names; any other path is logged as "-" (a URL can carry an email).
ROUTES = OPEN_PATHS | {"/v1/score", "/v1/score/batch", "/v1/icp", "/docs/oauth2-redirect"}
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SCORING = frozenset({"/v1/score", "/v1/score/batch"})
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")
_JSON = (b"content-type", b"application/json")
_BATCH_IN_THREAD = 16_384  # bytes of batch body above which scoring leaves the event loop


def error_body(status: int, message: str, field: str | None, request_id: str | None) -> bytes:
    """The error shape of every refusal; plain ``json`` with ASCII escapes so any field name can be shown."""
    return json.dumps({"detail": message, "field": field, "request_id": request_id}).encode()


class Gateway:
    """The app uvicorn runs. ``api`` is the FastAPI app for everything but the scoring fast path."""

    def __init__(
        self,
        *,
        api: ASGIApp,
        live: LiveSpec,
        scoring: Scoring,
        tokens: Tokens | None,
        limits: Limits,
        log: JsonLog,
        cors_origins: Iterable[str] = (),
        fast: bool = True,
        freeze_gc: bool = False,
    ) -> None:
        self.api = api
        self.freeze_gc = freeze_gc
        self.live = live
        self.scoring = scoring
        self.tokens = tokens
        self.limits = limits
        self.log = log
        self.cors = frozenset(o.rstrip("/") for o in cors_origins)
        self.fast = fast
        # request ids: unique, not secret; a counter under a per-process prefix costs no system call
        self._ids = map(f"{os.urandom(3).hex()}{{:010x}}".format, itertools.count(1))
        self._flusher: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------------------------------------- ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.api(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.live.start()
                if self.log.flush_every > 0:
                    self._flusher = asyncio.get_running_loop().create_task(self._flush_logs())
                if self.freeze_gc:  # what start-up built lives as long as the process: out of every collection
                    gc.freeze()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.live.stop()
                if self._flusher is not None:
                    self._flusher.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._flusher
                self.log.flush()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _flush_logs(self) -> None:
        while True:
            await asyncio.sleep(self.log.flush_every)
            self.log.flush()

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = perf_counter()
        headers = dict(scope["headers"])  # the last of a repeated header wins, as a loop over them would have it
        get = headers.get
        origin, rid = get(b"origin"), get(b"x-request-id")
        request_id = rid.decode() if rid is not None and _REQUEST_ID.fullmatch(rid) else next(self._ids)
        extra = [(b"x-request-id", request_id.encode())]
        allowed = origin is not None and self.cors and (origin.decode("latin-1") in self.cors or "*" in self.cors)
        if allowed:
            extra += [(b"access-control-allow-origin", origin), (b"vary", b"Origin")]
            extra.append((b"access-control-expose-headers", b"x-request-id"))
        served = self.live.current
        method, path = scope["method"], scope["path"]
        sent = [0]  # the status once a response has started (then an error can only be logged)
        records = None
        try:
            if method == "OPTIONS" and origin is not None and get(b"access-control-request-method") is not None:
                await self._preflight(send, allowed, extra, sent)
            elif path not in OPEN_PATHS and self.tokens is not None and not self.tokens.check(get(b"authorization")):
                raise _Unauthorized(get(b"authorization") is not None)
            elif self.fast and method == "POST" and path in _SCORING:
                # the hot path: no framework between the request and the scorer, no coroutine but the ASGI calls
                message = await receive()
                if message["type"] != "http.request":
                    raise _Disconnected
                body = message.get("body", b"")
                if message.get("more_body", False) or len(body) > self.limits.max_body_bytes:
                    body = await self._body(receive, get(b"content-length"), body, message.get("more_body", False))
                require_json(get(b"content-type"))
                if path == "/v1/score":
                    out = self.scoring.score(body, served)
                elif len(body) > _BATCH_IN_THREAD:
                    out, records = await asyncio.to_thread(self.scoring.batch, body, served)
                else:
                    out, records = self.scoring.batch(body, served)
                sent[0] = 200
                await send({"type": "http.response.start", "status": 200, "headers": [_JSON, _length(out), *extra]})
                await send({"type": "http.response.body", "body": out})
            else:
                body = await self._body(receive, get(b"content-length")) if method in _BODY_METHODS else b""
                await self._delegate(scope, _replay(body, receive), send, extra, sent, request_id, served)
        except RequestError as exc:
            if sent[0]:
                raise
            body = error_body(exc.status, exc.message, exc.field, request_id)
            await _respond(send, exc.status, body, [*extra, *getattr(exc, "headers", ())], sent)
        except _Disconnected:
            sent[0] = 499  # nginx's code for "client closed the request"
        except Exception as exc:
            self.log.event("error", request_id=request_id, path=path if path in ROUTES else "-", error=repr(exc))
            if sent[0]:
                raise
            await _respond(send, 500, error_body(500, "internal error", None, request_id), extra, sent)
        finally:
            where = path if path in ROUTES else "-"
            self.log.access(method, where, sent[0], (perf_counter() - start) * 1000, served.hash, request_id, records)

    async def _delegate(
        self, scope: Scope, receive: Receive, send: Send, extra: list, sent: list[int], request_id: str, served: Any
    ) -> None:
        """Hand the request to the FastAPI app, adding our headers to its response."""

        async def reply(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        state = {**scope.get("state", {}), "request_id": request_id, "served": served}
        await self.api({**scope, "state": state}, receive, reply)

    async def _preflight(self, send: Send, allowed: bool, extra: list, sent: list[int]) -> None:
        if not allowed:
            raise RequestError(403, "this origin may not call the API (see --cors-origin)", "origin")
        headers = [
            *extra,
            (b"access-control-allow-methods", b"GET, POST"),
            (b"access-control-allow-headers", b"authorization, content-type, x-request-id"),
            (b"access-control-max-age", b"600"),
            (b"content-length", b"0"),
        ]
        sent[0] = 204
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _body(
        self, receive: Receive, length: bytes | None, first: bytes = b"", more: bool | None = None
    ) -> bytes:
        """The request body under the byte limit; ``first``/``more``: a first message already received."""
        limit = self.limits.max_body_bytes
        if length is not None and length.isdigit() and int(length) > limit:
            raise RequestError(413, f"the body is larger than {limit:,} bytes", "body")
        chunks, size = [first], len(first)
        if size > limit:
            raise RequestError(413, f"the body is larger than {limit:,} bytes", "body")
        while more is not False:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise RequestError(413, f"the body is larger than {limit:,} bytes", "body")
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


class _Unauthorized(RequestError):
    def __init__(self, presented: bool) -> None:
        message = "the bearer token is not valid" if presented else "a bearer token is required"
        super().__init__(401, message, "authorization")
        challenge = 'Bearer realm="icpkit"' + (', error="invalid_token"' if presented else "")
        self.headers = [(b"www-authenticate", challenge.encode())]


class _Disconnected(Exception):
    """The client went away mid-body: nothing to answer."""


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body over once, then the real channel (for disconnects)."""
    sent = False

    async def again() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _length(body: bytes) -> tuple[bytes, bytes]:
    return (b"content-length", b"%d" % len(body))


async def _respond(send: Send, status: int, body: bytes, extra: list, sent: list[int]) -> None:
    sent[0] = status
    headers = [_JSON, _length(body), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
