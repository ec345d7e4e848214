"""Held-out data: where to cut, what the training part may see, and what each held-out account turned out to be.

Two designs:

- **Time split** (default). The cutoff is a date such that ``held_share`` (default 27.5%) of the closed deals were
  created after it (of the customers' start dates when there are no deals). Discovery runs ``as_of`` the cutoff on
  deals created up to it — a deal that closed later counts as open, as it was on that day — and the spec is
  judged on the deals created after it. Judged are *new business*: accounts that were not yet customers at the
  cutoff. Each account counts once (its held-out deals pooled), so Wilson intervals on accounts are valid even
  when an account has several deals.
- **Stratified k-fold**: accounts are dealt into ``k`` folds within each cohort (so every fold holds its share of
  high-value, churned, lost and open accounts); each fold is judged by a spec built on the other folds.

Account attributes are a snapshot taken at export; held-out accounts are scored on it as of the data's date.
Behavioural attributes (derived from deals) are never taken from the deals being judged: in the time split they
come from deals created up to the cutoff, in k-fold they are absent (unknown) for the held-out fold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from icpkit.errors import DataError
from icpkit.ingest.canonical import history_end
from icpkit.ingest.schema import Dataset

__all__ = [
    "OUTCOME_COLUMNS",
    "TimeSplit",
    "data_as_of",
    "held_out_outcomes",
    "stratified_folds",
    "time_cutoff",
    "train_dataset",
]

# one row per account (accounts-table order) in the table ``held_out_outcomes`` returns
OUTCOME_COLUMNS = (
    "judged",  # the account has an outcome to judge (a closed held-out deal or a held-out customer start)
    "closed",  # it has a won or lost held-out deal
    "won",  # one of them was won
    "customer",  # it became a customer in the held-out part
    "churned",  # that customer churned by the data's date
    "cycle_days",  # days from creation to close of the first won held-out deal
    "deal_size",  # amount of that deal
    "start_arr",  # starting ARR of a held-out customer
    "end_arr",  # its ARR now: 0 when churned, start + expansion otherwise
    "repeat",  # closed held-out deals, but already a customer at the cutoff: not judged
)


@dataclass(frozen=True)
class TimeSplit:
    cutoff: dt.date
    as_of: dt.date
    held_share: float  # share of the closed deals (or customer starts) created after the cutoff
    basis: str  # "deals" | "customers"


def _col(t: pa.Table | None, name: str) -> bool:
    return t is not None and name in t.column_names


def data_as_of(ds: Dataset) -> dt.date:
    """The last event that happened in the data (as cohorts define it; never an open deal's expected close date,
    never the wall clock), so a backtest is reproducible."""
    end = history_end({"accounts": ds.accounts, "deals": ds.deals, "subscriptions": ds.subscriptions})
    day = end.date if end is not None else None
    if day is None:
        raise DataError("the data holds no dates: a time split needs deal dates or customer start dates")
    return day


def _closed_created(ds: Dataset) -> np.ndarray | None:
    """Creation dates (days since epoch) of the won and lost deals, or None without usable deals."""
    d = ds.deals
    if d is None or d.num_rows == 0 or not _col(d, "created_date") or not _col(d, "outcome"):
        return None
    closed = pc.is_in(pc.utf8_lower(d.column("outcome")), value_set=pa.array(["won", "lost"]))
    created = d.column("created_date").cast(pa.date32()).filter(closed.fill_null(False))
    days = created.drop_null().cast(pa.int32()).to_numpy()
    return days if days.size else None


def time_cutoff(ds: Dataset, held_share: float = 0.275, *, as_of: dt.date | None = None) -> TimeSplit:
    """The date after which ``held_share`` of the closed deals were created (else of the customers' start dates),
    among those up to ``as_of`` (default: the data's own end)."""
    if not 0.05 <= held_share <= 0.8:
        raise ValueError(f"held_share must be between 0.05 and 0.8, got {held_share}")
    as_of = as_of or data_as_of(ds)
    days, basis = _closed_created(ds), "deals"
    if days is None:
        basis = "customers"
        if not _col(ds.accounts, "customer_since"):
            raise DataError(
                "a time split needs deals with creation dates and outcomes, or customer start dates "
                "(customer_since or subscriptions); use --folds for a k-fold split instead"
            )
        days = ds.accounts.column("customer_since").cast(pa.date32()).drop_null().cast(pa.int32()).to_numpy()
        if days.size == 0:
            raise DataError("no customer start dates to split on; use --folds for a k-fold split instead")
    days = days[days <= (as_of - dt.date(1970, 1, 1)).days]
    if days.size == 0:
        raise DataError(f"no closed deal or customer start on or before as_of {as_of} to split on")
    cut = int(np.floor(np.quantile(days, 1 - held_share, method="lower")))
    share = float(np.mean(days > cut))
    return TimeSplit(dt.date(1970, 1, 1) + dt.timedelta(days=cut), as_of, share, basis)


def train_dataset(ds: Dataset, cutoff: dt.date) -> Dataset:
    """What discovery may see at the cutoff: deals created up to it (later closes are open to cohorts)."""
    deals = ds.deals
    if deals is not None and _col(deals, "created_date"):
        keep = pc.less_equal(deals.column("created_date").cast(pa.date32()), pa.scalar(cutoff, pa.date32()))
        deals = deals.filter(keep.fill_null(False))
    subs = ds.subscriptions
    if subs is not None and _col(subs, "start_date"):
        keep = pc.less_equal(subs.column("start_date").cast(pa.date32()), pa.scalar(cutoff, pa.date32()))
        subs = subs.filter(keep.fill_null(False))
    return Dataset(accounts=ds.accounts, deals=deals, subscriptions=subs, kinds=ds.kinds, sources=ds.sources)


def stratified_folds(codes: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """A fold number (0..k-1) per account, dealt round-robin in random order within each cohort code."""
    if k < 2:
        raise ValueError(f"folds must be at least 2, got {k}")
    codes = np.asarray(codes)
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(codes.size), codes))  # by cohort, random within it
    rank = np.empty(codes.size, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(codes[order])) + 1]
    pos = np.arange(codes.size) - np.repeat(starts, np.diff(np.r_[starts, codes.size]))
    offset = rng.integers(0, k)  # so small cohorts do not all land in fold 0
    rank[order] = (pos + offset) % k
    return rank


