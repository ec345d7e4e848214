"""A full disk or a read-only output folder: one clear error naming the path, exit 2, nothing half-written.

A full disk is simulated with RLIMIT_FSIZE on the child (a write past the limit fails with EFBIG, SIGXFSZ ignored),
which works as root too. A read-only folder is a chmod 555 folder for an ordinary user; as root, which chmod does
not stop, a folder of /sys (sysfs refuses new files even to root).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from faults_support import SAMPLE, SPEC_YAML, accounts_parquet, file_size_limit, icpkit, leftovers, run

from icpkit.store import Store
from icpkit.synth import generate, write_csv


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    files = write_csv(generate(3000, seed=7), folder, style="canonical")
    (folder / "icp.yaml").write_text(SPEC_YAML)
    accounts_parquet(folder / "accounts.parquet", 200_000)
    return {**files, "spec": folder / "icp.yaml", "parquet": folder / "accounts.parquet"}


@pytest.fixture
def read_only(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        yield folder
        folder.chmod(0o755)
        return
    folder = Path("/sys/kernel")
    probe = folder / ".icpkit-probe"
    try:
        probe.touch()
    except OSError:
        yield folder
        return
    probe.unlink()
    pytest.skip("no read-only folder for root here: /sys/kernel accepts new files")


def _commands(inputs: dict[str, Path], out_dir: Path) -> dict[str, tuple[list[str], Path]]:
    """Each command that writes an output, with that output's path in ``out_dir``."""
    spec, universe = inputs["spec"], SAMPLE / "universe.parquet"
    history = ["-a", inputs["accounts"], "-d", inputs["deals"]]
    return {
        "build": (icpkit("build", *history, "-o", out_dir / "icp.yaml", "--no-keep"), out_dir / "icp.yaml"),
        "score parquet": (
            icpkit("score", inputs["parquet"], "-s", spec, "-o", out_dir / "s.parquet"),
            out_dir / "s.parquet",
        ),
        "score csv": (icpkit("score", inputs["parquet"], "-s", spec, "-o", out_dir / "s.csv"), out_dir / "s.csv"),
        "size": (icpkit("size", "-s", spec, "-u", universe, "-o", out_dir / "t.csv"), out_dir / "t.csv"),
        "export": (
            icpkit("export", "--to", "linkedin", "-s", spec, "-u", universe, "-o", out_dir / "li.csv"),
            out_dir / "li.csv",
        ),
        "report": (icpkit("report", *history, "-o", out_dir / "r.html"), out_dir / "r.html"),
    }


COMMANDS = ["build", "score parquet", "score csv", "size", "export", "report"]


def _one_clear_error(code: int, err: str, path: Path) -> None:
    assert code == 2, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(path) in lines[0], err[-3000:]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_full_disk_is_one_error_naming_the_output(inputs, tmp_path: Path, command: str) -> None:
    cmd, out = _commands(inputs, tmp_path)[command]
    code, err = run(cmd, preexec=file_size_limit(1024))  # every output here is larger than 1 kB
    _one_clear_error(code, err, out)
    assert "too large" in err or "full" in err
    assert not out.exists()
    assert leftovers(tmp_path) == []  # the temporary file and the spill folder went too


def test_a_full_disk_during_the_store_write_keeps_the_store_and_writes_no_spec(inputs, tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    out = tmp_path / "icp.yaml"
    build = icpkit("build", "-a", inputs["accounts"], "-d", inputs["deals"], "-o", out, "--store", store)
    code, err = run(build, preexec=file_size_limit(0))
    assert code == 2 and "Traceback" not in err and str(store.name) in err, err[-3000:]
    assert not out.exists()
    assert Store(store).versions() == []  # what the failed write left reads as an empty store, and takes the next
    code, err = run(build)
    assert code == 0, err[-3000:]
    assert [v.version for v in Store(store).versions()] == [1]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_read_only_folder_is_one_error_naming_the_output(inputs, read_only: Path, command: str) -> None:
    before = sorted(p.name for p in read_only.iterdir())
    cmd, out = _commands(inputs, read_only)[command]
    code, err = run(cmd)
    _one_clear_error(code, err, out)
    assert "read-only" in err or "Permission denied" in err
    assert sorted(p.name for p in read_only.iterdir()) == before


def test_a_full_device_is_a_clear_error_and_stays_a_device(inputs) -> None:
    """Writing to /dev/full (always "no space left"): the message says so, and the device is not replaced."""
    full = Path("/dev/full")
    if not full.exists() or not stat.S_ISCHR(full.stat().st_mode):
        pytest.skip("no /dev/full here")
    code, err = run(icpkit("export", "--to", "checklist", "-s", inputs["spec"], "-o", full))
    _one_clear_error(code, err, full)
    assert "full" in err
    assert stat.S_ISCHR(full.stat().st_mode)
