"""Size a company universe against an ICP: TAM -> SAM -> tiers -> new target accounts, with a health check.

Pure: tables and a spec in, a report and a target table out (the CLI reads and writes files). Heavy steps run in
DuckDB (keys, de-duplication, CRM matching) and in the vectorised scoring engine; no loop over rows.

* **TAM** = distinct companies of the universe. Rows that are the same company (same web host, or same
  normalised name and country when a domain is missing — the same firm listed on several exchanges) are merged;
  the most complete row (most of the spec's fields filled, then first in the file) stands for the company.
* **SAM** = companies meeting every SAM clause (:mod:`icpkit.size.sam`).
* **Tiers** = the spec's scoring of the SAM companies; tiers 1–3 are the ICP fit.
* **New targets** = ICP fit minus existing customers and open pipeline (:mod:`icpkit.size.crm`).
* **Health**: a target list of about 500–5,000 accounts is workable for sales and ABM; outside the band the report
  says which way to move, with thresholds computed on the data.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from icpkit.errors import EngineError, InputError
from icpkit.ingest.canonical import deals_at
from icpkit.score.semantics import scoring_date
from icpkit.score.vector import score_table
from icpkit.size.crm import NEW, CrmMatch, match_crm
from icpkit.size.domains import register_macros
from icpkit.size.sam import evaluate_sam
from icpkit.size.targets import target_table
from icpkit.spec.io import content_hash
from icpkit.spec.model import Clause, ICPSpec, Op
from icpkit.words import clause_text

__all__ = [
    "HEALTHY_BAND",
    "CrmReport",
    "FunnelStep",
    "Health",
    "SamClauseReport",
    "SegmentFunnel",
    "Sizing",
    "SizingReport",
    "size_universe",
]

HEALTHY_BAND = (500, 5000)
TIERS = ("tier1", "tier2", "tier3")


class FunnelStep(BaseModel):
    key: str
    label: str
    count: int
    parent: str | None = None
    share: float | None = None  # of the parent step


class SamClauseReport(BaseModel):
    field: str
    clause: str  # plain words
    kept: int
    dropped: int
    unknown: int  # value missing: cannot be shown serviceable


class CrmReport(BaseModel):
    accounts: dict[str, int]  # CRM accounts per status
    found_in_universe: dict[str, int]
    in_sam: dict[str, int]  # universe companies in the SAM per CRM status
    tiers_of_customers: dict[str, int]  # how the spec tiers the customers found in the SAM


class Health(BaseModel):
    status: Literal["healthy", "too_many", "too_few"]
    targets: int
    band: tuple[int, int]
    message: str
    suggestions: list[str]


class SegmentFunnel(BaseModel):
    """One segment of a multi-segment spec: the SAM companies whose best segment it is, down to new targets.

    Every company counts in exactly one segment (its best), so the segments' counts add up to the overall funnel.
    """

    segment: str
    companies: int  # SAM companies whose best segment is this one, whatever their tier
    steps: list[FunnelStep]
    share_of_targets: float | None = None  # of all new target accounts

    def step(self, key: str) -> FunnelStep:
        return next(s for s in self.steps if s.key == key)


class SizingReport(BaseModel):
    """The sizing funnel as the CLI prints it and ``--json`` emits it."""

    spec: str
    spec_hash: str
    as_of: str | None
    universe_rows: int
    duplicates_merged: int
    steps: list[FunnelStep]
    sam: list[SamClauseReport]
    sam_unknown_only: int  # outside the SAM only because a value is missing
    crm: CrmReport | None
    health: Health
    warnings: list[str]
    seconds: float
    segments: list[SegmentFunnel] = []  # multi-segment spec: the funnel per best segment

    def step(self, key: str) -> FunnelStep:
        return next(s for s in self.steps if s.key == key)


@dataclass
class Sizing:
    report: SizingReport
    targets: pa.Table  # tier 1–3 companies, sorted by tier then score, with reasons in plain words


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _keys(con: duckdb.DuckDBPyConnection, universe: pa.Table, spec_fields: Sequence[str], dedupe: bool) -> np.ndarray:
    """Row indices of one representative per company (all rows when ``dedupe`` is off)."""
    cols = universe.column_names
    dkey = "icp_hostkey(domain)" if "domain" in cols else "CAST(NULL AS VARCHAR)"
    nkey = "icp_name(name)" if "name" in cols else "CAST(NULL AS VARCHAR)"
    country = "lower(trim(CAST(country AS VARCHAR)))" if "country" in cols else "''"
    filled = " + ".join(f"({_ident(f)} IS NOT NULL)::INT" for f in spec_fields if f in cols) or "0"
    con.register("__universe", universe.append_column("__row", pa.array(np.arange(universe.num_rows))))
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __ukeys_all AS "
        f"SELECT __row, {dkey} AS __dkey, {nkey} AS __nkey, coalesce({country}, '') AS __country, "
        f"{filled} AS __filled FROM __universe"
    )
    if not dedupe:
        return np.arange(universe.num_rows)
    rows = con.execute(
        "WITH k AS (SELECT *, coalesce(__dkey, CASE WHEN __nkey IS NOT NULL THEN "
        "max(__dkey) OVER (PARTITION BY __nkey, __country) END) AS __d2 FROM __ukeys_all), "
        "c AS (SELECT __row, __filled, coalesce(__d2, 'name:' || __nkey || '|' || __country, 'row:' || __row) AS __key "
        "FROM k) "
        "SELECT __row FROM c QUALIFY row_number() OVER (PARTITION BY __key ORDER BY __filled DESC, __row) = 1 "
        "ORDER BY __row"
    ).fetchnumpy()["__row"]
    return np.asarray(rows, dtype=np.int64)


def _counts(values: np.ndarray) -> dict[str, int]:
    uniq, cnt = np.unique(values.astype(str), return_counts=True) if len(values) else ([], [])
    return {str(u): int(c) for u, c in zip(uniq, cnt, strict=True)}


def _unknown_values(clauses: Sequence[Clause], table: pa.Table, what: str) -> list[str]:
    """Warn about ``in``/``equals`` values no company has: usually a spelling the universe does not use."""
    out = []
    for cl in clauses:
        if cl.op not in (Op.IN, Op.EQUALS) or cl.field not in table.column_names:
            continue
        col = table.column(cl.field)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            continue
        seen = set(pc.unique(pc.utf8_lower(pc.utf8_trim_whitespace(col))).to_pylist())
        values = cl.value if isinstance(cl.value, list) else [cl.value]
        absent = [str(v) for v in values if isinstance(v, str) and v.strip().lower() not in seen]
        if absent:
            examples = ", ".join(sorted(str(s) for s in seen if s)[:5])
            out.append(
                f"{what} '{cl.field}': no company has {', '.join(repr(a) for a in absent)} "
                f"(values look like: {examples} …)"
            )
    return out


def _share(count: int, parent: int) -> float | None:
    return count / parent if parent else None


def _health(
    spec: ICPSpec,
    t3_rows: np.ndarray | None,
    scores: np.ndarray,
    excluded: np.ndarray,
    new: np.ndarray,
    tiers: np.ndarray,
    sam_table: pa.Table,
    band: tuple[int, int],
    sam_reports: list[SamClauseReport],
    tam: int,
) -> Health:
    lo, hi = band
    eligible = new & ~excluded
    n = int(np.sum(eligible & np.isin(tiers, TIERS)))
    t3 = spec.tiers.tier3
    s = scores[eligible]
    suggestions: list[str] = []
    if t3_rows is not None:  # several segments: move every segment's tier-3 minimum by the same points
        return _segmented_health(spec, s - t3_rows[eligible], n, band, eligible, tiers, sam_table, sam_reports, tam)
    if lo <= n <= hi:
        return Health(
            status="healthy",
            targets=n,
            band=band,
            message=f"{n:,} new target accounts: inside the healthy band of {lo:,}–{hi:,}.",
            suggestions=[],
        )
    if n > hi:
        for t in range(t3 + 1, 101):
            k = int(np.sum(s >= t))
            if k <= hi:
                suggestions.append(f"raise tiers.tier3 from {t3} to {t} to keep {k:,} accounts")
                break
        top = int(np.sum(eligible & np.isin(tiers, ("tier1", "tier2"))))
        if top and top <= hi:
            suggestions.append(f"or work tiers 1–2 only: {top:,} accounts")
        for field in ("country", "industry", "region"):
            if field in sam_table.column_names:
                vals = pc.utf8_lower(sam_table.column(field).combine_chunks()).to_numpy(zero_copy_only=False)
                fit = vals[eligible & np.isin(tiers, TIERS)]
                fit = fit[fit != None]  # noqa: E711 - object array of text and None
                if len(fit):
                    u, c = np.unique(fit.astype(str), return_counts=True)
                    best = int(np.argmax(c))
                    suggestions.append(
                        f"or add a SAM filter, e.g. --sam '{field} in {u[best]}' ({int(c[best]):,} accounts)"
                    )
                break
        return Health(
            status="too_many",
            targets=n,
            band=band,
            message=f"{n:,} new target accounts: more than {hi:,}, too many to work account by account. "
            "Narrow it: fewer tier-3 accounts (raise the thresholds) or a tighter SAM.",
            suggestions=suggestions,
        )
    for t in range(t3 - 1, 0, -1):
        k = int(np.sum(s >= t))
        if k >= lo:
            suggestions.append(f"lower tiers.tier3 from {t3} to {t} to reach {k:,} accounts")
            break
    else:
        k = int(np.sum(s > 0))
        suggestions.append(
            f"even every SAM company with a positive score gives only {k:,}: thresholds alone cannot fix it"
        )
    sam_count = len(scores)
    if tam and sam_count < tam:
        worst = max(sam_reports, key=lambda r: r.dropped + r.unknown, default=None)
        text = f"widen the SAM (it keeps {sam_count / tam:.0%} of the TAM)"
        if worst is not None:
            text += f"; '{worst.clause}' removes the most ({worst.dropped + worst.unknown:,})"
        suggestions.append(text)
    suggestions.append("or size against a larger company universe")
    return Health(
        status="too_few",
        targets=n,
        band=band,
        message=f"{n:,} new target accounts: fewer than {lo:,}, too few to fill a pipeline. Widen it: lower the "
        "tier-3 threshold, loosen the SAM, or use a larger universe.",
        suggestions=suggestions,
    )


def _segmented_health(
    spec: ICPSpec,
    margin: np.ndarray,
    n: int,
    band: tuple[int, int],
    eligible: np.ndarray,
    tiers: np.ndarray,
    sam_table: pa.Table,
    sam_reports: list[SamClauseReport],
    tam: int,
) -> Health:
    """The health check of a multi-segment spec: ``margin`` is each eligible company's score above its best
    segment's tier-3 minimum, so a threshold advice applies to every segment at once."""
    lo, hi = band
    if lo <= n <= hi:
        return Health(status="healthy", targets=n, band=band, suggestions=[],
                      message=f"{n:,} new target accounts: inside the healthy band of {lo:,}–{hi:,}.")  # fmt: skip
    shifts = np.arange(-100, 101)
    kept = (margin[None, :] >= shifts[:, None]).sum(axis=1)
    suggestions: list[str] = []
    if n > hi:
        up = shifts[(shifts > 0) & (kept <= hi)]
        if up.size:
            d = int(up[0])
            suggestions.append(f"raise every segment's tiers.tier3 by {d} points to keep {int(kept[d + 100]):,}")
        top = int(np.sum(eligible & np.isin(tiers, ("tier1", "tier2"))))
        if top and top <= hi:
            suggestions.append(f"or work tiers 1–2 only: {top:,} accounts")
        return Health(
            status="too_many", targets=n, band=band, suggestions=suggestions,
            message=f"{n:,} new target accounts: more than {hi:,}, too many to work account by account. "
            "Narrow it: fewer tier-3 accounts (raise the thresholds) or a tighter SAM.",
        )  # fmt: skip
    down = shifts[(shifts < 0) & (kept >= lo)]
    if down.size:
        d = int(down[-1])
        suggestions.append(f"lower every segment's tiers.tier3 by {-d} points to reach {int(kept[d + 100]):,}")
    else:
        suggestions.append("even the lowest thresholds cannot reach the band: widen the SAM or the universe")
    sam_count = int(eligible.size)
    if tam and sam_count < tam:
        suggestions.append(f"widen the SAM (it keeps {sam_count / tam:.0%} of the TAM)")
    suggestions.append("or size against a larger company universe")
    return Health(
        status="too_few", targets=n, band=band, suggestions=suggestions,
        message=f"{n:,} new target accounts: fewer than {lo:,}, too few to fill a pipeline. Widen it: lower the "
        "tier-3 thresholds, loosen the SAM, or use a larger universe.",
    )  # fmt: skip


