"""What several commands share: date options, reading the exports, and keeping ``--json`` stdout clean."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from icpkit.errors import InputError
from icpkit.ingest import LoadResult, load_dataset

__all__ = ["json_stdout", "load_exports", "parse_date_option", "parse_segments_option"]


def parse_date_option(value: str | None, option: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` option, or a clear usage error naming the option."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} must be a date (YYYY-MM-DD), got '{value}'") from None


def parse_segments_option(value: str) -> int | str:
    """``--segments auto|N`` of build, validate, report and recalibrate: 'auto' or 1 to 3 segments."""
    if value == "auto":
        return "auto"
    if value.isdigit() and 1 <= int(value) <= 3:
        return int(value)
    raise InputError(f"--segments must be 'auto' or a number from 1 to 3, got '{value}'")


@contextlib.contextmanager
def json_stdout(enabled: bool = True) -> Iterator[None]:
    """Keep stdout pure JSON around work that may open DuckDB connections of its own.

    DuckDB draws its progress bar on the process's stdout for long queries; icpkit's own connections turn it
    off, but a script reading ``--json`` must never depend on that. Native stdout goes to stderr meanwhile.
    """
    try:
        fd = sys.stdout.fileno() if enabled else None
    except (AttributeError, OSError, ValueError):  # captured stdout (tests): nothing native to protect
        fd = None
    if fd is None:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        os.dup2(sys.stderr.fileno(), fd)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, fd)
        os.close(saved)


def load_exports(
    accounts: Path,
    deals: Path | None = None,
    subscriptions: Path | None = None,
    leads: Path | None = None,
    *,
    preset: str | None = None,
    mapping: list[str] | None = None,
    stage_map: list[str] | None = None,
    encoding: str | None = None,
    as_of: dt.date | None = None,
) -> LoadResult:
    """Read the CRM exports exactly as ``inspect`` shows them; empty option lists mean "none given"."""
    return load_dataset(
        accounts,
        deals,
        subscriptions,
        leads,
        preset=preset,
        mapping=mapping or None,
        stage_map=stage_map or None,
        encoding=encoding,
        as_of=as_of,
    )
