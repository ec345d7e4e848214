"""Assemble canonical tables from raw ones: rename, split, type, scale; link deals; derive subscription outcomes.

Column typing is delegated to ``icpkit.ingest.coerce`` (one column at a time, vectorised); this module decides
*which* kind each column gets (canonical kind, a mapping override, or ``infer_kind`` for extras) and applies the
mapping options coercion does not know about (locality split by position from the right, unit scale, HubSpot
industry enum labels). Table-wide work — deal linking, subscription roll-ups — runs in Arrow kernels or DuckDB.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import Problem
from icpkit.ingest.mapping import REQUIRED, Resolution, canonical_columns, closest_header
from icpkit.ingest.readers import RawTable
from icpkit.ingest.schema import ColumnKind, TableKind

__all__ = [
    "Assembled",
    "assemble",
    "check_required",
    "derive_from_subscriptions",
    "duplicate_ids",
    "latest_date",
    "link_deals",
]


@dataclass
class _Typed:
    array: pa.Array
    kind: ColumnKind
    problems: list[Problem]
    extra: dict[str, tuple[pa.Array, ColumnKind]] = field(default_factory=dict)


_NUMBER_RE = r"^[-+]?\d+(\.\d+)?$"
_TRUE = ["true", "yes", "y", "t", "1"]
_FALSE = ["false", "no", "n", "f", "0"]


def _bad_values(before: pa.Array, after: pa.Array, kind: ColumnKind, source: str, raw: RawTable) -> list[Problem]:
    bad = pc.and_(pc.is_valid(before), pc.is_null(after))
    count = int(pc.sum(bad).as_py() or 0)
    if not count:
        return []
    idx = np.flatnonzero(np.asarray(bad.to_numpy(zero_copy_only=False), dtype=bool))
    rows = raw.row_numbers(idx[:5])
    examples = pc.take(before, pa.array(idx[:3])).to_pylist()
    shown = ", ".join(f"{v!r} (row {r})" for v, r in zip(examples, rows, strict=False))
    return [
        Problem(
            f"{count} value(s) are not a valid {kind.value}: {shown}",
            path=raw.path,
            row=int(rows[0]),
            column=source,
        )
    ]


def _coerce(
    values: pa.Array | pa.ChunkedArray,
    kind: ColumnKind | None,
    *,
    name: str,
    source: str,
    raw: RawTable,
    separator: str | None = None,
) -> _Typed:
    """Type one column (provisional: basic parsing until coerce.py lands)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = pc.cast(values, pa.string()) if not pa.types.is_string(values.type) else values
    if kind is None:
        kind = _infer(text)
    if kind is ColumnKind.NUMERIC:
        if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
            return _Typed(pc.cast(values, pa.float64()), kind, [])
        cleaned = pc.replace_substring_regex(pc.utf8_trim_whitespace(text), r"[$€£,\s]", "")
        ok = pc.fill_null(pc.match_substring_regex(cleaned, _NUMBER_RE), False)
        out = pc.cast(pc.if_else(ok, cleaned, pa.scalar(None, pa.string())), pa.float64())
        return _Typed(out, kind, _bad_values(text, out, kind, source, raw))
    if kind is ColumnKind.DATE:
        if pa.types.is_date(values.type):
            return _Typed(pc.cast(values, pa.date32()), kind, [])
        head = pc.utf8_slice_codeunits(pc.utf8_trim_whitespace(text), 0, 10)
        ok = pc.fill_null(pc.match_substring_regex(head, r"^\d{4}-\d{2}-\d{2}$"), False)
        parsed = pc.strptime(pc.if_else(ok, head, pa.scalar(None, pa.string())), "%Y-%m-%d", "s", error_is_null=True)
        out = pc.cast(parsed, pa.date32())
        return _Typed(out, kind, _bad_values(text, out, kind, source, raw))
    if kind is ColumnKind.BOOLEAN:
        if pa.types.is_boolean(values.type):
            return _Typed(values, kind, [])
        t = pc.utf8_lower(pc.utf8_trim_whitespace(text))
        out = pc.if_else(
            pc.is_in(t, value_set=pa.array(_TRUE)),
            True,
            pc.if_else(pc.is_in(t, value_set=pa.array(_FALSE)), False, pa.scalar(None, pa.bool_())),
        )
        return _Typed(out, kind, _bad_values(text, out, kind, source, raw))
    if kind is ColumnKind.MULTI:
        if pa.types.is_list(values.type):
            return _Typed(pc.cast(values, pa.list_(pa.string())), kind, [])
        parts = pc.split_pattern(text, separator or ";")
        flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
        out = pa.ListArray.from_arrays(parts.offsets, flat, mask=pc.is_null(parts))
        return _Typed(out, kind, [])
    return _Typed(text, kind, [])


