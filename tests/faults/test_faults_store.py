"""The store after a full disk and with a damaged schema: what a failed creation leaves reads as an empty store
that takes the next build; a failed run record does not undo a kept version; a bad schema version is one line."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import duckdb
import pytest
from faults_support import SPEC_YAML, file_size_limit, icpkit, run

from icpkit.cli import main
from icpkit.errors import StoreError
from icpkit.spec.io import load_spec
from icpkit.spec.model import ICPSpec
from icpkit.store import Store
from icpkit.synth import generate, write_csv


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("history")
    files = write_csv(generate(1500, seed=11), folder, style="canonical")
    return ["-a", str(files["accounts"]), "-d", str(files["deals"])]


@pytest.mark.parametrize("limit", [1024, 4096, 8192])
def test_a_store_cut_short_at_creation_reads_empty_and_takes_the_next_build(
    history: list[str], tmp_path: Path, limit: int
) -> None:
    store, out = tmp_path / "store.duckdb", tmp_path / "icp.yaml"
    build = icpkit("build", *history, "-o", out, "--store", store)
    code, err = run(build, preexec=file_size_limit(limit))
    assert code == 2 and "Traceback" not in err, err[-3000:]
    assert len(err.strip().splitlines()) == 1 and store.name in err, err[-3000:]
    assert not out.exists()
    assert store.stat().st_size <= limit if store.exists() else True
    assert Store(store).versions() == []
    code, err = run(icpkit("versions", "--store", store))
    assert code == 0 and "Traceback" not in err, err[-3000:]
    code, err = run(build)
    assert code == 0, err[-3000:]
    assert [v.version for v in Store(store).versions()] == [1]


def test_a_short_file_that_is_not_a_store_is_left_alone(tmp_path: Path) -> None:
    store = tmp_path / "notes.duckdb"
    store.write_text("my notes, not a store\n")
    with pytest.raises(StoreError, match="cannot open the store"):
        Store(store).save_version(_spec())
    assert store.read_text() == "my notes, not a store\n"


def _spec() -> ICPSpec:
    return load_spec(SPEC_YAML)


def _quiet(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def test_a_failed_run_record_keeps_the_version_and_the_spec(
    history: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, out = tmp_path / "store.duckdb", tmp_path / "icp.yaml"

    def disk_full(*args: object, **kwargs: object) -> None:
        raise StoreError("store write failed: could not write file: No space left on device")

    monkeypatch.setattr(Store, "record_run", disk_full)
    code, err = _quiet(["build", *history, "-o", str(out), "--store", str(store)])
    assert code == 0, err
    assert out.exists()
    assert [v.version for v in Store(store).versions()] == [1]
    assert "warning: the run summary was not kept" in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["one", "", "1.5", "-1"])
@pytest.mark.parametrize("command", ["versions", "serve"])
def test_a_schema_version_that_is_not_a_number_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, command: str
) -> None:
    store = tmp_path / "store.duckdb"
    Store(store).save_version(_spec())
    con = duckdb.connect(str(store))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [value])
    con.close()
    monkeypatch.setenv("ICPKIT_API_TOKENS", "store-fault-token-0123456789abcdef")
    code, err = _quiet([command, "--store", str(store)])
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "not a number" in lines[0], err
