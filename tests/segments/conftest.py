"""The segment tests reuse the engine runners of tests/engines (PostgreSQL and Spark fixtures: tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ENGINES_DIR = Path(__file__).resolve().parents[1] / "engines"
if str(ENGINES_DIR) not in sys.path:
    sys.path.insert(0, str(ENGINES_DIR))
