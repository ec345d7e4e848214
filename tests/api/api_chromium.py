"""The headless Chromium of the page tests: the shared DevTools client (tests/devtools.py) at a desktop size."""

from __future__ import annotations

from devtools import Browser, chromium_path

__all__ = ["Chromium", "find_chromium"]

find_chromium = chromium_path


class Chromium(Browser):
    """One headless browser with one page, sized like a desktop window; a context manager."""

    def __init__(self, binary: str, *, width: int = 1280, height: int = 900) -> None:
        super().__init__(binary, width=width, height=height)