def _infer(text: pa.Array) -> ColumnKind:
    valid = text.filter(pc.is_valid(text))
    if len(valid) == 0:
        return ColumnKind.TEXT
    t = pc.utf8_trim_whitespace(valid)
    if pc.all(pc.is_in(pc.utf8_lower(t), value_set=pa.array(_TRUE + _FALSE))).as_py():
        return ColumnKind.BOOLEAN
    if pc.all(pc.match_substring_regex(t, r"^\d{4}-\d{2}-\d{2}([ T].*)?$")).as_py():
        return ColumnKind.DATE
    if pc.all(pc.match_substring_regex(t, _NUMBER_RE)).as_py():
        return ColumnKind.NUMERIC
    distinct = len(pc.unique(t))
    return ColumnKind.CATEGORICAL if distinct <= max(50, len(t) // 20) else ColumnKind.TEXT


_CONTROL_KINDS = {
    "account_name": ColumnKind.TEXT,
    "is_won": ColumnKind.BOOLEAN,
    "is_lost": ColumnKind.BOOLEAN,
    "is_closed": ColumnKind.BOOLEAN,
    "status": ColumnKind.CATEGORICAL,
    "won_time": ColumnKind.DATE,
    "lost_time": ColumnKind.DATE,
}


@dataclass
class Assembled:
    """A typed table with, per column, its kind and where it came from (header, origin)."""

    table: pa.Table
    kinds: dict[str, ColumnKind]
    sources: dict[str, tuple[str | None, str]]  # column -> (source header, origin)
    rows: np.ndarray  # spreadsheet row of each record
    problems: list[Problem] = field(default_factory=list)


def _kind_for(name: str, table_kind: TableKind, forced: ColumnKind | None) -> ColumnKind | None:
    if forced is not None:
        return forced
    canonical = canonical_columns(table_kind)
    if name in canonical:
        return canonical[name]
    if table_kind is TableKind.DEALS and name in _CONTROL_KINDS:
        return _CONTROL_KINDS[name]
    return None  # an extra attribute: inferred from its values


def _split_from_right(values: pa.ChunkedArray | pa.Array, parts: int, sep: str = ",") -> list[pa.Array]:
    """Split "city, region, country" into ``parts`` columns aligned from the right (country is always last)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    lists = pc.split_pattern(pc.cast(values, pa.string()), sep)
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    parent = pc.list_parent_indices(lists).to_numpy()
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    from_end = (starts[parent] + lengths[parent] - 1) - np.arange(len(parent))  # 0 = last element
    out = []
    n = len(values)
    for k in range(parts):  # k = 0 is the first target, which takes element (parts - 1) from the end
        want = parts - 1 - k
        sel = np.flatnonzero(from_end == want)
        col = np.full(n, None, dtype=object)
        col[parent[sel]] = np.asarray(pc.take(flat, pa.array(sel)).to_numpy(zero_copy_only=False), dtype=object)
        arr = pa.array(col, pa.string())
        out.append(pc.if_else(pc.equal(pc.utf8_length(arr), 0), pa.scalar(None, pa.string()), arr))
    return out


def _hubspot_industry(values: pa.Array) -> pa.Array:
    """``COMPUTER_SOFTWARE`` -> ``Computer Software``; labels already readable pass through."""
    is_enum = pc.fill_null(pc.match_substring_regex(values, r"^[A-Z0-9]+(_[A-Z0-9]+)*$"), False)
    pretty = pc.utf8_title(pc.replace_substring(values, "_", " "))
    for word in ("And", "Of", "The", "For", "In"):
        pretty = pc.replace_substring(pretty, f" {word} ", f" {word.lower()} ")
    return pc.if_else(is_enum, pretty, values)


def _normalise_domain(values: pa.Array) -> pa.Array:
    """``https://www.Acme.com/about`` -> ``acme.com``: the domain is the join key to the universe."""
    d = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    d = pc.replace_substring_regex(d, r"^[a-z]+://", "")
    d = pc.replace_substring_regex(d, r"^www\.", "")
    return pc.replace_substring_regex(d, r"[/?#:].*$", "")


def assemble(
    raw: RawTable,
    resolution: Resolution,
    *,
    constants: Mapping[str, str] | None = None,
    industry_enum: bool = False,
) -> Assembled:
    """Turn ``raw`` into a typed table named by ``resolution`` (plus constant columns from the mapping)."""
    kind = resolution.kind
    n = raw.num_rows
    rows = raw.row_numbers(np.arange(n))
    columns: dict[str, pa.Array] = {}
    sources: dict[str, tuple[str | None, str]] = {}
    forced: dict[str, ColumnKind | None] = {}
    scales: dict[str, float] = {}
    separators: dict[str, str] = {}
    split_fill: dict[str, pa.Array] = {}

    for pos, col in enumerate(resolution.columns):
        values = raw.table.column(pos)
        if col.rule.split:
            for target, part in zip(col.rule.split, _split_from_right(values, len(col.rule.split)), strict=True):
                split_fill[target] = part
                sources.setdefault(target, (col.source, "map"))
        if col.target is None:
            continue
        columns[col.target] = values
        sources[col.target] = (col.source, col.origin)
        forced[col.target] = col.rule.kind
        if col.rule.scale is not None:
            scales[col.target] = col.rule.scale
        if col.rule.separator:
            separators[col.target] = col.rule.separator
            forced[col.target] = forced[col.target] or ColumnKind.MULTI
    for target, part in split_fill.items():  # a dedicated column (e.g. PDL's country) wins over the split
        if target in columns:
            columns[target] = pc.coalesce(pc.cast(columns[target], pa.string()), part)
        else:
            columns[target] = part
            forced.setdefault(target, None)
    for name, value in (constants or {}).items():
        columns[name] = pa.array([value] * n, pa.string())
        sources[name] = (None, "constant")
        forced.setdefault(name, None)

    typed: dict[str, pa.Array] = {}
    kinds: dict[str, ColumnKind] = {}
    problems: list[Problem] = []
    for name, values in columns.items():
        target_kind = _kind_for(name, kind, forced.get(name))
        result = _coerce(
            values,
            target_kind,
            name=name,
            source=sources[name][0] or name,
            raw=raw,
            separator=separators.get(name),
        )
        problems += result.problems
        arr = result.array
        if name in scales and pa.types.is_floating(arr.type):
            arr = pc.multiply(arr, scales[name])
        if name == "industry" and industry_enum and pa.types.is_string(arr.type):
            arr = _hubspot_industry(arr)
        if name == "domain" and pa.types.is_string(arr.type):
            arr = _normalise_domain(arr)
        typed[name] = arr
        kinds[name] = result.kind
        for extra_name, (extra_arr, extra_kind) in result.extra.items():
            if extra_name not in columns:
                typed[extra_name] = extra_arr
                kinds[extra_name] = extra_kind
                sources[extra_name] = (sources[name][0], "derived")
    table = pa.table(typed) if typed else pa.table({"_": pa.nulls(n)}).drop(["_"])
    return Assembled(table=table, kinds=kinds, sources=sources, rows=rows, problems=problems)


def check_required(
    resolution: Resolution, headers: list[str], path: str, constants: Mapping[str, str] | None = None
) -> list[Problem]:
    """A problem per required column group with no member present, naming the columns found and the closest."""
    present = resolution.targets() | set(constants or {})
    problems = []
    for group in REQUIRED[resolution.kind]:
        if present.intersection(group):
            continue
        wanted = " or ".join(f"'{g}'" for g in group)
        hint = next((h for g in group if (h := closest_header(g, headers, resolution.kind))), None)
        found = ", ".join(f"'{h}'" for h in headers[:30]) + (" …" if len(headers) > 30 else "")
        fix = (
            f"closest match: '{hint}' — add --map \"{hint}={group[0]}\""
            if hint
            else f'add --map "Your Header={group[0]}"'
        )
        problems.append(
            Problem(
                f"no column for {wanted} in the {resolution.kind.value} file; columns found: {found}; {fix}",
                path=path,
                row=1,
                column=group[0],
            )
        )
    return problems


def duplicate_ids(table: pa.Table, column: str, rows: np.ndarray, path: str) -> list[Problem]:
    """One problem when ``column`` repeats a value: the first duplicated ids and the rows they are on."""
    ids = table.column(column)
    counted = (
        pa.table({"id": ids, "row": pa.array(rows, pa.int64())})
        .filter(pc.is_valid(ids))
        .group_by("id", use_threads=False)
        .aggregate([("row", "count"), ("row", "list")])
        .filter(pc.greater(pc.field("row_count"), 1))
    )
    if counted.num_rows == 0:
        return []
    first_rows = pc.list_element(counted.column("row_list"), 0)
    counted = counted.append_column("first", first_rows).sort_by("first")
    shown = [
        f"'{i}' (rows {', '.join(map(str, sorted(r)[:5]))})"
        for i, r in zip(counted.column("id").to_pylist()[:5], counted.column("row_list").to_pylist()[:5], strict=True)
    ]
    extra = f" and {counted.num_rows - 5} more" if counted.num_rows > 5 else ""
    return [
        Problem(
            f"{counted.num_rows} {column} values appear more than once: {'; '.join(shown)}{extra}",
            path=path,
            row=int(sorted(counted.column("row_list")[0].as_py())[1]),
            column=column,
        )
    ]


def _name_key(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    return pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(values, pa.string())))


