"""The version store: versions and runs round-trip, references resolve, writes are atomic and queue between
processes (a SIGKILL mid-write leaves the previous state readable; two writers never collide)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from icpkit.errors import StoreError
from icpkit.spec import ICPSpec, Tiers, content_hash
from icpkit.store import Store, data_fingerprint, table_digest
from icpkit.synth import generate

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _spec(i: int, tier3: int = 10) -> ICPSpec:
    """A distinct filter per ``i`` (the hash covers tiers; the name does not)."""
    base = generate(50, seed=0).truth
    return base.model_copy(update={"name": f"icp-{i}", "tiers": Tiers(tier1=100, tier2=100 - i, tier3=tier3)})


def _python(code: str) -> tuple[list[str], dict[str, str]]:
    """A command running ``code`` in a fresh interpreter that imports this checkout's icpkit."""
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return [sys.executable, "-c", textwrap.dedent(code)], env


def _wait_inside(proc: subprocess.Popen) -> None:
    """Block until the writer says it is inside its transaction; show its error if it died first."""
    line = proc.stdout.readline().strip()
    if line != "inside":
        proc.wait(timeout=30)
        pytest.fail(f"writer exited ({proc.returncode}) before its transaction: {proc.stderr.read()[-2000:]}")


def _check_consistent(store: Store) -> list[int]:
    """Every stored version reads back, hashes to its record and numbers run 1..n."""
    recs = store.versions()
    numbers = [r.version for r in recs]
    assert numbers == list(range(1, len(recs) + 1))
    for r in recs:
        rec, spec = store.get(r.version)
        assert content_hash(spec) == rec.hash
        assert spec.version == rec.version
    return numbers


# ------------------------------------------------------------------------------------------------ basics


def test_empty_store_reads_as_empty(tmp_path: Path) -> None:
    store = Store(tmp_path / "none" / "store.duckdb")
    assert store.versions() == []
    assert store.promoted() is None
    assert store.promoted_hash() is None
    assert store.runs() == []
    assert not store.path.exists()  # reading never creates the file
    with pytest.raises(StoreError, match="nothing has been saved"):
        store.get(1)


@pytest.mark.parametrize("left_behind", ["zero bytes", "no tables"])
def test_a_creation_killed_before_its_first_commit_is_an_empty_store(tmp_path: Path, left_behind: str) -> None:
    """A kill between creating the file and committing the schema leaves an empty file: empty, then writable."""
    path = tmp_path / "store.duckdb"
    if left_behind == "zero bytes":
        path.touch()
    else:
        duckdb.connect(str(path)).close()
    store = Store(path)
    assert store.versions() == [] and store.promoted() is None
    assert store.save_version(_spec(1)).version == 1
    assert [r.version for r in Store(path).versions()] == [1]


def test_save_promote_and_read_back(tmp_path: Path) -> None:
    store = Store(tmp_path / ".icpkit" / "store.duckdb")
    s1, s2 = _spec(1), _spec(2)
    r1 = store.save_version(s1, data_fingerprint="fp1", params={"window_months": 24, "fdr": 0.05})
    assert (r1.version, r1.hash, r1.parent, r1.name, r1.kind) == (1, content_hash(s1), None, "icp-1", "build")
    assert r1.params == {"window_months": 24, "fdr": 0.05} and r1.data_fingerprint == "fp1"
    assert r1.criteria == 4 and r1.exclusions == 1 and not r1.promoted
    r2 = store.save_version(s2, parent=r1.hash[:8], kind="recalibrate")
    assert r2.version == 2 and r2.parent == r1.hash  # a short parent hash is stored in full
    rec, spec = store.get("latest")
    assert rec == r2 and spec.parent == r1.hash and spec.version == 2
    assert spec.model_copy(update={"version": 1, "parent": None}) == s2

    assert store.promote(r1.hash[:7]).promoted
    assert store.promoted_hash() == r1.hash
    rec, spec = store.promoted()
    assert rec.version == 1 and rec.promoted and content_hash(spec) == r1.hash
    store.promote("v2")
    assert store.promoted_hash() == r2.hash
    assert [r.promoted for r in store.versions()] == [False, True]