def _segment_funnels(
    spec: ICPSpec, best: np.ndarray, tiers: np.ndarray, status: np.ndarray, new: np.ndarray
) -> list[SegmentFunnel]:
    """The funnel of each segment, each SAM company counted in its best segment."""
    fit = np.isin(tiers, TIERS)
    sam_n = len(tiers)
    all_new = int(np.sum(fit & new))
    out = []
    for name, _ in spec.segment_specs():
        mine = best == name
        f = int(np.sum(fit & mine))
        steps = [FunnelStep(key="fit", label="ICP fit: tiers 1–3", count=f, parent="sam", share=_share(f, sam_n))]
        for t, label in zip(TIERS, ("Tier 1", "Tier 2", "Tier 3"), strict=True):
            k = int(np.sum(mine & (tiers == t)))
            steps.append(FunnelStep(key=t, label=label, count=k, parent="fit", share=_share(k, f)))
        for key, label in (("customer", "Already customers"), ("open_pipeline", "Open pipeline")):
            k = int(np.sum(fit & mine & (status == key)))
            steps.append(FunnelStep(key=key, label=label, count=k, parent="fit", share=_share(k, f)))
        k = int(np.sum(fit & mine & new))
        steps.append(FunnelStep(key="new", label="New target accounts", count=k, parent="fit", share=_share(k, f)))
        out.append(
            SegmentFunnel(segment=name, companies=int(mine.sum()), steps=steps, share_of_targets=_share(k, all_new))
        )
    return out


