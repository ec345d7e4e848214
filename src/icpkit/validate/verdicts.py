"""Plain-words verdicts: what the held-out data supports, against the published expectations of a working ICP.

Expectations (what RevOps practice reports for a sound ICP): fit accounts win 2–3x as often as non-fit, close
30–60% faster, and retain 110–130% of their revenue against 70–90% for non-fit. A verdict is

- ``pass``: the difference is real (its 95% interval excludes "no difference") and meets the expectation;
- ``weak``: real and in the right direction, but short of the expectation;
- ``fail``: no clear difference, or the wrong direction;
- ``unknown``: too few held-out accounts to judge, or the data has no such outcome — said with the counts.

Gating checks (the signal itself, win rate, retention, lead share, target-list size) decide ``--strict``;
sales cycle, revenue retention and deal size are reported but never fail a run on their own.
"""

from __future__ import annotations

from icpkit.validate.model import Comparison, Figure, HoldoutFigures, LeadsCheck, TargetsCheck, Verdict

__all__ = ["EXPECTATIONS", "GATING", "MIN_EVENTS", "MIN_GROUP", "verdicts"]

MIN_GROUP = 10  # accounts per group (fit, non-fit) below which a rate is not judged
MIN_EVENTS = 5  # wins / churns across both groups below which a rate is not judged
MIN_MEDIAN = 5  # won deals per group for a median
WIN_RATIO = (2.0, 3.0)
CYCLE_SHORTER = (0.30, 0.60)
NRR_FIT, NRR_NON_FIT = (1.10, 1.30), (0.70, 0.90)
GATING = frozenset({"signal", "win_rate", "churn_rate", "leads", "targets"})
EXPECTATIONS = {
    "win_rate": "fit win rate 2–3× non-fit",
    "cycle_days": "fit sales cycle 30–60% shorter",
    "churn_rate": "fit customers churn less than non-fit",
    "nrr": "fit NRR 110–130% vs non-fit 70–90%",
    "deal_size": "fit deals at least as large",
    "leads": "5–30% of inbound leads in tiers 1–2",
    "targets": "500–5,000 new target accounts",
}


def _pct(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:.{digits}%}"


def _points(x: float | None) -> str:
    return "–" if x is None else f"{x * 100:+.0f}".replace("-", "−")


def _ci(f: Figure, fmt: str = "{:.2f}", unit: str = "×") -> str:
    if f.low is None or f.high is None:
        return f"{fmt.format(f.value)}{unit}"
    return f"{fmt.format(f.value)}{unit}, 95% CI {fmt.format(f.low)}–{fmt.format(f.high)}"


def _v(check: str, status: str, message: str) -> Verdict:
    return Verdict(check=check, status=status, message=message, expectation=EXPECTATIONS.get(check, ""))  # type: ignore[arg-type]


def _counts(c: Comparison) -> str:
    return f"fit n={c.fit.n:,}, non-fit n={c.non_fit.n:,}"


def _win_rate(c: Comparison) -> Verdict:
    if not c.available:
        return _v("win_rate", "unknown", f"win rate not measurable: {c.note}")
    events = (c.fit.events or 0) + (c.non_fit.events or 0)
    if c.fit.n < MIN_GROUP or c.non_fit.n < MIN_GROUP or events < MIN_EVENTS or c.contrast is None:
        return _v(
            "win_rate", "unknown", f"not enough held-out closed deals to judge win rate ({_counts(c)}, won {events})"
        )
    r = c.contrast
    said = f"fit accounts won {_pct(c.fit.value)} vs {_pct(c.non_fit.value)} for non-fit ({_ci(r)}; {_counts(c)})"
    if r.low is not None and r.low > 1:
        if r.value >= WIN_RATIO[0]:
            where = "in line with" if r.value <= WIN_RATIO[1] else "above"
            return _v("win_rate", "pass", f"supported: {said}, {where} the 2–3× expectation")
        return _v("win_rate", "weak", f"partly supported: {said}; higher, but short of the 2–3× expectation")
    if r.high is not None and r.high < 1:
        return _v("win_rate", "fail", f"contradicted: {said}; fit accounts win less often")
    return _v("win_rate", "fail", f"not supported: no clear difference in win rate — {said}")


def _cycle(c: Comparison) -> Verdict:
    if not c.available or c.contrast is None:
        return _v("cycle_days", "unknown", f"sales cycle not measurable: {c.note}")
    if c.fit.n < MIN_MEDIAN or c.non_fit.n < MIN_MEDIAN or c.contrast.value is None:
        return _v("cycle_days", "unknown", f"not enough held-out won deals to judge the sales cycle ({_counts(c)})")
    r = c.contrast
    fv, nv = c.fit.value, c.non_fit.value
    said = f"median {fv:.0f} days for fit vs {nv:.0f} for non-fit ({_ci(r)}; {_counts(c)})"
    if r.high is not None and r.high < 1:
        shorter = 1 - r.value
        if shorter >= CYCLE_SHORTER[0]:
            where = "in line with" if shorter <= CYCLE_SHORTER[1] else "beyond"
            return _v(
                "cycle_days", "pass", f"supported: {shorter:.0%} shorter, {where} the 30–60% expectation — {said}"
            )
        return _v("cycle_days", "weak", f"partly supported: {shorter:.0%} shorter, less than 30–60% — {said}")
    if r.low is not None and r.low > 1:
        return _v("cycle_days", "fail", f"contradicted: fit deals take longer to close — {said}")
    return _v("cycle_days", "fail", f"not supported: no clear difference in sales cycle — {said}")


