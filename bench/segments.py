"""Segment discovery benchmark: what ``build --segments auto`` costs next to one ICP, and whether it splits right.

    python bench/segments.py [--accounts 8000] [--seeds 0,1,2,3,4]

For each seed, a planted two-segment history and a one-segment one (``icpkit.synth``) are built twice in this
process: the baseline is ``ICPBuilder.fit`` (one ICP), then ``SegmentFinder.fit`` (which includes that build).
CPU time (user + system) is reported next to wall time: on a shared machine it is the steadier figure. The last
columns say how many segments were kept: 2 on a planted pair, 1 on a single profile.
"""

from __future__ import annotations

import argparse
import time


def _timed(fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=8000)
    ap.add_argument("--seeds", default="0,1,2,3,4")
    args = ap.parse_args()

    from icpkit.discover import ICPBuilder
    from icpkit.segments import SegmentFinder
    from icpkit.synth import generate

    print(f"{'history':<22}{'one ICP cpu':>12}{'segments cpu':>14}{'ratio':>8}{'wall':>16}  kept")
    right = total = 0
    for planted in (2, 1):
        for seed in (int(s) for s in args.seeds.split(",")):
            ds = generate(args.accounts, seed=seed, segments=planted).dataset()  # type: ignore[arg-type]
            _, w1, c1 = _timed(lambda ds=ds: ICPBuilder().fit(ds))
            found, w2, c2 = _timed(lambda ds=ds: SegmentFinder(ICPBuilder()).fit(ds))
            right += found.chosen_k == planted
            total += 1
            name = f"planted {planted}, seed {seed}"
            print(f"{name:<22}{c1:>11.1f}s{c2:>13.1f}s{c2 / c1:>7.1f}×{w1:>7.1f}s/{w2:>6.1f}s  {found.chosen_k}")
    print(f"split right on {right} of {total} histories")


if __name__ == "__main__":
    main()
