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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import Problem
from icpkit.ingest.coerce import CoerceSpec, check_flat, coerce_columns
from icpkit.ingest.infer import infer_kind
from icpkit.ingest.mapping import REQUIRED, Resolution, canonical_columns, closest_header
from icpkit.ingest.raw_table import _connect
from icpkit.ingest.readers import RawTable
from icpkit.ingest.schema import ColumnKind, TableKind

__all__ = [
    "Assembled",
    "FutureDates",
    "HistoryEnd",
    "assemble",
    "check_required",
    "dates_after",
    "deals_at",
    "derive_from_subscriptions",
    "duplicate_ids",
    "history_end",
    "latest_date",
    "link_deals",
]


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
    """Turn ``raw`` into a typed table named by ``resolution`` (plus constant columns from the mapping).

    All columns are typed in one ``coerce_columns`` pass over positional copies of the raw columns, so header
    spellings never collide with target names.
    """
    n = raw.num_rows
    src: dict[str, pa.ChunkedArray | pa.Array] = {}
    plan: dict[str, CoerceSpec] = {}
    sources: dict[str, tuple[str | None, str]] = {}
    splits: dict[str, str] = {}  # temporary split column -> target
    shown, first = raw.source or raw.path, raw.first_row
    for pos, col in enumerate(resolution.columns):
        if col.target is None and not col.rule.split:
            continue
        key = f"__c{pos}"
        values = raw.table.column(pos)
        src[key] = values
        target = col.target or f"__drop{pos}"
        kind = _kind_for(col.target, resolution.kind, col.rule.kind) if col.target else ColumnKind.TEXT
        if col.rule.separator and kind is None:
            kind = ColumnKind.MULTI
        check_flat(values, ColumnKind.TEXT if col.rule.split else kind, path=shown, name=col.source, first_row=first)
        if kind is None:
            kind = infer_kind(values, target)
        temp = tuple(f"__split{pos}_{t}" for t in col.rule.split)
        splits.update(zip(temp, col.rule.split, strict=True))
        if col.rule.split:
            kind = ColumnKind.TEXT
        plan[key] = CoerceSpec(
            kind, target=target, scale=col.rule.scale or 1.0, separator=col.rule.separator, split=temp
        )
        sources[target] = (col.source, col.origin)
        for t in col.rule.split:
            sources.setdefault(t, (col.source, col.origin))
    for name, value in (constants or {}).items():
        key = f"__k_{name}"
        src[key] = pa.array([value] * n, pa.string())
        plan[key] = CoerceSpec(_kind_for(name, resolution.kind, None) or ColumnKind.CATEGORICAL, target=name)
        sources[name] = (None, "constant")
    result = coerce_columns(
        pa.table(src) if src else pa.table({"__empty": pa.nulls(n)}),
        plan,
        path=raw.source or raw.path,
        first_row=raw.first_row,
        keep_unplanned=False,
    )
    table, kinds = result.table, dict(result.kinds)
    for temp, target in splits.items():  # a dedicated column (e.g. PDL's country) wins over the split part
        part = table.column(temp)
        if target in table.column_names:
            merged = pc.coalesce(table.column(target), part)
            table = table.set_column(table.column_names.index(target), target, merged)
        else:
            table = table.append_column(target, part)
            kinds[target] = ColumnKind.CATEGORICAL
        table = table.drop_columns([temp])
        kinds.pop(temp, None)
    drop = [c for c in table.column_names if c.startswith("__")]
    table = table.drop_columns(drop)
    for c in drop:
        kinds.pop(c, None)
    if industry_enum and "industry" in table.column_names:
        table = table.set_column(
            table.column_names.index("industry"), "industry", _hubspot_industry(table.column("industry"))
        )
    if "domain" in table.column_names:
        table = table.set_column(table.column_names.index("domain"), "domain", _normalise_domain(table["domain"]))
    for c in table.column_names:
        if c not in sources:  # e.g. employees_band, made by coercion from the employees column
            base = next((s for s in sources if c.startswith(f"{s}_")), None)
            sources[c] = (sources[base][0] if base else None, "derived")
    headers = {f"__c{pos}": col.source for pos, col in enumerate(resolution.columns)}
    problems = [
        Problem(p.message, p.path, p.row, headers.get(p.column or "", p.column), p.severity) for p in result.problems
    ]
    rows = raw.row_numbers(np.arange(n))
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