def test_same_filter_is_one_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    r1 = store.save_version(_spec(1))
    again = store.save_version(_spec(1).model_copy(update={"name": "renamed", "description": "only words"}))
    assert again == r1 and len(store.versions()) == 1


@pytest.mark.parametrize("ref", ["9", "v9", "deadbeef00", "nonsense!", "promoted"])
def test_unknown_references_are_store_errors(tmp_path: Path, ref: str) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.save_version(_spec(1))
    with pytest.raises(StoreError):
        store.resolve(ref)


def test_hash_prefixes_and_numbers(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    recs = [store.save_version(_spec(i)) for i in range(3)]
    for r in recs:
        assert store.resolve(r.hash[:7]).version == r.version
        assert store.resolve(r.hash.upper()).version == r.version
        assert store.resolve(str(r.version)).version == r.version
    assert store.resolve("latest").version == 3
    with pytest.raises(StoreError, match="7\\+ characters"):
        store.resolve("abcdef")  # too short to be a hash


def test_runs_are_kept_newest_first(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.duckdb")
    store.record_run("build", spec_hash="a" * 64, summary={"criteria": 5})
    store.record_run("drift", spec_hash="a" * 64, summary={"verdict": "stable", "reasons": []})
    store.record_run("drift", spec_hash=None, summary={"verdict": "review", "reasons": ["psi 0.12"]})
    assert [r.id for r in store.runs()] == [3, 2, 1]
    drift = store.runs("drift", limit=1)
    assert len(drift) == 1 and drift[0].summary == {"verdict": "review", "reasons": ["psi 0.12"]}


def test_not_a_store_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE x AS SELECT 1 AS a")
    con.close()
    with pytest.raises(StoreError, match="not an icpkit store"):
        Store(path).versions()
    garbage = tmp_path / "garbage.duckdb"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError):
        Store(garbage).versions()


# ------------------------------------------------------------------------------------------ fingerprints


def test_fingerprint_tracks_content_not_row_order() -> None:
    h = generate(800, seed=3)
    ds = h.dataset()
    fp = data_fingerprint(ds)
    assert fp == data_fingerprint(generate(800, seed=3).dataset())
    shuffled = ds.accounts.take(pa.array(list(range(ds.accounts.num_rows))[::-1]))
    assert table_digest(shuffled) == table_digest(ds.accounts)
    ds2 = generate(800, seed=3).dataset()
    ds2.accounts = ds2.accounts.slice(1)
    assert data_fingerprint(ds2) != fp
    ds3 = generate(800, seed=3).dataset()
    emp = ds3.accounts.column("employees").to_pylist()
    emp[5] = (emp[5] or 0) + 1
    ds3.accounts = ds3.accounts.set_column(ds3.accounts.column_names.index("employees"), "employees", pa.array(emp))
    assert data_fingerprint(ds3) != fp
    assert data_fingerprint(generate(800, seed=4).dataset()) != fp


# ------------------------------------------------------------------------------------------- atomicity

_MID_WRITE = """
    import sys, time
    from icpkit.store import Store
    store = Store(sys.argv[1])
    with store._writing() as con:
        # a large uncommitted write: DuckDB may already spill its blocks to the file before commit
        con.execute("CREATE TABLE scratch AS SELECT repeat('x', 1000) || i AS t FROM range(50000) r(i)")
        con.execute(
            "INSERT INTO versions SELECT 99, repeat('f', 64), NULL, 'half', 'build', now()::TIMESTAMP, "
            "'not yaml', NULL, '{}', 0, 0"
        )
        print("inside", flush=True)
        time.sleep(120)
"""

_LOOP = """
    import sys
    from icpkit.spec import Tiers
    from icpkit.store import Store
    from icpkit.synth import generate
    base = generate(50, seed=0).truth
    store = Store(sys.argv[1])
    i = 0
    while True:
        i += 1
        spec = base.model_copy(update={"tiers": Tiers(tier1=100, tier2=i % 90 + 1, tier3=0), "name": f"x{i}"})
        params = {"pad": "y" * 200_000, "i": i}
        store.save_version(spec, params=params)
        print(i, flush=True)
"""


def test_sigkill_inside_a_transaction_leaves_the_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    store = Store(path)
    before = store.save_version(_spec(1))
    store.promote(1)
    cmd, env = _python(_MID_WRITE)
    proc = subprocess.Popen([*cmd, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        _wait_inside(proc)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert [r.hash for r in store.versions()] == [before.hash]
    assert store.promoted_hash() == before.hash
    assert store.save_version(_spec(2)).version == 2  # and it is writable again
    _check_consistent(store)


@pytest.mark.parametrize("delay", [0.4, 0.9, 1.5])
def test_sigkill_at_a_random_moment_of_a_write_loop(tmp_path: Path, delay: float) -> None:
    path = tmp_path / "s.duckdb"
    cmd, env = _python(_LOOP)
    proc = subprocess.Popen([*cmd, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=30)
    confirmed = len(out.split())
    numbers = _check_consistent(Store(path)) if path.exists() else []
    # every write reported done is there; at most the one in flight may also be (committed before the kill)
    assert confirmed <= len(numbers) <= confirmed + 1
    assert Store(path).save_version(_spec(77)).version == len(numbers) + 1


# ----------------------------------------------------------------------------------------- concurrency

_WRITER = """
    import sys
    from icpkit.spec import Tiers
    from icpkit.store import Store
    from icpkit.synth import generate
    path, tag, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    base = generate(50, seed=0).truth
    store = Store(path, timeout=120)
    for i in range(n):
        spec = base.model_copy(update={"tiers": Tiers(tier1=100, tier2=i + 1, tier3=tag), "name": f"w{tag}-{i}"})
        rec = store.save_version(spec, params={"writer": tag, "i": i})
        if i % 3 == 0:
            store.promote(rec.version)
        store.record_run("build", spec_hash=rec.hash, summary={"writer": tag, "i": i})
        store.promoted_hash()
"""


def test_two_processes_writing_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    n = 12
    cmd, env = _python(_WRITER)
    procs = [
        subprocess.Popen([*cmd, str(path), str(tag), str(n)], stderr=subprocess.PIPE, env=env, text=True)
        for tag in (0, 1)
    ]
    # a third process reads while both write
    store = Store(path, timeout=120)
    deadline = time.monotonic() + 120
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        store.versions()
        store.promoted_hash()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    recs = store.versions()
    assert len(recs) == 2 * n
    assert sorted(r.version for r in recs) == list(range(1, 2 * n + 1))
    assert len({r.hash for r in recs}) == 2 * n
    by_writer = {w: sorted(r.params["i"] for r in recs if r.params["writer"] == w) for w in (0, 1)}
    assert by_writer == {0: list(range(n)), 1: list(range(n))}
    assert len(store.runs("build")) == 2 * n
    assert sorted(r.id for r in store.runs()) == list(range(1, 2 * n + 1))
    assert sum(r.promoted for r in recs) == 1
    _check_consistent(store)


def test_busy_store_times_out_with_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    Store(path).save_version(_spec(1))
    cmd, env = _python(_MID_WRITE)
    proc = subprocess.Popen([*cmd, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        _wait_inside(proc)
        with pytest.raises(StoreError, match="busy"):
            Store(path, timeout=0.3).save_version(_spec(2))
        with pytest.raises(StoreError, match="busy"):
            Store(path, timeout=0.3).promoted_hash()
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert len(Store(path).versions()) == 1
