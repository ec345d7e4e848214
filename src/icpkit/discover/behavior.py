"""Behavioural attributes derived from deals: how an account first came to buy, measured without leakage.

They describe the ICP (where the account came from, which sales motion it entered through) but are unknown for a
new lead, so they live in layer ``behavioral`` and are scored only where present (a missing value is unknown,
never a penalty; ``Discoverer`` also caps their share of the points).

The rule: **a behavioural attribute is what was known when the account's first deal was created** — the
``source`` and ``sales_motion`` of that deal, and nothing else. Cohorts are defined by what happened to the deals
(a win, a loss, a churn after the sale), so any attribute measured over the deals themselves separates the cohorts
by construction, whoever the customer is:

- a deal count up to the first win is 1 for an account won at the first attempt and grows with every lost attempt
  of a never-closed account; a count over all deals grows with renewals and expansions after the sale;
- a time to close is measured on deals whose outcome defines the cohort (won deals and lost deals close at
  different speeds), and on won deals only it exists for customers and never for never-closed accounts;
- the motion of the deal that won exists only for customers, and a deal is often moved to another motion as it
  progresses.

The first deal (earliest ``created_date`` no later than ``as_of``; ties broken by row order in the deals table)
exists for every account with a deal in every cohort, and its source and motion are set when it is created, before
any outcome. So these two attributes can only separate the cohorts through who the account is. Deal counts and
durations are not derived at all: no window over the deals is comparable across cohorts, because its end (a close)
or its contents (later attempts, renewals) depend on the outcome.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.ingest.schema import ColumnKind

__all__ = ["BEHAVIORAL_FIELDS", "deal_attributes"]

BEHAVIORAL_FIELDS: dict[str, ColumnKind] = {
    "sales_motion": ColumnKind.CATEGORICAL,
    "source": ColumnKind.CATEGORICAL,
}


def deal_attributes(account_ids: pa.ChunkedArray | pa.Array, deals: pa.Table, as_of: dt.date) -> pa.Table:
    """One row per account (same order as ``account_ids``): ``source`` and ``sales_motion`` of its first deal.

    Columns the deals table lacks are left out; an account without a deal created by ``as_of`` has nulls.
    """
    cols = set(deals.column_names)
    fields = [c for c in BEHAVIORAL_FIELDS if c in cols]
    if "account_id" not in cols or "created_date" not in cols or not fields:
        return pa.table({})
    m = deals.num_rows
    rows = pa.array(np.arange(m, dtype=np.int64))
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # the core never prints
    con.register("deals_in", deals.select(["account_id", "created_date", *fields]).append_column("__row", rows))
    # one key orders deals by creation day, then by row: arg_min picks the same first deal for every field
    key = f"date_diff('day', DATE '1970-01-01', created_date)::BIGINT * {max(m, 1)} + __row"
    picks = ", ".join(f"arg_min({c}, {key}) AS {c}" for c in fields)
    first = con.sql(
        f"SELECT account_id, {picks} FROM deals_in "
        f"WHERE created_date IS NOT NULL AND created_date <= DATE '{as_of.isoformat()}' GROUP BY account_id"
    ).to_arrow_table()
    con.close()
    ids = account_ids.combine_chunks() if isinstance(account_ids, pa.ChunkedArray) else account_ids
    found = first.column("account_id").combine_chunks()
    if not found.type.equals(ids.type):
        found = found.cast(ids.type)
    # position of every account among the aggregated rows (null: no deal), a hash lookup instead of a sorted join
    at = pc.index_in(ids, value_set=found)
    return pa.table({c: first.column(c).take(at) for c in fields})
