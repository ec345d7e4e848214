"""An advisory lock file beside the store: one writer at a time, readers never meet a half-open writer.

DuckDB lets one process open a database file for writing and refuses every other open meanwhile, even a read-only
one. Two ``icpkit`` runs (a scheduled drift check and a build, the HTTP service polling the promoted version)
would otherwise fail at random. Writers take an exclusive ``flock`` on ``<store>.lock``, readers a shared one, and
both retry until a timeout, so they queue instead of failing. The kernel drops the lock when a process dies, even
by SIGKILL, so a crashed writer never leaves the store locked.

Writers go first: ``flock`` grants a shared lock whenever no exclusive one is held, so a service polling the store
would starve a writer forever. A second lock file, the gate, fixes that: a writer holds the gate for its whole
write, a reader only for the moment it takes its shared lock, so new readers wait behind a waiting writer.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from icpkit.errors import StoreError

try:  # POSIX; elsewhere DuckDB's own file lock (retried by the store) is the only guard
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["POLL_SECONDS", "store_lock"]

POLL_SECONDS = 0.02


@contextlib.contextmanager
def _flock(lock_path: Path, mode: int, deadline: float, busy: str) -> Iterator[None]:
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot create the store lock file {lock_path}: {exc.strerror}") from None
    try:
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(busy) from None
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def store_lock(path: Path, *, exclusive: bool, timeout: float) -> Iterator[None]:
    """Hold the lock of the store at ``path`` (exclusive for writers, shared for readers) for the block."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    busy = (
        f"the store {path} is busy: another icpkit process held it for {timeout:g} s; could not "
        f"{'write to' if exclusive else 'read'} it (retry, or raise the timeout)"
    )
    deadline = time.monotonic() + timeout
    gate = path.with_name(path.name + ".gate")
    main = path.with_name(path.name + ".lock")
    if exclusive:
        with _flock(gate, fcntl.LOCK_EX, deadline, busy), _flock(main, fcntl.LOCK_EX, deadline, busy):
            yield
        return
    with contextlib.ExitStack() as stack:
        stack.enter_context(_flock(gate, fcntl.LOCK_EX, deadline, busy))
        # enter the shared lock, then open the gate again for the next reader or writer
        held = stack.pop_all()
        try:
            with _flock(main, fcntl.LOCK_SH, deadline, busy):
                held.close()
                yield
        finally:
            held.close()