def _churn(c: Comparison) -> Verdict:
    if not c.available:
        return _v("churn_rate", "unknown", f"retention not measurable: {c.note}")
    events = (c.fit.events or 0) + (c.non_fit.events or 0)
    if c.fit.n < MIN_GROUP or c.non_fit.n < MIN_GROUP or events < MIN_EVENTS or c.contrast is None:
        return _v(
            "churn_rate", "unknown",
            f"not enough held-out churn to judge retention ({_counts(c)} new customers, churned {events})",
        )  # fmt: skip
    r = c.contrast
    said = f"fit customers churned {_pct(c.fit.value)} vs {_pct(c.non_fit.value)} for non-fit ({_ci(r)}; {_counts(c)})"
    if r.high is not None and r.high < 1:
        return _v("churn_rate", "pass", f"supported: {said}")
    if r.low is not None and r.low > 1:
        return _v("churn_rate", "fail", f"contradicted: {said}; fit customers churn more")
    return _v("churn_rate", "fail", f"not supported: no clear difference in churn — {said}")


def _nrr(c: Comparison) -> Verdict:
    if not c.available:
        return _v("nrr", "unknown", f"net revenue retention not measurable: {c.note}")
    if c.fit.n < MIN_GROUP or c.non_fit.n < MIN_GROUP or c.contrast is None or c.contrast.value is None:
        return _v("nrr", "unknown", f"not enough held-out customers with revenue to judge NRR ({_counts(c)})")
    d = c.contrast
    said = (
        f"NRR {_pct(c.fit.value)} for fit vs {_pct(c.non_fit.value)} for non-fit "
        f"(difference {_points(d.value)} points, 95% CI {_points(d.low)} to {_points(d.high)}; {_counts(c)})"
    )
    if d.low is not None and d.low > 0:
        meets = c.fit.value >= NRR_FIT[0] and c.non_fit.value <= NRR_NON_FIT[1]
        if meets:
            return _v("nrr", "pass", f"supported: {said}, in line with 110–130% vs 70–90%")
        return _v("nrr", "weak", f"partly supported: {said}; higher, but short of 110–130% vs 70–90%")
    if d.high is not None and d.high < 0:
        return _v("nrr", "fail", f"contradicted: {said}")
    return _v("nrr", "fail", f"not supported: no clear difference in revenue retention — {said}")


def _deal_size(c: Comparison) -> Verdict:
    if not c.available or c.contrast is None or c.contrast.value is None:
        return _v("deal_size", "unknown", f"deal size not compared: {c.note}")
    if c.fit.n < MIN_MEDIAN or c.non_fit.n < MIN_MEDIAN:
        return _v("deal_size", "unknown", f"not enough held-out won deals to compare deal size ({_counts(c)})")
    r = c.contrast
    ci = f"95% CI {r.low:.2f}–{r.high:.2f}; " if r.low is not None and r.high is not None else ""
    said = f"fit deals average {r.value:.2f}× the non-fit size ({ci}{_counts(c)})"
    if r.low is not None and r.low > 1:
        return _v("deal_size", "pass", f"fit deals are larger: {said}")
    if r.high is not None and r.high < 1:
        return _v("deal_size", "weak", f"fit deals are smaller: {said}")
    return _v("deal_size", "weak", f"no clear difference in deal size: {said}")


def verdicts(
    figures: HoldoutFigures | None,
    *,
    build_error: str | None = None,
    no_signal: bool = False,
    leads: LeadsCheck | None = None,
    targets: TargetsCheck | None = None,
) -> list[Verdict]:
    """Every verdict, the signal first; ``figures`` are the out-of-sample ones (rebuilt on the training part)."""
    out: list[Verdict] = []
    if build_error:
        out.append(_v("signal", "fail", f"no ICP could be learned from the training part: {build_error}"))
    elif no_signal:
        out.append(
            _v(
                "signal", "fail",
                "no reliable signal: discovery on the training part found no criterion that separates high-value "
                "customers from churned or lost accounts, so there is nothing to judge on held-out data",
            )
        )  # fmt: skip
    elif figures is not None:
        out.append(_v("signal", "pass", f"discovery on the training part found {len(figures.criteria)} criteria"))
    checks = {"win_rate": _win_rate, "cycle_days": _cycle, "churn_rate": _churn, "nrr": _nrr}
    checks["deal_size"] = _deal_size
    if figures is not None and not (build_error or no_signal):
        for metric, judge in checks.items():
            out.append(judge(figures.comparison(metric)))
    elif build_error or no_signal:
        held = f" ({figures.judged:,} held-out accounts)" if figures is not None else ""
        for metric in checks:
            c = figures.comparison(metric) if figures is not None else None
            if c is not None and not c.available:
                out.append(_v(metric, "unknown", f"not measurable: {c.note}"))
                continue
            out.append(
                _v(
                    metric, "fail",
                    f"not supported: nothing was learned on the training part, so no held-out account counts as "
                    f"fit and there is no difference to measure{held}",
                )
            )  # fmt: skip
    if leads is not None:
        status = "pass" if leads.status == "healthy" else "fail"
        msg = leads.message + (f"; {leads.suggestion}" if leads.suggestion else "")
        out.append(_v("leads", status, msg))
    if targets is not None:
        status = "pass" if targets.status == "healthy" else "fail"
        msg = targets.message + ("; " + "; ".join(targets.suggestions) if targets.suggestions else "")
        out.append(_v("targets", status, msg))
    return out