@dataclass
class LinkStats:
    multi_account_deals: int = 0
    unknown_account: int = 0
    unknown_examples: list[str] = field(default_factory=list)
    no_account: int = 0
    linked_by_name: int = 0


def link_deals(deals: pa.Table, accounts: pa.Table, rows: np.ndarray) -> tuple[pa.Table, np.ndarray, LinkStats]:
    """Give every deal an ``account_id`` that exists in ``accounts`` where it can.

    ``account_id`` holding several ids joined by ``;`` or ``,`` (HubSpot "Associated Company IDs") attributes the
    deal to *each* company: one row per (deal, company), so every associated account learns from the outcome.
    Deals linked by name (``account_name``) are matched case-insensitively after trimming; a name shared by
    several accounts goes to the first of them.
    """
    stats = LinkStats()
    names = set(deals.column_names)
    acc_ids = pc.cast(accounts.column("account_id"), pa.string())
    if "account_id" in names:
        ids = pc.cast(deals.column("account_id"), pa.string())
        parts = pc.split_pattern_regex(ids, r"\s*[;,]\s*")
        lengths = pc.fill_null(pc.list_value_length(parts), 1).to_numpy()
        if (lengths > 1).any():
            stats.multi_account_deals = int((lengths > 1).sum())
            parts = pc.if_else(pc.is_null(parts), pa.scalar([None], parts.type), parts)
            parent = pc.list_parent_indices(parts)
            deals = deals.take(parent)
            rows = rows[parent.to_numpy()]
            flat = pc.utf8_trim_whitespace(pc.list_flatten(parts))
            ids = pc.if_else(pc.equal(flat, ""), pa.scalar(None, pa.string()), flat)
        deals = deals.set_column(deals.column_names.index("account_id"), "account_id", ids)
    else:
        deals = deals.append_column("account_id", pa.nulls(deals.num_rows, pa.string()))
    if "account_name" in names:
        key = _name_key(deals.column("account_name"))
        idx = pc.index_in(
            key,
            value_set=_name_key(accounts.column("name"))
            if "name" in accounts.column_names
            else pa.array([], pa.string()),
        )
        by_name = pc.take(acc_ids, idx)
        before = pc.is_null(deals.column("account_id"))
        stats.linked_by_name = int(pc.sum(pc.and_(before, pc.is_valid(by_name))).as_py() or 0)
        linked = pc.coalesce(deals.column("account_id"), by_name)
        # a name that matches no account is kept as an unknown reference (reported below)
        linked = pc.coalesce(linked, pc.cast(deals.column("account_name"), pa.string()))
        deals = deals.set_column(deals.column_names.index("account_id"), "account_id", linked)
    account_id = deals.column("account_id")
    missing = pc.is_null(account_id)
    stats.no_account = int(pc.sum(missing).as_py() or 0)
    unknown = pc.and_(pc.invert(missing), pc.invert(pc.is_in(account_id, value_set=acc_ids)))
    stats.unknown_account = int(pc.sum(unknown).as_py() or 0)
    if stats.unknown_account:
        stats.unknown_examples = pc.unique(account_id.filter(unknown)).to_pylist()[:5]
    return deals, rows, stats


