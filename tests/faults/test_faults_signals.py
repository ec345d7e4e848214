"""The real CLI stopped mid-way by SIGKILL, SIGTERM or Ctrl-C (SIGINT): no half-written output, ever.

The output path holds the complete previous file or the complete new one; the store opens with its previous
versions; a caught signal (SIGINT, SIGTERM) says one word, exits 130 / 143 and removes its temporary files, and a
SIGKILL, which nothing can catch, leaves at most a dotted temporary folder beside the output. The moments are spread
over each run (seeded, so a failure replays).
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from faults_support import (
    SAMPLE,
    SPEC_YAML,
    accounts_parquet,
    expected_exit,
    icpkit,
    leftovers,
    run,
    short_message,
    start,
    stop,
    wait_for,
    wait_ready,
)

from icpkit.spec import load_spec
from icpkit.store import Store
from icpkit.synth import generate, write_csv

SIGNALS = [signal.SIGKILL, signal.SIGTERM, signal.SIGINT]
ROWS = 600_000


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """600k accounts: scoring them takes seconds, long enough to stop mid-write."""
    folder = tmp_path_factory.mktemp("big")
    (folder / "icp.yaml").write_text(SPEC_YAML)
    accounts_parquet(folder / "accounts.parquet", ROWS)
    return folder


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> dict[str, Path]:
    return write_csv(generate(3000, seed=7), tmp_path_factory.mktemp("history"), style="canonical")


def _spill_started(folder: Path) -> bool:
    return any(p.name.startswith(".icpkit-spill-") for p in folder.iterdir())


def _temporary_only(names: list[str]) -> bool:
    return all(n.startswith(".") for n in names)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_score_stopped_mid_write_keeps_the_previous_output(big: Path, tmp_path: Path, sig: int, fmt: str) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / f"scores.{fmt}"
    previous = b"the complete previous output\n"
    out.write_bytes(previous)
    proc = start(icpkit("score", big / "accounts.parquet", "--spec", big / "icp.yaml", "-o", out, "--json"))
    wait_for(lambda: _spill_started(out_dir), proc)  # DuckDB is now reading, scoring and writing
    time.sleep(random.Random(f"{sig}{fmt}").uniform(0.0, 0.5))
    code, err = stop(proc, sig)
    if out.read_bytes() != previous:  # the rename came just before the signal: then the whole new file is there
        rows = pq.read_metadata(out).num_rows if fmt == "parquet" else out.read_bytes().count(b"\n") - 1
        assert rows == ROWS, f"a partial output of {rows} rows"
    else:  # never torn, never a partial new file
        assert code == expected_exit(sig), err[-3000:]
        short_message(sig, err)
    rest = leftovers(out_dir, out.name)
    if sig == signal.SIGKILL:
        assert _temporary_only(rest), rest  # only the dotted spill folder, clearly not an output
    else:
        assert rest == []  # caught: every temporary file removed


def test_score_runs_to_the_end_after_a_killed_run(big: Path, tmp_path: Path) -> None:
    """What a SIGKILL leaves behind does not get in the way of the next run, and the new file is complete."""
    out = tmp_path / "scores.parquet"
    proc = start(icpkit("score", big / "accounts.parquet", "--spec", big / "icp.yaml", "-o", out, "--json"))
    wait_for(lambda: _spill_started(tmp_path), proc)
    stop(proc, signal.SIGKILL)
    code, err = run(icpkit("score", big / "accounts.parquet", "--spec", big / "icp.yaml", "-o", out, "--json"))
    assert code == 0, err[-3000:]
    assert pq.read_metadata(out).num_rows == ROWS


def _build(history: dict[str, Path], out: Path, store: Path) -> list[str]:
    return icpkit("build", "-a", history["accounts"], "-d", history["deals"], "-o", out, "--store", store, "--json")


@pytest.fixture(scope="module")
def first_build(history: dict[str, Path], tmp_path_factory) -> tuple[Path, float]:
    """One complete build (spec + store version 1) and how long it took, to spread the stop moments over."""
    folder = tmp_path_factory.mktemp("first")
    proc = start(_build(history, folder / "icp.yaml", folder / "store.duckdb"))
    ready = wait_ready(proc)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return folder, time.monotonic() - ready


@pytest.mark.parametrize("moment", ["20%", "50%", "75%", "store write"])
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_build_stopped_anywhere_leaves_the_spec_and_the_store_whole(
    history: dict[str, Path], first_build: tuple[Path, float], tmp_path: Path, sig: int, moment: str
) -> None:
    """Stopped while reading, discovering, writing the store or writing the spec: the previous spec and versions
    stay readable; a build that got further has written a complete spec whose version is in the store (also when
    the signal came as it was exiting, after its handlers were gone)."""
    folder, seconds = first_build
    for name in ("icp.yaml", "store.duckdb"):
        (tmp_path / name).write_bytes((folder / name).read_bytes())
    out, store = tmp_path / "icp.yaml", tmp_path / "store.duckdb"
    before, stored = out.read_bytes(), store.stat().st_mtime_ns
    proc = start(_build(history, out, store))
    wait_ready(proc)
    if moment == "store write":  # the store file starts to change: the new version is being written
        wait_for(lambda: store.stat().st_mtime_ns != stored or (tmp_path / "store.duckdb.wal").exists(), proc)
    else:
        time.sleep(seconds * int(moment[:-1]) / 100 * random.Random(f"{sig}{moment}").uniform(0.9, 1.0))
    if proc.poll() is not None:
        pytest.skip("the build finished before the moment chosen (a fast machine): nothing was stopped")
    code, err = stop(proc, sig)
    # a caught signal that still ends the process by default came as it was exiting: work done, handlers gone
    finished = sig != signal.SIGKILL and code == -sig
    if not finished:
        assert code == expected_exit(sig), err[-3000:]
        short_message(sig, err)
    versions = Store(store).versions()
    assert [v.version for v in versions][:1] == [1] and len(versions) <= 2
    for v in versions:
        Store(store).get(v.version)  # every version reads back
    spec = load_spec(out)  # complete YAML, old or new
    # the spec on disk, old or new, is always a stored version (a rebuild of the same history is version 1 again:
    # the same content hash), and a new file is only ever a complete one
    assert spec.version in [v.version for v in versions]
    if out.read_bytes() != before:
        assert spec.version == versions[-1].version
    rest = leftovers(tmp_path, "icp.yaml", "store.duckdb", "store.duckdb.lock", "store.duckdb.gate", "store.duckdb.wal")
    assert rest == [] if sig != signal.SIGKILL else _temporary_only(rest), rest


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("share", [0.5, 0.9])
def test_size_export_stopped_keeps_the_previous_target_list(tmp_path: Path, sig: int, share: float) -> None:
    spec = tmp_path / "icp.yaml"
    spec.write_text(SPEC_YAML)
    out = tmp_path / "targets.csv"
    cmd = icpkit("size", "--spec", spec, "--universe", SAMPLE / "universe.parquet", "-o", out, "--json")
    proc = start(cmd)
    ready = wait_ready(proc)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    seconds = time.monotonic() - ready
    fresh = out.read_bytes()
    out.write_bytes(fresh + b"# marker: the previous complete list\n")
    previous = out.read_bytes()
    proc = start(cmd)
    wait_ready(proc)
    time.sleep(seconds * share)
    if proc.poll() is not None:
        pytest.skip("sizing finished before the moment chosen: nothing was stopped")
    code, err = stop(proc, sig)
    if code == 0 or (sig != signal.SIGKILL and code == -sig):  # the signal came as it was exiting: work done
        assert out.read_bytes() == fresh
    else:
        assert code == expected_exit(sig), err[-3000:]
        short_message(sig, err)
        assert out.read_bytes() in (previous, fresh)  # the old list or the whole new one
    rest = leftovers(tmp_path, "icp.yaml", "targets.csv")
    assert rest == [] if sig != signal.SIGKILL else _temporary_only(rest), rest
