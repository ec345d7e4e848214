"""Per-record scoring speed: the compiled Python scorer next to a bare dict-lookup loop over the same fields.

Run: ``python bench/single.py [--repeat 7]``. Prints microseconds per record for both, as wall time and as CPU time
of this process (best of N each: shared machines are noisy), and their ratio, measured in one run. Target: the
scorer under 5 µs/record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from collections.abc import Callable

from icpkit.score import compile_scorer
from icpkit.spec import Clause, Criterion, Exclusion, ICPSpec

AS_OF = dt.date(2026, 9, 30)
INDUSTRIES = ["Software", "Fintech", "Retail", "Healthcare", "Manufacturing", "Media"]
STACK = ["Salesforce", "HubSpot", "Slack", "Snowflake", "Segment", "Marketo", "Zendesk"]
COUNTRIES = ["US", "GB", "DE", "FR", "CA", "IN"]


def twenty_criterion_spec() -> ICPSpec:
    c = Criterion
    return ICPSpec(
        name="bench",
        as_of=AS_OF,
        layers={
            "firmographic": [
                c(field="industry", op="in", value=["Software", "Fintech"], points=10),
                c(field="employees", op="between", value=[50, 500], points=8),
                c(field="annual_revenue", op="gte", value=5_000_000, points=6),
                c(field="country", op="in", value=["US", "GB", "CA"], points=5),
                c(field="founded_year", op="between", value=[2005, None], points=3),
                c(field="funding_stage", op="in", value=["Series A", "Series B"], points=5),
                c(field="region", op="equals", value="North America", points=2),
            ],
            "technographic": [
                c(field="tech_stack", op="contains_any", value=["Salesforce", "HubSpot"], points=8),
                c(field="tech_stack", op="contains_all", value=["Slack", "Snowflake"], points=4),
                c(field="tech_stack", op="contains_none", value=["Marketo"], points=2),
                c(field="uses_api", op="is_true", points=3),
            ],
            "behavioral": [
                c(field="web_visits", op="gte", value=10, points=4),
                c(field="demo_requested", op="is_true", points=6),
                c(field="newsletter", op="exists", points=1),
            ],
            "trigger": [
                c(field="last_funding_date", op="within_days", value=180, points=6),
                c(
                    field="hiring_sdrs",
                    op="is_true",
                    points=5,
                    also=[Clause(field="sdr_openings", op="gte", value=2)],
                ),
                c(field="new_exec_date", op="within_days", value=90, points=3),
            ],
            "economic": [
                c(field="gross_margin", op="between", value=[0.5, 1.0], points=4),
                c(field="budget_band", op="not_in", value=["none", "unknown"], points=3),
                c(field="seats", op="lte", value=1000, points=2),
            ],
        },
        exclusions=[
            Exclusion(field="business_model", op="in", value=["B2C"], reason="churns"),
            Exclusion(field="is_competitor", op="is_true", reason="competitor"),
        ],
    )


def records(n: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)

    def maybe(v: object) -> object:
        return None if rnd.random() < 0.1 else v

    out = []
    for _ in range(n):
        out.append(
            {
                "industry": maybe(rnd.choice(INDUSTRIES)),
                "employees": maybe(float(rnd.randint(1, 5000))),
                "annual_revenue": maybe(float(rnd.randint(10_000, 50_000_000))),
                "country": maybe(rnd.choice(COUNTRIES)),
                "founded_year": maybe(float(rnd.randint(1950, 2024))),
                "funding_stage": maybe(rnd.choice(["Seed", "Series A", "Series B", "Public"])),
                "region": maybe(rnd.choice(["North America", "EMEA", "APAC"])),
                "tech_stack": maybe(rnd.sample(STACK, rnd.randint(0, 4))),
                "uses_api": maybe(rnd.random() < 0.5),
                "web_visits": maybe(float(rnd.randint(0, 40))),
                "demo_requested": maybe(rnd.random() < 0.2),
                "newsletter": maybe(rnd.choice(["weekly", ""])),
                "last_funding_date": maybe(AS_OF - dt.timedelta(days=rnd.randint(-10, 700))),
                "hiring_sdrs": maybe(rnd.random() < 0.3),
                "sdr_openings": maybe(float(rnd.randint(0, 5))),
                "new_exec_date": maybe(AS_OF - dt.timedelta(days=rnd.randint(0, 400))),
                "gross_margin": maybe(rnd.random()),
                "budget_band": maybe(rnd.choice(["none", "small", "large", "unknown"])),
                "seats": maybe(float(rnd.randint(1, 3000))),
                "business_model": maybe(rnd.choice(["B2B", "B2B", "B2C"])),
                "is_competitor": maybe(rnd.random() < 0.02),
            }
        )
    return out


def best_per_record(fn: Callable[[], object], n: int, repeat: int) -> tuple[float, float]:
    """(wall, CPU) microseconds per record, each the best of ``repeat`` runs."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - w0), min(cpu, time.process_time() - c0)
    return wall / n * 1e6, cpu / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    spec = twenty_criterion_spec()
    scorer = compile_scorer(spec)
    recs = records(20_000)
    reads = tuple(cl.field for _, c in spec.criteria() for cl in c.clauses()) + tuple(e.field for e in spec.exclusions)

    def score_all() -> None:
        for r in recs:
            scorer(r)

    def lookups_only() -> None:
        for r in recs:
            get = r.get
            for f in reads:
                get(f)

    n_criteria = len(spec.criteria())
    scored = best_per_record(score_all, len(recs), args.repeat)
    bare = best_per_record(lookups_only, len(recs), args.repeat)
    print(f"spec: {n_criteria} criteria, {len(spec.exclusions)} exclusions, {len(reads)} field reads per record")
    print(f"{'µs/record, best of ' + str(args.repeat):38}{'wall':>8}{'CPU':>8}")
    print(f"{'compiled scorer (with explanation)':38}{scored[0]:8.2f}{scored[1]:8.2f}")
    print(f"{'bare dict lookups, same fields':38}{bare[0]:8.2f}{bare[1]:8.2f}")
    print(f"{'ratio scorer / lookups':38}{scored[0] / bare[0]:7.1f}x{scored[1] / bare[1]:7.1f}x")
    verdict = "meets" if scored[1] < 5 else "MISSES"
    print(f"target (scorer < 5 µs/record, CPU): {verdict}")


if __name__ == "__main__":
    main()
