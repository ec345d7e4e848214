"""Soak test of the API: sustained, bounded load on loopback for minutes, with a promotion in the middle.

    python bench/soak.py [--seconds 180] [--rate 200] [--connections 8] [--batch 20] [--json]

Starts ``icpkit serve --store`` on 127.0.0.1 with version 1 of a spec in force (its access log captured), then
drives a fixed request rate (open loop: each connection sends on a schedule, never faster, and waits for its
answer) alternating ``POST /v1/score`` and ``POST /v1/score/batch``. Halfway through, version 2 is promoted through
the store, as ``icpkit promote`` does. Checked and printed:

- requests sent vs answered (none dropped), non-2xx answers and connection errors (zero of each);
- every answer before the promotion names version 1, and every answer sent more than ``--switch-within`` seconds
  after it names version 2 (the server polls the store every ``--poll`` seconds);
- the server's RSS sampled every second: first, last, max and the slope of a least-squares line (MB per minute)
  over the run after a warm-up, which is flat when nothing leaks;
- that the token and the leads' e-mail addresses never appear in the server's output (access log, events).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

TOKEN = "soak-token-0123456789abcdef"
EMAIL = "jane.doe@soak-example.com"

# the ICP the API tests serve
SPEC_YAML = (Path(__file__).resolve().parents[1] / "tests" / "acme-icp.yaml").read_text(encoding="utf-8")
SPEC_V2_YAML = SPEC_YAML.replace("between: [50, 500], points: 20", "between: [50, 500], points: 25")

LEAD = {
    "email": EMAIL,
    "industry": "Software",
    "employees": 120,
    "country": "US",
    "tech_stack": ["HubSpot", "Slack"],
    "last_funding_date": "2026-07-01",
    "business_model": "B2B",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB) in MB per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(m for _, m in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    return 60 * sum((t - mx) * (m - my) for t, m in points) / var if var else 0.0


async def _drive(
    url: str, seconds: float, rate: float, connections: int, batch: int, promote_at: float, promote: Any
) -> dict[str, Any]:
    stats: dict[str, Any] = {"sent": 0, "answered": 0, "non2xx": 0, "errors": 0, "by_path": {}}
    answers: list[tuple[float, int]] = []  # (sent at, version named)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    bodies = {
        "/v1/score": {"record": LEAD},
        "/v1/score/batch": {"records": [{**LEAD, "employees": 50 + i} for i in range(batch)]},
    }
    start = time.monotonic()
    interval = connections / rate
    promoted: list[float] = []

    async def promoter() -> None:
        await asyncio.sleep(promote_at)
        await asyncio.to_thread(promote)
        promoted.append(time.monotonic() - start)

    async def worker(k: int, client: httpx.AsyncClient) -> None:
        i = 0
        while True:
            at = k * interval / connections + i * interval  # this connection's schedule
            if at >= seconds:
                return
            delay = start + at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            path = "/v1/score" if (i + k) % 2 == 0 else "/v1/score/batch"
            sent = time.monotonic() - start
            stats["sent"] += 1
            stats["by_path"][path] = stats["by_path"].get(path, 0) + 1
            try:
                r = await client.post(path, json=bodies[path], headers=headers)
            except httpx.HTTPError as exc:
                stats["errors"] += 1
                stats.setdefault("first_error", repr(exc))
            else:
                stats["answered"] += 1
                if r.status_code // 100 != 2:
                    stats["non2xx"] += 1
                    stats.setdefault("first_non2xx", f"{r.status_code} {r.text[:200]}")
                else:
                    answers.append((sent, int(r.json()["spec"]["version"])))
            i += 1

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        await asyncio.gather(promoter(), *(worker(k, client) for k in range(connections)))
    stats["seconds"] = time.monotonic() - start
    stats["promoted_at"] = promoted[0] if promoted else None
    stats["answers"] = answers
    return stats


def soak(
    seconds: float, rate: float, connections: int, batch: int, poll: float, switch_within: float
) -> dict[str, Any]:
    from icpkit.spec import load_spec
    from icpkit.store import Store

    with tempfile.TemporaryDirectory(prefix="icpkit-soak-") as tmp:
        store = Store(Path(tmp) / "store.duckdb")
        store.save_version(load_spec(SPEC_YAML))
        store.save_version(load_spec(SPEC_V2_YAML))
        store.promote(1)
        port = _free_port()
        log_path = Path(tmp) / "server.log"
        env = {**os.environ, "ICPKIT_API_TOKENS": TOKEN}
        cmd = [sys.executable, "-m", "icpkit", "serve", "--store", str(store.path), "--port", str(port)]
        cmd += ["--poll", str(poll), "--max-batch", str(max(batch, 1))]
        with open(log_path, "w") as log:
            server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"icpkit serve did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.1)
            samples: list[tuple[float, float]] = []
            t0 = time.monotonic()

            async def run() -> dict[str, Any]:
                async def sampler() -> None:
                    while time.monotonic() - t0 < seconds + 1:
                        mb = _rss_mb(server.pid)
                        if mb is not None:
                            samples.append((time.monotonic() - t0, mb))
                        await asyncio.sleep(1.0)

                task = asyncio.create_task(sampler())
                result = await _drive(url, seconds, rate, connections, batch, seconds / 2, lambda: store.promote(2))
                task.cancel()
                return result

            stats = asyncio.run(run())
            alive = server.poll() is None
        finally:
            server.terminate()
            server.wait(timeout=30)
        output = log_path.read_text()
    answers = stats.pop("answers")
    promoted = stats["promoted_at"]
    before = [v for t, v in answers if promoted is not None and t < promoted]
    late = [v for t, v in answers if promoted is not None and t >= promoted + switch_within]
    switched = [t for t, v in answers if v == 2]
    warm = [p for p in samples if p[0] >= min(10.0, seconds / 4)]
    rss = [m for _, m in samples]
    return {
        **stats,
        "dropped": stats["sent"] - stats["answered"],
        "rate": stats["sent"] / stats["seconds"],
        "records_per_s": (stats["by_path"].get("/v1/score", 0) + batch * stats["by_path"].get("/v1/score/batch", 0))
        / stats["seconds"],
        "server_alive": alive,
        "before_promotion_all_v1": bool(before) and set(before) == {1},
        "after_switch_all_v2": bool(late) and set(late) == {2},
        "first_v2_after_promotion_s": (min(switched) - promoted) if switched and promoted is not None else None,
        "rss_mb": {
            "first": rss[0] if rss else None,
            "last": rss[-1] if rss else None,
            "max": max(rss) if rss else None,
            "slope_mb_per_min_after_warmup": _slope_per_minute(warm),
            "samples": len(rss),
        },
        "secrets_in_server_output": [s for s in (TOKEN, EMAIL, "jane.doe") if s in output],
        "access_lines": sum(1 for line in output.splitlines() if line.startswith("{") and '"status"' in line),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=180)
    ap.add_argument("--rate", type=float, default=200, help="requests per second, all connections together")
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--batch", type=int, default=20, help="records per /v1/score/batch call")
    ap.add_argument("--poll", type=float, default=0.5, help="the server's store poll interval")
    ap.add_argument("--switch-within", type=float, default=3.0, help="seconds allowed for the new version to show")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    result = soak(args.seconds, args.rate, args.connections, args.batch, args.poll, args.switch_within)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    r, m = result, result["rss_mb"]
    rate = f"{r['rate']:.0f} req/s ({r['records_per_s']:.0f} records/s)"
    print(f"{r['seconds']:.0f}s at {rate}, {args.connections} connections")
    print(f"sent {r['sent']:,}  answered {r['answered']:,}  dropped {r['dropped']}  non-2xx {r['non2xx']}  "
          f"connection errors {r['errors']}  by path {r['by_path']}")  # fmt: skip
    print(f"promoted at {r['promoted_at']:.1f}s; first v2 answer {r['first_v2_after_promotion_s']:.2f}s later; "
          f"all v1 before: {r['before_promotion_all_v1']}; all v2 after {args.switch_within}s: "
          f"{r['after_switch_all_v2']}")  # fmt: skip
    print(f"server RSS MB: first {m['first']:.1f}  last {m['last']:.1f}  max {m['max']:.1f}  "
          f"slope after warm-up {m['slope_mb_per_min_after_warmup']:+.2f} MB/min ({m['samples']} samples)")  # fmt: skip
    print(f"token or e-mail in the server's output: {r['secrets_in_server_output'] or 'none'} "
          f"({r['access_lines']:,} access lines)")  # fmt: skip


if __name__ == "__main__":
    main()
