"""Each coverage-guided fuzz target under ``fuzz/`` runs for a few seconds without finding a crash.

A crash makes atheris exit non-zero and write the input as ``crash-*`` into the run's folder; the assertion shows
the exception, and the input becomes a case in ``test_fuzz_regressions.py``. Longer runs are done by hand:
``python fuzz/fuzz_spec.py -max_total_time=600 corpus/ fuzz/seeds/spec`` (new inputs go to the first folder).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
SECONDS = 3  # per target; start-up (instrumented imports) adds about 10 s more on an idle machine
SEEDS = {"fuzz_spec.py": FUZZ / "seeds" / "spec"}


@pytest.mark.parametrize("target", sorted(p.name for p in FUZZ.glob("fuzz_*.py")))
def test_fuzz_target_runs_clean(target: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = [str(SEEDS[target])] if target in SEEDS else []
    proc = subprocess.run(
        [sys.executable, str(FUZZ / target), f"-max_total_time={SECONDS}", "-timeout=30", "-rss_limit_mb=4096",
         f"-artifact_prefix={tmp_path}/", str(corpus), *seeds],
        cwd=tmp_path, capture_output=True, text=True, timeout=SECONDS + 90, check=False,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    log = proc.stderr + proc.stdout
    assert proc.returncode == 0, log[-3000:]
    assert not list(tmp_path.glob("crash-*")), log[-3000:]
    done = re.search(r"#(\d+)\s+DONE", log)
    assert done and int(done.group(1)) > 1, log[-2000:]  # it ran inputs, not just started


def test_every_surface_has_a_target() -> None:
    assert {p.name for p in FUZZ.glob("fuzz_*.py")} == {
        "fuzz_coerce.py",
        "fuzz_read_csv.py",
        "fuzz_spec.py",
        "fuzz_sql.py",
    }