def latest_date(tables: Mapping[str, pa.Table], kinds: Mapping[str, Mapping[str, ColumnKind]]) -> dt.date | None:
    """The latest date anywhere in the data: the reproducible default ``as_of`` (never the wall clock)."""
    best: dt.date | None = None
    for name, table in tables.items():
        for col, kind in kinds.get(name, {}).items():
            if kind is not ColumnKind.DATE or col not in table.column_names:
                continue
            value = pc.max(table.column(col)).as_py()
            if isinstance(value, dt.datetime):
                value = value.date()
            if value is not None and (best is None or value > best):
                best = value
    return best


_DERIVED = {
    "customer_since": ColumnKind.DATE,
    "churned": ColumnKind.BOOLEAN,
    "churn_date": ColumnKind.DATE,
    "arr": ColumnKind.NUMERIC,
    "expansion_arr": ColumnKind.NUMERIC,
}


def derive_from_subscriptions(
    accounts: pa.Table, subscriptions: pa.Table, as_of: dt.date
) -> tuple[pa.Table, list[str]]:
    """Add ``customer_since``, ``churned``, ``churn_date``, ``arr``, ``expansion_arr`` where accounts lack them.

    An account is churned when every one of its subscriptions has ended on or before ``as_of``; its churn date is
    the last end. Current ARR sums subscriptions active at ``as_of`` (arr, else mrr × 12); expansion is current
    ARR minus the ARR of the first subscriptions, floored at 0. Accounts without subscriptions get nulls.
    """
    wanted = [c for c in _DERIVED if c not in accounts.column_names]
    if not wanted:
        return accounts, []
    cols = subscriptions.column_names
    arr_expr = "coalesce(arr, mrr * 12)" if {"arr", "mrr"} <= set(cols) else ("arr" if "arr" in cols else "mrr * 12")
    end_expr = "end_date" if "end_date" in cols else "CAST(NULL AS DATE)"
    con = duckdb.connect()
    try:
        con.register("subs", subscriptions)
        sql = f"""
        WITH s AS (
            SELECT CAST(account_id AS VARCHAR) AS account_id, start_date, {end_expr} AS end_date,
                   CAST({arr_expr} AS DOUBLE) AS arr
            FROM subs WHERE account_id IS NOT NULL
        ), per AS (
            SELECT account_id,
                   min(start_date) AS customer_since,
                   bool_and(end_date IS NOT NULL AND end_date <= $as_of) AS churned,
                   max(end_date) AS last_end,
                   coalesce(sum(arr) FILTER (WHERE (start_date IS NULL OR start_date <= $as_of)
                                               AND (end_date IS NULL OR end_date > $as_of)), 0) AS arr
            FROM s GROUP BY account_id
        ), first_arr AS (
            SELECT s.account_id, sum(s.arr) AS first_arr
            FROM s JOIN per USING (account_id) WHERE s.start_date = per.customer_since GROUP BY s.account_id
        )
        SELECT per.customer_since, per.churned,
               CASE WHEN per.churned THEN per.last_end END AS churn_date,
               per.arr,
               greatest(per.arr - coalesce(first_arr.first_arr, 0), 0) AS expansion_arr
        FROM acc
        LEFT JOIN per ON CAST(acc.account_id AS VARCHAR) = per.account_id
        LEFT JOIN first_arr ON per.account_id = first_arr.account_id
        ORDER BY acc.rowid_
        """
        rowid = pa.array(np.arange(accounts.num_rows), pa.int64())
        con.register("acc", accounts.select(["account_id"]).append_column("rowid_", rowid))
        derived = con.execute(sql, {"as_of": as_of}).to_arrow_table()
    finally:
        con.close()
    for c in wanted:
        col = derived.column(c)
        if _DERIVED[c] is ColumnKind.NUMERIC:
            col = pc.cast(col, pa.float64())
        accounts = accounts.append_column(c, col)
    return accounts, wanted
