"""The one-page ICP document and its evidence appendix, rendered to one self-contained HTML file.

``render_report`` turns a build (and optionally a validation, a sizing and a version diff) into a page a sales
and marketing team can read: the ICP sentence, the criteria by layer with their evidence in words, exclusions,
tiers and routing, the held-out figures and the market funnel. Everything after page 1 is the appendix: every
candidate tested, and charts drawn as inline SVG. No script, font or stylesheet is fetched: it works offline and
prints to PDF with page 1 as the one page.

Every value that comes from data is escaped by Jinja2's autoescape (charts escape their own text), so a company or
a field value named ``<script>`` shows as text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

import jinja2
import numpy as np
import pyarrow as pa

from icpkit.cohorts import COHORTS
from icpkit.discover import BuildResult
from icpkit.discover.behavior import BEHAVIORAL_FIELDS
from icpkit.report.charts import Bar, ForestRow, RateRow, bar_chart, forest_plot, grouped_histogram, rate_chart
from icpkit.score.semantics import TIER_NAMES
from icpkit.score.vector import score_table
from icpkit.spec.io import content_hash
from icpkit.spec.model import LAYERS, Clause, Criterion, Evidence, ICPSpec
from icpkit.words import clause_text, criterion_text, icp_sentence, persona_text, routing_rule_text

__all__ = ["STATUS_LABELS", "exclusion_text", "reasoning", "render_report", "report_context"]

TEMPLATES = Path(__file__).parent / "templates"
STATUS_LABELS = {
    "criterion": "kept",
    "exclusion": "exclusion",
    "overfit": "over-fit",
    "not significant": "not significant",
    "not excluded": "not an exclusion",
    "low support": "low support",
    "negative": "negative",
    "significant": "significant, not chosen",
    "no weight": "not kept: no weight",
    "over layer cap": "not kept: layer full",
    "descriptive": "descriptive only",
}
_STATUS_ORDER = ["criterion", "exclusion", "overfit", "significant", "no weight", "over layer cap", "not significant",
                 "negative", "low support", "not excluded", "descriptive"]  # fmt: skip
LAYER_TITLES = {
    "firmographic": "Who they are",
    "technographic": "What they run",
    "behavioral": "How they buy",
    "trigger": "What just happened",
    "economic": "What they can spend",
}
MAX_CANDIDATE_ROWS = 1500


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    env.filters["ratio"] = _ratio
    return env


def _finite(x: Any) -> bool:
    return x is not None and isinstance(x, int | float) and math.isfinite(x)


def _pct(x: Any, digits: int = 0) -> str:
    return f"{x:.{digits}%}" if _finite(x) else "–"


def _num(x: Any) -> str:
    if not _finite(x):
        return "–"
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.1f}"


def _ratio(x: Any) -> str:
    return f"{x:.2f}×" if _finite(x) else "–"


def _q(q: float | None) -> str:
    if not _finite(q):
        return "–"
    return "<0.001" if q < 0.001 else f"{q:.3f}" if q < 0.1 else f"{q:.2f}"


def _lift_ci(lift: Any, lo: Any, hi: Any) -> str:
    if not _finite(lift):
        return "–"
    if _finite(lo) and _finite(hi):
        return f"{lift:.1f}× ({lo:.1f}–{hi:.1f})"
    return f"{lift:.1f}×"


def reasoning(ev: Evidence | None) -> str:
    """The evidence of one criterion in words: '41% of these accounts became high-value customers vs 17% …'."""
    if ev is None:
        return "no evidence recorded (hand-written criterion)"
    parts = []
    if _finite(ev.signal_rate) and _finite(ev.base_rate):
        parts.append(
            f"{ev.signal_rate:.0%} of these accounts became high-value customers vs {ev.base_rate:.0%} overall"
        )
    if _finite(ev.lift):
        parts.append(_lift_ci(ev.lift, ev.lift_low, ev.lift_high))
    if _finite(ev.q):
        parts.append(f"q={_q(ev.q)}")
    n = f"n={ev.n:,}, " if ev.n is not None else ""
    parts.append(f"{n}{ev.support:,} high-value")
    return ", ".join(parts)


def exclusion_text(e: Clause) -> str:
    """An exclusion as a noun phrase: 'Companies with business model B2C', 'Retail companies'."""
    text = clause_text(e)
    if text.endswith(" companies"):
        return text[0].upper() + text[1:]
    return f"Companies {text}"


def _behavioural(c: Criterion) -> bool:
    return any(cl.field in BEHAVIORAL_FIELDS for cl in c.clauses())


def _tiers_and_scores(spec: ICPSpec, accounts: pa.Table | None, build: BuildResult) -> tuple[np.ndarray, np.ndarray]:
    """Tier and score of every account of the build under ``spec`` (the build's own scores when unchanged)."""
    if accounts is not None:
        table = accounts
        if build.behavior is not None:
            for name in build.behavior.column_names:
                if name not in table.column_names:
                    table = table.append_column(name, build.behavior.column(name))
        scored = score_table(spec, table, as_of=spec.as_of or build.cohorts.as_of, explain=False)
        tiers = np.asarray(scored.column("tier").to_numpy(zero_copy_only=False), dtype=object)
        scores = np.asarray(scored.column("score").to_numpy(zero_copy_only=False), dtype=float)
        return tiers, scores
    scores = np.asarray(build.scores if build.scores is not None else np.zeros(build.cohorts.codes.size), float)
    t = spec.tiers
    ex = build.discoverer.excluded_
    tiers = np.select(
        [ex, scores >= t.tier1, scores >= t.tier2, scores >= t.tier3],
        ["excluded", "tier1", "tier2", "tier3"],
        default="none",
    ).astype(object)
    return tiers, scores


def _has_criteria(spec: ICPSpec) -> bool:
    """Whether the spec (or any of its segments) has a criterion."""
    return bool(spec.criteria()) or any(seg.criteria() for _, seg in spec.segment_specs())


def _layers(spec: ICPSpec) -> list[dict[str, Any]]:
    out = []
    for layer in LAYERS:
        crits = spec.layers.get(layer) or []
        if not crits:
            continue
        out.append(
            {
                "name": layer,
                "title": LAYER_TITLES.get(layer, layer),
                "criteria": [
                    {
                        "text": criterion_text(c),
                        "points": c.points,
                        "reasoning": reasoning(c.evidence),
                        "behavioural": layer == "behavioral" or _behavioural(c),
                    }
                    for c in crits
                ],
            }
        )
    return out


def _candidates(table: pa.Table) -> tuple[list[dict[str, Any]], int]:
    if table.num_rows == 0 or "status" not in table.column_names:
        return [], 0
    rows = table.to_pylist()
    rank = {s: i for i, s in enumerate(_STATUS_ORDER)}
    rows.sort(key=lambda r: (rank.get(r["status"], 99), r.get("q") if _finite(r.get("q")) else 2.0))
    out = []
    for r in rows[:MAX_CANDIDATE_ROWS]:
        out.append(
            {
                "test": r.get("test") or "",
                "text": r.get("description") or r.get("field") or "",
                "layer": r.get("layer") or "",
                "support": r.get("support"),
                "n": r.get("n"),
                "signal_rate": r.get("signal_rate"),
                "churn_rate": r.get("churn_rate"),
                "lift": _lift_ci(r.get("lift"), r.get("lift_low"), r.get("lift_high")),
                "q": _q(r.get("q")),
                "status": STATUS_LABELS.get(r["status"], r["status"]),
                "status_key": r["status"].replace(" ", "-"),
                "note": r.get("note") or "",
            }
        )
    return out, max(0, len(rows) - MAX_CANDIDATE_ROWS)


def _forest(spec: ICPSpec, candidates: pa.Table) -> list[ForestRow]:
    parts = [(f"{name}: ", seg) for name, seg in spec.segment_specs()] or [("", spec)]  # segments: named rows
    rows = [
        ForestRow(pre + criterion_text(c), c.evidence.lift, c.evidence.lift_low, c.evidence.lift_high, "kept")
        for pre, part in parts
        for _, c in part.criteria()
        if c.evidence is not None and _finite(c.evidence.lift)
    ]
    rows += [
        ForestRow(
            pre + "excluded: " + exclusion_text(e), e.evidence.lift, e.evidence.lift_low, e.evidence.lift_high,
            "exclusion",
        )
        for pre, part in parts
        for e in part.exclusions
        if e.evidence is not None and _finite(e.evidence.lift)
    ]  # fmt: skip
    if candidates.num_rows and "status" in candidates.column_names:
        for r in candidates.to_pylist():
            if r["status"] == "overfit" and _finite(r.get("lift")):
                rows.append(ForestRow(r["description"] + " (over-fit)", r["lift"], r["lift_low"], r["lift_high"],
                                      "overfit"))  # fmt: skip
    return rows[:30]


def _score_histogram(scores: np.ndarray, codes: np.ndarray) -> Any:
    edges = list(range(0, 101, 10))
    idx = np.minimum((np.clip(scores, 0, 100) // 10).astype(int), 9)
    groups = []
    for name, members, kind in (
        ("high-value retained", [COHORTS.index("high_value_retained")], "signal"),
        ("low-value retained", [COHORTS.index("low_value_retained")], "low"),
        ("churned or never closed", [COHORTS.index("churned"), COHORTS.index("never_closed")], "anti"),
    ):
        m = np.isin(codes, members)
        if m.sum() == 0:
            continue
        shares = np.bincount(idx[m], minlength=10) / m.sum()
        groups.append((f"{name} ({int(m.sum()):,})", shares.tolist(), kind))
    return grouped_histogram(edges, groups, "Score distribution by outcome (share of each cohort)")


def _tier_rate_rows(validation: Any, metric: str) -> list[RateRow]:
    figs = validation.rebuilt if validation is not None else None
    if figs is None or not figs.comparison(metric).available:
        return []
    rows = []
    for t in figs.tiers:
        f = getattr(t, metric)
        kind = "fit" if t.tier in figs.fit_tiers else ("anti" if t.tier == "excluded" else "neutral")
        rows.append(RateRow(t.tier, f.value, f.low, f.high, f.n, kind))
    return rows


def _spec_diff_lines(d: Any) -> list[str]:
    """Plain lines from an ``icpkit.diff.SpecDiff`` (read by attribute, so the report does not depend on it)."""
    lines = [f"v{d.old_version} → v{d.new_version}: {d.summary()}"]
    lines += [f"+ {e.text}" + (f" ({e.points} pts)" if e.points is not None else "") for e in d.added]
    lines += [f"− {e.text}" for e in d.removed]
    lines += [f"~ {c.new_text}: {'; '.join(c.changes)}" for c in d.changed]
    lines += [f"+ exclusion: {e.text}" for e in d.exclusions_added]
    lines += [f"− exclusion: {e.text}" for e in d.exclusions_removed]
    lines += [f"~ exclusion {c.new_text}: {'; '.join(c.changes)}" for c in d.exclusions_changed]
    lines += [f"{f.name}: {f.old} → {f.new}" for f in [*d.tiers, *d.routing]]
    return lines


def _diff_lines(diff: Any) -> list[str]:
    if diff is None:
        return []
    if all(hasattr(diff, a) for a in ("added", "removed", "changed", "summary", "old_version")):
        return _spec_diff_lines(diff)
    if isinstance(diff, str):
        return [line for line in diff.splitlines() if line.strip()]
    for attr in ("lines", "changes"):
        got = getattr(diff, attr, None)
        if callable(got):
            got = got()
        if isinstance(got, Iterable) and not isinstance(got, str | bytes):
            return [str(x) for x in got]
    if isinstance(diff, Iterable):
        return [str(x) for x in diff]
    return [str(diff)]


def _validation(validation: Any) -> dict[str, Any] | None:
    if validation is None:
        return None
    figs = validation.rebuilt
    verdicts = {v.check: v for v in validation.verdicts}
    headline = []
    if figs is not None:
        for c in figs.comparisons:
            if c.metric == "deal_size" or not c.available:
                continue
            v = verdicts.get(c.metric)
            headline.append({"c": c, "verdict": v})
    if validation.method == "time":
        how = (
            f"rebuilt on data up to {validation.cutoff}, judged on the "
            f"{validation.held_out.get('accounts', 0):,} accounts whose deals came after"
        )
    else:
        how = f"{validation.folds}-fold: each fold judged by a spec rebuilt on the others"
    return {"report": validation, "figs": figs, "headline": headline, "how": how, "verdicts": validation.verdicts}


def _personas(spec: ICPSpec | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The personas (plain words and evidence) and routing rules the report lists after page one."""
    if spec is None:
        return [], []
    rows = []
    for p in spec.personas:
        ev = p.evidence
        rows.append(
            {
                "name": p.name,
                "text": persona_text(p),
                "support": ev.support if ev else None,
                "lift": _lift_ci(ev.lift, ev.lift_low, ev.lift_high) if ev and ev.lift is not None else "",
                "q": _q(ev.q) if ev else "",
            }
        )
    return rows, [routing_rule_text(r) for r in spec.routing_rules]


def report_context(
    build_result: BuildResult | None,
    validation: Any = None,
    sizing: Any = None,
    diff: Any = None,
    *,
    spec: ICPSpec | None = None,
    accounts: pa.Table | None = None,
    insufficient: str | None = None,
    title: str | None = None,
    paper: Literal["A4", "Letter"] = "A4",
    sources: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything the templates show, computed once (the template only lays it out)."""
    if build_result is None and insufficient is None:
        raise ValueError("render_report needs a build result, or the reason there is none (insufficient=...)")
    spec = spec or (build_result.spec if build_result is not None else None)
    no_signal = build_result is None or build_result.no_signal or spec is None or not _has_criteria(spec)
    ctx: dict[str, Any] = {
        "title": title or (f"Ideal Customer Profile — {spec.name}" if spec else "Ideal Customer Profile"),
        "paper": paper,
        "generated": dt.date.today().isoformat(),
        "spec": spec,
        "spec_hash": content_hash(spec)[:12] if spec is not None else "",
        "no_signal": no_signal,
        "insufficient": insufficient,
        "sources": list(sources),
        "validation": _validation(validation),
        "sizing": sizing.report if sizing is not None else None,
        "diff": _diff_lines(diff),
        "charts": {},
        "segments": [],
    }
    charts = ctx["charts"]
    if build_result is not None:
        cohorts = build_result.cohorts
        ctx["cohorts"] = cohorts
        ctx["notes"] = list(build_result.notes)
        ctx["candidates"], ctx["candidates_hidden"] = _candidates(build_result.candidates)
        ctx["candidates_total"] = build_result.candidates.num_rows
        counts: dict[str, int] = {}
        if "status" in build_result.candidates.column_names:
            for s in build_result.candidates.column("status").to_pylist():
                counts[STATUS_LABELS.get(s, s)] = counts.get(STATUS_LABELS.get(s, s), 0) + 1
        ctx["status_counts"] = counts
        kinds = {"high_value_retained": "signal", "low_value_retained": "low", "churned": "anti",
                 "never_closed": "anti", "open": "muted"}  # fmt: skip
        charts["cohorts"] = bar_chart(
            [Bar(k.replace("_", " "), v, kinds[k]) for k, v in cohorts.sizes.items()], "Accounts per cohort"
        )
        if not no_signal and spec is not None:
            tiers, scores = _tiers_and_scores(spec, accounts, build_result)
            n = max(tiers.size, 1)
            ctx["tier_shares"] = {t: float(np.sum(tiers == t) / n) for t in TIER_NAMES}
            charts["scores"] = _score_histogram(scores, cohorts.codes)
            charts["lift"] = forest_plot(_forest(spec, build_result.candidates))
    if spec is not None and not no_signal:
        ctx["sentence"] = icp_sentence(spec)
        ctx["layers"] = _layers(spec)
        ctx["exclusions"] = [{"text": exclusion_text(e), "reason": e.reason} for e in spec.exclusions]
        ctx["behavioural_points"] = sum(c.points for layer, c in spec.criteria() if layer == "behavioral")
    if spec is not None and spec.segments is not None and not no_signal:  # segments side by side on page 1
        from icpkit.report.segments import segment_charts, segment_columns

        ctx["segments"] = segment_columns(spec, _layers, exclusion_text, build=build_result, accounts=accounts,
                                          validation=validation, sizing=sizing)  # fmt: skip
        charts.update(segment_charts(ctx["segments"], validation))
    ctx["personas"], ctx["routing_rules"] = _personas(spec)
    win = _tier_rate_rows(validation, "win_rate")
    churn = _tier_rate_rows(validation, "churn_rate")
    if win and any(r.value is not None for r in win):
        charts["win_by_tier"] = rate_chart(win, "Held-out win rate by tier (95% Wilson interval)")
    if churn and any(r.value is not None for r in churn):
        charts["churn_by_tier"] = rate_chart(churn, "Held-out churn rate by tier (95% Wilson interval)")
    if sizing is not None:
        steps = [s for s in sizing.report.steps if s.key in ("tam", "sam", "fit", "tier1", "tier2", "tier3", "new")]
        kinds = {"tam": "muted", "sam": "neutral", "fit": "fit", "new": "fit"}
        charts["funnel"] = bar_chart(
            [Bar(s.label, s.count, kinds.get(s.key, "kept"), f"{s.share:.0%}" if s.share is not None else "")
             for s in steps],
            "Sizing funnel: TAM → SAM → tiers → new targets",
        )  # fmt: skip
    return ctx


def render_report(
    build_result: BuildResult | None,
    validation: Any = None,
    sizing: Any = None,
    diff: Any = None,
    **options: Any,
) -> str:
    """The report as one self-contained HTML document (see ``report_context`` for the keyword options)."""
    ctx = report_context(build_result, validation, sizing, diff, **options)
    return _env().get_template("report.html.j2").render(**ctx)
