"""``icpkit demo``: the whole flow on the sample data shipped in the package."""

from __future__ import annotations

from icpkit.cli import app, console


@app.command()
def demo() -> None:
    """Run icpkit end to end on the bundled sample CRM export."""
    console.print("icpkit demo: sample data not bundled yet")
