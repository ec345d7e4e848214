"""Structured logs: one JSON object per line, for access lines and service events alike.

Access lines carry what an operator needs to follow a request (method, path, status, latency, the spec hash that
answered, the request id) and nothing a request brought in: no headers (the token is one), no query string, no
record values (emails, names). Events (a new version in force, a version that failed to load) go to the same
stream so one ``jq`` reads both.

``flush_every`` > 0 buffers lines and writes them at most that many seconds apart (the service flushes on a timer
and at shutdown): one write system call per request is a measurable share of a sub-millisecond request.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO, Any

import orjson

__all__ = ["JsonLog"]


class JsonLog:
    """Writes JSON lines to ``stream`` (stderr by default); ``None`` turns logging off."""

    def __init__(self, stream: IO[str] | None = sys.stderr, *, flush_every: float = 0.0) -> None:
        self.stream = stream
        self.flush_every = flush_every
        self._lock = threading.Lock()  # events come from the watcher thread too
        self._pending: list[str] = []
        self._last_flush = time.monotonic()
        self._second = -1
        self._stamp = ""

    def _ts(self) -> str:
        """UTC time with milliseconds; the seconds part is formatted once per second."""
        now = time.time()
        second = int(now)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._stamp}.{int((now - second) * 1000):03d}Z"

    def write(self, entry: dict[str, Any]) -> None:
        if self.stream is None:
            return
        line = orjson.dumps({"ts": self._ts(), **entry}, default=str).decode() + "\n"
        with self._lock:
            self._pending.append(line)
            if self.flush_every <= 0 or time.monotonic() - self._last_flush >= self.flush_every:
                self._write()

    def event(self, event: str, **fields: Any) -> None:
        self.write({"event": event, **fields})

    def flush(self) -> None:
        with self._lock:
            self._write()

    def _write(self) -> None:
        lines, self._pending = self._pending, []
        self._last_flush = time.monotonic()
        if not lines or self.stream is None:
            return
        try:
            self.stream.write("".join(lines))
            self.stream.flush()
        except (OSError, ValueError):  # a closed or full stream must not fail a request
            pass
