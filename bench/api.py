"""HTTP benchmark: ``POST /v1/score`` next to a bare ASGI endpoint returning a constant, on the same server.

    python bench/api.py [--duration 3] [--rounds 3] [--compare] [--loop auto|asyncio] [--http auto|h11]

One uvicorn worker on 127.0.0.1 serves, in one process and behind one outer ASGI callable:

- ``/floor``: a bare ASGI endpoint that returns a constant JSON body (what any Python ASGI service pays);
- ``/v1/score``: icpkit's service as ``icpkit serve`` runs it (bearer token checked, body read under the size
  limit, hand-rolled validation, a 20-criterion spec scored with its explanation, orjson, a JSON access line);
- with ``--compare``: the same scoring behind FastAPI routes (``fast=False``, same validation and orjson), and
  behind FastAPI with a pydantic request/response model in an ``async def`` handler and in a plain ``def``
  handler (thread pool) — the usual way to write it. These two skip auth and access lines.

``wrk`` (Debian: ``apt-get install -y wrk``) sends 256 realistic leads in turn (dates as text, some values missing)
for ``--duration`` seconds at 1 and at 16 connections, each endpoint in turn, ``--rounds`` times; each figure is the
best over rounds (shared machines are noisy). Latencies come from wrk's own histogram. Every response must be a 200,
or the run stops. Next to each figure, the server process's CPU time per request (user + system, from ``/proc``;
best of rounds): on a machine shared with other work, req/s swings with whatever else runs, the CPU a request costs
much less, so ``floor/cpu`` (the floor's CPU per request over the endpoint's) is the req/s ratio the two would reach
on a core of their own. Also printed: JSON parse and serialise times of orjson against the standard library, in
process.

Targets at one connection: p50 under 0.3 ms, p99 under 1 ms; at 16 connections, at least half the floor's req/s.
"""

# no ``from __future__ import annotations``: FastAPI reads the pydantic handler's annotations at runtime
import argparse
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOKEN = "bench-token-0123456789abcdef"
FLOOR_BODY = b'{"score":55,"tier":"tier2","route":"sales"}'

LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer TOKEN"
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODY")) do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, nil, wrk.headers, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"p50": %d, "p99": %d, "requests": %d, "us": %d, "non2xx": %d, "socket": %d}\\n',
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout))
end
""".replace("TOKEN", TOKEN)


# ------------------------------------------------------------------------------------------------ the server


def _leads(n: int = 256) -> list[dict[str, Any]]:
    """Leads as a form sends them (dates as text, a tenth of values missing), each request the next one."""
    sys.path.insert(0, str(HERE))
    from single import records  # bench/single.py: the 20-criterion spec's records

    return [{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in r.items()} for r in records(n, seed=3)]


def _lead() -> dict[str, Any]:
    """One lead with every field set, for the in-process JSON figures."""
    return next(r for r in _leads() if all(v is not None for v in r.values()))


def _server_app(compare: bool) -> Any:
    sys.path.insert(0, str(HERE))
    from icpkit.api import JsonLog, Tokens, create_app
    from single import twenty_criterion_spec

    spec = twenty_criterion_spec()
    # as icpkit serve runs it; stderr is /dev/null here, the access lines are still made and written
    service = create_app(spec, tokens=Tokens(env=TOKEN), poll_seconds=0, log=JsonLog(flush_every=0.2), freeze_gc=True)
    apps: dict[str, Any] = {}
    if compare:
        apps["/fastapi-routes"] = create_app(spec, tokens=Tokens(env=TOKEN), poll_seconds=0, fast=False)
        apps["/fastapi-pydantic"], apps["/fastapi-pydantic-def"] = _pydantic_apps(service)
    floor_start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(FLOOR_BODY)).encode())],
    }
    floor_body = {"type": "http.response.body", "body": FLOOR_BODY}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path == "/floor":
                while (await receive()).get("more_body"):  # drain the request like any endpoint must
                    pass
                await send(floor_start)
                await send(floor_body)
                return
            if path.startswith("/fastapi-"):
                prefix = path[: path.index("/", 1)]
                await apps[prefix]({**scope, "path": path[len(prefix) :]}, receive, send)
                return
        await service(scope, receive, send)

    return app


def _pydantic_apps(service: Any) -> tuple[Any, Any]:
    """FastAPI the usual way: pydantic models validate the body and the response, FastAPI writes the JSON."""
    import orjson
    from fastapi import FastAPI

    from icpkit.api.models import ScoreResponse, request_models

    score_request, _ = request_models(service.limits)
    built = []
    for use_async in (True, False):
        api = FastAPI()

        def run(req: Any) -> dict[str, Any]:
            served = service.live.current
            out = service.scoring._one(served, req.record, req.enrich)
            # the service keeps explanation entries as ready JSON; a pydantic response model wants dicts
            out["explanation"] = orjson.loads(orjson.dumps(out["explanation"]))
            return {**out, "spec": served.ref, "as_of": served.as_of}

        if use_async:

            async def score(req: score_request) -> dict[str, Any]:  # type: ignore[valid-type]
                return run(req)
        else:

            def score(req: score_request) -> dict[str, Any]:  # type: ignore[valid-type,no-redef]
                return run(req)

        api.post("/v1/score", response_model=ScoreResponse)(score)
        built.append(api)
    return built[0], built[1]


def serve(port: int, compare: bool, loop: str, http: str) -> None:
    import uvicorn

    uvicorn.run(
        _server_app(compare), host="127.0.0.1", port=port, loop=loop, http=http, log_level="warning",
        access_log=False, server_header=False, proxy_headers=False, lifespan="on",
    )  # fmt: skip


# ------------------------------------------------------------------------------------------------- the client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("the benchmark server exited at start")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the benchmark server did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wrk(url: str, connections: int, seconds: int, script: Path, body: Path, server: int) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script), url]
    cpu = _cpu_seconds(server)
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "BENCH_BODY": str(body)}, check=True)
    cpu = _cpu_seconds(server) - cpu
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    r = json.loads(line.removeprefix("RESULT "))
    if r["non2xx"] or r["socket"] or r["requests"] == 0:
        raise SystemExit(f"{url}: {r['non2xx']} non-2xx responses, {r['socket']} socket errors")
    rps = r["requests"] / (r["us"] / 1e6)
    return {"p50": r["p50"] / 1000, "p99": r["p99"] / 1000, "rps": rps, "cpu": cpu / r["requests"] * 1e6}


def _json_costs(lead: dict[str, Any], repeat: int = 20_000) -> list[tuple[str, float, float]]:
    """(step, stdlib µs, orjson µs) on the bench lead and its response, in process."""
    import orjson

    sys.path.insert(0, str(HERE))
    from icpkit.api.limits import Limits
    from icpkit.api.scoring import Scoring
    from icpkit.api.served import serve_spec
    from single import twenty_criterion_spec

    served = serve_spec(twenty_criterion_spec())
    body = json.dumps({"record": lead}).encode()
    response = orjson.loads(Scoring(limits=Limits()).score(body, served))

    def per_call(fn: Any) -> float:
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            for _ in range(repeat):
                fn()
            best = min(best, time.perf_counter() - t)
        return best / repeat * 1e6

    return [
        ("parse the request", per_call(lambda: json.loads(body)), per_call(lambda: orjson.loads(body))),
        (
            "write the response",
            per_call(lambda: json.dumps(response, default=str).encode()),
            per_call(lambda: orjson.dumps(response, default=str)),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=3, help="whole seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure; the best is kept")
    parser.add_argument("--compare", action="store_true", help="also FastAPI routes and FastAPI + pydantic")
    parser.add_argument("--loop", default="auto", help="uvicorn event loop (auto picks uvloop when installed)")
    parser.add_argument("--http", default="auto", help="uvicorn HTTP parser (auto picks httptools when installed)")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.compare, args.loop, args.http)
        return
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    lead = _lead()
    tmp = Path(tempfile.mkdtemp(prefix="icpkit-bench-api-"))
    body, script = tmp / "bodies.jsonl", tmp / "post.lua"
    body.write_text("".join(json.dumps({"record": r}) + "\n" for r in _leads()))
    script.write_text(LUA)
    port = _free_port()
    cmd = [sys.executable, __file__, "--serve", str(port), "--loop", args.loop, "--http", args.http]
    cmd += ["--compare"] if args.compare else []
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    targets = {"floor (bare ASGI)": "/floor", "icpkit /v1/score": "/v1/score"}
    if args.compare:
        targets |= {
            "FastAPI routes (fast=False)": "/fastapi-routes/v1/score",
            "FastAPI+pydantic async def": "/fastapi-pydantic/v1/score",
            "FastAPI+pydantic plain def": "/fastapi-pydantic-def/v1/score",
        }
    best: dict[tuple[int, str], dict[str, float]] = {}
    try:
        _wait_up(url, proc)
        for path in targets.values():  # warm up every route once
            _wrk(url + path, 4, 1, script, body, proc.pid)
        for _ in range(args.rounds):
            for conns in (1, 16):
                for name, path in targets.items():
                    r = _wrk(url + path, conns, args.duration, script, body, proc.pid)
                    b = best.setdefault((conns, name), r)
                    b.update(p50=min(b["p50"], r["p50"]), p99=min(b["p99"], r["p99"]), rps=max(b["rps"], r["rps"]))
                    b["cpu"] = min(b["cpu"], r["cpu"])
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)

    import uvicorn

    stack = f"uvicorn {uvicorn.__version__}, loop={args.loop}, http={args.http}"
    found = [m for m in ("uvloop", "httptools") if _installed(m)]
    print(f"one uvicorn worker ({stack}; installed: {', '.join(found) or 'neither uvloop nor httptools'})")
    runs = f"wrk, {args.duration:g} s per run, best of {args.rounds}"
    print(f"{runs}; 256 leads of {len(lead)} fields in turn, 20-criterion spec")
    print("cpu µs/req: the server process's CPU time per request (user + system, so the kernel's share of each")
    print("  response too); less sensitive to other work on the machine than req/s. floor/cpu: the req/s ratio a")
    print("  server with a core of its own would reach")
    head = f"{'conns':>5}  {'endpoint':30}{'p50 ms':>8}{'p99 ms':>8}{'req/s':>9}{'cpu µs/req':>11}   {'p50 ×floor':>10}"
    print(head + f"{'p99 ×floor':>11}{'req/s ×floor':>13}{'floor/cpu':>10}")
    for conns in (1, 16):
        floor = best[(conns, "floor (bare ASGI)")]
        for name in targets:
            r = best[(conns, name)]
            ratios = "" if name.startswith("floor") else (
                f"{r['p50'] / floor['p50']:>10.2f}{r['p99'] / floor['p99']:>11.2f}{r['rps'] / floor['rps']:>13.2f}"
                f"{floor['cpu'] / r['cpu']:>10.2f}"
            )  # fmt: skip
            line = f"{conns:>5}  {name:30}{r['p50']:>8.3f}{r['p99']:>8.3f}{r['rps']:>9,.0f}{r['cpu']:>11.1f}   {ratios}"
            print(line)
    one, many = best[(1, "icpkit /v1/score")], best[(16, "icpkit /v1/score")]
    share = many["rps"] / best[(16, "floor (bare ASGI)")]["rps"]
    print("targets for icpkit /v1/score:")
    print(f"  p50 at 1 connection < 0.3 ms: {one['p50']:.3f} ms, {'meets' if one['p50'] < 0.3 else 'MISSES'}")
    print(f"  p99 at 1 connection < 1 ms:   {one['p99']:.3f} ms, {'meets' if one['p99'] < 1 else 'MISSES'}")
    print(f"  req/s at 16 connections >= half the floor's: {share:.2f}, {'meets' if share >= 0.5 else 'MISSES'}")
    by_cpu = best[(16, "floor (bare ASGI)")]["cpu"] / many["cpu"]
    print(f"  (the same by server CPU per request: {by_cpu:.2f}, {'meets' if by_cpu >= 0.5 else 'misses'})")
    print("JSON in process (µs per call, best of 5):")
    for step, std, fast in _json_costs(lead):
        print(f"  {step:20} json {std:6.2f}   orjson {fast:6.2f}   ({std / fast:.1f}x)")


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