# The events a history is made of: each is something that has happened. An open deal's close date is when it is
# *expected* to close, and the end date of a subscription beside one still running is a contract term still to
# come: neither says how far the history reaches. The last end of an account whose subscriptions have all ended
# is its churn date, an event.
_EVENTS: tuple[tuple[str, str, str], ...] = (
    ("deals", "closed_date", "close date of a won or lost deal"),
    ("deals", "created_date", "deal creation date"),
    ("accounts", "churn_date", "churn date"),
    ("accounts", "customer_since", "customer start date"),
    ("subscriptions", "start_date", "subscription start date"),
    ("subscriptions", "end_date", "churn date (the last end of an account whose subscriptions all ended)"),
)


@dataclass(frozen=True)
class HistoryEnd:
    """Where a history ends (the default ``as_of``): its latest event that has happened, and where it was found."""

    date: dt.date
    table: str
    column: str
    event: str  # what the column holds, in words

    def why(self) -> str:
        return f"the latest {self.event} ({self.table}.{self.column})"


def _day_max(values: pa.ChunkedArray | pa.Array) -> dt.date | None:
    if not (pa.types.is_date(values.type) or pa.types.is_timestamp(values.type)) or len(values) == 0:
        return None
    value = pc.max(values).as_py()
    return value.date() if isinstance(value, dt.datetime) else value


def _closed(deals: pa.Table) -> pa.ChunkedArray | pa.Array:
    """Whether each deal is won or lost: only those have a close date that happened."""
    outcome = pc.utf8_lower(pc.utf8_trim_whitespace(pc.cast(deals.column("outcome"), pa.string())))
    return pc.fill_null(pc.is_in(outcome, value_set=pa.array(["won", "lost"])), False)


def _churn_ends(subscriptions: pa.Table) -> pa.Array:
    """Per account whose every subscription has an end date, the last of them (its churn date)."""
    ends = subscriptions.column("end_date")
    per = (
        pa.table({"account_id": subscriptions.column("account_id"), "end": ends, "ended": pc.is_valid(ends)})
        .group_by("account_id", use_threads=False)
        .aggregate([("end", "max"), ("ended", "all")])
    )
    return per.column("end_max").filter(per.column("ended_all")).combine_chunks()


def history_end(tables: Mapping[str, pa.Table | None]) -> HistoryEnd | None:
    """The latest event that has happened in ``tables`` (accounts, deals, subscriptions): a won or lost close date,
    a deal's creation, a churn, a customer or subscription start. Never an open deal's expected close date, nor a
    date outside these events (a funding date, a lead's): the reproducible default ``as_of``, never the clock."""
    best: HistoryEnd | None = None
    for name, col, event in _EVENTS:
        table = tables.get(name)
        if table is None or col not in table.column_names:
            continue
        values = table.column(col)
        if name == "deals" and col == "closed_date":
            if "outcome" not in table.column_names:
                continue
            values = values.filter(_closed(table))
        if name == "subscriptions" and col == "end_date":
            if "account_id" not in table.column_names:
                continue
            values = _churn_ends(table)
        day = _day_max(values)
        if day is not None and (best is None or day > best.date):
            best = HistoryEnd(day, name, col, event)
    return best


def latest_date(tables: Mapping[str, pa.Table], kinds: Mapping[str, Mapping[str, ColumnKind]]) -> dt.date | None:
    """The default ``as_of`` of ``tables``: :func:`history_end`'s date (``kinds`` is no longer needed: only the
    event columns count)."""
    end = history_end(tables)
    return end.date if end is not None else None