def held_out_outcomes(ds: Dataset, *, cutoff: dt.date | None, as_of: dt.date) -> pa.Table:
    """What every account turned out to be, from the deals created after ``cutoff`` (all deals when None).

    One row per account in accounts-table order with ``OUTCOME_COLUMNS``. With a cutoff, accounts that were
    customers at the cutoff are not judged (their later deals are expansion, not new business).
    """
    acc = ds.accounts
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        cols = [
            c for c in ("account_id", "customer_since", "churned", "churn_date", "arr", "expansion_arr") if _col(acc, c)
        ]
        con.register("acc", acc.select(cols).append_column("__row", pa.array(np.arange(acc.num_rows))))
        a = f"DATE '{as_of.isoformat()}'"
        c = f"DATE '{cutoff.isoformat()}'" if cutoff is not None else "DATE '0001-01-01'"
        deals = ds.deals
        has_deals = deals is not None and deals.num_rows > 0 and _col(deals, "outcome")
        if has_deals:
            dcols = [x for x in ("account_id", "created_date", "closed_date", "outcome", "amount") if _col(deals, x)]
            con.register("deals_in", deals.select(dcols))
            created = "created_date" if _col(deals, "created_date") else "closed_date"
            closed = "closed_date" if _col(deals, "closed_date") else "NULL::DATE"
            amount = "amount" if _col(deals, "amount") else "NULL::DOUBLE"
            con.execute(
                f"""
                CREATE TEMP TABLE dd AS
                SELECT account_id, {created} AS cr, {closed} AS cl, {amount} AS amt,
                       CASE WHEN lower(trim(outcome)) IN ('won', 'lost') AND ({closed} IS NULL OR {closed} <= {a})
                            THEN lower(trim(outcome)) ELSE 'open' END AS o
                FROM deals_in WHERE account_id IS NOT NULL
                """
            )
            con.execute(
                f"""
                CREATE TEMP TABLE d AS
                SELECT account_id,
                       bool_or(o = 'won' AND coalesce(cl, cr) <= {c}) AS won_before,
                       bool_or(cr > {c} AND o IN ('won', 'lost')) AS closed,
                       bool_or(cr > {c} AND o = 'won') AS won,
                       arg_min(CASE WHEN cr > {c} AND o = 'won' THEN date_diff('day', cr, cl) END,
                               CASE WHEN cr > {c} AND o = 'won' THEN cl END) AS cycle_days,
                       arg_min(CASE WHEN cr > {c} AND o = 'won' THEN amt END,
                               CASE WHEN cr > {c} AND o = 'won' THEN cl END) AS deal_size,
                       arg_min(amt, coalesce(cl, cr)) FILTER (WHERE o = 'won') AS first_won_amt
                FROM dd GROUP BY account_id
                """
            )
        else:
            con.execute(
                "CREATE TEMP TABLE d AS SELECT NULL::VARCHAR AS account_id, NULL::BOOLEAN AS won_before, "
                "NULL::BOOLEAN AS closed, NULL::BOOLEAN AS won, NULL::DOUBLE AS cycle_days, "
                "NULL::DOUBLE AS deal_size, NULL::DOUBLE AS first_won_amt LIMIT 0"
            )
        subs = ds.subscriptions
        has_subs = subs is not None and subs.num_rows > 0 and _col(subs, "start_date")
        if has_subs:
            s_arr = "arr" if _col(subs, "arr") else ("mrr * 12" if _col(subs, "mrr") else "NULL::DOUBLE")
            con.register(
                "subs_in", subs.select([x for x in ("account_id", "start_date", "arr", "mrr") if _col(subs, x)])
            )
            con.execute(
                f"CREATE TEMP TABLE s AS SELECT account_id, arg_min({s_arr}, start_date) AS first_arr, "
                f"min(start_date) AS since FROM subs_in WHERE start_date <= {a} GROUP BY account_id"
            )
        else:
            con.execute(
                "CREATE TEMP TABLE s AS SELECT NULL::VARCHAR AS account_id, NULL::DOUBLE AS first_arr, "
                "NULL::DATE AS since LIMIT 0"
            )
        since_parts = [
            p for p, ok in (("acc.customer_since", _col(acc, "customer_since")), ("s.since", has_subs)) if ok
        ]
        since = f"coalesce({', '.join(since_parts)})" if since_parts else "NULL::DATE"
        churn_parts = []
        if _col(acc, "churned"):
            churn_parts.append("coalesce(acc.churned, false)")
        if _col(acc, "churn_date"):
            churn_parts.append(f"(acc.churn_date IS NOT NULL AND acc.churn_date <= {a})")
        churned = " OR ".join(churn_parts) if churn_parts else "false"
        arr = "acc.arr" if _col(acc, "arr") else "NULL::DOUBLE"
        exp = "acc.expansion_arr" if _col(acc, "expansion_arr") else "NULL::DOUBLE"
        if has_deals:  # a customer is new in the held-out part when its first win (or start) is after the cutoff
            new_customer = (
                f"coalesce(d.won, false) AND NOT coalesce(d.won_before, false) AND coalesce({since} > {c}, true)"
            )
            before = f"coalesce(d.won_before, false) OR coalesce({since} <= {c}, false)"
        else:
            new_customer = f"coalesce({since} > {c} AND {since} <= {a}, false)"
            before = f"coalesce({since} <= {c}, false)"
        start = (
            f"coalesce(NULLIF(d.first_won_amt, 0), NULLIF(s.first_arr, 0), "
            f"CASE WHEN {arr} > 0 THEN {arr} - greatest(coalesce({exp}, 0), 0) END)"
        )
        sql = f"""
            WITH f AS (
                SELECT acc.__row, {before} AS was_customer, {new_customer} AS customer,
                       coalesce(d.closed, false) AS closed, coalesce(d.won, false) AS won,
                       d.cycle_days::DOUBLE AS cycle_days, d.deal_size::DOUBLE AS deal_size,
                       ({churned}) AS churned_raw, {start}::DOUBLE AS start_arr,
                       {exp}::DOUBLE AS expansion
                FROM acc LEFT JOIN d USING (account_id) LEFT JOIN s USING (account_id)
            )
            SELECT NOT was_customer AND (closed OR customer) AS judged,
                   closed AND NOT was_customer AS closed,
                   won AND NOT was_customer AS won,
                   customer,
                   customer AND churned_raw AS churned,
                   CASE WHEN won AND NOT was_customer THEN cycle_days END AS cycle_days,
                   CASE WHEN won AND NOT was_customer THEN deal_size END AS deal_size,
                   CASE WHEN customer THEN start_arr END AS start_arr,
                   CASE WHEN customer AND start_arr IS NOT NULL
                        THEN CASE WHEN churned_raw THEN 0.0 ELSE start_arr + greatest(coalesce(expansion, 0), 0) END
                   END AS end_arr,
                   was_customer AND f.closed AS repeat
            FROM f ORDER BY __row
        """
        out = con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise DataError(f"could not work out the held-out outcomes: {exc}") from exc
    finally:
        con.close()
    return out
