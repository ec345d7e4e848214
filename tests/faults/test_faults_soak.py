"""A short run of bench/soak.py: steady load on ``icpkit serve`` with a promotion halfway through.

No answer lost or failed, the new version served soon after the promotion and only it from then on, and neither the
token nor a lead's e-mail address in the server's output (access log and events). Speed and memory are the
benchmark's to report (docs/reliability.md), not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def test_a_promotion_under_steady_load_loses_no_request_and_logs_no_secret() -> None:
    cmd = [sys.executable, str(SOAK), "--seconds", "16", "--rate", "60", "--connections", "4", "--batch", "10"]
    proc = subprocess.run([*cmd, "--poll", "0.2", "--switch-within", "5", "--json"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result["sent"] >= 200 and result["dropped"] == 0, result
    assert result["non2xx"] == 0 and result["errors"] == 0, result
    assert result["by_path"]["/v1/score"] > 0 and result["by_path"]["/v1/score/batch"] > 0
    assert result["before_promotion_all_v1"] and result["after_switch_all_v2"], result
    assert result["server_alive"]
    assert result["access_lines"] >= result["answered"]  # the log was on, and still held no secret
    assert result["secrets_in_server_output"] == []
