"""Vectorised scoring of a whole table with Arrow compute and NumPy: no Python loop over rows.

Each clause becomes two boolean arrays, ``yes`` and ``unknown`` (``no`` is neither), computed per column type the
way :mod:`icpkit.score.semantics` defines per value. The explanation lists are built from the outcome matrices with
``np.nonzero`` and list offsets, so a million rows cost a handful of array operations per criterion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import SpecError
from icpkit.frames import TableLike, as_arrow
from icpkit.score.persona import apply_personas_table
from icpkit.score.semantics import (
    FALSE_WORDS,
    NUMBER_PATTERN,
    TIER_NAMES,
    TRUE_WORDS,
    WHITESPACE,
    SpecItem,
    criterion_ids,
    exclusion_ids,
    layer_totals,
    prepare_items,
    scoring_date,
)
from icpkit.spec.model import LAYERS, Clause, ICPSpec, Op

__all__ = ["OUTPUT_COLUMNS", "score_table"]

OUTPUT_COLUMNS = ("score", "tier", "route", "matched", "unknown", "exclusions_hit")
_EPOCH = dt.date(1970, 1, 1)
_FIRST_DAY = (dt.date(1, 1, 1) - _EPOCH).days  # Python dates start at year 1
_CONTAINS = (Op.CONTAINS_ANY, Op.CONTAINS_ALL, Op.CONTAINS_NONE)

Pair = tuple[np.ndarray, np.ndarray]  # (yes, unknown)


def _np(a: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(a.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


class _Values:
    """A flat array of scalar values, read as each operator needs it (text, number, boolean, date)."""

    def __init__(self, arr: pa.Array) -> None:
        t = arr.type
        if pa.types.is_dictionary(t):
            arr = arr.dictionary_decode()
            t = arr.type
        if pa.types.is_large_string(t) or pa.types.is_string_view(t):
            arr = arr.cast(pa.string())
            t = arr.type
        self.arr = arr
        self.n = len(arr)
        if pa.types.is_null(t):
            self.kind = "missing"
        elif pa.types.is_string(t):
            self.kind = "text"
        elif pa.types.is_boolean(t):
            self.kind = "bool"
        elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            self.kind = "number"
        elif pa.types.is_date(t) or pa.types.is_timestamp(t):
            self.kind = "date"
        elif pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            self.kind = "list"
        else:
            self.kind = "other"

    @cached_property
    def text(self) -> pa.Array:
        return pc.utf8_lower(pc.utf8_trim(self.arr, characters=WHITESPACE))

    @cached_property
    def present(self) -> np.ndarray:
        if self.kind == "missing":
            return np.zeros(self.n, dtype=bool)
        if self.kind == "text":
            return _np(pc.greater(pc.utf8_length(self.text), 0))
        if self.kind == "number":
            _x, valid = self.numbers
            return valid
        return _np(self.arr.is_valid())

    @cached_property
    def numbers(self) -> tuple[np.ndarray, np.ndarray]:
        """(float values, valid): numbers, or text read leniently as numbers."""
        if self.kind == "number":
            f = self.arr.cast(pa.float64())
        elif self.kind == "text":
            ok = pc.match_substring_regex(self.text, NUMBER_PATTERN)
            f = pc.if_else(ok, pc.replace_substring_regex(self.text, r"^\+", ""), None).cast(pa.float64())
        else:
            return np.zeros(self.n), np.zeros(self.n, dtype=bool)
        x = f.fill_null(np.nan).to_numpy(zero_copy_only=False).astype(np.float64)
        return x, ~np.isnan(x)

    @cached_property
    def bools(self) -> tuple[np.ndarray, np.ndarray]:
        if self.kind == "bool":
            return _np(self.arr), _np(self.arr.is_valid())
        if self.kind == "text":
            t = _np(pc.is_in(self.text, value_set=pa.array(sorted(TRUE_WORDS))))
            f = _np(pc.is_in(self.text, value_set=pa.array(sorted(FALSE_WORDS))))
            return t, t | f
        return np.zeros(self.n, dtype=bool), np.zeros(self.n, dtype=bool)

    @cached_property
    def days(self) -> tuple[np.ndarray, np.ndarray]:
        """(days since 1970-01-01, valid): dates, timestamps (their own wall-clock date) or ISO text."""
        if self.kind == "date":
            a = self.arr
            if pa.types.is_timestamp(a.type) and a.type.tz is not None:
                a = pc.local_timestamp(a)
            d = a.cast(pa.date32())
        elif self.kind == "text":
            head = pc.utf8_slice_codeunits(self.text, 0, 10)
            ts = pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True)
            ok = pc.and_(
                pc.match_substring_regex(self.text, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"),
                pc.equal(head, pc.strftime(ts, format="%Y-%m-%d")),
            )
            d = pc.if_else(ok, ts, None).cast(pa.date32())
        else:
            return np.zeros(self.n, dtype=np.int64), np.zeros(self.n, dtype=bool)
        valid = _np(d.is_valid())
        x = d.cast(pa.int32()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        return x, valid & (x >= _FIRST_DAY)

    def isin(self, items: Sequence[SpecItem]) -> np.ndarray:
        """True where the value equals one of the spec items (never where missing or of another kind)."""
        out = np.zeros(self.n, dtype=bool)
        texts = [v for k, v in items if k == "text"]
        nums = [v for k, v in items if k == "number"]
        flags = [v for k, v in items if k == "bool"]
        if texts and self.kind == "text":
            out |= _np(pc.is_in(self.text, value_set=pa.array(texts, pa.string()))) & self.present
        if nums:
            x, valid = self.numbers
            out |= valid & np.isin(x, np.asarray(nums, dtype=np.float64))
        if flags and self.kind in ("bool", "text"):
            b, valid = self.bools
            for f in set(flags):
                out |= valid & (b == f)
        return out


class _Column:
    """One table column: its scalar values, or for a list column its flattened items and their rows."""

    def __init__(self, arr: pa.Array, n: int) -> None:
        self.n = n
        self.values = _Values(arr)
        self.is_list = self.values.kind == "list"
        if self.is_list:
            a = self.values.arr
            valid = _np(a.is_valid())
            self.missing = ~valid
            # A null list may still own values in its offsets (a legal layout, e.g. built with a validity mask):
            # list_flatten skips them but list_parent_indices does not. Dropping the null lists first keeps items
            # and their rows aligned.
            rows = np.nonzero(valid)[0]
            kept = a if rows.size == self.n else a.filter(pa.array(valid))
            self.items = _Values(pc.list_flatten(kept))
            parents = np.asarray(pc.list_parent_indices(kept).to_numpy(zero_copy_only=False), dtype=np.int64)
            self.parents = rows[parents]
        else:
            self.missing = ~self.values.present
            self.items = self.values
            self.parents = np.arange(n, dtype=np.int64)

    def _rows_any(self, item_hits: np.ndarray) -> np.ndarray:
        return np.bincount(self.parents[item_hits], minlength=self.n)[: self.n] > 0

    def exists(self) -> np.ndarray:
        if self.is_list:
            return self._rows_any(self.items.present)
        return ~self.missing

    def clause(self, op: Op, value: Any, as_of_day: int) -> Pair:
        no_rows = np.zeros(self.n, dtype=bool)
        if op == Op.EXISTS:
            return self.exists(), no_rows
        miss = self.missing
        if op in _CONTAINS:
            wanted = prepare_items(value)
            if op == Op.CONTAINS_ALL:
                hit = np.ones(self.n, dtype=bool)
                for w in wanted:
                    hit &= self._rows_any(self.items.isin([w]))
            else:
                hit = self._rows_any(self.items.isin(wanted))
                if op == Op.CONTAINS_NONE:
                    hit = ~hit
            return hit & ~miss, miss
        if self.is_list:
            return no_rows, miss
        v = self.values
        if op in (Op.EQUALS, Op.IN, Op.NOT_IN):
            found = v.isin(prepare_items([value] if op == Op.EQUALS else value))
            return (~found if op == Op.NOT_IN else found) & ~miss, miss
        if op in (Op.BETWEEN, Op.GTE, Op.LTE):
            lo, hi = value if op == Op.BETWEEN else (value, None) if op == Op.GTE else (None, value)
            x, valid = v.numbers
            yes = valid.copy()
            if lo is not None:
                yes &= x >= lo
            if hi is not None:
                yes &= x <= hi
            return yes, miss
        if op in (Op.IS_TRUE, Op.IS_FALSE):
            b, valid = v.bools
            return valid & (b == (op == Op.IS_TRUE)), miss
        if op == Op.WITHIN_DAYS:
            d, valid = v.days
            return valid & (d >= as_of_day - value) & (d <= as_of_day), miss
        raise SpecError(f"unknown operator {op!r}")


def _list_column(mask: np.ndarray, ids: Sequence[str]) -> pa.Array:
    counts = mask.sum(axis=1, dtype=np.int64)
    offsets = np.zeros(len(mask) + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    _, cols = np.nonzero(mask)
    values = pa.array(list(ids), pa.string()).take(pa.array(cols, pa.int64()))
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def score_table(spec: ICPSpec, table: TableLike, *, as_of: dt.date | None = None, explain: bool = True) -> pa.Table:
    """Every input column plus ``score``, ``tier``, ``route``, ``layer_<name>``, the explanation lists and, when the
    spec defines personas, ``persona`` and ``persona_match`` (routing rules may set ``route``).

    A spec field absent from the table reads as missing in every row (unknown). Output columns already present
    in the input (a file scored before) are replaced. A multi-segment spec is scored against every segment and the
    best-fitting one is named (``score.segments``). ``as_of`` is the scoring date ``within_days`` counts back
    from (default today). ``table`` may be a pandas DataFrame; the result is Arrow.
    """
    table = as_arrow(table, "records")
    if spec.segments is not None:
        from icpkit.score.segments import score_segments_table

        return score_segments_table(spec, table, as_of=as_of, explain=explain)  # personas included
    as_of_day = (scoring_date(as_of) - _EPOCH).days  # the scoring date: pinned, else today
    n = table.num_rows
    cols: dict[str, _Column] = {}

    def column(name: str) -> _Column:
        if name not in cols:
            arr = table.column(name).combine_chunks() if name in table.column_names else pa.nulls(n)
            cols[name] = _Column(arr, n)
        return cols[name]

    def outcome(clauses: Sequence[Clause], cid: str) -> Pair:
        yes = np.ones(n, dtype=bool)
        any_no = np.zeros(n, dtype=bool)
        for cl in clauses:
            try:
                y, u = column(cl.field).clause(cl.op, cl.value, as_of_day)
            except SpecError as exc:
                raise SpecError(exc.message, field=cid) from None
            yes &= y
            any_no |= ~y & ~u
        return yes, ~yes & ~any_no

    crit = criterion_ids(spec)
    excl = exclusion_ids(spec)
    c_yes = np.zeros((n, len(crit)), dtype=bool)
    c_unk = np.zeros((n, len(crit)), dtype=bool)
    for j, (cid, _, c) in enumerate(crit):
        c_yes[:, j], c_unk[:, j] = outcome(c.clauses(), cid)
    e_yes = np.zeros((n, len(excl)), dtype=bool)
    e_unk = np.zeros((n, len(excl)), dtype=bool)
    for j, (eid, e) in enumerate(excl):
        e_yes[:, j], e_unk[:, j] = outcome([e], eid)

    points = np.array([c.points for _, _, c in crit], dtype=np.int64)
    raw = c_yes.astype(np.int64) @ points if crit else np.zeros(n, dtype=np.int64)
    score = np.clip(raw, 0, 100)
    t = spec.tiers
    excluded = e_yes.any(axis=1)
    tier_idx = np.select(
        [excluded, score >= t.tier1, score >= t.tier2, score >= t.tier3],
        [TIER_NAMES.index("excluded"), 0, 1, 2],
        default=TIER_NAMES.index("none"),
    )
    take = pa.array(tier_idx, pa.int64())
    routes = [getattr(spec.routing, name) for name in TIER_NAMES]

    replaced = {*OUTPUT_COLUMNS, *(f"layer_{layer}" for layer in LAYERS)}
    out = table.drop_columns([c for c in table.column_names if c in replaced])
    out = out.append_column("score", pa.array(score, pa.int64()))
    out = out.append_column("tier", pa.array(list(TIER_NAMES), pa.string()).take(take))
    out = out.append_column("route", pa.array(routes, pa.string()).take(take))
    for layer, total in layer_totals(spec).items():
        idx = [j for j, (_, lay, _) in enumerate(crit) if lay == layer]
        got = c_yes[:, idx].astype(np.int64) @ points[idx]
        out = out.append_column(f"layer_{layer}", pa.array(got / total, pa.float64()))
    if explain:
        out = out.append_column("matched", _list_column(c_yes, [cid for cid, _, _ in crit]))
        ids = [cid for cid, _, _ in crit] + [eid for eid, _ in excl]
        out = out.append_column("unknown", _list_column(np.hstack([c_unk, e_unk]), ids))
        out = out.append_column("exclusions_hit", _list_column(e_yes, [eid for eid, _ in excl]))
    return apply_personas_table(spec, out)
