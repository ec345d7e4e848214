"""``make demo`` installs what the demo runs (the runtime dependencies), ``make test`` the development extras too."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DEV_ONLY = ("pyspark", "psycopg", "fastapi", "uvicorn", "orjson", "httpx", "hypothesis", "schemathesis", "atheris")


def dry_run(target: str, venv: Path) -> list[str]:
    """The commands ``make TARGET`` would run on a clean clone (no virtual environment yet)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}  # under make test
    run = subprocess.run(
        ["make", "-n", "-s", "--no-print-directory", "-C", str(REPO), target, f"VENV={venv}"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return run.stdout.splitlines()


def installs(lines: list[str]) -> list[str]:
    return [line for line in lines if " pip install " in line and "--upgrade pip" not in line]


def test_demo_installs_the_runtime_dependencies_only(tmp_path):
    lines = dry_run("demo", tmp_path / "venv")
    assert installs(lines) == [f"{tmp_path / 'venv'}/bin/python -m pip install --quiet -e ."]
    assert lines[-1] == f"{tmp_path / 'venv'}/bin/icpkit demo"


def test_test_installs_the_development_extras_from_a_clean_clone(tmp_path):
    lines = dry_run("test", tmp_path / "venv")
    assert lines[0] == f"python3 -m venv {tmp_path / 'venv'}"
    assert installs(lines) == [f"{tmp_path / 'venv'}/bin/python -m pip install --quiet -e '.[dev]'"]
    assert any("-m pytest" in line for line in lines)


def test_every_dev_only_package_is_outside_the_runtime_dependencies():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = " ".join(project["dependencies"]).lower()
    assert not [p for p in DEV_ONLY if p in runtime]
    dev = " ".join(project["optional-dependencies"]["dev"]).lower()
    assert all(p in dev for p in DEV_ONLY)


def test_the_demo_runs_without_any_development_package(tmp_path):
    """What `make demo` installs is enough: the whole demo with every dev-only package made unimportable."""
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in {set(DEV_ONLY) | {"starlette", "pytest"}!r}:
                    raise ImportError("not installed by make demo: " + name)
        sys.meta_path.insert(0, Block())
        from icpkit.cli import main
        sys.exit(main(["demo", "--out", {str(tmp_path / "demo")!r}]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "demo" / "icp.yaml").exists() and (tmp_path / "demo" / "icp-report.html").exists()
