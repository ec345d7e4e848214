"""A newly promoted version is served without a restart and without a failed request."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from api_support import AUTH, SPEC_V2_YAML, SPEC_YAML, TOKEN, free_port, running

from icpkit.api import FileSource, JsonLog, LiveSpec, Tokens, create_app
from icpkit.spec import load_spec
from icpkit.store import Store

V1, V2 = load_spec(SPEC_YAML), load_spec(SPEC_V2_YAML)
LEAD = {"record": {"industry": "Software", "employees": 120}}


def _loop_until_switched(client: httpx.Client, switch, *, old: str, new: str, limit: int = 4000) -> list[str]:
    """Score LEAD over and over; call ``switch`` after 50 answers; stop 50 answers after the new hash shows."""
    hashes: list[str] = []
    deadline = time.monotonic() + 60
    switched_at = None
    for i in range(limit):
        r = client.post("/v1/score", json=LEAD, headers=AUTH)
        assert r.status_code == 200, r.text
        body = r.json()
        hashes.append(body["spec"]["hash"])
        assert body["score"] == (50 if body["spec"]["hash"] == old else 55)  # the body matches the hash it names
        if i == 50:
            switch()
        if switched_at is None and hashes[-1] == new:
            switched_at = i
        if (switched_at is not None and i - switched_at >= 50) or time.monotonic() > deadline:
            break
    return hashes


def _one_switch(hashes: list[str], old: str, new: str) -> None:
    assert hashes[0] == old and hashes[-1] == new
    first_new = hashes.index(new)
    assert set(hashes[:first_new]) == {old} and set(hashes[first_new:]) == {new}  # switched once, never back


def test_promoting_a_version_while_a_client_scores_through_icpkit_serve(tmp_path) -> None:
    store = Store(tmp_path / "store.duckdb")
    store.save_version(V1)
    store.save_version(V2)
    store.promote(1)
    port = free_port()
    env = {**os.environ, "ICPKIT_API_TOKENS": TOKEN}
    cmd = [sys.executable, "-m", "icpkit", "serve", "--store", str(store.path), "--port", str(port), "--poll", "0.1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "icpkit serve did not start"
                time.sleep(0.1)
            assert client.get("/healthz").json()["spec"]["version"] == 1
            hashes = _loop_until_switched(
                client, lambda: store.promote(2), old=V1.content_hash(), new=V2.content_hash()
            )
            now = client.get("/healthz").json()["spec"]
            assert now == {"hash": V2.content_hash(), "version": 2, "name": "acme-icp"}
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    _one_switch(hashes, V1.content_hash(), V2.content_hash())
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    swaps = [e for e in events if e.get("event") == "version_in_force"]
    assert [(e["version"], e["spec_hash"]) for e in swaps] == [(2, V2.content_hash())]
    statuses = {e["status"] for e in events if "method" in e}
    assert statuses == {200}


def test_editing_the_spec_file_swaps_it_under_load(tmp_path) -> None:
    path = tmp_path / "icp.yaml"
    path.write_text(SPEC_YAML)
    app = create_app(path, tokens=Tokens(env=TOKEN), poll_seconds=0.05, log=JsonLog(None))

    def edit() -> None:
        tmp = tmp_path / "icp.yaml.new"
        tmp.write_text(SPEC_V2_YAML)
        os.replace(tmp, path)

    with running(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        hashes = _loop_until_switched(client, edit, old=V1.content_hash(), new=V2.content_hash())
    _one_switch(hashes, V1.content_hash(), V2.content_hash())


def test_a_version_that_does_not_load_leaves_the_one_in_force(tmp_path) -> None:
    path = tmp_path / "icp.yaml"
    path.write_text(SPEC_YAML)
    out = io.StringIO()
    live = LiveSpec(FileSource(path), poll_seconds=0, log=JsonLog(out))
    before = live.current
    assert live.refresh() is False  # nothing changed
    path.write_text(SPEC_YAML.replace("points: 30", "points: 300"))
    assert live.refresh() is False
    assert live.current is before
    event = json.loads(out.getvalue().splitlines()[-1])
    assert event["event"] == "version_not_loaded" and "points" in event["error"]
    assert event["serving"] == V1.content_hash()
    path.write_text(SPEC_V2_YAML)
    assert live.refresh() is True
    assert (live.current.hash, live.current.version) == (V2.content_hash(), 4)


def test_store_without_a_promoted_version_cannot_be_served(tmp_path) -> None:
    store = Store(tmp_path / "store.duckdb")
    store.save_version(V1)
    with pytest.raises(Exception, match="no version is promoted"):
        create_app(store, insecure_no_auth=True, poll_seconds=0)


def test_store_polls_read_the_hash_only_when_the_files_moved(tmp_path, monkeypatch) -> None:
    store = Store(tmp_path / "store.duckdb")
    store.save_version(V1)
    store.save_version(V2)
    store.promote(1)
    app = create_app(store, insecure_no_auth=True, poll_seconds=0, log=JsonLog(None))
    live = app.live
    reads = []
    original = Store.promoted_hash
    monkeypatch.setattr(Store, "promoted_hash", lambda self: reads.append(1) or original(self))
    for _ in range(5):
        assert live.refresh() is False
    assert len(reads) == 0
    store.promote(2)
    assert live.refresh() is True
    assert live.current.version == 2 and len(reads) == 1
    assert Path(store.path).exists()
