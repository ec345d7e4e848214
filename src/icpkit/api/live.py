"""The ICP version in force, kept current without a restart.

A source is either a spec file or the version store. ``LiveSpec.refresh`` first compares a cheap signature (the
``stat`` of the file, or of the store and its write-ahead log); only when it moved (or every ``recheck`` polls, in
case two writes fell in one timestamp tick) does it read the store's promoted hash, and only when that differs
does it load and compile the new version. The swap is one attribute assignment: requests in flight keep the
``Served`` they already read, the next ones get the new one. A version that fails to load is logged and the
version in force stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from typing import Protocol

from icpkit.api.logs import JsonLog
from icpkit.api.served import AsOf, Served, serve_spec
from icpkit.errors import IcpkitError, StoreError
from icpkit.score.semantics import today
from icpkit.spec.io import load_spec
from icpkit.spec.model import ICPSpec
from icpkit.store import Store

__all__ = ["FileSource", "LiveSpec", "Source", "StoreSource"]

Signature = tuple[tuple[int, int, int] | None, ...]


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class Source(Protocol):
    def signature(self) -> Signature: ...

    def current_hash(self) -> str | None:
        """The hash of the version the source holds now, or None when it cannot tell cheaply."""

    def load(self) -> tuple[ICPSpec, int | None]: ...


class FileSource:
    """A spec YAML file; an edit is picked up like a promotion."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"spec file {self.path}"

    def signature(self) -> Signature:
        return (_stat(self.path),)

    def current_hash(self) -> str | None:
        return None

    def load(self) -> tuple[ICPSpec, int | None]:
        return load_spec(self.path), None


class StoreSource:
    """The promoted version of an ICP version store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __repr__(self) -> str:
        return f"store {self.store.path}"

    def signature(self) -> Signature:
        p = self.store.path
        return (_stat(p), _stat(p.with_name(p.name + ".wal")))

    def current_hash(self) -> str | None:
        return self.store.promoted_hash()

    def load(self) -> tuple[ICPSpec, int | None]:
        found = self.store.promoted()
        if found is None:
            raise StoreError(
                f"no version is promoted in the store {self.store.path} (icpkit promote VERSION puts one in force)"
            )
        rec, spec = found
        return spec, rec.version


class LiveSpec:
    """Holds ``current`` (a :class:`Served`) and replaces it when the source changes."""

    def __init__(
        self,
        source: Source,
        *,
        as_of: AsOf = None,
        enrichment: bool = False,
        poll_seconds: float = 1.0,
        recheck: int = 10,
        log: JsonLog | None = None,
    ) -> None:
        self.source = source
        self.log = log or JsonLog(None)
        self.as_of = as_of
        self.enrichment = enrichment
        self.poll_seconds = poll_seconds
        self.recheck = recheck
        self._polls = 0
        self._signature = source.signature()
        spec, version = source.load()  # errors here stop the start: nothing to serve
        self.current: Served = self._compile(spec, version)
        self._task: asyncio.Task[None] | None = None

    def _compile(self, spec: ICPSpec, version: int | None) -> Served:
        return serve_spec(spec, version=version, as_of=self.as_of, enrichment=self.enrichment)

    def refresh(self) -> bool:
        """Swap in the source's version if it changed (or the day did, for a calendar ``as_of``); True if so."""
        self._polls += 1
        sig = self.source.signature()
        cur = self.current
        new_day = cur.today and today() != cur.as_of  # the scoring date every engine reads
        if sig == self._signature and not new_day and self._polls % self.recheck:
            return False
        try:
            h = self.source.current_hash()
            if h is not None and h == cur.hash and not new_day:
                self._signature = sig
                return False
            spec, version = self.source.load()
        except IcpkitError as exc:
            self.log.event("version_not_loaded", source=repr(self.source), error=str(exc), serving=cur.hash)
            self._signature = sig  # retried when the source moves again
            return False
        self._signature = sig
        served = self._compile(spec, version)
        if served.hash == cur.hash and served.version == cur.version and not new_day:
            return False
        self.current = served  # the swap: one reference assignment
        self.log.event("version_in_force", version=served.version, spec_hash=served.hash, name=served.spec.name)
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception as exc:  # never let the watcher die: the next poll tries again
                self.log.event("version_check_failed", error=repr(exc))

    def start(self) -> None:
        if self._task is None and self.poll_seconds > 0:
            self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
