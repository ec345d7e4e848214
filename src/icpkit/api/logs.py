"""Structured logs: one JSON object per line, for access lines and service events alike.

Access lines carry what an operator needs to follow a request (method, path, status, latency, the spec hash that
answered, the request id) and nothing a request brought in: no headers (the token is one), no query string, no
record values (emails, names). Events (a new version in force, a version that failed to load) go to the same
stream so one ``jq`` reads both.

``flush_every`` > 0 buffers lines and writes them at most that many seconds apart (the service flushes on a timer
and at shutdown): one write system call per request is a measurable share of a sub-millisecond request.

Access lines are the per-request cost, so :meth:`JsonLog.access` only queues the line's values (a tuple) and the
line is written out when the buffer is flushed, into a fixed template instead of through a dict: every value in
it is a number or text the gateway has already restricted to JSON-safe characters (a known path or ``-``, a hex
hash, a request id matching ``[A-Za-z0-9._-]``); only an unusual method goes through orjson. A timestamp's seconds
part is formatted once per second. Unbuffered (``flush_every`` 0), each line is written at once as before. The
C extension, where built, renders a batch of the usual lines (``icpkit._native.render_access``).
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

import orjson

try:
    from icpkit._native import render_access as _render_access
except ImportError:  # pragma: no cover - built without a C compiler: the Python loop renders every batch
    _render_access = None

__all__ = ["JsonLog"]

_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# %03d truncates the milliseconds as the timestamp of an event does; %.3f rounds the latency to the microsecond
_ACCESS = '{"ts":"%s.%03dZ","method":"%s","path":"%s","status":%d,"ms":%.3f,"spec_hash":"%s","request_id":"%s"%s'


class JsonLog:
    """Writes JSON lines to ``stream`` (stderr by default); ``None`` turns logging off."""

    def __init__(self, stream: IO[str] | None = sys.stderr, *, flush_every: float = 0.0) -> None:
        self.stream = stream
        self.flush_every = flush_every
        self._lock = threading.Lock()  # events come from the watcher thread too
        self._pending: list[str | tuple[Any, ...]] = []  # lines, or access lines' values
        self._next_flush = time.monotonic() + flush_every
        self._stamp: tuple[int, str] = (-1, "")

    def _ts(self, now: float | None = None) -> str:
        """UTC time with milliseconds; the seconds part is formatted once per second."""
        now = time.time() if now is None else now
        second = int(now)
        cached = self._stamp  # (second, its text), swapped whole: the watcher thread writes events too
        if cached[0] != second:
            cached = self._stamp = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{cached[1]}.{int((now - second) * 1000):03d}Z"

    def write(self, entry: dict[str, Any]) -> None:
        if self.stream is None:
            return
        self._add(orjson.dumps({"ts": self._ts(), **entry}, default=str).decode() + "\n")

    def access(
        self, method: str, path: str, status: int, ms: float, spec_hash: str, request_id: str, records: int | None
    ) -> None:
        """One access line; ``path`` and ``request_id`` must already be JSON-safe text (the gateway makes them so)."""
        if self.stream is not None:  # no lock: one append is atomic, and _write takes lines without a swap
            self._pending.append((time.time(), method, path, status, ms, spec_hash, request_id, records))
            if self._due():
                self.flush()

    def _render(self, lines: list[str | tuple[Any, ...]]) -> str:
        """The pending lines as text, access lines filled into one ``%`` template (one loop, no call per line).
        Where the C extension is built it writes the usual batch (ASCII lines, known methods) the same way, at a
        fraction of the cost; anything else comes here."""
        if _render_access is not None and (text := _render_access(lines)) is not None:
            return text
        return self._render_python(lines)

    def _render_python(self, lines: list[str | tuple[Any, ...]]) -> str:
        out: list[str] = []
        add = out.append
        second, stamp = self._stamp
        for x in lines:
            if type(x) is str:
                add(x)
                continue
            now, method, path, status, ms, spec_hash, request_id, records = x
            if now - second >= 1 or now < second:
                second = int(now)
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            if method not in _METHODS:
                method = orjson.dumps(method).decode()[1:-1]
            tail = "}\n" if records is None else f',"records":{records}}}\n'
            add(_ACCESS % (stamp, (now - second) * 1000, method, path, status, ms, spec_hash, request_id, tail))
        return "".join(out)

    def event(self, event: str, **fields: Any) -> None:
        self.write({"event": event, **fields})

    def _add(self, line: str | tuple[Any, ...]) -> None:
        with self._lock:
            self._pending.append(line)
            if self._due():
                self._write()

    def _due(self) -> bool:
        """Whether the queued lines are to be written now: unbuffered, or the flush interval has passed."""
        return self.flush_every <= 0 or time.monotonic() >= self._next_flush

    def flush(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        pending = self._pending  # never swapped: an access line appended meanwhile stays for the next write
        n = len(pending)
        lines = pending[:n]
        del pending[:n]
        self._next_flush = time.monotonic() + self.flush_every
        if not lines or self.stream is None:
            return
        try:
            self.stream.write(self._render(lines))
            self.stream.flush()
        except (OSError, ValueError):  # a closed or full stream must not fail a request
            pass