def size_universe(
    spec: ICPSpec,
    universe: pa.Table,
    *,
    sam: Sequence[Clause] = (),
    accounts: pa.Table | None = None,
    deals: pa.Table | None = None,
    as_of: dt.date | None = None,
    dedupe: bool = True,
    include_existing: bool = False,
    band: tuple[int, int] = HEALTHY_BAND,
) -> Sizing:
    """Size ``universe`` against ``spec``: the funnel report and the sorted target list.

    ``sam`` clauses are ANDed with the spec's own ``sam:`` section. ``accounts`` / ``deals`` (canonical CRM tables)
    mark customers and open pipeline; they stay out of the target list unless ``include_existing``. ``as_of`` is
    the scoring date (default today); pinned, customers and pipeline are marked as the deals stood on it.
    """
    started = time.perf_counter()
    if universe.num_rows == 0:
        raise InputError("the universe has no companies")
    if as_of is not None and deals is not None and deals.num_rows:
        deals = deals_at(deals, as_of)  # customers and pipeline as they stood on a pinned date
    clauses = [*(spec.sam or []), *sam]
    con = duckdb.connect()
    try:
        register_macros(con)
        keep = _keys(con, universe, spec.fields(), dedupe)
        uni = universe.take(pa.array(keep))
        sam_out = evaluate_sam(clauses, uni, as_of=as_of)
        sam_rows = np.flatnonzero(sam_out.inside)
        sam_table = uni.take(pa.array(sam_rows))
        crm: CrmMatch | None = None
        if accounts is not None:
            con.register("__keep", pa.table({"__row": keep, "__pos": np.arange(len(keep))}))
            con.execute(
                "CREATE OR REPLACE TEMP TABLE __ukeys AS SELECT p.__pos AS __row, k.__dkey, k.__nkey "
                "FROM __ukeys_all k JOIN __keep p ON p.__row = k.__row"
            )
            crm = match_crm(con, "__ukeys", accounts, deals)
    except duckdb.Error as exc:
        raise EngineError(f"sizing query failed: {exc}") from exc
    finally:
        con.close()

    as_of = scoring_date(as_of)  # the target list is for the day it is made, unless pinned
    scored = score_table(spec, sam_table, as_of=as_of, explain=True)
    tiers = np.asarray(scored.column("tier").to_numpy(zero_copy_only=False), dtype=object)
    scores = np.asarray(scored.column("score").to_numpy(zero_copy_only=False))
    excluded = tiers == "excluded"
    status = crm.status[sam_rows] if crm is not None else np.full(len(sam_rows), NEW, dtype=object)
    fit = np.isin(tiers, TIERS)
    existing = np.isin(status, ("customer", "open_pipeline"))
    new = ~existing

    tam_n, sam_n, fit_n = uni.num_rows, len(sam_rows), int(fit.sum())
    steps = [
        FunnelStep(key="tam", label="TAM: every company in the universe", count=tam_n),
        FunnelStep(
            key="sam",
            label="SAM: serviceable"
            + (f" ({len(clauses)} filter{'s' if len(clauses) > 1 else ''})" if clauses else " (no SAM filters: = TAM)"),
            count=sam_n,
            parent="tam",
            share=_share(sam_n, tam_n),
        ),
        FunnelStep(key="fit", label="ICP fit: tiers 1–3", count=fit_n, parent="sam", share=_share(fit_n, sam_n)),
    ]
    for t, label in zip(TIERS, ("Tier 1", "Tier 2", "Tier 3"), strict=True):
        k = int(np.sum(tiers == t))
        steps.append(FunnelStep(key=t, label=label, count=k, parent="fit", share=_share(k, fit_n)))
    below = int(np.sum(tiers == "none"))
    steps.append(FunnelStep(key="none", label="Below tier 3", count=below, parent="sam", share=_share(below, sam_n)))
    n_ex = int(excluded.sum())
    steps.append(FunnelStep(key="excluded", label="Excluded", count=n_ex, parent="sam", share=_share(n_ex, sam_n)))
    for key, label in (("customer", "Already customers"), ("open_pipeline", "Open pipeline")):
        k = int(np.sum(fit & (status == key)))
        steps.append(FunnelStep(key=key, label=label, count=k, parent="fit", share=_share(k, fit_n)))
    n_new = int(np.sum(fit & new))
    steps.append(
        FunnelStep(key="new", label="New target accounts", count=n_new, parent="fit", share=_share(n_new, fit_n))
    )

    sam_reports = [
        SamClauseReport(field=c.field, clause=clause_text(c), **counts)
        for c, counts in zip(clauses, sam_out.per_clause, strict=True)
    ]
    crm_report = None
    if crm is not None:
        cust = status == "customer"
        crm_report = CrmReport(
            accounts=crm.accounts,
            found_in_universe=crm.found,
            in_sam={k: v for k, v in _counts(status).items() if k != NEW},
            tiers_of_customers=_counts(tiers[cust]),
        )
    warnings = _warnings(spec, clauses, uni)
    best = t3_rows = None
    if spec.segments is not None:
        best = np.asarray(scored.column("segment").to_numpy(zero_copy_only=False), dtype=object)
        t3_rows = np.zeros(len(best), dtype=np.int64)
        for name, seg in spec.segment_specs():
            t3_rows[best == name] = seg.tiers.tier3
    health = _health(spec, t3_rows, scores, excluded, new, tiers, sam_table, band, sam_reports, tam_n)
    keep_rows = fit if include_existing else fit & new
    targets = target_table(spec, scored, status, keep_rows)
    report = SizingReport(
        spec=spec.name,
        spec_hash=content_hash(spec),
        as_of=as_of.isoformat(),
        universe_rows=universe.num_rows,
        duplicates_merged=universe.num_rows - tam_n,
        steps=steps,
        sam=sam_reports,
        sam_unknown_only=sam_out.unknown_only,
        crm=crm_report,
        health=health,
        warnings=warnings,
        seconds=round(time.perf_counter() - started, 3),
        segments=_segment_funnels(spec, best, tiers, status, new) if best is not None else [],
    )
    return Sizing(report=report, targets=targets)


def _warnings(spec: ICPSpec, clauses: Sequence[Clause], uni: pa.Table) -> list[str]:
    out = []
    cols = set(uni.column_names)
    parts = spec.segment_specs() or [("", spec)]
    for name, part in parts:
        missing = [f for f in part.fields() if f not in cols]
        if not missing:
            continue
        whose = f"segment {name}: " if name else ""
        reachable = sum(c.points for _, c in part.criteria() if all(cl.field in cols for cl in c.clauses()))
        text = f"{whose}the universe has no {', '.join(missing)}: criteria on them are unknown for every company"
        text += f"; the highest reachable score is {min(reachable, 100)}"
        if reachable < part.tiers.tier1:
            text += f", below tier 1 ({part.tiers.tier1})"
        out.append(text)
    criteria = [cl for _, part in parts for _, c in part.criteria() for cl in c.clauses()]
    criteria += [e for _, part in parts for e in part.exclusions]
    criteria = list({cl.model_dump_json(): cl for cl in criteria}.values())  # once, however many segments
    out += _unknown_values(clauses, uni, "SAM filter on")
    out += _unknown_values(criteria, uni, "criterion on")
    return out
