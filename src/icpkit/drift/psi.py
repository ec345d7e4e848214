"""Score distribution shift: does new inbound score like the inbound the ICP was built on?

New inbound is the leads created in the period when the leads carry a creation date (all leads when they carry
none), else the accounts first seen in the period (an account's ``created_date`` if the export has one, else its
first deal's). The reference is the same population in the ``reference_months`` before the period (accounts when
there are too few earlier leads). Both are scored by the spec in force as of ``as_of`` on what is known at entry:
account attributes only, never the deal-derived behavioural ones a new record cannot have yet.

The test is the population stability index over the reference's score deciles (``drift.stats.psi``; ties merge
deciles, scores being whole numbers) with the reading of credit scoring: PSI <= 0.10 stable, above 0.10 ``review``,
above 0.25 ``rebuild``. A two-sample Kolmogorov-Smirnov test must agree (p <= ``alpha``) before a shift is
called, because with a small quarter the PSI of pure sampling noise approaches 0.1 (about (bins - 1) / n).

A multi-segment spec is scored with every segment (the score is the best segment's) and also gets its segment
mix: the share of new inbound fitting each segment best, and fitting none (:func:`segment_mix`).
"""

from __future__ import annotations

import datetime as dt
import itertools

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel
from scipy import stats as sps

from icpkit.drift.funnel import _CREATED, _days
from icpkit.drift.period import PeriodData, months_before
from icpkit.drift.stats import psi, reference_bins
from icpkit.score.semantics import TIER_NAMES
from icpkit.score.vector import score_table
from icpkit.spec.model import ICPSpec

__all__ = ["ScoreBin", "ScoreShift", "SegmentMix", "SegmentShare", "first_seen", "score_shift", "segment_mix"]

_EPOCH = dt.date(1970, 1, 1)


class ScoreBin(BaseModel):
    scores: str
    reference_share: float
    new_share: float


class SegmentShare(BaseModel):
    group: str  # a segment's name (records fitting it best, tiers 1-3), or "no fit"
    reference: int
    new: int
    reference_share: float
    new_share: float


class SegmentMix(BaseModel):
    """Multi-segment spec: how new inbound spreads over the segments (best segment, tiers 1-3) and "no fit".

    PSI over these groups with the score shift's reading, called only when a chi-square test of the two
    populations' counts agrees (p <= ``alpha``).
    """

    shares: list[SegmentShare]
    psi: float
    chi2_p: float | None
    level: str  # stable | review | rebuild


class ScoreShift(BaseModel):
    population: str | None  # "leads" | "accounts" | None (not enough data)
    reference: str
    n_reference: int
    n_new: int
    psi: float | None
    ks_statistic: float | None
    ks_p: float | None
    level: str  # stable | review | rebuild | untested
    bins: list[ScoreBin]
    reference_tiers: dict[str, float]
    new_tiers: dict[str, float]
    segment_mix: SegmentMix | None = None
    note: str = ""


def first_seen(accounts: pa.Table, deals: pa.Table | None) -> np.ndarray:
    """Days since 1970 when each account first appeared (NaN when unknown): its created date, else first deal."""
    for c in _CREATED:
        if c in accounts.column_names and (
            pa.types.is_date(accounts.schema.field(c).type) or pa.types.is_timestamp(accounts.schema.field(c).type)
        ):
            return _days(accounts.column(c))
    if deals is None or not {"account_id", "created_date"} <= set(deals.column_names):
        if "customer_since" in accounts.column_names:
            return _days(accounts.column("customer_since"))
        return np.full(accounts.num_rows, np.nan)
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("d", deals.select(["account_id", "created_date"]))
        con.register(
            "ids", pa.table({"account_id": accounts.column("account_id"), "__row": np.arange(accounts.num_rows)})
        )
        got = con.sql(
            "SELECT f.first FROM ids LEFT JOIN (SELECT account_id, min(created_date) AS first FROM d "
            "GROUP BY account_id) f USING (account_id) ORDER BY ids.__row"
        ).to_arrow_table()
    finally:
        con.close()
    return _days(got.column(0))


def _tiers(tiers: pa.ChunkedArray) -> dict[str, float]:
    t = np.asarray(tiers.to_pylist(), dtype=object)
    n = max(t.size, 1)
    return {name: float((t == name).sum() / n) for name in TIER_NAMES}


def _bin_labels(edges: np.ndarray) -> list[str]:
    """Score ranges of the bins (whole-number scores 0-100)."""
    bounds = [0, *[int(np.ceil(e)) for e in edges], 101]
    return [f"{lo}-{hi - 1}" if hi - 1 > lo else f"{lo}" for lo, hi in itertools.pairwise(bounds)]


NO_FIT = "no fit"


