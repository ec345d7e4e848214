"""Small inline SVG charts for the report: no JavaScript, no network, crisp in print.

Each function takes plain numbers and labels and returns ``Markup`` holding one ``<svg>``. Every piece of text that
comes from data goes through ``escape``; numbers are formatted here, never interpolated raw from input. Data marks
carry ``class="mark"`` so a test (or a reader of the DOM) can count what was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

__all__ = [
    "PALETTE",
    "Bar",
    "ForestRow",
    "RateRow",
    "bar_chart",
    "forest_plot",
    "grouped_histogram",
    "rate_chart",
]

PALETTE = {
    "kept": "#1b7f5b",
    "fit": "#1b7f5b",
    "signal": "#1b7f5b",
    "exclusion": "#b8412c",
    "anti": "#b8412c",
    "overfit": "#c98a14",
    "low": "#c98a14",
    "neutral": "#5b6b7b",
    "muted": "#a3acb6",
    "grid": "#e3e7eb",
    "ink": "#1f2933",
}
FONT = "font-family=\"'Helvetica Neue', Arial, sans-serif\""
WIDTH = 680


@dataclass(frozen=True)
class ForestRow:
    label: str
    value: float
    low: float | None
    high: float | None
    kind: str = "kept"  # kept | exclusion | overfit | other


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    kind: str = "neutral"
    note: str = ""


@dataclass(frozen=True)
class RateRow:
    label: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    kind: str = "neutral"


def _short(text: str, limit: int = 46) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _svg(height: float, body: list[str], title: str) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart" {FONT} font-size="11">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, *, anchor: str = "start", size: int = 11, fill: str = "", bold: bool = False,
          full: str | None = None) -> str:  # fmt: skip
    attrs = f'x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill or PALETTE["ink"]}"'
    if bold:
        attrs += ' font-weight="600"'
    tip = f"<title>{escape(full)}</title>" if full and full != s else ""
    return f"<text {attrs}>{tip}{escape(s)}</text>"


def _empty(title: str, message: str) -> Markup:
    return _svg(40, [_text(WIDTH / 2, 24, message, anchor="middle", fill=PALETTE["neutral"])], title)


def _log_ticks(lo: float, hi: float) -> list[float]:
    cands = [0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 5, 10, 20, 50, 100]
    ticks = [t for t in cands if lo <= t <= hi]
    while len(ticks) > 7:
        ticks = sorted(set(ticks[::2]) | ({1} & set(ticks)))
    return ticks or [1]


def forest_plot(rows: Sequence[ForestRow], title: str = "Lift per criterion (95% interval)") -> Markup:
    """Lift of each criterion with its interval, on a log axis with a reference line at 1 (no lift)."""
    rows = [r for r in rows if r.value is not None and math.isfinite(r.value) and r.value > 0]
    if not rows:
        return _empty(title, "no criteria with measured lift")
    left, right, top, step = 290, WIDTH - 20, 30, 20
    values = [v for r in rows for v in (r.value, r.low, r.high) if v is not None and math.isfinite(v) and v > 0]
    lo = min(min(values), 1.0) / 1.15
    hi = max(max(values), 1.0) * 1.15

    def x(v: float) -> float:
        v = min(max(v, lo), hi)
        return left + (math.log(v) - math.log(lo)) / (math.log(hi) - math.log(lo)) * (right - left)

    height = top + step * len(rows) + 30
    body = [_text(8, 16, title, bold=True, size=12)]
    for t in _log_ticks(lo, hi):
        body.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top - 6}" y2="{height - 24}" stroke="{PALETTE["grid"]}"/>'
        )
        body.append(_text(x(t), height - 10, f"{t:g}×", anchor="middle", size=10, fill=PALETTE["neutral"]))
    body.append(f'<line x1="{x(1):.1f}" x2="{x(1):.1f}" y1="{top - 6}" y2="{height - 24}" stroke="{PALETTE["ink"]}" '
                'stroke-dasharray="3 3"/>')  # fmt: skip
    for i, r in enumerate(rows):
        y = top + step * i + step / 2
        color = PALETTE.get(r.kind, PALETTE["neutral"])
        body.append(_text(left - 8, y + 4, _short(r.label), anchor="end", full=r.label))
        if r.low is not None and r.high is not None and math.isfinite(r.low) and math.isfinite(r.high):
            body.append(
                f'<line class="mark" x1="{x(r.low):.1f}" x2="{x(r.high):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{color}" stroke-width="2"/>'
            )
        body.append(
            f'<rect class="mark" x="{x(r.value) - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{color}">'
            f"<title>{escape(r.label)}: {r.value:.2f}×</title></rect>"
        )
    return _svg(height, body, title)


def bar_chart(bars: Sequence[Bar], title: str, *, value_format: str = "{:,.0f}") -> Markup:
    """Horizontal bars with their values (cohort sizes, the sizing funnel)."""
    if not bars:
        return _empty(title, "nothing to show")
    left, right, top, step = 230, WIDTH - 90, 30, 22
    peak = max((b.value for b in bars), default=0) or 1
    height = top + step * len(bars) + 8
    body = [_text(8, 16, title, bold=True, size=12)]
    for i, b in enumerate(bars):
        y = top + step * i
        w = max(0.0, b.value / peak * (right - left))
        color = PALETTE.get(b.kind, PALETTE["neutral"])
        body.append(_text(left - 8, y + 14, _short(b.label, 36), anchor="end", full=b.label))
        body.append(
            f'<rect class="mark" x="{left}" y="{y + 3}" width="{max(w, 1):.1f}" height="{step - 7}" fill="{color}">'
            f"<title>{escape(b.label)}: {escape(value_format.format(b.value))}</title></rect>"
        )
        label = value_format.format(b.value) + (f"  {b.note}" if b.note else "")
        body.append(_text(left + w + 6, y + 14, label, size=10, fill=PALETTE["neutral"]))
    return _svg(height, body, title)


def grouped_histogram(edges: Sequence[float], groups: Sequence[tuple[str, Sequence[float], str]], title: str) -> Markup:
    """Share of each group per bin (groups side by side in each bin), so shapes compare whatever the group sizes."""
    if not groups or len(edges) < 2:
        return _empty(title, "no scores to show")
    left, right, top, bottom = 48, WIDTH - 12, 44, 30
    height = 220
    nb = len(edges) - 1
    peak = max((max(s) for _, s, _ in groups if len(s)), default=0) or 1
    band = (right - left) / nb
    bw = band * 0.8 / len(groups)
    body = [_text(8, 16, title, bold=True, size=12)]
    lx = left
    for name, _, kind in groups:  # legend
        body.append(f'<rect x="{lx}" y="24" width="10" height="10" fill="{PALETTE.get(kind, PALETTE["neutral"])}"/>')
        body.append(_text(lx + 14, 33, name, size=10))
        lx += 14 + 7 * len(name) + 18
    for frac in (0.25, 0.5, 0.75, 1.0):
        y = height - bottom - frac * (height - bottom - top)
        body.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{PALETTE["grid"]}"/>')
        body.append(_text(left - 4, y + 3, f"{frac * peak:.0%}", anchor="end", size=9, fill=PALETTE["neutral"]))
    for b in range(nb):
        x0 = left + band * b + band * 0.1
        for g, (name, shares, kind) in enumerate(groups):
            v = shares[b] if b < len(shares) else 0
            h = v / peak * (height - bottom - top)
            body.append(
                f'<rect class="mark" x="{x0 + g * bw:.1f}" y="{height - bottom - h:.1f}" width="{bw:.1f}" '
                f'height="{max(h, 0.5):.1f}" fill="{PALETTE.get(kind, PALETTE["neutral"])}">'
                f"<title>{escape(name)}, score {edges[b]:g}–{edges[b + 1]:g}: {v:.1%}</title></rect>"
            )
        body.append(
            _text(left + band * b + band / 2, height - bottom + 14, f"{edges[b]:g}–{edges[b + 1]:g}",
                  anchor="middle", size=9, fill=PALETTE["neutral"])
        )  # fmt: skip
    body.append(_text((left + right) / 2, height - 2, "score", anchor="middle", size=10, fill=PALETTE["neutral"]))
    return _svg(height, body, title)


def rate_chart(rows: Sequence[RateRow], title: str) -> Markup:
    """A rate per row (e.g. win rate per tier) as a dot with its Wilson interval and the count behind it."""
    shown = [r for r in rows if r.value is not None]
    if not shown:
        return _empty(title, "not measurable on this data")
    left, right, top, step = 110, WIDTH - 90, 30, 22
    hi = max(max((r.high or r.value or 0) for r in shown), 0.05)
    hi = min(1.0, math.ceil(hi * 10 + 0.5) / 10)

    def x(v: float) -> float:
        return left + min(v, hi) / hi * (right - left)

    height = top + step * len(rows) + 26
    body = [_text(8, 16, title, bold=True, size=12)]
    for k in range(0, 6):
        t = hi * k / 5
        body.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top - 4}" y2="{height - 22}" stroke="{PALETTE["grid"]}"/>'
        )
        body.append(_text(x(t), height - 8, f"{t:.0%}", anchor="middle", size=9, fill=PALETTE["neutral"]))
    for i, r in enumerate(rows):
        y = top + step * i + step / 2
        body.append(_text(left - 8, y + 4, r.label, anchor="end"))
        if r.value is None:
            body.append(_text(left + 4, y + 4, f"no data (n={r.n:,})", size=10, fill=PALETTE["muted"]))
            continue
        color = PALETTE.get(r.kind, PALETTE["neutral"])
        if r.low is not None and r.high is not None:
            body.append(
                f'<line class="mark" x1="{x(r.low):.1f}" x2="{x(r.high):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{color}" stroke-width="2"/>'
            )
        body.append(
            f'<circle class="mark" cx="{x(r.value):.1f}" cy="{y:.1f}" r="4.5" fill="{color}">'
            f"<title>{escape(r.label)}: {r.value:.1%} (n={r.n:,})</title></circle>"
        )
        body.append(_text(right + 8, y + 4, f"{r.value:.0%}  n={r.n:,}", size=10, fill=PALETTE["neutral"]))
    return _svg(height, body, title)