def deals_at(deals: pa.Table, as_of: dt.date) -> pa.Table:
    """The deals as they stood on ``as_of``: none created after it, and one won or lost after it still open."""
    day = pa.scalar(as_of, pa.date32())
    if "created_date" in deals.column_names and pa.types.is_date(deals.column("created_date").type):
        deals = deals.filter(pc.fill_null(pc.less_equal(deals.column("created_date"), day), True))
    if "closed_date" in deals.column_names and "outcome" in deals.column_names:
        later = pc.fill_null(pc.greater(pc.cast(deals.column("closed_date"), pa.date32()), day), False)
        outcome = pc.if_else(pc.and_(later, _closed(deals)), pa.scalar("open"), pc.cast(deals["outcome"], pa.string()))
        deals = deals.set_column(deals.column_names.index("outcome"), "outcome", outcome)
    return deals


@dataclass(frozen=True)
class FutureDates:
    """Dates of one column later than a reference day: how many, and the latest."""

    table: str
    column: str
    count: int
    latest: dt.date


def dates_after(
    tables: Mapping[str, pa.Table | None],
    kinds: Mapping[str, Mapping[str, ColumnKind]],
    day: dt.date,
    *,
    open_deals_only: bool = False,
) -> list[FutureDates]:
    """Per date column, the values after ``day``. ``open_deals_only`` counts only the open deals' expected close
    dates (what a history reaching past ``as_of`` usually holds); else every date column of every table."""
    found = []
    for name, table in tables.items():
        if table is None:
            continue
        for col, kind in kinds.get(name, {}).items():
            if kind is not ColumnKind.DATE or col not in table.column_names:
                continue
            if open_deals_only and not (name == "deals" and col == "closed_date" and "outcome" in table.column_names):
                continue
            values = table.column(col)
            if not (pa.types.is_date(values.type) or pa.types.is_timestamp(values.type)):
                continue
            if open_deals_only:
                values = values.filter(pc.invert(_closed(table)))
            days = pc.cast(values, pa.date32()) if pa.types.is_timestamp(values.type) else values
            later = days.filter(pc.fill_null(pc.greater(days, pa.scalar(day, pa.date32())), False))
            if len(later):
                found.append(FutureDates(name, col, len(later), pc.max(later).as_py()))
    return found


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
    the last end (also for accounts the accounts file itself flags as churned). Current ARR sums subscriptions
    active at ``as_of`` (arr, else mrr × 12); expansion is current ARR minus the ARR of the first subscriptions,
    floored at 0. Accounts without subscriptions get nulls.
    """
    wanted = [c for c in _DERIVED if c not in accounts.column_names]
    if not wanted:
        return accounts, []
    cols = subscriptions.column_names
    arr_expr = "coalesce(arr, mrr * 12)" if {"arr", "mrr"} <= set(cols) else ("arr" if "arr" in cols else "mrr * 12")
    end_expr = "end_date" if "end_date" in cols else "CAST(NULL AS DATE)"
    con = _connect()
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
               CASE WHEN coalesce(acc.churned_flag, per.churned) THEN per.last_end END AS churn_date,
               per.arr,
               greatest(per.arr - coalesce(first_arr.first_arr, 0), 0) AS expansion_arr
        FROM acc
        LEFT JOIN per ON CAST(acc.account_id AS VARCHAR) = per.account_id
        LEFT JOIN first_arr ON per.account_id = first_arr.account_id
        ORDER BY acc.rowid_
        """
        rowid = pa.array(np.arange(accounts.num_rows), pa.int64())
        flag = (
            accounts.column("churned")
            if "churned" in accounts.column_names
            else pa.nulls(accounts.num_rows, pa.bool_())
        )
        acc = pa.table({"account_id": accounts.column("account_id"), "churned_flag": flag, "rowid_": rowid})
        con.register("acc", acc)
        derived = con.sql(sql, params={"as_of": as_of}).to_arrow_table()
    finally:
        con.close()
    for c in wanted:
        col = derived.column(c)
        if _DERIVED[c] is ColumnKind.NUMERIC:
            col = pc.cast(col, pa.float64())
        accounts = accounts.append_column(c, col)
    return accounts, wanted
