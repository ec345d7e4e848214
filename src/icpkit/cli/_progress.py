"""A Rich progress display for long steps, driven by the core's ``(stage, fraction)`` callbacks.

The core never prints; it calls a progress callback. This turns those calls into one live bar on stderr, and into
nothing at all when output is not a terminal or is JSON, so scripts read clean stdout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from icpkit.cli import err_console

__all__ = ["progress_bar"]


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, float], None]]:
    """Yield a ``(stage, fraction)`` callback that drives a live bar, or a no-op when disabled."""
    if not enabled or not err_console.is_terminal:
        yield lambda stage, fraction: None
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("starting", total=1.0)

        def tell(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=max(0.0, min(1.0, fraction)))

        yield tell
