"""Structured logs: one JSON object per line, for access lines and service events alike.

Access lines carry what an operator needs to follow a request (method, path, status, latency, the spec hash that
answered, the request id) and nothing a request brought in: no headers (the token is one), no query string, no
record values (emails, names). Events (a new version in force, a version that failed to load) go to the same
stream so one ``jq`` reads both.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from typing import IO, Any

import orjson

__all__ = ["JsonLog"]


class JsonLog:
    """Writes JSON lines to ``stream`` (stderr by default); ``None`` turns logging off."""

    def __init__(self, stream: IO[str] | None = sys.stderr) -> None:
        self.stream = stream
        self._lock = threading.Lock()  # events come from the watcher thread too

    def write(self, entry: dict[str, Any]) -> None:
        if self.stream is None:
            return
        entry = {"ts": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), **entry}
        line = orjson.dumps(entry, default=str).decode() + "\n"
        with self._lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):  # a closed or full stream must not fail the request
                pass

    def event(self, event: str, **fields: Any) -> None:
        self.write({"event": event, **fields})
