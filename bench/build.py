"""Build benchmark: a 1,000,000-account / 3,000,000-deal CRM history, CSV in -> ICP spec out.

    python bench/build.py [--accounts 1000000] [--deals-per-account 3] [--repeat 3]

The CSV files are generated once from ``icpkit.synth`` (cached in bench/_data/, git-ignored). Each measurement
runs in its own subprocess, so its peak memory (ru_maxrss, which sees DuckDB's native allocations) is its own:

- bare:  DuckDB reads both CSV files into Arrow tables, nothing else (the floor any CSV pipeline pays);
- build: icpkit's ingest (``load_dataset``) + cohorts + discovery + points + tiers, ending with the spec.

Each measurement is repeated ``--repeat`` times and the fastest run (wall clock) is reported with its CPU time
(user + system of the process, DuckDB threads included): on a shared machine, CPU time is the steadier figure.

Target: build under 20 s and under 4 GB peak memory for 1M accounts.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "_data"


def ensure_files(n: int, deals_per_account: float) -> dict[str, Path]:
    from icpkit.synth import generate, write_csv

    folder = DATA / f"history_{n}_{deals_per_account:g}"
    files = {"accounts": folder / "accounts.csv", "deals": folder / "deals.csv"}
    if all(p.exists() for p in files.values()):
        return files
    history = generate(n, seed=0, deals_per_account=deals_per_account)
    return write_csv(history, folder)


def measure(which: str, accounts: str, deals: str) -> dict:
    start = time.perf_counter()
    cpu0 = time.process_time()
    out: dict = {}
    if which == "bare":
        import duckdb

        con = duckdb.connect()
        a = con.sql(f"SELECT * FROM read_csv('{accounts}')").to_arrow_table()
        d = con.sql(f"SELECT * FROM read_csv('{deals}')").to_arrow_table()
        out["rows"] = [a.num_rows, d.num_rows]
    else:
        from icpkit.discover import ICPBuilder
        from icpkit.ingest import load_dataset

        steps: dict[str, float] = {}
        ds = load_dataset(accounts, deals).dataset
        steps["ingest"] = time.perf_counter() - start
        steps["ingest_cpu"] = time.process_time() - cpu0
        result = ICPBuilder(name="bench").fit(ds)
        steps["build"] = time.perf_counter() - start - steps["ingest"]
        steps["build_cpu"] = time.process_time() - cpu0 - steps["ingest_cpu"]
        out["rows"] = [ds.accounts.num_rows, ds.deals.num_rows if ds.deals is not None else 0]
        out["steps"] = steps
        out["criteria"] = [c.clauses()[0].field for _, c in result.spec.criteria()]
        out["exclusions"] = [e.field for e in result.spec.exclusions]
        out["tiers"] = result.spec.tiers.model_dump()
    out["seconds"] = time.perf_counter() - start
    out["cpu"] = time.process_time() - cpu0
    out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--deals-per-account", type=float, default=3.0)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is reported")
    ap.add_argument("--measure", choices=["bare", "build"], help=argparse.SUPPRESS)
    ap.add_argument("--files", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, *args.files)))
        return
    files = ensure_files(args.accounts, args.deals_per_account)
    results = {}
    for which in ("bare", "build"):
        cmd = [sys.executable, __file__, "--measure", which, "--files", str(files["accounts"]), str(files["deals"])]
        runs = []
        for _ in range(max(1, args.repeat)):
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        results[which] = min(runs, key=lambda r: r["seconds"])
        results[which]["peak_mb"] = max(r["peak_mb"] for r in runs)
    bare, build = results["bare"], results["build"]
    print(f"{build['rows'][0]:,} accounts, {build['rows'][1]:,} deals (CSV)")
    print(f"best of {max(1, args.repeat)} runs by wall clock; peak memory: the highest of the runs")
    print(f"{'':<28}{'seconds':>9}{'CPU s':>9}{'peak MB':>10}")
    print(f"{'bare DuckDB read':<28}{bare['seconds']:>9.2f}{bare['cpu']:>9.2f}{bare['peak_mb']:>10.0f}")
    print(f"{'icpkit CSV -> spec':<28}{build['seconds']:>9.2f}{build['cpu']:>9.2f}{build['peak_mb']:>10.0f}")
    steps = build["steps"]
    print(f"{'  of which ingest':<28}{steps['ingest']:>9.2f}{steps['ingest_cpu']:>9.2f}")
    print(f"{'  of which cohorts+discovery':<28}{steps['build']:>9.2f}{steps['build_cpu']:>9.2f}")
    print(
        f"ratio build / bare read: {build['seconds'] / bare['seconds']:.1f}x time, "
        f"{build['peak_mb'] / bare['peak_mb']:.1f}x memory"
    )
    print(f"criteria on: {', '.join(build['criteria'])}; exclusions on: {', '.join(build['exclusions'])}")
    print(f"tiers: {build['tiers']}")


if __name__ == "__main__":
    main()
