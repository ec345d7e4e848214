"""Account outcomes -> cohort labels: who to learn from (signal), who to learn against (anti-signal), who to skip.

Every account gets exactly one label, computed as of ``as_of`` (default: the latest date in the data, never the
wall clock, so a build is reproducible):

- ``high_value_retained``: a customer not churned at ``as_of``, in the top ``top_share`` of retained customers by
  value (ARR, or revenue to date with ``value="ltv"``), or with expansion ARR when ``expansion_is_high_value``.
  Customers tied at the cut go in or out together (``ValueCut``), so row order never decides who is high value.
- ``low_value_retained``: the other retained customers.
- ``churned``: a customer whose churn falls in the outcome window (``window_months`` before ``as_of``).
- ``never_closed``: lost deals in the window and no deal ever won.
- ``open``: no outcome yet (no deals, only open deals) or an outcome outside the window; scored, never learned from.

A customer is an account with a won deal, positive ARR, a ``customer_since`` date or a subscription. Whatever is
missing is worked around and said in ``notes``: no ARR -> won deal amounts; no churn information -> nobody churned;
no spread in value -> every retained customer is high value. Everything runs in DuckDB over the Arrow tables.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Literal

import duckdb
import numpy as np
import pyarrow as pa

from icpkit.errors import DataError, InsufficientSignalError, MissingColumnError
from icpkit.ingest.canonical import history_end
from icpkit.ingest.schema import Dataset

__all__ = [
    "ANTI_SIGNAL",
    "COHORTS",
    "LEARNING",
    "SIGNAL",
    "TOP_SHARE",
    "CohortResult",
    "ValueCut",
    "assign_cohorts",
]

COHORTS: tuple[str, ...] = ("high_value_retained", "low_value_retained", "churned", "never_closed", "open")
SIGNAL = "high_value_retained"
ANTI_SIGNAL: tuple[str, ...] = ("churned", "never_closed", "low_value_retained")
LEARNING: tuple[str, ...] = (SIGNAL, *ANTI_SIGNAL)
TOP_SHARE = 0.20  # the default share of retained customers, by value, that counts as high value


@dataclass
class CohortResult:
    """Cohort labels for every account, in the row order of the accounts table, with what was assumed."""

    labels: pa.Table  # account_id, cohort, customer, churned, value
    codes: np.ndarray  # int8 index into COHORTS, one per account
    as_of: dt.date
    window_start: dt.date
    sizes: dict[str, int]
    notes: list[str] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=dict)
    cut: ValueCut | None = None  # where the top-share cut fell, and how ties and a value without spread were read

    @property
    def churned(self) -> np.ndarray:
        return np.asarray(self.labels.column("churned").to_numpy(zero_copy_only=False), dtype=bool)

    @property
    def customer(self) -> np.ndarray:
        return np.asarray(self.labels.column("customer").to_numpy(zero_copy_only=False), dtype=bool)

    def summary(self) -> str:
        """Cohort sizes in one line, for notes and the CLI."""
        return ", ".join(f"{k.replace('_', ' ')} {self.sizes.get(k, 0):,}" for k in COHORTS)


def _has(table: pa.Table | None, column: str) -> bool:
    return table is not None and column in table.column_names


def assign_cohorts(
    data: Dataset | pa.Table,
    *,
    deals: pa.Table | None = None,
    subscriptions: pa.Table | None = None,
    as_of: dt.date | None = None,
    window_months: int = 24,
    top_share: float = TOP_SHARE,
    expansion_is_high_value: bool = True,
    value: Literal["arr", "ltv"] = "arr",
    min_signal: int = 30,
) -> CohortResult:
    """Label every account with its cohort as of ``as_of``; see the module docstring for the definitions.

    Raises ``InsufficientSignalError`` when fewer than ``min_signal`` accounts are high-value retained, with a
    message naming the data that would help.
    """
    if isinstance(data, Dataset):
        accounts = data.accounts
        deals = data.deals if deals is None else deals
        subscriptions = data.subscriptions if subscriptions is None else subscriptions
    else:
        accounts = data
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be in (0, 1], got {top_share}")
    if window_months < 1:
        raise ValueError(f"window_months must be at least 1, got {window_months}")
    if value not in ("arr", "ltv"):
        raise ValueError(f"value must be 'arr' or 'ltv', got {value!r}")
    if "account_id" not in accounts.column_names:
        raise MissingColumnError("the accounts table needs an 'account_id' column", column="account_id")
    if deals is not None and deals.num_rows and "outcome" not in deals.column_names:
        raise MissingColumnError("the deals table needs an 'outcome' column (won / lost / open)", column="outcome")
    if deals is not None and "account_id" not in deals.column_names:
        raise MissingColumnError("the deals table needs an 'account_id' column", column="account_id")

    notes: list[str] = []
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # the core never prints
    keep = [
        c
        for c in ("account_id", "arr", "customer_since", "churned", "churn_date", "expansion_arr")
        if c in accounts.column_names
    ]
    acc = accounts.select(keep).append_column("__row", pa.array(np.arange(accounts.num_rows, dtype=np.int64)))
    con.register("acc", acc)
    has_deals = deals is not None and deals.num_rows > 0
    has_subs = subscriptions is not None and subscriptions.num_rows > 0
    if has_deals:
        dcols = [c for c in ("account_id", "outcome", "created_date", "closed_date", "amount") if _has(deals, c)]
        con.register("deals_in", deals.select(dcols))
    if has_subs:
        scols = [c for c in ("account_id", "start_date", "end_date", "arr", "mrr") if _has(subscriptions, c)]
        con.register("subs_in", subscriptions.select(scols))

    if as_of is None:  # the last event that happened: never an open deal's expected close date
        end = history_end({"accounts": accounts, "deals": deals, "subscriptions": subscriptions})
        as_of = end.date if end is not None else None
        if as_of is None:
            raise DataError("the data holds no dates to anchor the outcome window; pass as_of explicitly")
    window_start = _months_before(as_of, window_months)
    a, w = f"DATE '{as_of.isoformat()}'", f"DATE '{window_start.isoformat()}'"

    # --- per-account deal facts ---------------------------------------------------------------------------
    if has_deals:
        close = "coalesce(closed_date, created_date)" if _has(deals, "closed_date") else "created_date"
        if not _has(deals, "created_date"):
            close = "closed_date" if _has(deals, "closed_date") else "NULL::DATE"
        amount = "amount" if _has(deals, "amount") else "NULL::DOUBLE"
        # a deal closed after as_of had not happened yet: it counts as open
        con.execute(
            f"""
            CREATE TEMP TABLE d AS
            SELECT account_id,
                   bool_or(o = 'won') AS has_won,
                   min(CASE WHEN o = 'won' THEN cd END) AS first_won,
                   sum(CASE WHEN o = 'won' THEN amt END) AS won_amount,
                   bool_or(o = 'lost' AND (cd IS NULL OR cd >= {w})) AS lost_in_window
            FROM (
                SELECT account_id, {close} AS cd, {amount} AS amt,
                       CASE WHEN lower(trim(outcome)) IN ('won', 'lost') AND ({close} IS NULL OR {close} <= {a})
                            THEN lower(trim(outcome)) ELSE 'open' END AS o
                FROM deals_in
            )
            GROUP BY account_id
            """
        )
    else:
        con.execute(
            "CREATE TEMP TABLE d AS SELECT NULL::VARCHAR AS account_id, NULL::BOOLEAN AS has_won, "
            "NULL::DATE AS first_won, NULL::DOUBLE AS won_amount, NULL::BOOLEAN AS lost_in_window LIMIT 0"
        )
        notes.append("no deals table: customers come from ARR / customer_since only, and nobody is never-closed")

    # --- per-account subscription facts -------------------------------------------------------------------
    if has_subs:
        s_arr = "arr" if _has(subscriptions, "arr") else ("mrr * 12" if _has(subscriptions, "mrr") else "NULL")
        s_end = "end_date" if _has(subscriptions, "end_date") else "NULL::DATE"
        con.execute(
            f"""
            CREATE TEMP TABLE s AS
            SELECT account_id,
                   min(start_date) AS since,
                   bool_and({s_end} IS NOT NULL AND {s_end} <= {a}) AS all_ended,
                   max({s_end}) AS last_end,
                   sum(CASE WHEN {s_end} IS NULL OR {s_end} > {a} THEN ({s_arr}) END) AS current_arr,
                   arg_min(({s_arr}), start_date) AS first_arr
            FROM subs_in WHERE start_date <= {a}
            GROUP BY account_id
            """
        )
    else:
        con.execute(
            "CREATE TEMP TABLE s AS SELECT NULL::VARCHAR AS account_id, NULL::DATE AS since, "
            "NULL::BOOLEAN AS all_ended, NULL::DATE AS last_end, NULL::DOUBLE AS current_arr, "
            "NULL::DOUBLE AS first_arr LIMIT 0"
        )

    col = {c: c in keep for c in ("arr", "customer_since", "churned", "churn_date", "expansion_arr")}
    since_parts = [p for p, ok in (("acc.customer_since", col["customer_since"]), ("s.since", has_subs)) if ok]
    since = f"coalesce({', '.join([*since_parts, 'd.first_won'])})"
    arr_parts = [p for p, ok in (("acc.arr", col["arr"]), ("s.current_arr", has_subs)) if ok]
    has_arr = bool(arr_parts)
    arr_expr = f"coalesce({', '.join(arr_parts)})" if has_arr else "NULL::DOUBLE"
    if not has_arr:
        notes.append("no ARR in the data: customer value is the sum of won deal amounts")
    has_churn = col["churned"] or col["churn_date"] or has_subs
    if not has_churn:
        notes.append("no churn information (churned flag, churn_date or subscriptions): nobody counts as churned")
    churn_parts = [p for p, ok in (("acc.churn_date", col["churn_date"]), ("s.last_end", has_subs)) if ok]
    churn_date = f"coalesce({', '.join([*churn_parts, 'NULL::DATE'])})"
    churn_flags = []
    if col["churned"]:
        churn_flags.append(f"(coalesce(acc.churned, false) AND (acc_cd IS NULL OR acc_cd <= {a}))")
    if col["churn_date"]:
        churn_flags.append(f"(acc.churn_date IS NOT NULL AND acc.churn_date <= {a})")
    if has_subs:
        churn_flags.append("coalesce(s.all_ended, false)")
    churn_expr = " OR ".join(churn_flags) if churn_flags else "false"
    churn_expr = churn_expr.replace("acc_cd", "acc.churn_date" if col["churn_date"] else "NULL::DATE")
    if col["expansion_arr"]:
        expansion = "coalesce(acc.expansion_arr, 0) > 0"
    elif has_subs:
        expansion = "coalesce(s.current_arr, 0) > coalesce(s.first_arr, 0) * 1.0001"
    else:
        expansion = "false"
    if not expansion_is_high_value:
        expansion = "false"
    base_value = "coalesce(NULLIF(arr_v, 0), won_amount, 0)" if has_arr else "coalesce(won_amount, 0)"
    if value == "ltv":
        base_value = f"{base_value} * greatest(date_diff('day', since_d, {a}) / 365.25, 1.0)"

    customer_parts = ["coalesce(d.has_won, false)", f"({since} IS NOT NULL AND {since} <= {a})"]
    if has_arr:
        customer_parts.append(f"coalesce({arr_expr}, 0) > 0")
    con.execute(
        f"""
        CREATE TEMP TABLE g AS
        WITH f AS (
            SELECT acc.__row, acc.account_id,
                   ({" OR ".join(customer_parts)}) AND coalesce({since} <= {a}, true) AS customer,
                   {since} AS since_d,
                   ({churn_expr}) AS churned_raw,
                   {churn_date} AS churn_d,
                   {expansion} AS expanded,
                   coalesce(d.lost_in_window, false) AS lost_in_window,
                   {arr_expr} AS arr_v, d.won_amount
            FROM acc LEFT JOIN d USING (account_id) LEFT JOIN s USING (account_id)
        )
        SELECT *, customer AND churned_raw AS churned,
               customer AND NOT churned_raw AS retained,
               ({base_value})::DOUBLE AS value
        FROM f
        """
    )
    cut = _value_cut(con, top_share)
    notes += cut.notes(top_share)
    sql = f"""
        SELECT
               CASE WHEN retained AND (value > cut.v OR (value = cut.v AND cut.ties_in) OR expanded) THEN 0
                    WHEN retained THEN 1
                    WHEN churned AND (churn_d IS NULL OR churn_d >= {w}) THEN 2
                    WHEN churned THEN 4
                    WHEN NOT customer AND lost_in_window THEN 3
                    ELSE 4 END::TINYINT AS cohort,
               customer, churned, value
        FROM g CROSS JOIN cut ORDER BY __row
    """
    con.execute("CREATE TEMP TABLE cut AS SELECT ?::DOUBLE AS v, ?::BOOLEAN AS ties_in", [cut.value, cut.ties_in])
    facts = con.sql(sql).to_arrow_table()
    con.close()
    codes = facts.column("cohort").to_numpy().astype(np.int8)
    cohort = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(list(COHORTS))).cast(pa.string())
    labels = pa.table(
        {
            "account_id": accounts.column("account_id"),
            "cohort": cohort,
            "customer": facts.column("customer"),
            "churned": facts.column("churned"),
            "value": facts.column("value"),
        }
    )
    counts = np.bincount(codes, minlength=len(COHORTS))
    sizes = {name: int(counts[i]) for i, name in enumerate(COHORTS)}
    params = {
        "as_of": as_of,
        "window_months": window_months,
        "top_share": top_share,
        "expansion_is_high_value": expansion_is_high_value,
        "value": value,
        "min_signal": min_signal,
    }
    result = CohortResult(labels, codes, as_of, window_start, sizes, notes, params, cut)
    _check_signal(result, has_arr=has_arr, has_churn=has_churn, has_deals=has_deals, window_months=window_months)
    return result


@dataclass(frozen=True)
class ValueCut:
    """Where "top ``top_share`` by value" cuts the retained customers, and what was done with ties at the cut.

    A rank cut would split customers of equal value by row order, calling an arbitrary few "high value"; so
    customers tied at the cut go in or out together, whichever lands nearer the asked share (in when out would
    leave nobody). When every retained customer has the same value, value cannot rank them: all are high value
    and the signal is retained against churned and lost, which ``notes`` says.
    """

    retained: int  # retained customers
    value: float | None  # the value at the cut (None: no retained customer)
    above: int  # retained customers worth more than the cut value
    tied: int  # retained customers worth exactly the cut value
    ties_in: bool  # the tied customers counted as high value
    distinct: int  # distinct values among retained customers

    @property
    def high(self) -> int:
        """Retained customers high value by value alone (expansion may add more)."""
        return self.above + (self.tied if self.ties_in else 0)

    @property
    def no_spread(self) -> bool:
        return self.retained > 1 and self.distinct == 1

    def notes(self, top_share: float) -> list[str]:
        """Plain words for the build output: the no-spread fallback, or how a tie at the cut was settled."""
        if self.value is None or self.retained <= 1:
            return []
        if self.no_spread:
            return [
                f"customer value has no spread (all {self.retained:,} retained customers are worth "
                f"{self.value:,.0f}): value cannot tell them apart, so every retained customer counts as high "
                "value and the signal is retained against churned and never-closed accounts"
            ]
        target = math.ceil(round(self.retained * top_share, 9))
        if self.tied <= 1 or self.above + self.tied <= target:
            return []
        share = self.high / self.retained
        way = "in" if self.ties_in else "out"
        return [
            f"{self.tied:,} retained customers tie at the top-{top_share:.0%} cut (value {self.value:,.0f}): they "
            f"went {way} together, so {self.high:,} of {self.retained:,} retained customers ({share:.1%}) are "
            f"high value by value instead of {target:,} ({top_share:.0%})"
        ]


def _value_cut(con: duckdb.DuckDBPyConnection, top_share: float) -> ValueCut:
    """Find the cut value of the top share of retained customers (table ``g``) and settle ties at it."""
    n, distinct = con.execute("SELECT count(*), count(DISTINCT value) FROM g WHERE retained").fetchone()
    if not n:
        return ValueCut(0, None, 0, 0, False, 0)
    k = max(1, math.ceil(round(n * top_share, 9)))  # round: 0.07 * 100 is 7.000000000000001 in floating point
    (cut,) = con.execute(
        "SELECT min(value) FROM (SELECT value FROM g WHERE retained ORDER BY value DESC LIMIT ?)", [k]
    ).fetchone()
    above, tied = con.execute(
        "SELECT count(*) FILTER (WHERE value > ?), count(*) FILTER (WHERE value = ?) FROM g WHERE retained",
        [cut, cut],
    ).fetchone()
    # the tied group holds rank k; it goes in whole unless leaving it out lands nearer the asked share
    target = n * top_share
    ties_in = above == 0 or (above + tied - target) <= (target - above)
    return ValueCut(int(n), float(cut), int(above), int(tied), bool(ties_in), int(distinct))


def _months_before(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    month = m + 1
    last = (dt.date(y + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(y, month, min(day.day, last))


def _check_signal(result: CohortResult, *, has_arr: bool, has_churn: bool, has_deals: bool, window_months: int) -> None:
    n_signal = result.sizes[SIGNAL]
    n_anti = sum(result.sizes[c] for c in ANTI_SIGNAL)
    need = int(result.params["min_signal"])  # type: ignore[call-overload]
    if n_signal >= need and n_anti >= need:
        return
    helps = [f"a longer history (a window longer than {window_months} months, if the data goes back further)"]
    if not has_arr:
        helps.append("ARR per account or a subscriptions table, so customer value can be measured")
    if not has_churn:
        helps.append("churn flags or churn dates, so retained customers can be told from lost ones")
    if not has_deals:
        helps.append("the deals table, with won and lost deals")
    helps.append("more accounts with a known outcome (won or lost deals)")
    what = (
        f"only {n_signal:,} high-value retained accounts"
        if n_signal < need
        else f"only {n_anti:,} churned, never-closed or low-value accounts to contrast them with"
    )
    raise InsufficientSignalError(
        f"Not enough signal to learn an ICP: {what} as of {result.as_of} (need at least {need}; "
        f"cohorts: {result.summary()}). What would help: " + "; ".join(helps) + "."
    )
