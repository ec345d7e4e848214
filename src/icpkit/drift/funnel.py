"""Funnel conversion per quarter against benchmarks: Lead -> MQL -> SQL -> Opportunity -> Won.

Leads carry their funnel in one of two shapes, both read here:

- **a date per stage** (``mql_date``, ``became_sql_date``, ``hs_lifecyclestage_opportunity_date``…) next to the
  lead's creation date: conversion in a quarter is the flow ``entered(next stage) / entered(stage)`` within the
  quarter, which a still-young quarter does not bias;
- **one stage column** (``lifecycle_stage``, ``stage``, ``lead_status``) holding the furthest stage reached, with a
  creation date: leads are grouped by the quarter they were created in, and a step's conversion is the share of the
  quarter's leads at or past the stage that went on to the next. The latest quarter is young: its leads have had
  less time to convert, so read its figure as a floor.

A step is flagged when the two latest quarters with at least ``min_count`` leads entering the step are both below
the low end of its benchmark (defaults: Lead->MQL 20-25%, MQL->SQL 12-18%, SQL->Opportunity 10-12%,
Opportunity->Won 6-9%; all configurable) and the two quarters pooled are significantly below it (one-sided exact
binomial p <= ``alpha``): a step converting at 11% against a 10% floor dips below it in small quarters by chance
alone. Each quarter carries its own binomial p too, so a reader can tell a clear shortfall from noise.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel

from icpkit.drift.stats import binomial_below_pvalue

__all__ = ["DEFAULT_BENCHMARKS", "STAGES", "FunnelCheck", "FunnelStep", "QuarterRate", "funnel_conversion"]

STAGES: tuple[str, ...] = ("lead", "mql", "sql", "opportunity", "won")
STEP_NAMES = ("lead_to_mql", "mql_to_sql", "sql_to_opportunity", "opportunity_to_won")
DEFAULT_BENCHMARKS: dict[str, tuple[float, float]] = {
    "lead_to_mql": (0.20, 0.25),
    "mql_to_sql": (0.12, 0.18),
    "sql_to_opportunity": (0.10, 0.12),
    "opportunity_to_won": (0.06, 0.09),
}
_LABEL = {"lead": "Lead", "mql": "MQL", "sql": "SQL", "opportunity": "Opportunity", "won": "Won"}

_STAGE_VALUES = {
    "mql": {"mql", "marketing qualified lead", "marketingqualifiedlead", "marketing qualified"},
    "sql": {"sql", "sales qualified lead", "salesqualifiedlead", "sales qualified", "sal", "sales accepted lead"},
    "opportunity": {"opportunity", "opp", "opportunities", "pipeline"},
    "won": {"won", "customer", "closed won", "closedwon", "evangelist"},
}
_STAGE_COLUMNS = ("lifecycle_stage", "lifecyclestage", "funnel_stage", "lead_stage", "stage", "lead_status", "status")
_CREATED = ("created_date", "create_date", "createdate", "created_at", "lead_date", "lead_created_date", "date_created")
_DATE_PATTERNS = {
    "lead": re.compile(r"(^|_)(became_a_lead|became_lead|lead)(_date|_at)$"),
    "mql": re.compile(r"(^|_)(mql|marketing_?qualified(_lead)?|marketingqualifiedlead)(_|$)"),
    "sql": re.compile(r"(^|_)(sql|sales_?qualified(_lead)?|salesqualifiedlead)(_|$)"),
    "opportunity": re.compile(r"(^|_)(opportunity|opp)(_|$)"),
    "won": re.compile(r"(^|_)(won|customer|closed_won)(_|$)"),
}


class QuarterRate(BaseModel):
    quarter: str
    entered: int
    converted: int
    rate: float | None
    below: bool
    p_below: float | None


class FunnelStep(BaseModel):
    step: str
    label: str
    benchmark_low: float
    benchmark_high: float
    quarters: list[QuarterRate]
    flagged: bool
    note: str = ""


class FunnelCheck(BaseModel):
    mode: str | None  # "stage dates" | "stage column" | None (no funnel data)
    columns: dict[str, str]
    steps: list[FunnelStep]
    note: str = ""


def _is_date(t: pa.DataType) -> bool:
    return pa.types.is_date(t) or pa.types.is_timestamp(t)


def _days(col: pa.ChunkedArray) -> np.ndarray:
    """Days since 1970 as float (NaN for missing)."""
    d = col.cast(pa.date32()) if pa.types.is_timestamp(col.type) else col
    arr = pc.cast(d, pa.int32()).to_numpy(zero_copy_only=False)
    return np.asarray(arr, dtype=float)


def _quarter_of(days: np.ndarray) -> np.ndarray:
    """Quarter index (year * 4 + quarter - 1) of days since 1970; -1 where missing."""
    ok = np.isfinite(days)
    d = np.where(ok, days, 0).astype("datetime64[D]")
    months = d.astype("datetime64[M]").astype(np.int64)  # months since 1970-01
    return np.where(ok, (months // 12 + 1970) * 4 + (months % 12) // 3, -1)


def _label(q: int) -> str:
    return f"{q // 4}Q{q % 4 + 1}"


def _find_columns(leads: pa.Table) -> tuple[str | None, dict[str, str], str | None]:
    names = leads.column_names
    created = next((c for c in _CREATED if c in names and _is_date(leads.schema.field(c).type)), None)
    dates: dict[str, str] = {}
    for stage, pat in _DATE_PATTERNS.items():
        for c in names:
            if c != created and _is_date(leads.schema.field(c).type) and pat.search(c) and c not in dates.values():
                dates[stage] = c
                break
    if created is not None:
        dates.setdefault("lead", created)
    stage_col = next((c for c in _STAGE_COLUMNS if c in names and not _is_date(leads.schema.field(c).type)), None)
    return created, dates, stage_col


def _stage_rank(values: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Furthest stage reached (0 lead .. 4 won) per lead; unrecognised values count as a lead."""
    text = pc.utf8_lower(pc.utf8_trim_whitespace(values.cast(pa.string())))
    text = pc.replace_substring_regex(text, r"[^a-z0-9]+", " ")
    rank = np.zeros(len(values), dtype=np.int64)
    known = np.zeros(len(values), dtype=bool)
    for i, stage in enumerate(STAGES[1:], start=1):
        hit = np.asarray(pc.is_in(text, value_set=pa.array(sorted(_STAGE_VALUES[stage]))).to_numpy(), dtype=bool)
        rank[hit] = i
        known |= hit
    lead_words = pa.array(["lead", "new", "subscriber", "open", "prospect", "contacted", "working"])
    known |= np.asarray(pc.is_in(text, value_set=lead_words).to_numpy(), dtype=bool)
    return rank, int((~known).sum())


