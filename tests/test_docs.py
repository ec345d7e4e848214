"""Docs that cannot drift: every command, spec operator and CRM preset is documented in docs/reference.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from icpkit.cli import _register_commands, app
from icpkit.ingest import PRESETS
from icpkit.spec import Op

REFERENCE = (Path(__file__).resolve().parent.parent / "docs" / "reference.md").read_text(encoding="utf-8")
README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands() -> list[str]:
    _register_commands()
    return sorted(c.name or c.callback.__name__ for c in app.registered_commands)


@pytest.mark.parametrize("command", _commands())
def test_every_command_is_documented(command: str) -> None:
    assert f"`icpkit {command}`" in REFERENCE


@pytest.mark.parametrize("op", [op.value for op in Op])
def test_every_operator_is_documented(op: str) -> None:
    assert f"| `{op}` |" in REFERENCE
    assert f"`{op}`" in README


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_is_documented(preset: str) -> None:
    assert f"| `{preset}` |" in REFERENCE


def test_readme_opens_with_the_two_commands() -> None:
    head = README[:2500]
    assert "make demo" in head and "make test" in head
