"""Personas and routing rules compiled for the Python and Arrow engines, by the rules of ``score.semantics``.

The persona is decided after the fit score and never feeds it: these functions take the tier and route the fit
engines produced and add ``persona``, ``persona_match`` and the rule-based route. For one record each list of
patterns is one search for its literal needles in the padded words, written into the scorer's generated code,
with the words of repeated titles cached; for a table each pattern is one Arrow ``match_substring`` over the
normalised column. No regular expression from the spec ever runs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.score.semantics import TIER_NAMES, WORD_SEPARATORS, needle, persona_words
from icpkit.spec.model import NO_PERSONA, ICPSpec

__all__ = ["PERSONA_COLUMNS", "apply_personas_table", "persona_lines", "route_table"]

PERSONA_COLUMNS = ("persona", "persona_match")


def route_table(spec: ICPSpec) -> dict[tuple[str, str | None], str]:
    """(tier, persona) -> route of the first matching rule, for every pair some rule matches."""
    names: list[str | None] = [None, *(p.name for p in spec.personas)]
    out: dict[tuple[str, str | None], str] = {}
    for tier in TIER_NAMES:
        for persona in names:
            who = NO_PERSONA if persona is None else persona
            for rule in spec.routing_rules:
                if (rule.tier is None or tier in rule.tier) and (rule.persona is None or who in rule.persona):
                    out[(tier, persona)] = rule.route
                    break
    return out


def _finder(patterns: Sequence[str]) -> Callable[[str], Any]:
    """Whether padded words hold one of the patterns' needles, in one C-level search.

    The needles are literal text (letters, digits and spaces, escaped): an alternation of literals, never a
    pattern from the spec, so the search is linear and cannot be made to backtrack.
    """
    return re.compile("|".join(re.escape(needle(p)) for p in patterns)).search


_CACHE_SIZE = 4096  # distinct values one compiled scorer keeps the words of before its cache starts over
_MISS = object()


def persona_lines(spec: ICPSpec, const: Callable[[str, Any], str]) -> list[str]:
    """Straight-line code setting ``persona`` and ``pm`` for the Python scorer's generated function.

    The rules of :mod:`icpkit.score.semantics`, written out per persona so a lead costs a dictionary lookup
    per field and one C-level search per list (no Python loop or call per persona). ``const`` binds a value as a
    factory argument of the generated function and returns its name: no spec value becomes source text.
    """
    pf = spec.persona_fields
    fields = (pf.title, pf.seniority, pf.department)
    cache: dict[str, str | None] = {}

    def words(v: Any) -> str | None:
        w = persona_words(v)
        if type(v) is str:
            if len(cache) >= _CACHE_SIZE:
                cache.clear()
            cache[v] = w
        return w

    lookup, miss, norm = const("PC", cache.get), const("PMISS", _MISS), const("PW", words)
    lines = []
    for i, f in enumerate(fields):
        if not any((p.titles or p.exclude_titles, p.seniority, p.department)[i] for p in spec.personas):
            lines.append(f"w{i} = None")
            continue
        lines += [
            f"v = get({const('PF', f)})",
            "if type(v) is str:",
            f"    w{i} = {lookup}(v, {miss})",
            f"    if w{i} is {miss}:",
            f"        w{i} = {norm}(v)",
            "else:",
            f"    w{i} = None if v is None else {norm}(v)",
        ]
    lines += ["persona = None", "pm = 0"]
    for p in spec.personas:
        lists = [(i, pats) for i, pats in enumerate((p.titles, p.seniority, p.department)) if pats]
        body = ["y = 0", "ok = True"]
        for i, pats in lists:
            body += [
                f"if w{i} is not None:",
                f"    if {const('PS', _finder(pats))}(w{i}):",
                "        y += 1",
                "    else:",
                "        ok = False",
            ]
        strengths = const("PST", tuple(100 * k // len(lists) for k in range(len(lists) + 1)))
        body += ["if ok and y:", f"    persona, pm = {const('PN', p.name)}, {strengths}[y]"]
        guard = "if persona is None:"
        if p.exclude_titles:
            guard = f"if persona is None and (w0 is None or not {const('PV', _finder(p.exclude_titles))}(w0)):"
        lines += [guard, *(f"    {line}" for line in body)]
    return lines


# ---------------------------------------------------------------------------------------------- Arrow


class _Words:
    """A text column's padded words, kept as distinct values and the row -> value index (titles repeat, so each
    pattern is searched once per distinct title, not once per row)."""

    def __init__(self, values: pa.Array, index: np.ndarray) -> None:
        self.values = values
        self.index = index  # -1 where missing

    def any_match(self, needles: Sequence[str]) -> np.ndarray:
        hit = np.zeros(len(self.values) + 1, dtype=bool)  # the extra last slot is "missing": never a match
        for x in needles:
            hit[:-1] |= np.asarray(pc.match_substring(self.values, x).to_numpy(zero_copy_only=False), bool)
        return hit[self.index]


def _words(table: pa.Table, name: str) -> tuple[_Words | None, np.ndarray]:
    """The padded words of a text column and where they are present; a non-text or absent column is missing."""
    n = table.num_rows
    if name not in table.column_names:
        return None, np.zeros(n, dtype=bool)
    arr = table.column(name).combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type)):
        return None, np.zeros(n, dtype=bool)
    encoded = pc.dictionary_encode(arr.cast(pa.string()))
    raw = encoded.dictionary
    words = pc.ascii_lower(pc.utf8_trim(pc.replace_substring_regex(raw, WORD_SEPARATORS, " "), " "))
    padded = pc.binary_join_element_wise(" ", words, " ", "")
    index = np.asarray(encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False), np.int64)
    empty = np.append(np.asarray(pc.equal(pc.utf8_length(words), 0).to_numpy(zero_copy_only=False), bool), True)
    index = np.where(empty[index], -1, index)  # null (-1 picks the extra slot) or no words: missing
    return _Words(padded, index), index >= 0


def _any_match(words: _Words | None, needles: Sequence[str], n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool) if words is None else words.any_match(needles)


def apply_personas_table(spec: ICPSpec, out: pa.Table, source: pa.Table | None = None) -> pa.Table:
    """``out`` (a scored table with ``tier`` and ``route``) with the rule-based route and, when the spec defines
    personas, ``persona`` and ``persona_match`` appended; persona fields are read from ``source`` (default ``out``).
    """
    if not spec.personas and not spec.routing_rules:
        return out
    source = out if source is None else source
    n = out.num_rows
    pf = spec.persona_fields
    cols = [_words(source, f) for f in (pf.title, pf.seniority, pf.department)]
    chosen = np.full(n, -1, dtype=np.int64)
    strength = np.zeros(n, dtype=np.int64)
    for k, p in enumerate(spec.personas):
        title_words, title_present = cols[0]
        veto = title_present & _any_match(title_words, [needle(x) for x in p.exclude_titles], n)
        yes = np.zeros(n, dtype=np.int64)
        no = np.zeros(n, dtype=bool)
        lists = [(i, pats) for i, pats in enumerate((p.titles, p.seniority, p.department)) if pats]
        for i, pats in lists:
            words, present = cols[i]
            hit = present & _any_match(words, [needle(x) for x in pats], n)
            yes += hit
            no |= present & ~hit
        ok = (chosen < 0) & ~veto & ~no & (yes > 0)
        chosen[ok] = k
        strength[ok] = 100 * yes[ok] // len(lists)
    names = pa.array([p.name for p in spec.personas] or [""], pa.string())
    persona = pa.array(np.where(chosen < 0, 0, chosen), pa.int64())
    persona_col = pc.if_else(pa.array(chosen >= 0), names.take(persona), pa.nulls(n, pa.string()))
    if spec.routing_rules:
        out = out.set_column(out.column_names.index("route"), "route", _ruled_routes(spec, out, chosen))
    if spec.personas:
        out = out.drop_columns([c for c in PERSONA_COLUMNS if c in out.column_names])
        out = out.append_column("persona", persona_col)
        out = out.append_column("persona_match", pa.array(strength, pa.int64()))
    return out


def _ruled_routes(spec: ICPSpec, out: pa.Table, chosen: np.ndarray) -> pa.Array:
    """The route column with each (tier, persona) pair some rule matches replaced by that rule's route."""
    table = route_table(spec)
    tiers = out.column("tier").combine_chunks()
    tier_idx = np.asarray(pc.index_in(tiers, value_set=pa.array(TIER_NAMES)).to_numpy(zero_copy_only=False))
    routes = list(dict.fromkeys(table.values()))
    pick = np.full(out.num_rows, -1, dtype=np.int64)
    names: list[str | None] = [None, *(p.name for p in spec.personas)]
    for (tier, persona), route in table.items():
        rows = (tier_idx == TIER_NAMES.index(tier)) & (chosen == names.index(persona) - 1)
        pick[rows] = routes.index(route)
    ruled = pa.array(routes or [""], pa.string()).take(pa.array(np.where(pick < 0, 0, pick), pa.int64()))
    return pc.if_else(pa.array(pick >= 0), ruled, out.column("route").combine_chunks())