def _groups(scored: pa.Table, names: list[str]) -> np.ndarray:
    """Group index per record: its best segment when in tiers 1-3, else ``len(names)`` (no fit)."""
    seg = pc.index_in(scored.column("segment"), value_set=pa.array(names, pa.string()))
    fit = pc.is_in(scored.column("tier"), value_set=pa.array(["tier1", "tier2", "tier3"]))
    idx = np.asarray(seg.fill_null(len(names)).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.where(np.asarray(fit.to_numpy(zero_copy_only=False), dtype=bool), idx, len(names))


def segment_mix(
    spec: ICPSpec,
    reference: pa.Table,
    new: pa.Table,
    *,
    psi_review: float = 0.10,
    psi_rebuild: float = 0.25,
    alpha: float = 0.01,
) -> SegmentMix:
    """The segment mix of two scored populations (tables with ``segment`` and ``tier``); see :class:`SegmentMix`."""
    names = [name for name, _ in spec.segment_specs()]
    k = len(names) + 1
    a, b = _groups(reference, names), _groups(new, names)
    value, p_ref, p_new = psi(a, b, np.arange(k - 1) + 0.5)
    r, q = np.bincount(a, minlength=k), np.bincount(b, minlength=k)
    seen = (r + q) > 0
    p = None
    if seen.sum() > 1 and r.sum() and q.sum():
        p = float(sps.chi2_contingency(np.vstack([r[seen], q[seen]]))[1])
    shifted = p is not None and p <= alpha
    level = "rebuild" if shifted and value > psi_rebuild else "review" if shifted and value > psi_review else "stable"
    shares = [
        SegmentShare(group=g, reference=int(r[i]), new=int(q[i]), reference_share=float(p_ref[i]),
                     new_share=float(p_new[i]))
        for i, g in enumerate([*names, NO_FIT])
    ]  # fmt: skip
    return SegmentMix(shares=shares, psi=value, chi2_p=p, level=level)


def score_shift(
    spec: ICPSpec,
    period: PeriodData,
    *,
    deals: pa.Table | None = None,
    leads: pa.Table | None = None,
    reference_months: int = 12,
    psi_review: float = 0.10,
    psi_rebuild: float = 0.25,
    alpha: float = 0.01,
    min_new: int = 100,
) -> ScoreShift:
    """PSI and KS of new inbound's scores against the reference period's; see the module docstring."""
    start = (period.period_start - _EPOCH).days
    end = (period.as_of - _EPOCH).days
    ref_start = (months_before(period.period_start, reference_months) - _EPOCH).days
    accounts = period.accounts.drop_columns(period.behavior_columns)
    new_tbl = ref_tbl = None
    population, reference, notes = None, "", []
    if leads is not None and leads.num_rows:
        seen = first_seen(leads, None) if any(c in leads.column_names for c in _CREATED) else None
        if seen is None or np.isnan(seen).all():
            new_tbl = leads
            notes.append("leads carry no creation date: every lead counts as new inbound")
        else:
            new_tbl = leads.filter(pa.array((seen > start) & (seen <= end)))
            before = leads.filter(pa.array((seen > ref_start) & (seen <= start)))
            if before.num_rows >= min_new:
                ref_tbl, reference = before, "leads"
        population = "leads"
    if new_tbl is None or new_tbl.num_rows < min_new:
        seen = first_seen(accounts, deals)
        new_tbl = accounts.filter(pa.array((seen > start) & (seen <= end)))
        population = "accounts"
    if ref_tbl is None:
        seen = first_seen(accounts, deals)
        ref_tbl, reference = accounts.filter(pa.array((seen > ref_start) & (seen <= start))), "accounts"
    out = ScoreShift(
        population=population,
        reference=f"{reference} first seen in the {reference_months} months before the period",
        n_reference=ref_tbl.num_rows,
        n_new=new_tbl.num_rows,
        psi=None,
        ks_statistic=None,
        ks_p=None,
        level="untested",
        bins=[],
        reference_tiers={},
        new_tiers={},
    )
    if new_tbl.num_rows < min_new or ref_tbl.num_rows < min_new:
        out.note = f"too few records to compare (new {new_tbl.num_rows}, reference {ref_tbl.num_rows}; need {min_new})"
        return out
    a = score_table(spec, ref_tbl, as_of=period.as_of, explain=False)
    b = score_table(spec, new_tbl, as_of=period.as_of, explain=False)
    ref_scores = a.column("score").to_numpy().astype(float)
    new_scores = b.column("score").to_numpy().astype(float)
    edges = reference_bins(ref_scores)
    value, p_ref, p_new = psi(ref_scores, new_scores, edges)
    ks = sps.ks_2samp(ref_scores, new_scores)
    out.psi, out.ks_statistic, out.ks_p = value, float(ks.statistic), float(ks.pvalue)
    shifted = out.ks_p <= alpha
    out.level = (
        "rebuild" if shifted and value > psi_rebuild else "review" if shifted and value > psi_review else "stable"
    )
    out.bins = [
        ScoreBin(scores=label, reference_share=float(r), new_share=float(q))
        for label, r, q in zip(_bin_labels(edges), p_ref, p_new, strict=True)
    ]
    out.reference_tiers, out.new_tiers = _tiers(a.column("tier")), _tiers(b.column("tier"))
    if spec.segments is not None:
        out.segment_mix = segment_mix(spec, a, b, psi_review=psi_review, psi_rebuild=psi_rebuild, alpha=alpha)
    out.note = "; ".join(notes)
    return out
