"""What buyer personas and routing rules cost: the same spec scored with and without them, side by side.

Run: ``python bench/personas.py [--repeat 5] [--rows 200000]``. Baseline: the 20-criterion spec of
``bench/single.py`` without personas. Variant: the same spec plus three personas (titles, exclusions, seniority,
department) and three routing rules. Measured in one run:

* per record, the compiled Python scorer (CPU µs/record, best of N), with titles drawn from a pool of 300
  (leads repeat titles) and with every title distinct (nothing cached);
* per table, the Arrow engine and DuckDB (wall seconds, best of N) on ``--rows`` rows.

Target: personas add at most 1.5x to the per-record scorer on repeated titles.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from icpkit.score import compile_scorer, score_table
from icpkit.score.duckdb_engine import score_arrow
from icpkit.spec import ICPSpec
from icpkit.spec.model import Persona, RoutingRule
from single import best_per_record, records, twenty_criterion_spec

LEVELS = ["VP", "Vice President", "Head of", "Director", "Chief", "Senior", "Lead", "", "Assistant to the"]
AREAS = ["Sales", "Revenue Operations", "Marketing", "Engineering", "IT", "Finance", "People", "Growth"]
ROLES = ["", "Manager", "Engineer", "Analyst", "Officer", "Coordinator"]


def with_personas(spec: ICPSpec) -> ICPSpec:
    return spec.model_copy(
        update={
            "personas": [
                Persona(
                    name="decision_maker",
                    titles=["vp", "vice president", "head of", "chief*", "director"],
                    exclude_titles=["assistant"],
                    seniority=["vp", "c level", "director"],
                ),
                Persona(name="technical", titles=["engineer*", "it"], department=["engineering", "it"]),
                Persona(name="operator", titles=["revenue operations", "revops", "sales ops*"]),
            ],
            "routing_rules": [
                RoutingRule(tier=["tier1"], persona=["decision_maker"], route="sales_now"),
                RoutingRule(persona=["technical"], route="sales_engineer"),
                RoutingRule(tier=["tier1", "tier2"], persona=["none"], route="research"),
            ],
        }
    )


def titled(recs: list[dict], *, distinct: bool, seed: int = 3) -> list[dict]:
    rnd = random.Random(seed)
    pool = [
        f"{rnd.choice(LEVELS)} {rnd.choice(AREAS)} {rnd.choice(ROLES)}".strip().replace("  ", " ") for _ in range(300)
    ]
    out = []
    for i, r in enumerate(recs):
        title = f"{rnd.choice(pool)} {i}" if distinct else rnd.choice(pool)
        out.append(
            {
                **r,
                "title": title,
                "seniority": rnd.choice(["VP", "C-Level", "Director", "Manager", None]),
                "department": rnd.choice(["Sales", "Engineering", "IT", None]),
            }
        )
    return out


def best_seconds(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    base = twenty_criterion_spec()
    variant = with_personas(base)
    recs = records(20_000)
    repeated, distinct = titled(recs, distinct=False), titled(recs, distinct=True)

    def per_record(spec: ICPSpec, rows: list[dict]) -> float:
        def run() -> None:
            scorer = compile_scorer(spec)  # a fresh scorer: its title cache starts empty every run
            for r in rows:
                scorer(r)

        return best_per_record(run, len(rows), args.repeat)[1]

    print(f"{'per record, CPU µs (best of ' + str(args.repeat) + ')':44}{'baseline':>10}{'personas':>10}{'ratio':>8}")
    for label, rows in (("titles from a pool of 300", repeated), ("every title distinct", distinct)):
        b, v = per_record(base, rows), per_record(variant, rows)
        print(f"{label:44}{b:10.2f}{v:10.2f}{v / b:7.2f}x")
        if label.startswith("titles"):
            ratio = v / b
    big = titled(records(min(args.rows, 200_000)), distinct=False)
    table = pa.Table.from_pylist((big * (args.rows // len(big) + 1))[: args.rows])
    head = f"per table of {args.rows:,} rows, wall s"
    print(f"{head:44}{'baseline':>10}{'personas':>10}{'ratio':>8}")
    for label, engine in (("Arrow (score_table)", score_table), ("DuckDB (score_arrow)", score_arrow)):
        b = best_seconds(lambda e=engine: e(base, table), args.repeat)
        v = best_seconds(lambda e=engine: e(variant, table), args.repeat)
        print(f"{label:44}{b:10.3f}{v:10.3f}{v / b:7.2f}x")
    verdict = "meets" if ratio <= 1.5 else "MISSES"
    print(f"target (personas at most 1.5x the per-record scorer on repeated titles): {verdict}")


if __name__ == "__main__":
    main()
