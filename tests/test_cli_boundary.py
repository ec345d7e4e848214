"""The CLI error boundary: user mistakes give one line and exit code 2, never a traceback."""

from __future__ import annotations

import subprocess
import sys

from icpkit.cli import main


def test_help_lists_commands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "demo" in out


def test_unknown_command_is_usage_error(capsys):
    assert main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert "no-such-command" in err
    assert "Traceback" not in err


def test_console_script_runs_as_module():
    proc = subprocess.run(
        [sys.executable, "-m", "icpkit", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0
    assert "Ideal Customer Profile" in proc.stdout
