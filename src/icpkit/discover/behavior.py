"""Behavioural attributes derived from deals: how an account bought.

They describe the ICP (sales motion, lead source, time to close, number of deals) but are unknown for a new lead,
so they live in layer ``behavioral`` and are scored only where present (a missing value is unknown, never a
penalty). Only the buying journey counts: deals created up to the first won deal (all deals of an account that
never won), so renewals and expansions after the sale cannot leak the outcome back into the attribute.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pyarrow as pa

from icpkit.ingest.schema import ColumnKind

__all__ = ["BEHAVIORAL_FIELDS", "deal_attributes"]

BEHAVIORAL_FIELDS: dict[str, ColumnKind] = {
    "deal_count": ColumnKind.NUMERIC,
    "days_to_close": ColumnKind.NUMERIC,
    "sales_motion": ColumnKind.CATEGORICAL,
    "source": ColumnKind.CATEGORICAL,
}


def deal_attributes(account_ids: pa.ChunkedArray | pa.Array, deals: pa.Table, as_of: dt.date) -> pa.Table:
    """One row per account (same order as ``account_ids``) with the behavioural fields the deals allow."""
    cols = set(deals.column_names)
    if "account_id" not in cols or "created_date" not in cols:
        return pa.table({})
    a = f"DATE '{as_of.isoformat()}'"
    has_closed = "closed_date" in cols
    has_outcome = "outcome" in cols
    won = "outcome = 'won'" if has_outcome else "false"  # canonical outcomes are won / lost / open
    closed = "closed_date" if has_closed else "NULL::DATE"
    select = ["count(*)::DOUBLE AS deal_count"]
    if has_closed and has_outcome:
        select.append(
            "avg(date_diff('day', created_date, closed_date)) FILTER (WHERE outcome IN "
            f"('won', 'lost') AND closed_date IS NOT NULL AND closed_date <= {a})::DOUBLE AS days_to_close"
        )
    if "sales_motion" in cols:  # the motion of the journey's last deal: for a customer, the deal that won
        select.append("arg_max(sales_motion, created_date) AS sales_motion")
    if "source" in cols:  # where the account first came from
        select.append("arg_min(source, created_date) AS source")
    keep = [c for c in ("account_id", "created_date", "closed_date", "outcome", "sales_motion", "source") if c in cols]
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # the core never prints
    con.register("deals_in", deals.select(keep))
    con.register("ids", pa.table({"account_id": account_ids, "__row": np.arange(len(account_ids), dtype=np.int64)}))
    sql = f"""
        WITH d AS (SELECT * FROM deals_in WHERE created_date <= {a}),
        j AS (SELECT *, min(CASE WHEN {won} AND {closed} <= {a} THEN coalesce({closed}, created_date) END)
                        OVER (PARTITION BY account_id) AS first_won
              FROM d),
        g AS (SELECT account_id, {", ".join(select)} FROM j
              WHERE first_won IS NULL OR created_date <= first_won GROUP BY account_id)
        SELECT g.* EXCLUDE (account_id) FROM ids LEFT JOIN g USING (account_id) ORDER BY ids.__row
    """
    out = con.sql(sql).to_arrow_table()
    con.close()
    return out
