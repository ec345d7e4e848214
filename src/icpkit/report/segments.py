"""The segments of a multi-segment spec, side by side: what each one is, how it held out, what market it has.

Every figure is per best segment, as validation and sizing count them (an account, a company, a held-out
record counts once, in the segment it fits best), so the columns add up to the overall figures next to them.
The charts compare the segments on the same scale: high-value accounts, held-out win and churn rates of each
segment's fit accounts against the shared non-fit baseline, and new target accounts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from icpkit.cohorts import COHORTS, SIGNAL
from icpkit.report.charts import Bar, RateRow, bar_chart, rate_chart
from icpkit.score.semantics import TIER_NAMES
from icpkit.score.vector import score_table
from icpkit.spec.model import ICPSpec
from icpkit.words import icp_sentence

__all__ = ["segment_charts", "segment_columns"]

_METRICS = (("win_rate", "Win rate"), ("churn_rate", "Churn rate"))


def _best(spec: ICPSpec, accounts: pa.Table | None, behavior: pa.Table | None, as_of: Any) -> tuple[Any, Any]:
    """Best segment and tier of every build account (``None`` without the accounts)."""
    if accounts is None:
        return None, None
    table = accounts
    for name in behavior.column_names if behavior is not None else []:
        if name not in table.column_names:
            table = table.append_column(name, behavior.column(name))
    scored = score_table(spec, table, as_of=spec.as_of or as_of, explain=False)
    best = np.asarray(scored.column("segment").to_numpy(zero_copy_only=False), dtype=object)
    tiers = np.asarray(scored.column("tier").to_numpy(zero_copy_only=False), dtype=object)
    return best, tiers


def _validation_rows(validation: Any, names: list[str]) -> dict[str, Any]:
    """Per segment name, its held-out figures: the spec's own segments (under test) first, else the rebuild's."""
    rows = list(getattr(validation, "segments", None) or [])
    out: dict[str, Any] = {}
    for source in ("under_test", "rebuilt"):
        for r in rows:
            if r.source == source and r.segment in names and r.segment not in out:
                out[r.segment] = r
    return out


def segment_columns(
    spec: ICPSpec,
    layers_of: Any,
    exclusion_text: Any,
    *,
    build: Any = None,
    accounts: pa.Table | None = None,
    validation: Any = None,
    sizing: Any = None,
) -> list[dict[str, Any]]:
    """One dict per segment with everything its column shows (``layers_of`` lays out a spec's criteria)."""
    names = [name for name, _ in spec.segment_specs()]
    codes = build.cohorts.codes if build is not None else None
    best, tiers = _best(spec, accounts, getattr(build, "behavior", None), getattr(build, "cohorts", None) and
                        build.cohorts.as_of)  # fmt: skip
    signal = None if codes is None or best is None else np.asarray(codes) == COHORTS.index(SIGNAL)
    held = _validation_rows(validation, names)
    funnels = {f.segment: f for f in (sizing.report.segments if sizing is not None else [])}
    out = []
    for name, seg in spec.segment_specs():
        col: dict[str, Any] = {
            "name": name,
            "description": next(s.description for s in spec.segments or [] if s.name == name),
            "sentence": icp_sentence(seg),
            "layers": layers_of(seg),
            "exclusions": [{"text": exclusion_text(e), "reason": e.reason} for e in seg.exclusions],
            "tiers": seg.tiers,
            "routing": seg.routing,
            "validation": held.get(name),
            "funnel": funnels.get(name),
        }
        if best is not None:
            mine = best == name
            n = max(best.size, 1)
            col["tier_shares"] = {t: float(np.sum(mine & (tiers == t)) / n) for t in TIER_NAMES}
            col["accounts"] = int(mine.sum())
            if signal is not None:
                col["high_value"] = int((mine & signal).sum())
                col["high_value_share"] = float((mine & signal).sum() / max(int(signal.sum()), 1))
        out.append(col)
    return out


def segment_charts(columns: list[dict[str, Any]], validation: Any) -> dict[str, Any]:
    """SVG charts comparing the segments (only those the figures allow)."""
    charts: dict[str, Any] = {}
    if all("high_value" in c for c in columns):
        charts["segments_high_value"] = bar_chart(
            [Bar(c["name"], c["high_value"], "signal", f"{c['high_value_share']:.0%}") for c in columns],
            "High-value retained accounts per best segment",
        )
    for metric, label in _METRICS:
        rows = []
        for c in columns:
            v = c["validation"]
            if v is None or not v.figures.comparison(metric).available:
                continue
            f = v.figures.comparison(metric).fit
            rows.append(RateRow(c["name"], f.value, f.low, f.high, f.n, "fit"))
        overall = getattr(validation, "under_test", None) or getattr(validation, "rebuilt", None)
        if rows and overall is not None and overall.comparison(metric).available:
            nf = overall.comparison(metric).non_fit
            rows.append(RateRow("non-fit", nf.value, nf.low, nf.high, nf.n, "anti"))
        if any(r.value is not None for r in rows):
            charts[f"segments_{metric}"] = rate_chart(
                rows, f"Held-out {label.lower()}: each segment's fit accounts vs non-fit (95% Wilson interval)"
            )
    if all(c["funnel"] is not None for c in columns) and columns:
        charts["segments_targets"] = bar_chart(
            [Bar(c["name"], c["funnel"].step("new").count, "fit",
                 f"{c['funnel'].share_of_targets:.0%}" if c["funnel"].share_of_targets is not None else "")
             for c in columns],
            "New target accounts per best segment",
        )  # fmt: skip
    return charts
