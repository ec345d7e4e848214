"""Attribute families: one attribute exported several ways (a date, its month, quarter and year columns).

CRM exports often carry a date next to columns derived from it (``founded_date``, ``founded_month``,
``founded_quarter``, ``founded_year``). Tested one by one they give several criteria and exclusions about the same
fact, each taking points and a share of the false-discovery budget as if it were independent evidence. Columns are
one family when their names share a stem once the period word is taken off (``date``, ``month``, ``quarter``,
``year``…) and their values agree: the same year on at least ``AGREEMENT`` of the accounts where both are known.
Discovery then keeps the best-evidenced member of each family only, and says which members were folded into it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np

from icpkit.discover.profile import EncodedField
from icpkit.ingest.schema import ColumnKind

__all__ = ["AGREEMENT", "Family", "find_families", "stem"]

AGREEMENT = 0.9  # share of the accounts known in both columns whose years must agree
MIN_OVERLAP = 10  # accounts known in both columns, at least, before their agreement counts
_PERIOD_WORDS = frozenset({"date", "day", "week", "month", "mo", "quarter", "qtr", "q", "year", "yr", "fy", "at", "on"})
_SPLIT = re.compile(r"[\s_\-.]+|(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True)
class Family:
    """Fields holding one attribute; ``name`` is their common stem."""

    name: str
    members: tuple[str, ...]


def stem(name: str) -> str | None:
    """The name without its trailing period words (``founded_month`` and ``FoundedYear`` -> ``founded``; a plain
    ``founded`` date stays ``founded``); None when nothing is left (a column named ``year``)."""
    kept = [t.lower() for t in _SPLIT.split(name.strip()) if t]
    while kept and kept[-1] in _PERIOD_WORDS:
        kept.pop()
    return "_".join(kept) or None


def _years(f: EncodedField, as_of: dt.date) -> np.ndarray | None:
    """The year each account's value falls in (NaN where missing); None when the field holds no years."""
    v = f.values
    if v is None:
        return None
    if f.kind == ColumnKind.DATE:
        known = ~np.isnan(v)
        out = np.full(v.shape, np.nan)
        days = np.datetime64(as_of, "D") - v[known].astype(np.int64).astype("timedelta64[D]")
        out[known] = days.astype("datetime64[Y]").astype(np.int64) + 1970
        return out
    if f.kind == ColumnKind.NUMERIC:
        known = v[~np.isnan(v)]
        if known.size and np.mean((known == np.round(known)) & (known >= 1800) & (known <= 2200)) >= 0.95:
            return v
    return None


def find_families(fields: list[EncodedField], as_of: dt.date) -> list[Family]:
    """Families of at least two account fields: same stem, and years that agree where both are known."""
    by_stem: dict[str, list[tuple[EncodedField, np.ndarray]]] = {}
    for f in fields:
        if f.profile.source != "accounts" or f.kind not in (ColumnKind.DATE, ColumnKind.NUMERIC):
            continue
        s = stem(f.name)
        years = _years(f, as_of) if s else None
        if s and years is not None:
            by_stem.setdefault(s, []).append((f, years))
    families: list[Family] = []
    for s, group in by_stem.items():
        if len(group) < 2:
            continue
        # the anchor is the best-covered member; each other member must agree with it
        group.sort(key=lambda fy: -int(np.count_nonzero(~np.isnan(fy[1]))))
        anchor = group[0][1]
        members = [group[0][0].name]
        for f, years in group[1:]:
            both = ~np.isnan(anchor) & ~np.isnan(years)
            n = int(np.count_nonzero(both))
            if n >= MIN_OVERLAP and np.count_nonzero(anchor[both] == years[both]) >= AGREEMENT * n:
                members.append(f.name)
        if len(members) >= 2:
            families.append(Family(s, tuple(members)))
    return families
