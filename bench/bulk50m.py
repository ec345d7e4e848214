"""Bulk scoring at 50M rows: peak memory stays where it is at 10M (DuckDB's memory limit holds, RSS flat in rows).

    python bench/bulk50m.py [--rows 50000000] [--memory-limit 1GB] [--keep]

The 10M-row accounts file of ``bench/bulk.py`` (same generator, same spec) is the baseline. The large input is that
file rewritten as N/10M Parquet parts whose ids are made distinct (``B<k>-A-…``), read as one glob, so the rows carry
the same distributions at five times the count. Each line runs ``score_file`` Parquet -> Parquet in its own process
with the same ``memory_limit`` (peak RSS is that process's high-water mark, VmHWM, which sees DuckDB's native
memory) and prints seconds, rows/s and peak MB side by side with the 10M baseline. The parts and outputs are
deleted afterwards unless ``--keep``; mind the disk: about 1.3 GB of input and 0.8 GB of output at 50M rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bulk  # noqa: E402  (the 10M generator and the benchmark spec)

BASE_ROWS = 10_000_000


def parts(rows: int) -> Path:
    """``rows`` accounts as ``rows / 10M`` Parquet parts of the 10M file, ids made distinct per part."""
    import duckdb

    base = bulk.generate(BASE_ROWS)
    folder = bulk.DATA / f"bulk_{rows}"
    n = max(1, rows // BASE_ROWS)
    if folder.is_dir() and len(list(folder.glob("part-*.parquet"))) == n:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    for k in range(n):
        con.execute(
            f"COPY (SELECT * REPLACE ('B{k}-' || account_id AS account_id) FROM read_parquet('{base}')) "
            f"TO '{folder / f'part-{k}.parquet'}' (FORMAT parquet, ROW_GROUP_SIZE {bulk.ROW_GROUP})"
        )
    con.close()
    return folder


def _child(src: str, out: str, explain: str, memory_limit: str) -> None:
    from icpkit.score.duckdb_engine import score_file
    from icpkit.spec import ICPSpec

    spec = ICPSpec.model_validate(bulk.spec_dict())
    t0 = time.perf_counter()
    summary = score_file(
        spec,
        src,
        out,
        explain=explain == "1",
        select=["account_id"],
        memory_limit=memory_limit,
        progress=False,
    )
    seconds = time.perf_counter() - t0
    peak = _peak_mb()
    print(json.dumps({"rows": summary.rows, "seconds": seconds, "peak_mb": peak, "out_mb": _mb(Path(out))}))


def _peak_mb() -> float:
    """This process's peak RSS (VmHWM): unlike ``ru_maxrss``, it does not carry the parent's peak over exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _mb(path: Path) -> float:
    return path.stat().st_size / 1e6 if path.exists() else 0.0


def measure(src: str, out: Path, explain: bool, memory_limit: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", src, str(out), "1" if explain else "0", memory_limit]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    out.unlink(missing_ok=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=50_000_000, help="a multiple of 10M")
    ap.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit of every line")
    ap.add_argument("--keep", action="store_true", help="keep the generated parts")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    t0 = time.perf_counter()
    base = bulk.generate(BASE_ROWS)
    big = parts(args.rows)
    print(f"inputs ready in {time.perf_counter() - t0:.0f}s: {BASE_ROWS:,} rows ({_mb(base):.0f} MB), "
          f"{args.rows:,} rows ({sum(_mb(p) for p in big.glob('*.parquet')):.0f} MB in {big.name}/)")  # fmt: skip
    out = bulk.DATA / "bulk50m-out.parquet"
    lines: list[tuple[str, int, dict[str, Any]]] = []
    try:
        for explain in (False, True):
            for rows, src in ((BASE_ROWS, str(base)), (args.rows, str(big / "*.parquet"))):
                r = measure(src, out, explain, args.memory_limit)
                lines.append(("score + explanations" if explain else "score + tier", rows, r))
                print(f"  {lines[-1][0]:22} {rows:>12,} rows: {json.dumps(r)}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(big, ignore_errors=True)
    print(f"\nDuckDB engine, Parquet -> Parquet, memory_limit {args.memory_limit}")
    print(f"{'':24} {'rows':>12} {'seconds':>9} {'rows/s':>12} {'peak MB':>9} {'output MB':>10} {'peak x 10M':>11}")
    base_peak = {kind: r.get("peak_mb") for kind, rows, r in lines if rows == BASE_ROWS}
    for kind, rows, r in lines:
        if "error" in r:
            print(f"{kind:24} {rows:>12,} failed: {r['error']}")
            continue
        ratio = r["peak_mb"] / base_peak[kind] if base_peak.get(kind) else float("nan")
        print(
            f"{kind:24} {rows:>12,} {r['seconds']:9.1f} {rows / r['seconds']:12,.0f} {r['peak_mb']:9.0f}"
            f" {r['out_mb']:10.0f} {ratio:11.2f}"
        )


if __name__ == "__main__":
    main()
