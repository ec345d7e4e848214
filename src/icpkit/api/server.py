"""Run the service on uvicorn with limits an anonymous client cannot outlast: slow or huge headers, too many
connections, and connections kept alive forever.

uvicorn closes an idle keep-alive connection, but nothing else: a client that opens a connection and sends half
a request line keeps its socket (and the server's file descriptor) for ever, and the default parser (httptools)
buffers a header of any size. These limits need no token to be enforced, because they must hold before one is
read. They live in a subclass of uvicorn's httptools protocol:

- **header timeout**: a request's headers must be complete within ``header_timeout`` seconds of the connection
  opening (or of the first byte of a later request on the same connection); one timer sweeps every waiting
  connection, so a request costs a dict insertion, not a timer of its own.
- **body timeout**: once its headers are in, a request's body must be complete within ``body_timeout`` seconds
  (an anonymous POST to an open path is read before it is refused).
- **header size**: more than ``max_header_bytes`` of request line and headers is answered 431 and closed; the
  bytes held while waiting are at most that plus one socket read.
- **connections**: past ``max_connections``, the connection that has waited longest for its headers is closed
  to make room (a slow client gives way to a new one, so ``/healthz`` still answers); when none is waiting, the
  new one is closed.
- **keep-alive**: an idle connection is closed after ``keep_alive`` seconds, and a connection is closed after
  ``keep_alive_requests`` requests (the response says ``connection: close``).
"""

from __future__ import annotations

import asyncio
import resource
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["ServerLimits", "guarded_protocol", "run"]


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """What one client may hold of the server. The defaults suit a service behind a form backend or a router."""

    header_timeout: float = 10.0
    max_header_bytes: int = 16_384
    body_timeout: float = 30.0
    max_connections: int = 1_000
    keep_alive: float = 5.0
    keep_alive_requests: int = 1_000

    def check(self) -> None:
        """Refuse limits the process cannot keep (the open-file limit bounds the connections)."""
        from icpkit.errors import InputError

        if self.header_timeout <= 0 or self.keep_alive <= 0 or self.body_timeout <= 0:
            raise InputError("--header-timeout, --body-timeout and --keep-alive must be more than 0 seconds")
        if self.max_header_bytes < 1024:
            raise InputError("--max-header-bytes must be at least 1024")
        if self.max_connections < 1 or self.keep_alive_requests < 1:
            raise InputError("--max-connections and --keep-alive-requests must be at least 1")
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and self.max_connections > soft - 64:
            raise InputError(
                f"--max-connections {self.max_connections:,} is more than this process can open "
                f"(open-file limit {soft:,}, less 64 for files and the listener): lower it or raise 'ulimit -n'"
            )


class _HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a request whose head is over the limit."""


class _Guard:
    """State shared by every connection of one server: those still waiting for their headers, oldest first."""

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self.waiting: dict[HttpToolsProtocol, float] = {}
        self.reading: dict[HttpToolsProtocol, float] = {}  # headers complete, body still arriving
        self.sweeping = False

    def sweep_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        if not self.sweeping:
            self.sweeping = True
            loop.call_later(min(1.0, self.limits.header_timeout / 4), self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self.sweeping = False
        now = loop.time()
        for queue, timeout in ((self.waiting, self.limits.header_timeout), (self.reading, self.limits.body_timeout)):
            for proto, since in list(queue.items()):
                if since > now - timeout:
                    break  # insertion order is waiting order: the rest are younger
                del queue[proto]
                proto.transport.close()
        if self.waiting or self.reading:
            self.sweep_soon(loop)

    def evict(self) -> None:
        """Close the connection that has waited longest for its headers."""
        proto = next(iter(self.waiting))
        del self.waiting[proto]
        proto.transport.close()


def _refusal(status: bytes, message: str) -> bytes:
    body = b'{"detail": "' + message.encode() + b'", "field": "headers", "request_id": null}'
    return (
        b"HTTP/1.1 "
        + status
        + b"\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\nconnection: close\r\n\r\n"
        + body
    )


def guarded_protocol(limits: ServerLimits) -> type[HttpToolsProtocol]:
    """A uvicorn httptools protocol class that enforces ``limits`` (one class, and one guard, per server)."""
    guard = _Guard(limits)
    max_head = limits.max_header_bytes
    too_large = _refusal(b"431 Request Header Fields Too Large", f"request headers over {max_head:,} bytes")

    class GuardedProtocol(HttpToolsProtocol):
        limits_guard = guard

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.head_bytes = 0
            self.requests = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            guard.waiting[self] = self.loop.time()
            guard.sweep_soon(self.loop)
            if len(self.connections) > limits.max_connections:
                guard.evict()

        def connection_lost(self, exc: Exception | None) -> None:
            guard.waiting.pop(self, None)
            guard.reading.pop(self, None)
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            self._unset_keepalive_if_required()
            self.head_bytes += len(data)
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
                return
            except httptools.HttpParserError as exc:
                if isinstance(exc.__context__, _HeadTooLarge):
                    self._refuse(too_large)
                else:
                    self.send_400_response("Invalid HTTP request received.")
                return
            if self.head_bytes > max_head and self in guard.waiting and not self.transport.is_closing():
                self._refuse(too_large)  # headers still incomplete past the limit: stop buffering them

        def _refuse(self, response: bytes) -> None:
            guard.waiting.pop(self, None)
            self.transport.write(response)
            self.transport.close()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.head_bytes = 0
            if self not in guard.waiting:  # a later request on a kept-alive connection: its headers are timed too
                guard.waiting[self] = self.loop.time()
                guard.sweep_soon(self.loop)

        def on_headers_complete(self) -> None:
            guard.waiting.pop(self, None)
            size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
            if size > max_head:
                raise _HeadTooLarge
            guard.reading[self] = self.loop.time()  # until on_message_complete: the body is timed too
            super().on_headers_complete()
            self.requests += 1
            if self.requests >= limits.keep_alive_requests and self.cycle is not None:
                self.cycle.keep_alive = False

        def on_message_complete(self) -> None:
            guard.reading.pop(self, None)
            super().on_message_complete()

    return GuardedProtocol


def run(app: Any, *, host: str, port: int, limits: ServerLimits, **options: Any) -> None:
    """Serve ``app`` on uvicorn with ``limits`` (``options`` go to ``uvicorn.run``)."""
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        http=guarded_protocol(limits),
        timeout_keep_alive=limits.keep_alive,  # type: ignore[arg-type]
        backlog=max(2048, limits.max_connections),
        **options,
    )