def funnel_conversion(
    leads: pa.Table | None,
    *,
    as_of: dt.date,
    quarters: int = 4,
    benchmarks: dict[str, tuple[float, float]] | None = None,
    min_count: int = 30,
    alpha: float = 0.01,
) -> FunnelCheck:
    """Per-quarter conversion of each funnel step over the ``quarters`` up to ``as_of``; see the module docstring."""
    bench = {**DEFAULT_BENCHMARKS, **(benchmarks or {})}
    if leads is None or leads.num_rows == 0:
        return FunnelCheck(mode=None, columns={}, steps=[], note="no leads: funnel not checked")
    created, dates, stage_col = _find_columns(leads)
    end_q = int(_quarter_of(np.array([float((as_of - dt.date(1970, 1, 1)).days)]))[0])
    window = list(range(end_q - quarters + 1, end_q + 1))
    k = len(window)
    entered = np.zeros((len(STAGES), k), dtype=np.int64)
    notes: list[str] = []
    if "lead" in dates and len(dates) >= 3:
        mode, columns = "stage dates", dict(dates)
        as_of_day = (as_of - dt.date(1970, 1, 1)).days
        for s, stage in enumerate(STAGES):
            if stage not in dates:
                continue
            d = _days(leads.column(dates[stage]))
            q = _quarter_of(np.where(d <= as_of_day, d, np.nan))
            entered[s] = np.bincount(np.searchsorted(window, q[np.isin(q, window)]), minlength=k)
        present = [s for s, stage in enumerate(STAGES) if stage in dates]
    elif stage_col is not None and created is not None:
        mode, columns = "stage column", {"stage": stage_col, "lead": created}
        rank, unknown = _stage_rank(leads.column(stage_col))
        if unknown:
            notes.append(f"{unknown:,} leads have a stage icpkit does not place in the funnel; counted as leads")
        q = _quarter_of(_days(leads.column(created)))
        inside = np.isin(q, window)
        col = np.searchsorted(window, q[inside])
        for s in range(len(STAGES)):
            entered[s] = np.bincount(col[rank[inside] >= s], minlength=k)
        present = list(range(len(STAGES)))
    else:
        return FunnelCheck(
            mode=None,
            columns={},
            steps=[],
            note="leads carry no funnel stages (a lifecycle stage column with a created date, or a date per stage)",
        )
    steps: list[FunnelStep] = []
    for s, name in enumerate(STEP_NAMES):
        if s not in present or s + 1 not in present:
            continue
        low, high = bench[name]
        n, c = entered[s], entered[s + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(n > 0, c / np.maximum(n, 1), np.nan)
        p = binomial_below_pvalue(np.minimum(c, n), n, low)
        rows = [
            QuarterRate(
                quarter=_label(window[i]),
                entered=int(n[i]),
                converted=int(c[i]),
                rate=None if np.isnan(rate[i]) else float(rate[i]),
                below=bool(n[i] >= min_count and rate[i] < low),
                p_below=None if np.isnan(p[i]) else float(p[i]),
            )
            for i in range(k)
        ]
        usable = [r for r in rows if r.entered >= min_count]
        flagged = len(usable) >= 2 and usable[-1].below and usable[-2].below
        note = ""
        if flagged:
            a, b = usable[-2], usable[-1]
            pooled = float(binomial_below_pvalue(a.converted + b.converted, a.entered + b.entered, low)[0])
            flagged = pooled <= alpha
        if flagged:
            note = (
                f"{a.rate:.1%} in {a.quarter} and {b.rate:.1%} in {b.quarter}, below the {low:.0%}-{high:.0%} benchmark"
            )
        label = f"{_LABEL[STAGES[s]]}→{_LABEL[STAGES[s + 1]]}"
        steps.append(
            FunnelStep(
                step=name,
                label=label,
                benchmark_low=low,
                benchmark_high=high,
                quarters=rows,
                flagged=flagged,
                note=note,
            )
        )
    return FunnelCheck(mode=mode, columns=columns, steps=steps, note="; ".join(notes))
