"""The ICP as a filter checklist for prospecting tools: LinkedIn Sales Navigator, Apollo and ZoomInfo.

Each clause of the SAM, the criteria and the exclusions becomes that tool's filter with that tool's values:
headcount bands, revenue steps, industry names (LinkedIn's 2022 industry names for Sales Navigator, the older
LinkedIn/HubSpot names Apollo still uses), HQ locations. Where a tool has fixed bands the spec's range is rounded
to the bands overlapping it by at least half, and the checklist says what the rounding adds or leaves out (a spec
band 50–500 becomes 51-200 + 201-500 and leaves out companies of exactly 50). What a tool cannot express —
technographics on Sales Navigator, behavioural criteria anywhere — is listed as such, never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from icpkit.spec.model import Clause, ICPSpec, Op
from icpkit.words import clause_text, format_number

__all__ = [
    "APOLLO_EMPLOYEE_BANDS",
    "LINKEDIN_INDUSTRIES_2022",
    "PROVIDERS",
    "SALES_NAV_HEADCOUNT",
    "SALES_NAV_REVENUE_MUSD",
    "Checklist",
    "ChecklistItem",
    "ProviderChecklist",
    "build_checklist",
    "round_bands",
]

Band = tuple[int, int | None]  # inclusive; None = open top
SALES_NAV_HEADCOUNT: tuple[Band, ...] = (
    (1, 10), (11, 50), (51, 200), (201, 500), (501, 1000), (1001, 5000), (5001, 10000), (10001, None),
)  # fmt: skip
APOLLO_EMPLOYEE_BANDS: tuple[Band, ...] = (
    (1, 10), (11, 20), (21, 50), (51, 100), (101, 200), (201, 500), (501, 1000), (1001, 2000), (2001, 5000),
    (5001, 10000), (10001, None),
)  # fmt: skip
SALES_NAV_REVENUE_MUSD: tuple[float, ...] = (0, 0.5, 1, 2.5, 5, 10, 20, 50, 100, 500, 1000)

# Older LinkedIn industry names (also HubSpot's industry labels, PDL's values) -> LinkedIn's 2022 industry names.
LINKEDIN_INDUSTRIES_2022: dict[str, str] = {
    "computer software": "Software Development",
    "information technology and services": "IT Services and IT Consulting",
    "internet": "Technology, Information and Internet",
    "computer & network security": "Computer and Network Security",
    "computer hardware": "Computer Hardware Manufacturing",
    "semiconductors": "Semiconductor Manufacturing",
    "telecommunications": "Telecommunications",
    "wireless": "Wireless Services",
    "computer games": "Computer Games",
    "e-learning": "E-Learning Providers",
    "financial services": "Financial Services",
    "banking": "Banking",
    "insurance": "Insurance",
    "investment banking": "Investment Banking",
    "investment management": "Investment Management",
    "venture capital & private equity": "Venture Capital and Private Equity Principals",
    "accounting": "Accounting",
    "hospital & health care": "Hospitals and Health Care",
    "medical devices": "Medical Equipment Manufacturing",
    "pharmaceuticals": "Pharmaceutical Manufacturing",
    "biotechnology": "Biotechnology Research",
    "marketing and advertising": "Advertising Services",
    "management consulting": "Business Consulting and Services",
    "staffing and recruiting": "Staffing and Recruiting",
    "human resources": "Human Resources Services",
    "legal services": "Legal Services",
    "law practice": "Law Practice",
    "real estate": "Real Estate",
    "construction": "Construction",
    "retail": "Retail",
    "automotive": "Motor Vehicle Manufacturing",
    "logistics and supply chain": "Transportation, Logistics, Supply Chain and Storage",
    "airlines/aviation": "Airlines and Aviation",
    "oil & energy": "Oil and Gas",
    "food & beverages": "Food and Beverage Services",
    "hospitality": "Hospitality",
    "higher education": "Higher Education",
    "education management": "Education Administration Programs",
    "government administration": "Government Administration",
    "nonprofit organization management": "Non-profit Organizations",
    "research": "Research Services",
    "online media": "Online Audio and Video Media",
}
_COUNTRY_ALIASES = {
    "us": "United States", "usa": "United States", "u.s.": "United States", "united states of america":
    "United States", "uk": "United Kingdom", "gb": "United Kingdom", "great britain": "United Kingdom",
    "uae": "United Arab Emirates",
}  # fmt: skip

PROVIDERS = ("linkedin_sales_navigator", "apollo", "zoominfo")
_PROVIDER_NAMES = {"linkedin_sales_navigator": "LinkedIn Sales Navigator", "apollo": "Apollo", "zoominfo": "ZoomInfo"}
_HEADCOUNT = frozenset({"employees", "employee_count", "headcount", "size_range"})
_REVENUE = frozenset({"annual_revenue", "revenue"})
_LOCATION = frozenset({"country", "region", "state", "city"})
_TECH = frozenset({"tech_stack", "technologies", "tools"})

Source = Literal["sam", "criterion", "exclusion"]


class ChecklistItem(BaseModel):
    source: Source
    field: str
    clause: str  # the clause in plain words
    points: int | None = None
    expressible: bool
    filter: str | None = None  # the tool's filter name
    values: list[str] = []
    exclude: bool = False  # put the values in the tool's "exclude" box
    notes: list[str] = []


class ProviderChecklist(BaseModel):
    provider: str
    name: str
    items: list[ChecklistItem]

    @property
    def cannot(self) -> list[ChecklistItem]:
        return [i for i in self.items if not i.expressible]


class Checklist(BaseModel):
    spec: str
    tiers: dict[str, int]
    providers: list[ProviderChecklist]
    segments: list[Checklist] = []  # a multi-segment spec: one checklist (one saved search) per segment

    def to_markdown(self, level: int = 1) -> str:
        h = "#" * level
        if self.segments:
            lines = [f"{h} ICP filter checklist: {self.spec}", "",
                     f"{len(self.segments)} segments: build one saved search per segment."]  # fmt: skip
            parts = [s.to_markdown(level + 1) for s in self.segments]
            return "\n".join(lines) + "\n\n" + "\n".join(parts)
        t = self.tiers
        lines = [
            f"{h} {'ICP filter checklist' if level == 1 else 'Segment'}: {self.spec}",
            "",
            "SAM filters: apply all. Criteria: each adds its points; a company reaches tier 1 at "
            f"{t['tier1']}, tier 2 at {t['tier2']}, tier 3 at {t['tier3']}. Exclusions: put in the tool's exclude box.",
        ]
        for p in self.providers:
            lines += ["", f"{h}# {p.name}", ""]
            for i in p.items:
                if not i.expressible:
                    continue
                head = {"sam": "SAM", "criterion": f"+{i.points}", "exclusion": "exclude"}[i.source]
                verb = "exclude" if i.exclude else "include"
                vals = ", ".join(i.values)
                lines.append(f"- [ ] **{i.filter}** ({head}, {i.clause}): {verb} {vals}")
                lines += [f"  - {n}" for n in i.notes]
            if p.cannot:
                lines += ["", "Cannot be expressed here:"]
                lines += [f"- {i.clause} ({i.source}): {'; '.join(i.notes)}" for i in p.cannot]
        return "\n".join(lines) + "\n"


def _band_label(b: Band) -> str:
    lo, hi = b
    return f"{lo:,}+" if hi is None else f"{lo:,}-{hi:,}"


def _range_words(lo: float, hi: float) -> str:
    if lo == hi:
        return f"exactly {format_number(lo)}"
    return f"{format_number(lo)}–{format_number(hi)}" if math.isfinite(hi) else f"{format_number(lo)} and more"


def round_bands(lo: float | None, hi: float | None, bands: Sequence[Band]) -> tuple[list[str], list[str]]:
    """Bands overlapping ``[lo, hi]`` (inclusive, None = open) by at least half, and what that rounding changes."""
    lo_ = 0.0 if lo is None else float(lo)
    hi_ = math.inf if hi is None else float(hi)
    chosen: list[Band] = []
    best: tuple[float, Band] | None = None
    for a, b in bands:
        top = math.inf if b is None else b
        ov_lo, ov_hi = max(a, lo_), min(top, hi_)
        if ov_lo > ov_hi:
            continue
        if b is None:
            frac = 1.0 if math.isinf(hi_) else (ov_hi - ov_lo + 1) / max(a, 1)
        else:
            frac = (ov_hi - ov_lo + 1) / (b - a + 1)
        if best is None or frac > best[0]:
            best = (frac, (a, b))
        if frac >= 0.5:
            chosen.append((a, b))
    if not chosen and best is not None:
        chosen = [best[1]]
    if not chosen:
        return [], ["no band overlaps the range"]
    notes = []
    first, last = chosen[0][0], chosen[-1][1]
    last_ = math.inf if last is None else float(last)
    if first < lo_ and first >= 1:
        notes.append(f"rounding adds {_range_words(first, lo_ - 1)}, which the spec leaves out")
    elif first > lo_ and lo_ >= 1:
        outside = next((b for b in bands if b[0] <= lo_ <= (math.inf if b[1] is None else b[1])), None)
        where = f" (they sit in the {_band_label(outside)} band)" if outside else ""
        notes.append(f"rounding leaves out {_range_words(lo_, first - 1)}{where}")
    if last_ > hi_:
        notes.append(f"rounding adds {_range_words(hi_ + 1, last_)}, which the spec leaves out")
    elif last_ < hi_:
        notes.append(f"rounding leaves out {_range_words(last_ + 1, hi_)}")
    return [_band_label(b) for b in chosen], notes


def _bounds(cl: Clause) -> tuple[float | None, float | None] | None:
    if cl.op == Op.BETWEEN:
        return cl.value[0], cl.value[1]
    if cl.op == Op.GTE:
        return cl.value, None
    if cl.op == Op.LTE:
        return None, cl.value
    return None


def _revenue_steps(lo: float | None, hi: float | None) -> tuple[list[str], list[str]]:
    steps = SALES_NAV_REVENUE_MUSD
    notes = []
    lo_m = 0.0 if lo is None else lo / 1e6
    pick_lo = min(steps, key=lambda s: abs(s - lo_m))
    if pick_lo != lo_m:
        notes.append(f"minimum rounded from ${format_number(lo_m)}M to ${format_number(pick_lo)}M")
    if hi is None:
        return [f"min ${format_number(pick_lo)}M", "max 1000+ ($1B+)"], notes
    hi_m = hi / 1e6
    pick_hi = min(steps, key=lambda s: abs(s - hi_m))
    if pick_hi <= pick_lo:
        pick_hi = next((s for s in steps if s > pick_lo), steps[-1])
    if pick_hi != hi_m:
        notes.append(f"maximum rounded from ${format_number(hi_m)}M to ${format_number(pick_hi)}M")
    return [f"min ${format_number(pick_lo)}M", f"max ${format_number(pick_hi)}M"], notes


def _title(v: str) -> str:
    s = str(v).strip()
    return s if any(c.isupper() for c in s) else s.title().replace(" And ", " and ").replace(" Of ", " of ")


def _values(cl: Clause) -> list[str]:
    return [str(v) for v in (cl.value if isinstance(cl.value, list) else [cl.value])]


def _item(provider: str, source: Source, layer: str | None, cl: Clause, points: int | None) -> ChecklistItem:
    base = {"source": source, "field": cl.field, "clause": clause_text(cl), "points": points}
    f = cl.field
    exclude = source == "exclusion"
    if cl.op == Op.NOT_IN:
        exclude = not exclude

    def no(reason: str) -> ChecklistItem:
        return ChecklistItem(**base, expressible=False, notes=[reason])

    if layer == "behavioral":
        return no("behavioural: it comes from your own product and CRM data, which no prospecting tool has")
    if cl.op == Op.WITHIN_DAYS or layer == "trigger":
        return no("a recent event, not a static filter: re-score the export with icpkit score")
    if cl.op in (Op.IS_TRUE, Op.IS_FALSE, Op.EXISTS):
        return no(f"no {provider_name(provider)} filter for a yes/no '{f}'")
    bounds = _bounds(cl)
    if f in _HEADCOUNT and bounds is not None:
        if provider == "linkedin_sales_navigator":
            bands, notes = round_bands(*bounds, SALES_NAV_HEADCOUNT)
            return ChecklistItem(**base, expressible=True, filter="Company headcount", values=bands, notes=notes)
        if provider == "apollo":
            bands, notes = round_bands(*bounds, APOLLO_EMPLOYEE_BANDS)
            lo, hi = bounds
            custom = f"or a custom range {format_number(lo or 1)}–{format_number(hi) if hi is not None else 'max'}"
            return ChecklistItem(
                **base, expressible=True, filter="# Employees", values=bands, notes=[*notes, f"{custom} (exact)"]
            )
        lo, hi = bounds
        rng = f"{format_number(lo or 1)} to {format_number(hi) if hi is not None else 'no maximum'}"
        return ChecklistItem(**base, expressible=True, filter="Employee Count (custom range)", values=[rng])
    if f in _REVENUE and bounds is not None:
        if provider == "linkedin_sales_navigator":
            vals, notes = _revenue_steps(*bounds)
            notes.append("amounts in USD; Sales Navigator covers fewer companies with revenue than with headcount")
            return ChecklistItem(**base, expressible=True, filter="Annual revenue", values=vals, notes=notes)
        lo, hi = bounds
        top = format_number(hi, money=True) if hi is not None else "no maximum"
        rng = f"{format_number(lo or 0, money=True)} to {top}"
        name = "Revenue (custom range)" if provider == "apollo" else "Revenue (custom range, USD)"
        return ChecklistItem(**base, expressible=True, filter=name, values=[rng])
    if cl.op in (Op.EQUALS, Op.IN, Op.NOT_IN):
        vals = _values(cl)
        if f == "industry":
            if provider == "linkedin_sales_navigator":
                mapped = [LINKEDIN_INDUSTRIES_2022.get(v.strip().lower().replace(" and ", " & "), "") or
                          LINKEDIN_INDUSTRIES_2022.get(v.strip().lower(), "") for v in vals]  # fmt: skip
                notes = [
                    f"no known LinkedIn name for '{v}': pick the closest"
                    for v, m in zip(vals, mapped, strict=True)
                    if not m
                ]
                out = [m or _title(v) for v, m in zip(vals, mapped, strict=True)]
                return ChecklistItem(
                    **base, expressible=True, filter="Industry", values=out, exclude=exclude, notes=notes
                )
            if provider == "apollo":
                return ChecklistItem(
                    **base, expressible=True, filter="Industry & Keywords", values=[v.lower() for v in vals],
                    exclude=exclude, notes=["Apollo uses the older LinkedIn industry names, as in the spec"],
                )  # fmt: skip
            return ChecklistItem(
                **base, expressible=True, filter="Industry", values=[_title(v) for v in vals], exclude=exclude,
                notes=["ZoomInfo has its own industry taxonomy; no mapping is known: pick the closest by hand"],
            )  # fmt: skip
        if f in _LOCATION:
            names = [_COUNTRY_ALIASES.get(v.strip().lower(), _title(v)) for v in vals] if f == "country" else vals
            filt = {
                "linkedin_sales_navigator": "Headquarters location",
                "apollo": "Account Location (HQ)",
                "zoominfo": "Location (HQ)",
            }[provider]
            return ChecklistItem(
                **base, expressible=True, filter=filt, values=[_title(v) for v in names], exclude=exclude
            )
        if f == "funding_stage":
            if provider == "linkedin_sales_navigator":
                return no("Sales Navigator has no funding filter")
            return ChecklistItem(
                **base, expressible=True, filter="Funding (latest round)", values=vals, exclude=exclude
            )
    if f in _TECH and cl.op in (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE):
        if provider == "linkedin_sales_navigator":
            return no("technographics: Sales Navigator has no technology filter")
        notes = ["every technology must match" if cl.op == Op.CONTAINS_ALL else "any technology matches"]
        return ChecklistItem(
            **base, expressible=True, filter="Technologies", values=_values(cl),
            exclude=exclude != (cl.op == Op.CONTAINS_NONE), notes=notes,
        )  # fmt: skip
    return no(f"no {provider_name(provider)} filter is known for '{f}'")


def provider_name(provider: str) -> str:
    return _PROVIDER_NAMES.get(provider, provider)


def build_checklist(spec: ICPSpec, *, sam: Sequence[Clause] = (), providers: Sequence[str] = PROVIDERS) -> Checklist:
    """Every SAM clause, criterion (by points, highest first) and exclusion, per tool; per segment for a spec with
    segments (each segment's checklist carries the shared SAM filters)."""
    if spec.segments is not None:
        parts = [build_checklist(seg, sam=[*(spec.sam or []), *sam], providers=providers)
                 for _, seg in spec.segment_specs()]  # fmt: skip
        return Checklist(spec=spec.name, tiers=spec.tiers.model_dump(), providers=[], segments=parts)
    clauses: list[tuple[Source, str | None, Clause, int | None]] = [
        ("sam", None, c, None) for c in [*(spec.sam or []), *sam]
    ]
    ranked = sorted(spec.criteria(), key=lambda lc: -lc[1].points)
    for layer, c in ranked:
        for cl in c.clauses():
            clauses.append(("criterion", layer, cl, c.points))
    clauses += [("exclusion", None, e, None) for e in spec.exclusions]
    out = [
        ProviderChecklist(
            provider=p, name=provider_name(p), items=[_item(p, src, layer, cl, pts) for src, layer, cl, pts in clauses]
        )
        for p in providers
    ]
    return Checklist(spec=spec.name, tiers=spec.tiers.model_dump(), providers=out)
